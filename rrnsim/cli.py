"""The ``rrnsim`` command line: ``rrnsim models | simulate | train | evaluate | generate |
spectrum | demo`` (``--help`` on each)."""
import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import neo
import numpy as np
import quantities as pq

from .classifier import FEATURES, PAPER_SETTINGS, RRNClassifier
from .io import save_arrays
from .network import RRN
from .observer import IdealObserver
from .rhythms import band_of
from .specs import load_spec, spec_names
from .validation import count, fraction, hertz, positive

__all__ = ["main"]

# Elephant and matplotlib (rrnsim.spectral, rrnsim.plots) take about a second to import: the
# commands that use them import them, so that ``--help`` and ``models`` answer at once.


def _checked(check, convert=float, **options):
    """An argparse ``type``: ``convert`` the flag's text, then ``check`` it (rrnsim.validation);
    argparse names the flag in the error."""
    def parse(text):
        value = convert(text)  # a ValueError here is argparse's "invalid int value: ..."
        try:
            return check("value", value, **options)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = convert.__name__
    return parse


_COUNT = _checked(count, int)
_NATURAL = _checked(count, int, minimum=0)
_POSITIVE = _checked(positive)
_NON_NEGATIVE = _checked(positive, allow_zero=True)
_HERTZ = _checked(hertz)
#: The classifier's own defaults, shown by ``rrnsim train --help``.
_FIT = RRNClassifier().get_params()


@contextlib.contextmanager
def _brian2_progress(label, enabled=True):
    """A Brian2 ``report`` callable that drives a tqdm progress bar (None unless ``enabled``);
    the bar is closed on leaving, whether the run finished or failed."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm
    bar = tqdm(total=100, desc=label, unit="%", leave=False)

    def report(elapsed, completed, start, duration):
        bar.n = round(100 * completed)
        bar.refresh()
    try:
        yield report
    finally:
        bar.close()


def _load_input(path):
    """(batch, time[, channels]) array from a .npy file or a .npz file's 'X' array."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read input file {str(path)!r} as .npy or .npz: {err}") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        if "X" not in data.files:
            raise ValueError(f"input file {str(path)!r} has no array 'X' (has {data.files})")
        data = data["X"]
    if data.ndim in (2, 3) and data.shape[1] < 2:
        raise ValueError(f"input file {str(path)!r} has shape {data.shape}: {data.shape[1]} time "
                         "sample(s); the layout is (batch, time[, channels]), so it may be "
                         "transposed")
    if data.ndim == 3 and data.shape[1] < data.shape[2]:
        print(f"warning: input file {str(path)!r} has shape {data.shape}: {data.shape[1]} time "
              f"samples of {data.shape[2]} channels; the layout is (batch, time, channels). Is "
              "it transposed?", file=sys.stderr)
    return data


def simulate(model="golden", engine="brian2", duration=2.0, batch=1, input_path=None,
             input_std=1.0, w_res_scale=0.0, seed=0, resolution=0.5, out="out/simulate",
             progress=True):
    """Drive a network with white noise (or an input file), write states and figures.

    Returns (net, result, freqs, psd, written paths).
    """
    from . import spectral
    from .plots import plot_spectra, plot_traces
    if Path(out).exists() and not Path(out).is_dir():  # refused before the simulation runs
        raise ValueError(f"--out {str(out)!r} is a file; simulate writes a folder of files")
    spec = load_spec(model)
    rng = np.random.default_rng(seed)
    K = spec.layout.frequencies_hz.size
    w_res = rng.normal(0.0, w_res_scale, (K, K)) * (1 - np.eye(K)) if w_res_scale > 0 else None
    X = None if input_path is None else _load_input(input_path)
    n_channels = 1 if X is None or np.ndim(X) < 3 else np.shape(X)[2]
    net = RRN(spec.layout.frequencies_hz, radius=spec.radius, fs=spec.fs_hz, w_res=w_res,
              w_in=np.ones((K, n_channels)), coupling=spec.coupling, noise=spec.noise, seed=seed)
    if resolution > net.fs / 2:
        raise ValueError(f"--resolution {resolution} Hz is above Nyquist ({net.fs / 2:g} Hz)")
    if X is None:
        n_steps = int(round(duration * net.fs))
        if n_steps < 2:
            raise ValueError(f"--duration {duration} s is shorter than two samples")
        X = input_std * rng.standard_normal((batch, n_steps))
    started = time.perf_counter()
    with _brian2_progress(f"Brian2 {model}", engine == "brian2" and progress) as report:
        result = net.run(X, engine=engine, **({"report": report} if report else {}))
    seconds = time.perf_counter() - started
    print(f"simulated {model} ({net.n_nodes} nodes, coupling {net.coupling}) with the {engine} "
          f"engine: {result.x.shape[0]} sample(s) x {result.x.shape[1] / net.fs:g} s in "
          f"{seconds:.1f} s")
    coarsest = net.fs / result.x.shape[1]   # one Welch segment over the whole run
    if resolution < coarsest:
        print(f"--resolution {resolution:g} Hz is finer than a {result.x.shape[1] / net.fs:g} s "
              f"run resolves: using {coarsest:g} Hz")
        if input_path is not None and result.x.shape[1] < result.x.shape[0]:
            print(f"warning: input file {str(input_path)!r} holds {result.x.shape[0]} trials of "
                  f"{result.x.shape[1]} samples; the layout is (batch, time[, channels]). Is it "
                  "transposed?", file=sys.stderr)
    freqs, psd = spectral.power_spectrum(result.x, fs=net.fs,
                                         frequency_resolution=max(resolution, coarsest))
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
    # each node's drive is W_in @ u: the sum of the channels (W_in is ones)
    variance = (float(np.var(np.asarray(X, dtype=float).reshape(X.shape[0], X.shape[1], -1)
                             .sum(axis=2)))
                if input_path is not None else input_std ** 2)
    fig = plot_spectra(freqs.magnitude, psd.magnitude, net.frequencies, net.radius, net.fs,
                       input_variance=variance,
                       title=f"{model}: measured spectra (Elephant Welch) over analytic AR(2)")
    written.append(out / "spectra.png")
    fig.savefig(written[-1], dpi=120)
    return net, result, freqs, psd, written


