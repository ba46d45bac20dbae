"""What limits the spike task at 1,000 training trains: features or learning the readout?

The paper's task (``rrnsim.data.spike_task``; the same seeds as ``spike_study.py``). Two fixed
feature sets, each read out by a mixture of linear templates (``MixtureReadout``, the
classifier's readout) fitted to convergence by L-BFGS with a ridge penalty, best of two starts:

- ``golden RRN (phase)``: the golden network's summaries with W_res = 0 (log mean A**2 and the
  means of x and q in 2 windows per node: ``features="phase"`` before training);
- ``golden RRN (resonance)``: those and each node's resonance with the input (the means of
  g[n]*x[n-1] and g[n]*q[n-1]: the default classifier's features before training);
- ``golden RRN (centred)``: the phase features, the resonance centred on each trial's mean
  drive and the trial's mean input (``rrnsim.engines.centring``: the default classifier's
  features before training);
- ``golden RRN (resonance), 8-60 Hz``: the same, of the 5 nodes at 8.5-58 Hz only (the 3 in the
  modulation band and their neighbours): what the other 6 nodes' features cost a readout fitted
  to 1,000 trains;
- ``Fourier 10-50 Hz / 2 Hz``: the Fourier coefficients of each train at 10, 12, ..., 50 Hz with
  phase zero at the trial start, plus the spike count: linear features that span the signal
  (the rate is 100*(1 + sin(2*pi*f*t)), f uniform in 10-50 Hz);
- ``Fourier 10-50 Hz / 4 Hz`` and ``Fourier at golden f``: the same at 10, 14, ..., 50 Hz, and at
  the golden network's 11 node frequencies (3 of them inside 10-50 Hz): how much the coverage of
  the modulation band matters;
- ``... + squares``: those and, per frequency, the phase-locked second-order terms: the real and
  imaginary parts of Z**2 and |Z|**2, Z = C + iS the complex coefficient. The observer's
  log-likelihood ratio is a mixture over f of sums of log(1 + sin(2 pi f t_k)) over the spikes;
  averaged over f, its second-order part is a function of such terms.

Beside them the Bayes-optimal observer (``rrnsim.observer.IdealObserver``) on the same test
trains. If the Fourier features, read out this way, stay far below the observer, the limit is
learning the mixture over frequencies from 1,000 trains, not the oscillators' features.

    python analysis/spike_ceiling.py --seeds 3
"""
import argparse

import numpy as np
from tqdm.auto import tqdm

from _common import non_negative_float, positive_int, trial_count
from rrnsim import RRN
from rrnsim.data import spike_task
from rrnsim.engines.centring import CentredResonance
from rrnsim.observer import IdealObserver
from rrnsim.readout import MixtureReadout, cross_entropy, ridge_penalty, ridge_refit


GOLDEN = RRN.from_spec("golden")
BAND_4HZ = np.arange(10.0, 50.5, 4.0)   # the modulation band, every 4 Hz


def golden_features(X, resonance=False, band_hz=None, centred=False):
    """(n, 55): log power and 2-window means of x and q of the uncoupled golden network; with
    ``resonance`` (n, 77): also each node's resonance with the input; with ``centred`` (n, 78)
    that resonance centred on the trial's mean drive, and the trial's mean input; with
    ``band_hz`` (low, high): only the nodes whose frequency lies in that band."""
    out = GOLDEN.summaries(X, n_windows=2, resonance=resonance or centred)
    keep = slice(None) if band_hz is None else (
        (GOLDEN.frequencies >= band_hz[0]) & (GOLDEN.frequencies <= band_hz[1]))
    n = X.shape[0]
    parts = [np.log(out["power"][:, keep]), out["window_x"][..., keep].reshape(n, -1),
             out["window_q"][..., keep].reshape(n, -1)]
    if centred:
        u = X[:, :, None].astype(float)
        centred = CentredResonance(u, GOLDEN.w_in, GOLDEN.w1, GOLDEN.w2, *GOLDEN.paper_constants,
                                   GOLDEN.fs, out).features()
        parts += [centred["centred_x"][:, keep], centred["centred_q"][:, keep],
                  centred["mean_input"]]
    elif resonance:
        parts += [out["resonance_x"][:, keep], out["resonance_q"][:, keep]]
    return np.concatenate(parts, axis=1)


