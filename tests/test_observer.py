"""The Bayes-optimal observer (rrnsim.observer): exact likelihoods, accuracy ceilings, errors."""
import itertools
import math

import numpy as np
import pytest
import quantities as pq
from scipy import integrate, stats
from scipy.special import logsumexp, softmax

from conftest import whole
from rrnsim.data import generators, spike_task
from rrnsim.observer import BANDS_TASK_BANDS, IdealObserver, ideal_accuracy
from rrnsim.rhythms import BANDS

# The observer's accuracy on spike_task (1 ms Bernoulli bins) was measured at 0.7788 +- 0.0013
# on 100,000 trials (seed 12345): a measurement of this observer, so not a test of it (the
# likelihoods are checked against quadrature and a brute-force sum below). The project's
# reference figure 0.755 is the Poisson-process version of the task (Poisson counts per bin:
# 0.760 +- 0.0013 on 100,000 trials; fs = 10 kHz, near the continuum: 0.753 +- 0.003), see
# test_poisson_process_gives_the_reference_figure.
PAPER_REFERENCE_ACCURACY = 0.755


def bands_trials(n_trials, seed, duration=1.0, fs=1000.0, rate=30.0, bands=BANDS_TASK_BANDS):
    """The multi-band task by its definition, numpy only: X (trials, bins) 0/1 uint8, y, f (Hz).

    Labels uniform over the bands; f uniform in the band; phase uniform on [0, 2*pi); bin n holds
    a spike with probability rate*(1 + sin(2*pi*f*n/fs + phase))/fs.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(bands), n_trials)
    edges = np.array([BANDS[b] for b in bands])
    f = rng.uniform(edges[y, 0], edges[y, 1])
    phase = rng.uniform(0, 2 * np.pi, n_trials)
    t = np.arange(int(round(duration * fs))) / fs
    p = rate * (1 + np.sin(2 * np.pi * f[:, None] * t + phase[:, None])) / fs
    return (rng.random(p.shape) < p).astype(np.uint8), y, f


def bernoulli_loglik(x, p):
    """Direct log P(x | p) = sum x log p + (1-x) log(1-p), plain numpy, no floor."""
    with np.errstate(divide="ignore"):  # log(0) = -inf where it is not used
        return float(np.sum(np.where(x == 1, np.log(p), np.log(1 - p))))


# --- the paper's task ----------------------------------------------------------------------
def brute_force_paper_loglik(X, n_intervals=2000, duration=0.1, fs=1000.0, rate=100.0,
                             f_range=(10.0, 50.0)):
    """The paper task's class log-likelihoods from its definition, numpy only: class 0 constant
    ``rate``; class 1 ``rate*(1 + sin(2*pi*f*t))`` averaged over f uniform in ``f_range`` by
    Simpson's rule on ``n_intervals`` equal intervals (not the observer's Gauss rule)."""
    low, high = f_range
    f = np.linspace(low, high, n_intervals + 1)
    weights = np.ones(n_intervals + 1)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    weights /= weights.sum()                                           # the mean over f
    t = np.arange(int(round(duration * fs))) / fs
    p = rate * (1 + np.sin(2 * np.pi * f[:, None] * t)) / fs          # (frequencies, bins)
    log_p = np.log(np.maximum(p, 1e-300))   # a rate of 0 (sin = -1) that rounds to 0: no NaN
    X = np.asarray(X, dtype=float)
    ll_1 = X @ log_p.T + (1 - X) @ np.log(1 - p).T                    # (trials, frequencies)
    ll_0 = X.sum(1) * math.log(rate / fs) + (1 - X).sum(1) * math.log(1 - rate / fs)
    return np.stack([ll_0, logsumexp(ll_1 + np.log(weights), axis=1)], axis=1)


def test_paper_task_accuracy():
    """On 4000 trials the observer decides every trial as the likelihoods from the task's
    definition do, and its accuracy agrees with its own confidence: the mean posterior of the
    class it picks (what a correct model of the generator expects to score) is within 3
    standard errors of the accuracy it reaches on the generator's trials."""
    task = spike_task(4000, seed=0)
    observer = IdealObserver.paper_task()
    accuracy = observer.score(task.X, task.y)
    ll = observer.log_likelihoods(task.X)
    direct = brute_force_paper_loglik(task.X)
    assert np.abs(ll - direct).max() < 1e-6
    np.testing.assert_array_equal(observer.predict(task.X), direct.argmax(axis=1))
    confidence = observer.predict_proba(task.X).max(axis=1)
    expected, se = confidence.mean(), np.sqrt((confidence * (1 - confidence)).mean() / 4000)
    print(f"\nideal observer, paper task (spike_task, 4000 trials, seed 0): {accuracy:.4f}; "
          f"its expected accuracy (mean posterior of its choice) {expected:.4f} +- {se:.4f} "
          f"(project reference, Poisson process: {PAPER_REFERENCE_ACCURACY})")
    assert abs(accuracy - expected) < 3 * se
    assert ideal_accuracy("paper", n_trials=4000, seed=0) == accuracy


