"""The ``rrnsim`` command line: ``rrnsim models | simulate | demo`` (``--help`` on each)."""
import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import spectral
from .io import save_arrays
from .network import RRN
from .plots import plot_spectra, plot_traces
from .rhythms import band_of
from .specs import load_spec, spec_names

__all__ = ["main"]


def _tqdm_report(total_label):
    """A Brian2 ``report`` callable that drives a tqdm progress bar."""
    from tqdm import tqdm
    bar = tqdm(total=100, desc=total_label, unit="%", leave=False)

    def report(elapsed, completed, start, duration):
        bar.n = round(100 * completed)
        bar.refresh()
        if completed >= 1:
            bar.close()
    return report


def _load_input(path):
    """(batch, time[, channels]) array from a .npy file or a .npz file's 'X' array."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise SystemExit(f"rrnsim: cannot read input file {path!r}: {err}")
    if isinstance(data, np.lib.npyio.NpzFile):
        if "X" not in data.files:
            raise SystemExit(f"rrnsim: input file {path!r} has no array 'X' (has {data.files})")
        data = data["X"]
    return data


def simulate(model="golden", engine="brian2", duration=2.0, batch=1, input_path=None,
             input_std=1.0, w_res_scale=0.0, seed=0, resolution=0.5, out="out/simulate",
             progress=True):
    """Drive a network with white noise (or an input file), write states and figures.

    Returns (net, result, freqs, psd, written paths).
    """
    with warnings.catch_warnings(record=True) as dropped:
        warnings.simplefilter("always")
        spec = load_spec(model)
    for w in dropped:
        print(f"note: {w.message}")
    rng = np.random.default_rng(seed)
    K = spec.layout.frequencies_hz.size
    w_res = rng.normal(0.0, w_res_scale, (K, K)) * (1 - np.eye(K)) if w_res_scale > 0 else None
    net = RRN(spec.layout.frequencies_hz, radius=spec.radius, fs=spec.fs_hz, w_res=w_res,
              coupling=spec.coupling, noise=spec.noise, seed=seed)
    if input_path is not None:
        X = _load_input(input_path)
    else:
        n_steps = int(round(duration * net.fs))
        if n_steps < 2:
            raise SystemExit(f"rrnsim: --duration {duration} s is shorter than two samples")
        X = input_std * rng.standard_normal((batch, n_steps))
    options = {"report": _tqdm_report(f"Brian2 {model}")} if engine == "brian2" and progress else {}
    started = time.perf_counter()
    result = net.run(X, engine=engine, **options)
    seconds = time.perf_counter() - started
    print(f"simulated {model} ({net.n_nodes} nodes, coupling {net.coupling}) with the {engine} "
          f"engine: {result.x.shape[0]} sample(s) x {result.x.shape[1] / net.fs:g} s in "
          f"{seconds:.1f} s")
    freqs, psd = spectral.power_spectrum(result.x, fs=net.fs,
                                         frequency_resolution=max(resolution, net.fs / result.x.shape[1]))
    out = Path(out)
    written = [save_arrays(out / "states.npz",
                           {"x": result.x, "t": result.t, "u": np.asarray(X, dtype=float),
                            "frequencies_hz": net.frequencies, "psd_freqs_hz": freqs.magnitude,
                            "psd": psd.magnitude},
                           {"model": model, "engine": engine, "fs_hz": net.fs,
                            "radius": net.radius.tolist(), "coupling": net.coupling, "seed": seed,
                            "x_shape": "(batch, time, node); x[:, n] is the state at (n+1)/fs s"})]
    fig = plot_traces(result.x, net.fs, net.frequencies, seconds=min(2.0, result.x.shape[1] / net.fs),
                      title=f"{model}: node states ({engine} engine)")
    written.append(out / "traces.png")
    fig.savefig(written[-1], dpi=120)
    variance = float(np.var(X)) if input_path is not None else input_std ** 2
    fig = plot_spectra(freqs.magnitude, psd.magnitude, net.frequencies, net.radius, net.fs,
                       input_variance=variance,
                       title=f"{model}: measured spectra (Elephant Welch) over analytic AR(2)")
    written.append(out / "spectra.png")
    fig.savefig(written[-1], dpi=120)
    return net, result, freqs, psd, written


def _print_peak_table(net, freqs, psd):
    peaks, prominence = spectral.peak_frequency(freqs, psd, fmin=0.5)
    print(f"{'node (Hz)':>10} {'band':>11} {'measured peak (Hz)':>19} {'prominence (dB)':>16}")
    for f, p, prom in zip(net.frequencies, peaks.magnitude, prominence):
        print(f"{f:10.2f} {band_of(f) or '-':>11} {p:19.2f} {prom:16.1f}")


def _cmd_models(args):
    print(f"{'name':<8} {'nodes':>5} {'parameters':>10}  description; frequencies (Hz)")
    for name in spec_names():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = load_spec(name)
        net = RRN(spec.layout.frequencies_hz, radius=spec.radius, fs=spec.fs_hz)
        freqs = ", ".join(f"{f:.3g}" for f in net.frequencies)
        dropped = ", ".join(f"{f:.4g}" for f in spec.layout.dropped)
        print(f"{name:<8} {net.n_nodes:>5} {net.n_parameters(args.classes):>10}  {spec.description}")
        print(f"{'':<26}{freqs}" + (f"  [dropped: {dropped}]" if dropped else ""))
    print(f"parameters: the paper's classifier with {args.classes} classes "
          "(W_res off-diagonal + normalisation scale/shift + linear readout).")


def _cmd_simulate(args):
    net, _, freqs, psd, written = simulate(
        args.model, args.engine, args.duration, args.batch, args.input, args.input_std,
        args.w_res_scale, args.seed, args.resolution, args.out, progress=not args.quiet)
    _print_peak_table(net, freqs, psd)
    for path in written:
        print(f"wrote {path}")


def _cmd_demo(args):
    started = time.perf_counter()
    print("rrnsim demo: the golden network (11 nodes, 2-246 Hz) simulated in Brian2, driven by "
          "white noise;\nits spectrum analysed with Elephant (Welch).\n")
    net, _, freqs, psd, written = simulate("golden", "brian2", args.duration, 1, None, 1.0,
                                           0.0, args.seed, 0.25, args.out, progress=not args.quiet)
    _print_peak_table(net, freqs, psd)
    for path in written:
        print(f"wrote {path}")
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="rrnsim", description="Resonant recurrent networks of damped oscillators tuned to "
                                   "brain rhythms: simulate, train, analyse.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("models", help="list the shipped network specs",
                            description="List the shipped specs with their frequencies, node "
                                        "counts and trainable parameter counts.")
    p.add_argument("--classes", type=int, default=10, help="classes for the parameter count (10)")
    p.set_defaults(func=_cmd_models)

    p = commands.add_parser("simulate", help="drive a network and write states and figures",
                            description="Drive a network with white noise (or --input), write "
                                        "states.npz, traces.png and spectra.png to --out.")
    p.add_argument("--model", default="golden",
                   help="spec name (" + ", ".join(spec_names()) + ") or a .toml path (golden)")
    p.add_argument("--engine", choices=["brian2", "discrete"], default="brian2",
                   help="engine (brian2)")
    p.add_argument("--duration", type=float, default=2.0, help="seconds of noise input (2)")
    p.add_argument("--batch", type=int, default=1, help="independent noise samples (1)")
    p.add_argument("--input", help="input array instead of noise: .npy, or .npz with 'X'; "
                                   "shape (batch, time[, channels]) at the model's fs")
    p.add_argument("--input-std", type=float, default=1.0, help="noise standard deviation (1)")
    p.add_argument("--w-res-scale", type=float, default=0.0,
                   help="std of random recurrent weights (0: the spec's, uncoupled)")
    p.add_argument("--seed", type=int, default=0, help="seed of noise and weights (0)")
    p.add_argument("--resolution", type=float, default=0.5, help="Welch resolution in Hz (0.5)")
    p.add_argument("--out", default="out/simulate", help="output folder (out/simulate)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)

    p = commands.add_parser("demo", help="the main job: simulate and analyse the golden network",
                            description="Simulate the golden network in Brian2, analyse its "
                                        "spectrum with Elephant, print a peak table, write figures.")
    p.add_argument("--duration", type=float, default=10.0, help="seconds simulated (10)")
    p.add_argument("--seed", type=int, default=0, help="seed (0)")
    p.add_argument("--out", default="out/demo", help="output folder (out/demo)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # Brian2's pyparsing renames
    try:
        args.func(args)
    except ValueError as err:
        print(f"rrnsim: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