def fourier_features(frequencies, fs=1000.0):
    """Features (n, 2F + 1) of trains X (n, time): sum_n X[:, n] sin(2 pi f n/fs) and cos(...) at
    the F ``frequencies`` (Hz), and the spike count."""
    def features(X):
        phase = 2 * np.pi * np.asarray(frequencies)[:, None] * np.arange(X.shape[1]) / fs
        return np.concatenate([X @ np.sin(phase).T, X @ np.cos(phase).T, X.sum(1, keepdims=True)], 1)
    return features


def with_squares(fourier):
    """Fourier features (n, 2F + 1) and, per frequency, C**2 - S**2, C*S and C**2 + S**2."""
    def features(X):
        F = fourier(X)
        n_f = (F.shape[1] - 1) // 2
        S, C = F[:, :n_f], F[:, n_f:2 * n_f]
        return np.concatenate([F, C ** 2 - S ** 2, C * S, C ** 2 + S ** 2], axis=1)
    return features


FEATURE_SETS = {
    "golden RRN (phase)": golden_features,
    "golden RRN (resonance)": lambda X: golden_features(X, resonance=True),
    "golden RRN (centred)": lambda X: golden_features(X, centred=True),
    "golden RRN (resonance), 8-60 Hz": lambda X: golden_features(X, True, band_hz=(8, 60)),
    "Fourier at golden f": fourier_features(GOLDEN.frequencies),
    "Fourier 10-50 Hz / 4 Hz": fourier_features(BAND_4HZ),
    "Fourier 10-50 Hz / 2 Hz": fourier_features(np.arange(10.0, 50.5, 2.0)),
    "Fourier at golden f + squares": with_squares(fourier_features(GOLDEN.frequencies)),
    "Fourier 10-50 Hz / 4 Hz + squares": with_squares(fourier_features(BAND_4HZ)),
}


def fitted_accuracy(F_train, y_train, F_test, y_test, components, l2, starts=2):
    """Test accuracy of a mixture readout fitted by L-BFGS on standardised features."""
    mean, std = F_train.mean(0), F_train.std(0) + 1e-12
    z_train, z_test = (F_train - mean) / std, (F_test - mean) / std
    readout, best = MixtureReadout(components), None
    for start in range(starts):
        params = readout.init(z_train.shape[1], 2, np.random.default_rng(start))
        params = ridge_refit(z_train, y_train, params, l2, max_iter=1000, tol=2.2e-9)  # converged
        loss = (cross_entropy(readout.forward(z_train, params)[0], y_train)[0]
                + ridge_penalty(params["weight"], l2)[0])
        if best is None or loss < best[0]:
            best = (loss, params)
    return float(np.mean(readout.forward(z_test, best[1])[0].argmax(1) == y_test))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=positive_int, default=3,
                        help="number of seeds s = 0..N-1: training trains from seed 1000+s, test "
                             "trains from 2000+s (%(default)s)")
    parser.add_argument("--train", type=trial_count, default=1000, help="training trains (1000)")
    parser.add_argument("--test", type=trial_count, default=10000, help="test trains per seed (10000)")
    parser.add_argument("--components", type=positive_int, nargs="+", default=[1, 4, 8],
                        help="mixture components per class to try (1 4 8)")
    parser.add_argument("--l2", type=non_negative_float, default=1e-2, help="ridge penalty on the weights (0.01)")
    args = parser.parse_args(argv)
    observer = IdealObserver("paper")
    table = {}
    bar = tqdm(total=args.seeds * len(FEATURE_SETS) * len(args.components), desc="fits",
               unit="fit")
    for seed in range(args.seeds):
        train, test = spike_task(args.train, seed=1000 + seed), spike_task(args.test, seed=2000 + seed)
        table.setdefault(("Bayes-optimal observer", "-"), []).append(observer.score(test.X, test.y))
        for name, features in FEATURE_SETS.items():
            F_train, F_test = features(train.X), features(test.X)
            for m in args.components:
                table.setdefault((name, m), []).append(
                    fitted_accuracy(F_train, train.y, F_test, test.y, m, args.l2))
                bar.update()
    bar.close()
    print(f"\n{'features':<34} {'components':>10} {'mean':>6}  per seed")
    for (name, m), accs in table.items():
        print(f"{name:<34} {m!s:>10} {np.mean(accs):6.3f}  " + " ".join(f"{a:.3f}" for a in accs))


if __name__ == "__main__":
    main()