def test_poisson_process_gives_the_reference_figure():
    """0.755 is the Bayes accuracy of the Poisson-process task; 1 ms Bernoulli bins give more."""
    task = spike_task(4000, seed=1)
    counts = np.random.default_rng(1).poisson(task.rates_hz / task.fs)  # Poisson counts per bin
    poisson = IdealObserver.paper_task(likelihood="poisson").score(counts, task.y)
    fine = spike_task(4000, seed=2, fs=10_000.0)  # 0.1 ms bins: close to the continuum
    continuum = IdealObserver.paper_task(fs=10_000.0).score(fine.X, fine.y)
    print(f"\nideal observer, Poisson-process paper task (4000 trials each): Poisson counts in "
          f"1 ms bins {poisson:.4f}; Bernoulli 0.1 ms bins {continuum:.4f} (reference "
          f"{PAPER_REFERENCE_ACCURACY})")
    assert abs(poisson - PAPER_REFERENCE_ACCURACY) < 0.02
    assert abs(continuum - PAPER_REFERENCE_ACCURACY) < 0.02


def test_ideal_accuracy_scores_the_poisson_likelihood_on_poisson_counts():
    rng = np.random.default_rng(3)
    task = spike_task(500, seed=rng)
    counts = rng.poisson(task.rates_hz / task.fs)
    expected = IdealObserver.paper_task(likelihood="poisson").score(counts, task.y)
    assert ideal_accuracy("paper", n_trials=500, seed=3, likelihood="poisson") == expected
    with pytest.raises(ValueError, match="Poisson counts.*bands task"):
        ideal_accuracy("bands", n_trials=10, likelihood="poisson")


def test_units_and_nyquist_agree_with_the_generators():
    """f_range in quantities is read in Hz; a band reaching fs/2 is refused by the observer and
    by the generator alike."""
    plain = IdealObserver.paper_task(f_range=(10.0, 50.0))._config()["f_range"]
    assert IdealObserver.paper_task(f_range=(10 * pq.Hz, 0.05 * pq.kHz))._config()["f_range"] == plain
    from rrnsim.data.generators import bands_task
    for make in (lambda: IdealObserver.bands_task(fs=200.0)._config(),
                 lambda: bands_task(5, fs=200.0)):
        with pytest.raises(ValueError, match="'gamma'.*Nyquist frequency fs/2 = 100 Hz"):
            make()


def test_observer_beats_the_best_spike_count_threshold():
    task = spike_task(2000, seed=3)
    accuracy = IdealObserver.paper_task().score(task.X, task.y)
    counts = task.X.sum(axis=1)
    # the threshold is chosen on the same trials, which flatters the alternative
    best = max(max(np.mean((counts >= k) == (task.y == 1)), np.mean((counts < k) == (task.y == 1)))
               for k in range(int(counts.max()) + 2))
    print(f"\npaper task, 2000 trials: ideal {accuracy:.4f}, best spike-count threshold {best:.4f}")
    assert accuracy > best + 0.1