def _print_peak_table(net, freqs, psd):
    from . import spectral
    peaks, prominence = spectral.peak_frequency(freqs, psd, fmin=0.5)
    print(f"{'node (Hz)':>10} {'band':>11} {'measured peak (Hz)':>19} {'prominence (dB)':>16}")
    for f, p, prom in zip(net.frequencies, peaks.magnitude, prominence):
        print(f"{f:10.2f} {band_of(f) or '-':>11} {p:19.2f} {prom:16.1f}")


def _cmd_models(args):
    print(f"{'name':<8} {'nodes':>5} {'parameters':>10}  description; frequencies (Hz)")
    for name in spec_names():
        spec = load_spec(name)
        net = RRN(spec.layout.frequencies_hz, radius=spec.radius, fs=spec.fs_hz,
                  coupling=spec.coupling)
        freqs = ", ".join(f"{f:.3g}" for f in net.frequencies)
        dropped = ", ".join(f"{f:.4g}" for f in spec.layout.dropped)
        print(f"{name:<8} {net.n_nodes:>5} {net.n_parameters(args.classes):>10}  {spec.description}")
        print(f"{'':<26}{freqs}" + (f"  [dropped: {dropped}]" if dropped else ""))
    print(f"parameters: the paper's classifier with {args.classes} classes (W_res off-diagonal + "
          "normalisation scale/shift + linear readout):\n  RRNClassifier(features=\"power\"); "
          "trained as the paper's code trains it: RRNClassifier(**rrnsim.PAPER_SETTINGS),\n  "
          f"{', '.join(f'{k}={v!r}' for k, v in PAPER_SETTINGS.items())}.\n  "
          "rrnsim's default, RRNClassifier(), adds phase-keeping window features, each node's "
          "resonance with\n  its input's fluctuations about the trial mean, that mean, and a "
          "mixture readout; its count is\n  printed by rrnsim train and stored in the model "
          "file.")


def _cmd_simulate(args):
    net, _, freqs, psd, written = simulate(
        args.model, args.engine, args.duration, args.batch, args.input, args.input_std,
        args.w_res_scale, args.seed, args.resolution, args.out, progress=not args.quiet)
    _print_peak_table(net, freqs, psd)
    for path in written:
        print(f"wrote {path}")


def _classifier_options(args):
    if args.features == "power":
        given = [flag for flag, value in (("--windows", args.windows),
                                          ("--products", args.products)) if value is not None]
        if given:
            raise ValueError(f"{' and '.join(given)} only apply to the other feature sets: "
                             "--features power is the mean A**2 per node")
    windows = _FIT["windows"] if args.windows is None else args.windows
    return dict(features=args.features, windows=windows, components=args.components,
                products=args.products, refit_alpha=args.refit_alpha,
                train_recurrent=not args.no_recurrent, train_input=args.train_input,
                train_nodes=args.train_nodes, epochs=args.epochs, batch_size=args.batch_size,
                lr=args.lr, weight_decay=args.weight_decay,
                recurrent_lr_scale=args.recurrent_lr_scale, readout_alpha=args.readout_alpha,
                validation_fraction=args.validation_fraction)


def _cmd_train(args):
    train(args.model, args.task, args.data, args.out, args.trials, args.seed,
          verbose=not args.quiet, **_classifier_options(args))