def test_fixed_frequency_likelihoods_equal_the_direct_computation():
    f = 23.7
    task = spike_task(20, seed=4, f_range=(f, f))
    observer = IdealObserver.paper_task(f_range=(f, f))
    ll = observer.log_likelihoods(task.X)
    p0 = np.full(100, 100.0 / 1000.0)
    p1 = 100.0 * (1 + np.sin(2 * np.pi * f * np.arange(100) / 1000.0)) / 1000.0
    for i, x in enumerate(task.X):
        assert ll[i, 0] == pytest.approx(bernoulli_loglik(x, p0), rel=1e-12, abs=1e-12)
        assert ll[i, 1] == pytest.approx(bernoulli_loglik(x, p1), rel=1e-12, abs=1e-12)
    # where the generator's rates say the likelihoods are those of the trial's own rates
    for i in np.flatnonzero(task.y == 1):
        assert ll[i, 1] == pytest.approx(bernoulli_loglik(task.X[i], task.rates_hz[i] / 1000.0),
                                         rel=1e-12)
    # the posterior is the logistic of the log-likelihood ratio
    proba = observer.predict_proba(task.X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(ll[:, 0] - ll[:, 1])), rtol=1e-12)


def test_fixed_frequency_poisson_likelihoods_equal_scipys_poisson_pmf():
    """likelihood='poisson': sum over bins of log Poisson(X[n]; rate(t[n])/fs), including the
    -log(X[n]!) term, checked on counts of up to 3 spikes per bin with scipy's logpmf."""
    f = 31.3
    rng = np.random.default_rng(7)
    t = np.arange(100) / 1000.0
    mu0 = np.full(100, 0.1)
    mu1 = 0.1 * (1 + np.sin(2 * np.pi * f * t))
    X = rng.poisson(np.vstack([np.full((3, 100), 0.8), np.tile(mu1 * 8, (3, 1))]))
    assert X.max() >= 3
    ll = IdealObserver.paper_task(f_range=(f, f), likelihood="poisson").log_likelihoods(X)
    for i, x in enumerate(X):
        assert ll[i, 0] == pytest.approx(stats.poisson.logpmf(x, mu0).sum(), rel=1e-12)
        assert ll[i, 1] == pytest.approx(stats.poisson.logpmf(x, mu1).sum(), rel=1e-12)


def test_frequency_integral_matches_adaptive_quadrature():
    """Class 1's likelihood is the prior average over f: compare with scipy's quad."""
    observer = IdealObserver.paper_task(duration=0.03)
    task = spike_task(6, seed=5, duration=0.03)
    ll = observer.log_likelihoods(task.X)
    t = np.arange(30) / 1000.0
    for i, x in enumerate(task.X):
        def likelihood(f):
            return math.exp(bernoulli_loglik(x, 100 * (1 + np.sin(2 * np.pi * f * t)) / 1000))
        value, _ = integrate.quad(likelihood, 10, 50, epsabs=0, epsrel=1e-12, limit=200)
        assert ll[i, 1] == pytest.approx(math.log(value / 40), abs=1e-9)


def test_grid_convergence_paper_task():
    task = spike_task(300, seed=6)
    default = IdealObserver.paper_task().log_likelihoods(task.X)
    fine = IdealObserver.paper_task(n_frequencies=4096).log_likelihoods(task.X)
    coarse = IdealObserver.paper_task(n_frequencies=64).log_likelihoods(task.X)
    print(f"\npaper task grid: |log L(512) - log L(4096)| <= {np.abs(default - fine).max():.1e}, "
          f"64 points: {np.abs(coarse - fine).max():.1e}")
    assert np.abs(default - fine).max() < 1e-7


def test_default_grid_stays_converged_for_longer_trials():
    """The likelihood sharpens in f as trials lengthen: the default grid follows the duration
    (512 fixed nodes were off by 0.03 in log-likelihood at 1 s, 2.5 at 4 s)."""
    task = spike_task(60, seed=2, duration=1.0, rate=10.0)
    observer = IdealObserver.paper_task(duration=1.0, rate=10.0)
    assert observer.frequency_rule(1)[0].size == 5120
    fine = IdealObserver.paper_task(duration=1.0, rate=10.0, n_frequencies=4 * 5120)
    assert np.abs(observer.log_likelihoods(task.X) - fine.log_likelihoods(task.X)).max() < 1e-6
    bands = IdealObserver.bands_task(duration=4.0, bands=("alpha", "beta"))
    assert bands._config()["f_step_hz"] == pytest.approx(0.0125)


@pytest.mark.parametrize("task, kwargs", [
    ("paper", {"duration": 0.008}),
    ("paper", {"duration": 0.008, "f_range": (30.0, 30.0)}),
    ("bands", {"duration": 0.008, "bands": ("delta", "alpha", "gamma"), "rate": 100.0}),
    ("paper", {"duration": 0.008, "rate": 500.0, "f_range": (250.0, 250.0)}),  # p = 0 and 1
])
def test_likelihoods_of_all_trains_sum_to_one(task, kwargs):
    observer = IdealObserver(task, **kwargs)
    trains = np.array(list(itertools.product([0, 1], repeat=observer.n_bins)))
    ll = observer.log_likelihoods(trains)
    assert np.isfinite(ll).all()
    np.testing.assert_allclose(np.exp(ll).sum(axis=0), 1.0, rtol=1e-10)


def test_impossible_trains_get_zero_likelihood():
    """250 Hz at 500 Hz mean rate, 1 kHz: p = 0.5, 1, 0.5, 0, ... (a spike where p = 0, or none
    where p = 1, is impossible); the observer floors log(0) at log(tiny), never NaN."""
    observer = IdealObserver(duration=0.004, rate=500.0, f_range=(250.0, 250.0))
    ll = observer.log_likelihoods([[0, 1, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]])
    assert ll[0, 1] == pytest.approx(2 * math.log(0.5))
    assert ll[1, 1] < -700 and ll[2, 1] < -700
    np.testing.assert_array_equal(observer.predict([[0, 1, 0, 0], [0, 1, 0, 1]]), [1, 0])