def _cmd_evaluate(args):
    _, ideal, written = evaluate(args.model_file, args.task, args.data, args.trials, args.seed,
                                 args.out)
    if ideal is not None:
        print(f"the Bayes-optimal observer on the same samples: {ideal:.4f} (the limit for any "
              "classifier)")
    for path in written:
        print(f"wrote {path}")


def _cmd_demo(args):
    started = time.perf_counter()
    out = Path(args.out)
    print("rrnsim demo, part 1: the golden network (11 nodes, 2-246 Hz) simulated in Brian2, "
          "driven by white noise;\nits spectrum analysed with Elephant (Welch).\n")
    net, _, freqs, psd, written = simulate("golden", "brian2", args.duration, 1, None, 1.0,
                                           0.0, args.seed, 0.25, out, progress=not args.quiet)
    _print_peak_table(net, freqs, psd)
    for path in written:
        print(f"wrote {path}")
    print("\nrrnsim demo, part 2: the golden RRN trained on the paper's spike-train task "
          "(1,000 training trains,\nconstant vs rhythm-modulated Poisson), tested on 10,000 new "
          "trains.\n")
    train("golden", "spikes", out=out / "spike_model.npz", seed=args.seed, verbose=not args.quiet)
    accuracy, ideal, written = evaluate(out / "spike_model.npz", "spikes", seed=args.seed)
    print(f"\n{'model':<34} test accuracy")
    print(f"{'rrnsim RRN, golden (default)':<34} {accuracy:.3f}   (this run, seed {args.seed})")
    print(f"{'Bayes-optimal observer':<34} {ideal:.3f}   (same test trains)")
    for name, value in REFERENCE_SPIKE_TASK.items():
        print(f"{name:<34} {value:.3f}   (DESIGN.md)")
    _, rasters = generate("paper", 30, args.seed, out / "paper_trials.nix",
                          progress=not args.quiet)
    written += rasters
    for path in written:
        print(f"wrote {path}")
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s")


#: Test accuracies of the paper's reference code on the spike task (DESIGN.md, 5 seeds each).
REFERENCE_SPIKE_TASK = {"reference RRN, golden": 0.607, "reference RRN, linear": 0.591,
                        "LSTM, 6 units": 0.509, "RNN, 11 units": 0.551,
                        "Bayes-optimal, Poisson version": 0.755}
_TASKS = ("smnist", "spikes")


def load_task(task, split, data=None, trials=None, seed=None, fs=1000.0):
    """(X, y, class names) of a task's split: ``smnist`` reads
    MNIST IDX files from ``data``; ``spikes`` generates the paper's spike task (``trials`` trains,
    ``seed``) at ``fs`` Hz, or reads ``data``, a trials file written by ``rrnsim generate``."""
    from .data import load_mnist, spike_task
    if task == "smnist":
        if data is None:
            raise ValueError("--task smnist needs --data DIR (the MNIST IDX files)")
        X, y = load_mnist(data, kind=split)
        if trials is not None:
            X, y = X[:trials], y[:trials]
        return X, y, [str(d) for d in range(10)]
    if task == "spikes" and data is not None:
        X, y, names = _read_trials(data, fs)
        if trials is not None and trials > len(y):
            raise ValueError(f"--trials {trials}: {str(data)!r} holds {len(y)} trials")
        if trials is not None:
            X, y = X[:trials], y[:trials]
        return X, y, names
    if task == "spikes":
        # train and test draw from separate streams, so no seed makes them share trains
        stream = np.random.default_rng([0 if seed is None else seed, split == "test"])
        generated = spike_task((1000 if split == "train" else 10000) if trials is None else trials,
                               seed=stream, fs=fs)
        return generated.X, generated.y, ["constant", "modulated"]
    raise ValueError(f"unknown task {task!r}; known: {', '.join(_TASKS)}")


def _read_trials(path, fs):
    """(X, y, class names) of a trials file written by ``rrnsim generate``: a NIX file's spike
    times binned at the model's ``fs`` (Hz), or a binned ``.npz``, whose rate must be ``fs``."""
    from .data import bin_block, load_nix
    from .io import load_arrays
    path = Path(path)
    file_format = _trials_format(path)
    if not path.is_file():
        raise ValueError(f"--data {str(path)!r}: no such file (for --task spikes, a trials file "
                         "written by rrnsim generate)")
    if file_format is None:
        raise ValueError(f"--data {str(path)!r} is not a trials file (.nix, .h5 or .npz written by "
                         "rrnsim generate)")
    if file_format == "npz":
        arrays, meta = load_arrays(path)
        if "X" not in arrays or "y" not in arrays or arrays["X"].ndim != 2:
            raise ValueError(f"{str(path)!r} has no binned trials X (trials, time) and labels y "
                             "(rrnsim generate --out FILE.npz)")
        X, y, file_fs, names = arrays["X"], arrays["y"], meta.get("fs_hz"), meta.get("class_names")
    else:
        block = load_nix(path)
        X, y = bin_block(block, fs=fs)
        file_fs, names = fs, block.annotations.get("class_names")
    if file_fs is not None and not np.isclose(float(file_fs), fs):
        raise ValueError(f"{str(path)!r} is sampled at {float(file_fs):g} Hz but the model runs "
                         f"at {fs:g} Hz")
    names = list(names) if names else [str(c) for c in range(int(np.max(y)) + 1)]
    return X, y, names


def _check_writable(path):
    """Fail before long work, not after it, when ``path`` cannot be written; the error says
    why."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"cannot write {str(path)!r}: it is a folder")
    for folder in reversed([path.parent, *path.parent.parents]):
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"cannot write {str(path)!r}: {str(folder)!r} is a file, not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK):
        raise ValueError(f"cannot write {str(path)!r}: its folder is not writable")


def train(model="golden", task="spikes", data=None, out="model.npz", trials=None, seed=0,
          verbose=True, **classifier_options):
    """Fit an RRNClassifier on a task's training split and save it; returns the classifier."""
    _check_writable(out)
    X, y, _ = load_task(task, "train", data, trials, seed, fs=load_spec(model).fs_hz)
    if task == "smnist" and classifier_options.get("validation_fraction") is None:
        classifier_options["validation_fraction"] = 5000 / 60000  # the 55,000/5,000 split
    options = {k: v for k, v in classifier_options.items() if v is not None}
    clf = RRNClassifier(spec=model, seed=seed, verbose=verbose, **options)
    started = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - started
    clf.save(out)
    print(f"trained {model} ({clf.features} features, {clf.n_parameters_} parameters) on "
          f"{len(y)} {task} samples in {seconds:.1f} s; kept epoch {clf.best_epoch_}; wrote {out}")
    return clf


def _figure_folder(model_path):
    """Default folder of a model's figures: its path without the extension (model.npz ->
    model), or NAME_figures for a file without one, so it never is the model file itself."""
    path = Path(model_path)
    return path.with_suffix("") if path.suffix else path.with_name(path.name + "_figures")


def evaluate(model_path, task="spikes", data=None, trials=None, seed=None, out=None):
    """Accuracy of a saved model on a task's test split; writes the confusion matrix and the
    class response profile figures. Returns (accuracy, the Bayes-optimal observer's accuracy on
    the same samples for the generated spike task else None, written paths)."""
    from .plots import plot_class_profiles, plot_confusion
    clf = RRNClassifier.load(model_path)
    X, y, names = load_task(task, "test", data, trials, seed, fs=clf.network_.fs)
    unknown = sorted(set(np.unique(y).tolist()) - set(clf.classes_.tolist()))
    if unknown:
        raise ValueError(f"the {task} test set has labels {unknown} that the model "
                         f"{str(model_path)!r} never saw (it knows {clf.classes_.tolist()})")
    if not set(clf.classes_.tolist()) <= set(range(len(names))):
        raise ValueError(f"the model {str(model_path)!r} was trained on a different task: it "
                         f"predicts classes {clf.classes_.tolist()}, the {task} task has "
                         f"{list(range(len(names)))} ({', '.join(names)})")
    out = Path(out) if out else _figure_folder(model_path)
    written = [out / "confusion.png", out / "class_profile.png"]
    for path in written:
        _check_writable(path)
    predicted = clf.predict(X)
    accuracy = float(np.mean(predicted == y))
    classes = list(clf.classes_)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(confusion, (np.searchsorted(classes, y), np.searchsorted(classes, predicted)), 1)
    labels = [names[int(c)] for c in classes]
    source = Path(data).name if data is not None else task
    plot_confusion(confusion, labels, title=f"{source}: accuracy {accuracy:.3f}").savefig(
        written[0], dpi=120)
    summaries = clf.summaries(X)

    def class_means(values):    # (classes, node); NaN for a class without test samples
        return np.array([values[y == c].mean(axis=0) if np.any(y == c)
                         else np.full(values.shape[1], np.nan) for c in classes])
    profiles = class_means(summaries["power"])
    resonance, label = None, ""     # the resonance panel: in phase and quadrature, its label
    for in_phase, quadrature, label in (
            ("centred_x", "centred_q", "resonance with the input's fluctuations"),
            ("resonance_x", "resonance_q", "resonance with the input")):
        if in_phase in summaries:
            resonance = np.array([class_means(summaries[in_phase]),
                                  class_means(summaries[quadrature])])
            break
    plot_class_profiles(clf.network_.frequencies, profiles, labels,
                        title=f"class response profile ({Path(model_path).name})",
                        resonance=resonance, resonance_label=label).savefig(written[1], dpi=120)
    print(f"accuracy on {len(y)} {task} test samples: {accuracy:.4f}")
    generated = task == "spikes" and data is None   # the paper's task, whose observer is known
    ideal = IdealObserver.paper_task(fs=clf.network_.fs).score(X, y) if generated else None
    return accuracy, ideal, written