def test_classifier_interface():
    task = spike_task(50, seed=7, dtype=bool)
    observer = IdealObserver()
    assert observer.fit(task.X, task.y) is observer
    assert observer.classes_.tolist() == [0, 1]
    assert observer.class_names_ == ("constant", "modulated")
    assert observer.n_bins == 100
    proba = observer.predict_proba(task.X)
    assert proba.shape == (50, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = observer.predict(task.X)
    assert pred.dtype == np.int64
    np.testing.assert_array_equal(pred, np.argmax(observer.log_likelihoods(task.X), axis=1))
    assert observer.score(task.X, task.y) == np.mean(pred == task.y)
    # bool, int and float inputs agree; a list works too
    np.testing.assert_array_equal(observer.log_likelihoods(task.X.astype(float)),
                                  observer.log_likelihoods(task.X.astype(np.uint8).tolist()))
    assert "IdealObserver('paper'" in repr(observer)
    nodes, weights = observer.frequency_rule(1)
    assert nodes.size == 512 and nodes.min() > 10 and nodes.max() < 50
    assert weights.sum() == pytest.approx(1.0)


# --- the multi-band task ---------------------------------------------------------------------
def test_bands_task_accuracy():
    X, y, f = bands_trials(200, seed=0)
    observer = IdealObserver.bands_task()
    assert observer.class_names_ == ("delta", "theta", "alpha", "beta", "gamma")
    pred = observer.predict(X)
    accuracy = np.mean(pred == y)
    print(f"\nideal observer, bands task (numpy trials, 200, seed 0): {accuracy:.4f}; errors at "
          f"f = {np.round(np.sort(f[pred != y]), 1).tolist()} Hz")
    assert accuracy > 0.85


def test_bands_phase_and_frequency_integral_matches_quadrature():
    observer = IdealObserver.bands_task(duration=0.05, bands=("theta", "alpha"))
    X, y, _ = bands_trials(3, seed=8, duration=0.05, bands=("theta", "alpha"))
    ll = observer.log_likelihoods(X)
    t = np.arange(50) / 1000.0
    for i, x in enumerate(X):
        for k, band in enumerate(("theta", "alpha")):
            low, high = BANDS[band]

            def likelihood(phase, f):
                p = 30 * (1 + np.sin(2 * np.pi * f * t + phase)) / 1000
                return math.exp(bernoulli_loglik(x, p))
            value, _ = integrate.dblquad(likelihood, low, high, 0, 2 * np.pi, epsabs=0,
                                         epsrel=1e-10)
            assert ll[i, k] == pytest.approx(math.log(value / (high - low) / (2 * np.pi)),
                                             abs=1e-8)


def test_grid_convergence_bands_task():
    bands = ("delta", "alpha")
    X, _, _ = bands_trials(20, seed=9, bands=bands)
    ll = IdealObserver.bands_task(bands=bands).log_likelihoods(X)
    ll_fine = IdealObserver.bands_task(bands=bands, f_step_hz=0.0125,
                                       n_phases=64).log_likelihoods(X)
    proba, proba_fine = softmax(ll, axis=1), softmax(ll_fine, axis=1)
    print(f"\nbands grid (1 s trials): |log L - log L(fine)| <= {np.abs(ll - ll_fine).max():.1e}, "
          f"posteriors <= {np.abs(proba - proba_fine).max():.1e}")
    assert np.abs(ll - ll_fine).max() < 0.02
    assert np.abs(proba - proba_fine).max() < 1e-3


def test_bands_observer_on_the_brian2_generator():
    """The project's Brian2 generator (rrnsim.data.generators.bands_task), binned (~5 s)."""
    block = generators.bands_task(200, seed=10)
    X, y = generators.bin_block(block)
    observer = IdealObserver.bands_task()
    assert tuple(block.annotations["class_names"]) == observer.class_names_
    accuracy = observer.score(X, y)
    print(f"\nideal observer, bands task (Brian2 generator, 200 trials, seed 10): {accuracy:.4f}")
    assert accuracy > 0.85
    # ideal_accuracy generates with the same generator
    small = {"duration": 0.25, "bands": ("theta", "gamma")}
    X, y = generators.bin_block(generators.bands_task(20, seed=3, **small))
    assert ideal_accuracy("bands", n_trials=20, seed=3, **small) == \
        IdealObserver.bands_task(**small).score(X, y)


# --- bad input ----------------------------------------------------------------------------
SPIKES = "X must hold 0/1 spike indicators (at most one spike per bin); "


@pytest.mark.parametrize("X, error, message", [
    (np.zeros(100), ValueError, "X must be 2-d (trials, bins), got shape (100,)"),
    (np.zeros((2, 3, 100)), ValueError, "X must be 2-d (trials, bins), got shape (2, 3, 100)"),
    (np.zeros((0, 100)), ValueError, "X has no trials, shape (0, 100)"),
    (np.zeros((4, 99)), ValueError, "X has 99 bins per trial, but the 'paper' task has 100 "
                                    "(duration 0.1 s at fs 1000.0 Hz)"),
    (np.where(np.arange(100) == 17, 2.0, 0.0)[None], ValueError,
     SPIKES + "X[0, 17] = 2.0 (more than one spike in a bin: bin at 1/fs or finer, or use "
              "likelihood='poisson'); 1 bad value(s)"),
    (np.where(np.arange(100) == 5, np.nan, 0.0)[None], ValueError,
     SPIKES + "X[0, 5] = nan (NaN or infinite); 1 bad value(s)"),
    (np.where(np.arange(100) == 3, 0.5, 0.0)[None], ValueError,
     SPIKES + "X[0, 3] = 0.5 (not a whole number); 1 bad value(s)"),
    (np.full((1, 100), "0"), TypeError,
     "X must hold numbers 0 or 1 (bool, int or float), got dtype <U1"),
    (np.zeros((1, 100), dtype=complex), TypeError,
     "X must hold numbers 0 or 1 (bool, int or float), got dtype complex128"),
])
def test_bad_trains_are_rejected(X, error, message):
    with pytest.raises(error, match=whole(message)):
        IdealObserver().log_likelihoods(X)


def test_bad_counts_for_the_poisson_likelihood():
    observer = IdealObserver(likelihood="poisson")
    assert observer.log_likelihoods(np.full((1, 100), 2.0)).shape == (1, 2)  # counts are fine
    with pytest.raises(ValueError, match=whole("X must hold spike counts (non-negative whole "
                                               "numbers); X[0, 0] = -1.0 (negative); 100 bad "
                                               "value(s)")):
        observer.log_likelihoods(np.full((1, 100), -1.0))


KNOWN_BANDS = "'delta', 'theta', 'alpha', 'beta', 'gamma', 'high gamma'"


@pytest.mark.parametrize("kwargs, error, message", [
    ({"task": "mnist"}, ValueError, "unknown task 'mnist'; known: 'paper', 'bands'"),
    ({"task": "paper", "bands": ("delta", "theta")}, ValueError,
     "bands=('delta', 'theta') applies to the 'bands' task only, not to task='paper'"),
    ({"task": "bands", "f_range": (10, 20)}, ValueError,
     "f_range=(10, 20) applies to the 'paper' task only, not to task='bands'"),
    ({"task": "bands", "n_frequencies": 100}, ValueError,
     "n_frequencies=100 applies to the 'paper' task only, not to task='bands'"),
    ({"task": "paper", "rate": 600.0}, ValueError, "rate=600.0 Hz is too high for fs=1000.0 Hz: "
                                                   "the modulated peak 2*rate/fs = 1.2 is above 1 "
                                                   "spike per bin"),
    ({"task": "paper", "duration": 0.0125}, ValueError,
     "duration * fs must be a whole number of samples (at least 1); got duration=0.0125 s, "
     "fs=1000.0 Hz, i.e. 12.5 samples"),
    ({"task": "paper", "f_range": (50, 10)}, ValueError,
     "f_range must be (low, high) with low <= high, got (50, 10)"),
    ({"task": "paper", "f_range": (10, 600)}, ValueError,
     "f_range: frequency 600.0 Hz is not below the Nyquist frequency fs/2 = 500.0 Hz"),
    ({"task": "paper", "f_range": 10}, TypeError,
     "f_range must be two numbers (low, high) in Hz, got 10"),
    ({"task": "paper", "n_frequencies": 0}, ValueError, "n_frequencies must be at least 1, got 0"),
    ({"task": "paper", "fs": -1.0}, ValueError,
     "fs must be a finite positive number, got -1.0 Hz"),
    ({"task": "bands", "bands": ("delta", "kappa")}, ValueError,
     f"unknown band 'kappa' in bands=('delta', 'kappa'); known: {KNOWN_BANDS}"),
    ({"task": "bands", "bands": ("delta",)}, ValueError,
     "bands needs at least 2 band(s), got ('delta',)"),
    ({"task": "bands", "bands": ("delta", "delta")}, ValueError,
     "bands must not repeat a band, got ('delta', 'delta')"),
    ({"task": "bands", "fs": 150.0, "rate": 30.0}, ValueError,
     "band 'gamma' (30.0, 100.0) Hz reaches the Nyquist frequency fs/2 = 75 Hz"),
    ({"task": "bands", "n_phases": 2.5}, TypeError, "n_phases must be an integer, got 2.5"),
    ({"task": "bands", "f_step_hz": float("nan")}, ValueError,
     "f_step_hz must be finite, got nan"),
    ({"likelihood": "gauss"}, ValueError,
     "unknown likelihood 'gauss'; known: 'bernoulli', 'poisson'"),
])
def test_bad_parameters_are_rejected(kwargs, error, message):
    with pytest.raises(error, match=whole(message)):
        IdealObserver(**kwargs)


def test_bad_labels_are_rejected():
    task = spike_task(10, seed=11)
    observer = IdealObserver()
    with pytest.raises(ValueError, match=whole("y has 9 labels but X has 10 trials")):
        observer.score(task.X, task.y[:9])
    with pytest.raises(ValueError, match=whole("y holds label 2, not one of the classes [0, 1]")):
        observer.score(task.X, np.full(10, 2))
    with pytest.raises(ValueError, match=whole("class label 2 is not one of 0 .. 1")):
        observer.frequency_rule(2)