_GENERATORS = ("paper", "bands", "ping")


_TRIAL_FORMATS = {".nix": "nix", ".h5": "nix", ".npz": "npz"}


def _trials_format(path):
    """``"nix"`` or ``"npz"`` for a trials file named ``path`` (by its extension), else None."""
    return _TRIAL_FORMATS.get(Path(path).suffix.lower())


def _trials_path(out=None, file_format=None):
    """``(path, format)`` for generated trials: the format from the extension of ``out``
    (``.nix``/``.h5``: NIX, ``.npz``: binned counts), else ``file_format`` (default nix) with its
    extension added (``out`` None: ``trials``); an unknown extension, one that contradicts
    ``file_format``, or a folder is an error, so a trials file's name tells its format."""
    if file_format not in (None, "nix", "npz"):
        raise ValueError(f"format must be 'nix' or 'npz', got {file_format!r}")
    text = "trials" if out is None else os.fspath(out)
    path = Path(text)
    if out is not None and (text.endswith(("/", os.sep)) or path.is_dir()
                            or path.name.endswith(".") or path.name.lower() in _TRIAL_FORMATS):
        raise ValueError(f"--out {text!r} is not a file name (e.g. trials.nix or trials.npz)")
    if not path.suffix:
        file_format = file_format or "nix"
        path = path.with_suffix(f".{file_format}")
    else:
        implied = _trials_format(path)
        if implied is None:
            raise ValueError(f"cannot write trials to {text!r}: unknown extension "
                             f"{path.suffix!r} (use .nix or .h5 for NIX, .npz for binned counts)")
        if file_format is not None and file_format != implied:
            raise ValueError(f"--format {file_format} contradicts the extension of {text!r} "
                             f"({implied}); drop --format or change the extension")
        file_format = implied
    if path.is_dir():
        raise ValueError(f"cannot write trials to {str(path)!r}: it is a folder")
    return path, file_format


def generate(task="paper", trials=100, seed=0, out=None, file_format=None, progress=True):
    """Generate trials with Brian2, write them and a raster figure: NIX, or binned ``.npz``, by
    the extension of ``out`` or by ``file_format`` (:func:`_trials_path`; default
    ``trials.nix``). ``progress``: bars for the PING simulation and the NIX writing."""
    from .data import bands_task, bin_block, paper_task, ping_network, save_nix
    from .plots import plot_raster
    if task not in _GENERATORS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(_GENERATORS)}")
    out, file_format = _trials_path(out, file_format)
    raster = out.with_suffix(".raster.png")
    if raster.is_dir():
        raise ValueError(f"cannot write the raster to {str(raster)!r}: it is a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    if task == "paper":
        block = paper_task(trials, seed=seed)
    elif task == "bands":
        block = bands_task(trials, seed=seed)
    else:
        with _brian2_progress("Brian2 ping", progress) as report:
            block = ping_network(n_trials=trials, seed=seed, report=report)
    if file_format == "nix":
        save_nix(block, out, progress=progress)
    else:
        X, y = bin_block(block)
        fs_hz = positive("fs", block.annotations["fs"], unit=pq.Hz)
        save_arrays(out, {"X": X, "y": y}, {"task": task, "seed": seed, "fs_hz": fs_hz,
                                            "class_names": block.annotations.get("class_names"),
                                            "X_shape": "(trials, time) spike counts per sample"})
    plot_raster(block, title=f"{task}: {len(block.segments)} trial(s), seed {seed}").savefig(
        raster, dpi=120)
    print(f"generated {len(block.segments)} {task} trial(s) with Brian2 (seed {seed})")
    return block, [out, raster]


def _trial_rates(path, arrays=None, meta=None):
    """Population rate of each trial, (time, trial) ``neo.AnalogSignal`` in Hz: from a neo
    file, or from the binned counts ``X`` (trials, time) of ``rrnsim generate``'s ``.npz``."""
    from . import spectral
    if arrays is None:
        from .data import load_nix
        return spectral.population_rates(load_nix(path))
    X = arrays.get("X")
    if X is None or X.ndim != 2:
        raise ValueError(f"{str(path)!r} has neither node states 'x' (rrnsim simulate) nor "
                         "binned trials 'X' (trials, time) (rrnsim generate)")
    fs = float(meta.get("fs_hz", 1000.0)) * pq.Hz
    return neo.AnalogSignal(X.T * fs, sampling_rate=fs)  # counts per sample -> Hz


def spectrum(path, resolution=2.0, out=None):
    """Spectrum of a states .npz (node states), or of the population rate per trial of a neo
    file or of ``rrnsim generate``'s binned ``.npz``.

    Returns a summary dict ``{"peak_hz", "band", "band_power": {band: value}, ...}`` and the
    written figure paths.
    """
    from . import spectral
    from .io import load_arrays
    from .plots import plot_psd
    path = Path(path)
    arrays, meta = load_arrays(path) if _trials_format(path) == "npz" else (None, None)
    if arrays is not None and "x" in arrays:
        fs = float(meta.get("fs_hz", 1000.0))
        resolution = max(resolution, fs / arrays["x"].shape[1])  # at most one segment per run
        freqs, psd = spectral.power_spectrum(arrays["x"], fs=fs, frequency_resolution=resolution)
        labels = [f"{f:.3g} Hz" for f in arrays.get("frequencies_hz", range(psd.shape[1]))]
        total = psd.magnitude.sum(axis=1)
        ylabel = "PSD of x (1/Hz)"
        what = f"node states of {meta.get('model', 'a model')} at {fs:g} Hz"
    else:
        rates = _trial_rates(path, arrays, meta)
        resolution = max(resolution, float(rates.sampling_rate.rescale("Hz")) / rates.shape[0])
        freqs, psd = spectral.power_spectrum(rates, frequency_resolution=resolution)
        psd = psd.mean(axis=1)[:, None]  # average over trials
        labels, total = ["population rate"], psd.magnitude[:, 0]
        ylabel, what = "PSD of rate (Hz²/Hz)", f"population rate of {rates.shape[1]} trial(s)"
    peak, prominence = spectral.peak_frequency(freqs, total[:, None] * psd.units, fmin=1.0)
    band_power = spectral.band_power(freqs, total[:, None] * psd.units)
    summary = {"peak_hz": float(peak.magnitude[0]),
               "band": band_of(float(peak.magnitude[0])) or None,   # None: outside the bands
               "prominence_db": float(prominence[0]),
               "band_power": {b: float(np.asarray(v).ravel()[0]) for b, v in band_power.items()},
               "source": what, "resolution_hz": resolution}
    folder = out is not None and (Path(out).is_dir() or str(out).endswith(("/", os.sep)))
    out = Path(out) if out else path.with_suffix(".psd.png")
    if folder:  # an existing folder, or one named with a trailing slash
        out.mkdir(parents=True, exist_ok=True)
        out = out / path.with_suffix(".psd.png").name
    elif not out.suffix:
        out = out.with_suffix(".png")  # what matplotlib would write; report that name
    plot_psd(freqs.magnitude, psd.magnitude, labels, ylabel=ylabel,
             title=f"{path.name}: {what}, {resolution:g} Hz bins").savefig(out, dpi=120)
    return summary, [out]


def _cmd_generate(args):
    _, written = generate(args.task, args.trials, args.seed, args.out, args.format,
                          progress=not args.quiet)
    for path in written:
        print(f"wrote {path}")


def _cmd_spectrum(args):
    summary, written = spectrum(args.file, args.resolution, args.out)
    if args.json:
        powers = {band: value if np.isfinite(value) else None   # null: the band is above Nyquist
                  for band, value in summary["band_power"].items()}
        print(json.dumps({"peak_hz": summary["peak_hz"], "band": summary["band"],
                          "band_power": powers}, allow_nan=False))
        return
    coarser = (f"; --resolution {args.resolution:g} Hz is finer than the trials resolve"
               if summary["resolution_hz"] > args.resolution else "")
    print(f"spectrum of the {summary['source']} (Elephant Welch, {summary['resolution_hz']:g} Hz "
          f"resolution{coarser})")
    print(f"dominant peak: {summary['peak_hz']:.2f} Hz ({summary['band'] or 'outside the bands'}), "
          f"prominence {summary['prominence_db']:.1f} dB")
    print(f"{'band':>11} {'power':>12}")
    for band, value in summary["band_power"].items():
        print(f"{band:>11} {value:12.4g}")
    for path in written:
        print(f"wrote {path}")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="rrnsim", description="Resonant recurrent networks of damped oscillators tuned to "
                                   "brain rhythms: simulate, train, analyse.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("models", help="list the shipped network specs",
                            description="List the shipped specs with their frequencies, node "
                                        "counts and trainable parameter counts.")
    p.add_argument("--classes", type=_checked(count, int, minimum=2), default=10,
                   help="classes for the parameter count (default: %(default)s)")
    p.set_defaults(func=_cmd_models)

    p = commands.add_parser("simulate", help="drive a network and write states and figures",
                            description="Drive a network with white noise (or --input), write "
                                        "states.npz, traces.png and spectra.png to --out.")
    p.add_argument("--model", default="golden",
                   help="spec name (" + ", ".join(spec_names()) + ") or a .toml path "
                        "(default: %(default)s)")
    p.add_argument("--engine", choices=["brian2", "discrete"], default="brian2",
                   help="engine (default: %(default)s)")
    p.add_argument("--duration", type=_POSITIVE, default=2.0,
                   help="seconds of noise input (default: %(default)s)")
    p.add_argument("--batch", type=_COUNT, default=1,
                   help="independent noise samples (default: %(default)s)")
    p.add_argument("--input", help="input array instead of noise: .npy, or .npz with 'X'; "
                                   "shape (batch, time[, channels]) at the model's fs; every "
                                   "node gets the sum of the channels (W_in is ones) "
                                   "(default: white noise)")
    p.add_argument("--input-std", type=_NON_NEGATIVE, default=1.0,
                   help="noise standard deviation (default: %(default)s)")
    p.add_argument("--w-res-scale", type=_NON_NEGATIVE, default=0.0,
                   help="std of random recurrent weights; 0 keeps the spec's, uncoupled "
                        "(default: %(default)s)")
    p.add_argument("--seed", type=_NATURAL, default=0,
                   help="seed of noise and weights (default: %(default)s)")
    p.add_argument("--resolution", type=_HERTZ, default=0.5,
                   help="Welch resolution in Hz; a finer one than 1/duration is raised to that, "
                        "and the output says so (default: %(default)s)")
    p.add_argument("--out", default="out/simulate", help="output folder (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)

    p = commands.add_parser("train", help="train an RRN classifier on a task",
                            description="Train an RRNClassifier (back-propagation through the "
                                        "oscillators) and save it as .npz + JSON metadata.")
    p.add_argument("--model", default="golden", help="network spec (default: %(default)s)")
    p.add_argument("--task", choices=_TASKS, default="spikes",
                   help="smnist: sequential MNIST from --data; spikes: the paper's spike task "
                        "(default: %(default)s)")
    p.add_argument("--data", help="smnist: folder of the MNIST IDX files; spikes: a trials file "
                                  "written by rrnsim generate (.nix or .npz; default: generate "
                                  "the paper's task)")
    p.add_argument("--trials", type=_COUNT,
                   help="training samples (default: spikes 1000 or the whole file; smnist all)")
    p.add_argument("--out", default="model.npz", help="model file to write (default: %(default)s)")
    p.add_argument("--features", choices=FEATURES, default=_FIT["features"],
                   help="readout features: power is the paper's; phase adds window means of the "
                        "states; resonance adds each node's resonance with the input to those; "
                        "centred takes the trial's mean drive out of the resonance and adds the "
                        "trial's mean input (default: %(default)s)")
    p.add_argument("--windows", type=_COUNT,
                   help="windows of the phase, resonance and centred features (default: "
                        f"{_FIT['windows']})")
    p.add_argument("--components", type=_COUNT,
                   help="readout mixture components (default: 1 with power features, 2 "
                        "otherwise)")
    p.add_argument("--products", type=_NATURAL, metavar="BAND",
                   help="add the mean products of the states of nodes at most BAND apart, e.g. "
                        "2: more accurate, about 2.5x slower per batch (default: none)")
    p.add_argument("--refit-alpha", type=_POSITIVE, metavar="ALPHA",
                   help="after training, refit the readout on all data with ridge ALPHA, e.g. "
                        "100 (default: no refit)")
    p.add_argument("--no-recurrent", action="store_true",
                   help="train only normalisation and readout (fixed oscillators)")
    p.add_argument("--train-input", action="store_true", help="also train W_in")
    p.add_argument("--train-nodes", action="store_true", help="also train frequencies, damping")
    p.add_argument("--epochs", type=_COUNT, default=_FIT["epochs"],
                   help="epochs (default: %(default)s)")
    p.add_argument("--batch-size", type=_COUNT, default=_FIT["batch_size"],
                   help="batch size (default: %(default)s)")
    p.add_argument("--lr", type=_POSITIVE, default=_FIT["lr"],
                   help="peak learning rate of the one-cycle schedule (default: %(default)s)")
    p.add_argument("--weight-decay", type=_NON_NEGATIVE, default=_FIT["weight_decay"],
                   help="AdamW weight decay (default: %(default)s)")
    p.add_argument("--recurrent-lr-scale", type=_POSITIVE, default=_FIT["recurrent_lr_scale"],
                   metavar="SCALE", help="W_res learns at SCALE times --lr (default: %(default)s)")
    p.add_argument("--readout-alpha", type=_NON_NEGATIVE, default=_FIT["readout_alpha"],
                   metavar="ALPHA", help="ridge prior on the readout's weights: the loss adds "
                                         "ALPHA/n_train * sum(weights**2); 0: none, as the paper "
                                         "(default: %(default)s)")
    p.add_argument("--validation-fraction", type=_checked(fraction),
                   help="held out to pick the epoch, by the one-standard-error rule on its loss "
                        "(default: spikes "
                        f"{_FIT['validation_fraction']}; smnist 5000/60000)")
    p.add_argument("--seed", type=_NATURAL, default=0, help="seed (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_train)

    p = commands.add_parser("evaluate", help="test a saved model; confusion and profile figures",
                            description="Print a saved model's test accuracy and write its "
                                        "confusion matrix and class response profile (PNG).")
    p.add_argument("model_file", help="a model .npz written by rrnsim train")
    p.add_argument("--task", choices=_TASKS, default="spikes", help="task (default: %(default)s)")
    p.add_argument("--data", help="smnist: folder of the MNIST IDX files; spikes: a trials file "
                                  "written by rrnsim generate (.nix or .npz; default: generate "
                                  "the paper's task)")
    p.add_argument("--trials", type=_COUNT,
                   help="test samples (default: spikes 10000 generated or the whole file; smnist "
                        "all)")
    p.add_argument("--seed", type=_NATURAL, default=0,
                   help="seed of the generated spike test set; test trains never repeat training "
                        "trains (default: %(default)s)")
    p.add_argument("--out", help="folder for the figures (default: MODEL_FILE without its "
                                 "extension, or MODEL_FILE_figures if it has none)")
    p.set_defaults(func=_cmd_evaluate)

    p = commands.add_parser("generate", help="generate spike trials with Brian2 (neo / NIX)",
                            description="Simulate trials with Brian2 and write them as one "
                                        "neo.Block in a NIX file (or binned .npz), with a raster.")
    p.add_argument("--task", choices=_GENERATORS, default="paper",
                   help="paper: constant vs modulated 100 Hz; bands: one class per rhythm band; "
                        "ping: an E-I network with emergent gamma (default: %(default)s)")
    p.add_argument("--trials", type=_COUNT, default=100,
                   help="trials in total, balanced (default: %(default)s)")
    p.add_argument("--seed", type=_NATURAL, default=0, help="seed (default: %(default)s)")
    p.add_argument("--out",
                   help="output file: .nix or .h5 (NIX) or .npz (binned); without an extension "
                        "the format's is added (default: trials.nix, or trials.npz with "
                        "--format npz)")
    p.add_argument("--format", choices=["nix", "npz"],
                   help="nix (a neo.Block) or npz (binned arrays X, y); must agree with the "
                        "extension of --out (default: from that extension, else nix)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bars (PING's simulation, writing NIX)")
    p.set_defaults(func=_cmd_generate)

    p = commands.add_parser("spectrum", help="band powers and dominant peak of a file",
                            description="Spectrum (Elephant Welch) of node states (.npz from "
                                        "simulate) or of the population rate of each trial of a "
                                        "neo file or of generate's binned .npz, averaged over "
                                        "trials; writes a PSD figure.")
    p.add_argument("file", help="states .npz (simulate), trials .nix, .h5 or .npz (generate)")
    p.add_argument("--resolution", type=_HERTZ, default=2.0,
                   help="frequency resolution, Hz; a finer one than 1/duration is raised to "
                        "that, and the output says so (default: %(default)s)")
    p.add_argument("--json", action="store_true",
                   help='print {"peak_hz", "band", "band_power": {band: value}} only')
    p.add_argument("--out", help="figure path; .png is added if it has no extension (default: "
                                 "FILE.psd.png)")
    p.set_defaults(func=_cmd_spectrum)

    p = commands.add_parser(
        "demo", help="the main job: simulate, train, evaluate and generate with the golden network",
        description="The main job, in two parts. 1: simulate the golden network in Brian2 "
                    "driven by white noise, analyse its spectrum with Elephant, print a peak "
                    "table. 2: train the golden RRN on the paper's spike task (1,000 trains), "
                    "test it on 10,000 new trains and print its accuracy beside the "
                    "Bayes-optimal observer's and the paper's reference results, and generate 30 "
                    "trials of the paper's task with Brian2 as NIX. Writes the states, figures, "
                    "model and NIX file to --out; --seed seeds every random draw.")
    p.add_argument("--duration", type=_POSITIVE, default=10.0,
                   help="seconds simulated (default: %(default)s)")
    p.add_argument("--seed", type=_NATURAL, default=0, help="seed (default: %(default)s)")
    p.add_argument("--out", default="out/demo", help="output folder (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)
    return parser


def _note(message, category, filename, lineno, file=None, line=None):
    """Show warnings as one plain line each (no source echo) on the command line."""
    print(f"rrnsim: note: {message}", file=sys.stderr)


def main(argv=None):
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code: 0, 2
    for a bad value (one ``rrnsim: error:`` line on stderr, nothing half-written), or 1 when
    the reader of the output stopped early (``rrnsim ... | head``), quietly."""
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("once", message="layout .* dropped")
    warnings.showwarning = _note
    try:
        args.func(args)
    except BrokenPipeError:   # the reader stopped early (rrnsim ... | head): end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # Python's advice
        return 1
    except (ValueError, OSError) as err:
        print(f"rrnsim: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
