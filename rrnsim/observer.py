"""Bayes-optimal (ideal) observers of rrnsim's synthetic spike-train tasks.

An ideal observer knows the process that generated the data: the rate of every class, the
priors of its unknown parameters, the binning. It classifies a binned spike train by its exact
likelihood under each class (equal class priors), which gives the highest accuracy any classifier
can reach on the task, the ceiling to compare trained networks with.

Two tasks:

- ``"paper"``, the paper's task (Kramer, arXiv 2506.17083; :func:`rrnsim.data.spike_task`):
  100 ms at 1 kHz; class 0 constant 100 Hz; class 1 ``100 * (1 + sin(2*pi*f*t))`` Hz with
  ``f ~ U(10, 50)`` Hz per train, phase zero at the trial start.
- ``"bands"``, the multi-band task: one class per rhythm band (delta 1-4, theta 4-8, alpha 8-13,
  beta 13-30, gamma 30-100 Hz, :data:`rrnsim.rhythms.BANDS`); trials of 1 s at 1 kHz, one train
  each, rate ``30 * (1 + sin(2*pi*f*t + phase))`` Hz (mean 30 Hz, full modulation depth), ``f``
  uniform in the band, ``phase`` uniform on [0, 2*pi).

In both, bin n (of ``1/fs`` s) holds a spike with probability ``p[n] = rate(t[n]) / fs`` at the
bin time ``t[n] = n / fs`` (Bernoulli, independently across bins), exactly as
:func:`~rrnsim.data.spike_task` and Brian2's ``PoissonGroup`` draw spikes. The observer uses this
per-bin Bernoulli likelihood,

    log P(x | rate) = sum_n x[n] * log(p[n]) + (1 - x[n]) * log(1 - p[n]),

which matches the generator exactly; the Poisson-process likelihood
``sum_i log(rate(t_i)) - integral of rate`` is its continuum limit (``fs -> infinity``).
``likelihood='poisson'`` uses the per-bin Poisson likelihood instead, for spike counts (data
from a Poisson process, or bins holding several spikes). The unknown frequency (and phase) are
integrated over their uniform priors numerically, on grids chosen so that the result is
converged (see :class:`IdealObserver`).

The binning matters to the ceiling: on the paper's task the observer reaches 0.779 with
:func:`~rrnsim.data.spike_task`'s 1 ms Bernoulli bins (100,000 trials, +- 0.0013), but 0.755-0.760
on the Poisson-process version of the same task (Poisson counts per 1 ms bin: 0.760; 0.1 ms
Bernoulli bins, near the continuum: 0.753): at 1 kHz a 200 Hz peak rate is sub-Poisson (at most
one spike per bin), which makes the modulation easier to see.
"""
import math
import operator

import numpy as np
import quantities as pq
from scipy.special import gammaln, softmax

from .data.tasks import spike_task, spike_task_rate
from .rhythms import BANDS, TASK_BANDS, task_bands
from .validation import count, frequency_range, n_bins, positive

__all__ = ["IdealObserver", "ideal_accuracy", "TASKS", "LIKELIHOODS", "BANDS_TASK_BANDS"]

#: Task names the observer knows.
TASKS = ("paper", "bands")

#: Per-bin likelihoods: 'bernoulli' (0/1 bins, as the generators draw them) or 'poisson' (counts).
LIKELIHOODS = ("bernoulli", "poisson")

#: The multi-band task's classes, in label order: the first five rhythm bands.
BANDS_TASK_BANDS = TASK_BANDS

# Defaults of each task; ``None`` arguments of IdealObserver take these.
_DEFAULTS = {
    "paper": {"duration": 0.1, "rate": 100.0, "f_range": (10.0, 50.0)},
    "bands": {"duration": 1.0, "rate": 30.0, "bands": BANDS_TASK_BANDS, "n_phases": 48},
}
# The default frequency grids, measured converged at the default trials (class docstring), keep
# the phase drift between neighbouring frequencies over a trial, spacing * duration (cycles),
# at most this: 40 Hz / 512 nodes over 0.1 s (paper); 0.05 Hz over 1 s (bands). Longer trials
# get finer grids; shorter ones keep the defaults' 512 nodes and 0.05 Hz.
_PAPER_DRIFT_CYCLES = 40.0 / 512 * 0.1
_BANDS_DRIFT_CYCLES = 0.05 * 1.0
_TASK_ONLY = {"f_range": "paper", "n_frequencies": "paper",
              "bands": "bands", "f_step_hz": "bands", "n_phases": "bands"}

# log of the smallest positive float: stands in for log(0) where a template's spike probability
# is exactly 0 or 1, so a spike where p = 0 costs exp(-708) instead of making 0 * -inf = NaN.
_LOG_FLOOR = math.log(np.finfo(np.float64).tiny)
# Templates x bins evaluated at once (about 16 MB of float64), and trials per matrix product.
_CHUNK_ELEMENTS = 2 ** 21
_TRIAL_BLOCK = 4096
# Points per cell of the composite Gauss-Legendre rule of the frequency integrals.
_GAUSS_ORDER = 4




def _template_loglik(X, p, likelihood="bernoulli"):
    """Log-likelihoods of trains ``X`` (trials, bins) under templates ``p`` (templates, bins).

    ``p`` is the spike probability per bin (Bernoulli; ``X`` 0/1) or the mean count per bin
    (Poisson; ``X`` counts, without the ``-log(X!)`` term, which the caller adds once).
    Returns (trials, templates).
    """
    with np.errstate(divide="ignore"):
        logp = np.maximum(np.log(p), _LOG_FLOOR)
        if likelihood == "poisson":
            return X @ logp.T - p.sum(axis=1)
        # log(1 - p) rather than log1p(-p): 5x faster, and its absolute error (~1e-16 per bin)
        # is far below anything that matters here
        log1mp = np.maximum(np.log(1.0 - p), _LOG_FLOOR)
    return X @ (logp - log1mp).T + log1mp.sum(axis=1)


def _logsumexp_rows(a):
    """``log(sum(exp(a), axis=1))`` of a finite 2-d array (much faster than scipy's for this)."""
    m = a.max(axis=1, keepdims=True)
    a = np.exp(a - m)
    return np.log(a.sum(axis=1)) + m[:, 0]


def _log_mean_likelihood(X, template_chunks, likelihood="bernoulli"):
    """log of the weighted mean likelihood over templates, per trial: (trials,).

    ``template_chunks`` yields ``(p, log_w)``: templates (templates, bins) and the log of their
    quadrature weights (templates,), the weights of all chunks summing to 1.
    """
    total = np.full(X.shape[0], -np.inf)
    for p, log_w in template_chunks:
        for start in range(0, X.shape[0], _TRIAL_BLOCK):
            block = slice(start, start + _TRIAL_BLOCK)
            ll = _template_loglik(X[block], p, likelihood) + log_w
            total[block] = np.logaddexp(total[block], _logsumexp_rows(ll))
    return total


def _frequency_rule(low, high, n_nodes):
    """Quadrature of the uniform prior on [low, high] (Hz): nodes (Hz) and weights summing to 1.

    Composite 4-point Gauss-Legendre on ``ceil(n_nodes / 4)`` equal cells (exact for cubics
    within a cell, no endpoint error of order step**2 as the midpoint rule has); a single node
    of weight 1 when ``low == high``.
    """
    if low == high:
        return np.array([low]), np.array([1.0])
    n_cells = max(1, math.ceil(n_nodes / _GAUSS_ORDER))
    xi, wi = np.polynomial.legendre.leggauss(_GAUSS_ORDER)
    width = (high - low) / n_cells
    nodes = low + width * (np.arange(n_cells)[:, None] + (xi + 1) / 2)
    weights = np.broadcast_to(wi / 2 / n_cells, nodes.shape)
    return nodes.ravel(), weights.ravel().copy()


class IdealObserver:
    """Bayes-optimal classifier of a synthetic spike-train task whose generating process it knows.

    It needs no training: ``log_likelihoods`` computes, for every trial and class, the exact
    log-probability of the binned train, integrating the unknown modulation frequency (and
    phase) over their uniform priors; ``predict`` takes the most likely class (equal class
    priors), ``predict_proba`` the posterior. ``fit`` exists only so that the observer drops into
    fit/predict/score code; it learns nothing.

    Steps of ``log_likelihoods``:

    1. validate the trains ``X``: 2-d (trials, bins), values 0 or 1 (counts for
       ``likelihood='poisson'``), ``duration * fs`` bins;
    2. per class, the spike probability of every bin, ``p[n] = rate(t[n]) / fs`` at
       ``t[n] = n / fs`` s, for each node of the class's parameter grid (a *template*):

       - paper task, class 0: one template, ``p = rate / fs``;
       - paper task, class 1: ``rate * (1 + sin(2*pi*f*t))`` (exactly
         :func:`rrnsim.data.tasks.spike_task_rate`) at ``n_frequencies`` nodes ``f`` of a
         composite 4-point Gauss-Legendre rule over ``f_range`` (the uniform prior);
       - bands task, band ``[low, high)``: ``rate * (1 + sin(2*pi*f*t + phase))`` at the nodes
         of the same rule with about ``(high - low) / f_step_hz`` frequencies, times
         ``n_phases`` equally spaced phases ``2*pi*j/n_phases`` (the trapezoid rule, which
         converges geometrically for the periodic phase integral);

    3. the log-likelihood of every train under every template, for Bernoulli bins
       ``X @ log(p) + (1 - X) @ log(1 - p)`` (matrix products, templates in chunks; log(0),
       where p is exactly 0 or 1, is floored at log(tiny) = -708);
    4. the class log-likelihood: the log of the weighted mean of the template likelihoods
       (log-sum-exp).

    Grids (measured): with 100 ms trials the likelihood varies slowly in ``f`` (a cycle of phase
    drift per 10 Hz); 512 nodes over 10-50 Hz agree with 4096 to 2e-10 in log-likelihood (64:
    5e-3). With 1 s trials it is sharp in ``f``: phase coherence over the trial needs frequency
    steps well below 1 Hz (a peak ~0.05-0.1 Hz wide for ~30 spikes), hence
    ``f_step_hz = 0.05`` (1,400 nodes for gamma) and 48 phases. Against 0.005 Hz and 64 phases
    (400 trials, a review's measurement) log-likelihoods move by up to 0.08 in the delta class
    (0.02 or less in the others) and posteriors by up to 4e-5, with the same predictions; 0.025
    Hz: 1.4e-3, 0.0125 Hz: 5e-6. The phase grid is converged (48 against 64: 4e-8). The bands task thus costs about 95,000 templates of 1,000
    bins: about 3-4 s per 500 trials on 2 idle cores, mostly independent of the trial count.

    Parameters
    ----------
    task : {'paper', 'bands'}
        The task whose process the observer knows. Default 'paper'.
    duration : float or None
        Trial length (s); ``duration * fs`` must be a whole number of bins. Default 0.1 (paper)
        or 1.0 (bands).
    fs : float
        Sampling rate (Hz): bins are ``1/fs`` s. Default 1000.
    rate : float or None
        Mean rate (Hz): the constant class's rate and the modulated baseline; full modulation
        depth, so ``2 * rate / fs <= 1``. Default 100 (paper) or 30 (bands).
    f_range : (float, float) or None
        Paper task only: range (Hz) of the modulation frequency; ``low == high`` fixes it.
        Default (10, 50).
    n_frequencies : int or None
        Paper task only: frequency nodes of the class-1 integral (rounded up to a multiple of
        4). Default 512, or more for trials longer than 0.1 s or ranges wider than 40 Hz: the
        phase drift between neighbouring nodes over a trial stays at most that of 512 nodes
        over 10-50 Hz in 100 ms (0.0078 cycles), where the grid is converged.
    bands : sequence of str or None
        Bands task only: the classes, names of :data:`rrnsim.rhythms.BANDS`, in label order.
        Default :data:`BANDS_TASK_BANDS` (delta, theta, alpha, beta, gamma).
    f_step_hz : float or None
        Bands task only: mean spacing (Hz) of the frequency nodes (at most 0.07 Hz between
        neighbours for 0.05). Default 0.05 Hz, or 0.05/duration for trials longer than 1 s
        (the same phase drift between neighbours over a trial).
    n_phases : int or None
        Bands task only: phase grid size. Default 48.
    likelihood : {'bernoulli', 'poisson'}
        Per-bin likelihood: 'bernoulli' (default; 0/1 bins, how rrnsim's generators and Brian2's
        ``PoissonGroup`` draw spikes) or 'poisson' (counts with mean ``rate(t[n]) / fs``, the
        Poisson-process version of the task).

    Attributes
    ----------
    classes_ : numpy.ndarray
        Labels, ``0 .. n_classes - 1`` (int64): paper 0 constant, 1 modulated; bands, band order.
    class_names_ : tuple of str
        A name per class.
    n_bins : int
        Bins per trial, ``duration * fs``.

    Raises
    ------
    ValueError or TypeError
        A parameter out of range, of the wrong type, or not used by the task, naming the value.

    Examples
    --------
    >>> from rrnsim.data import spike_task
    >>> task = spike_task(2000, seed=0)
    >>> IdealObserver.paper_task().score(task.X, task.y)  # doctest: +SKIP
    0.78...
    """

    def __init__(self, task="paper", *, duration=None, fs=1000.0, rate=None, f_range=None,
                 n_frequencies=None, bands=None, f_step_hz=None, n_phases=None,
                 likelihood="bernoulli"):
        self.task = task
        self.duration = duration
        self.fs = fs
        self.rate = rate
        self.f_range = f_range
        self.n_frequencies = n_frequencies
        self.bands = bands
        self.f_step_hz = f_step_hz
        self.n_phases = n_phases
        self.likelihood = likelihood
        self._config()  # fail early on bad parameters; nothing derived is stored

    @classmethod
    def paper_task(cls, *, duration=0.1, fs=1000.0, rate=100.0, f_range=(10.0, 50.0),
                   n_frequencies=None, likelihood="bernoulli"):
        """Observer of the paper's task (:func:`rrnsim.data.spike_task`); see the class doc."""
        return cls("paper", duration=duration, fs=fs, rate=rate, f_range=f_range,
                   n_frequencies=n_frequencies, likelihood=likelihood)

    @classmethod
    def bands_task(cls, *, duration=1.0, fs=1000.0, rate=30.0, bands=BANDS_TASK_BANDS,
                   f_step_hz=None, n_phases=48, likelihood="bernoulli"):
        """Observer of the multi-band task (one class per rhythm band); see the class doc."""
        return cls("bands", duration=duration, fs=fs, rate=rate, bands=bands,
                   f_step_hz=f_step_hz, n_phases=n_phases, likelihood=likelihood)

    def __repr__(self):
        c = self._config()
        shown = {k: v for k, v in c.items() if k not in ("task", "n_bins", "names", "edges")}
        return f"IdealObserver({self.task!r}, " + ", ".join(
            f"{k}={v!r}" for k, v in shown.items()) + ")"

    # -- parameters --------------------------------------------------------------------------
    def _config(self):
        """Validated parameters with the task defaults filled in (a new dict each call)."""
        task = self.task
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(map(repr, TASKS))}")
        given = {k: getattr(self, k) for k in _TASK_ONLY}
        for name, owner in _TASK_ONLY.items():
            if owner != task and given[name] is not None:
                raise ValueError(f"{name}={given[name]!r} applies to the {owner!r} task only, "
                                 f"not to task={task!r}")
        defaults = _DEFAULTS[task]
        c = {"task": task}
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {self.likelihood!r}; known: "
                             f"{', '.join(map(repr, LIKELIHOODS))}")
        c["likelihood"] = self.likelihood
        c["fs"] = fs = positive("fs", self.fs, unit=pq.Hz)
        duration = defaults["duration"] if self.duration is None else self.duration
        c["duration"] = duration = positive("duration", duration, unit=pq.s)
        c["n_bins"] = n_bins(duration, fs)
        rate = defaults["rate"] if self.rate is None else self.rate
        c["rate"] = rate = positive("rate", rate, allow_zero=True, unit=pq.Hz)
        if c["likelihood"] == "bernoulli" and 2 * rate / fs > 1:
            raise ValueError(f"rate={rate} Hz is too high for fs={fs} Hz: the modulated peak "
                             f"2*rate/fs = {2 * rate / fs} is above 1 spike per bin")
        if task == "paper":
            f_range = defaults["f_range"] if self.f_range is None else self.f_range
            low, high = frequency_range("f_range", f_range, fs)
            c["f_range"] = (low, high)
            n = self.n_frequencies
            if n is None:
                n = max(512, math.ceil((high - low) * duration / _PAPER_DRIFT_CYCLES - 1e-9))
            c["n_frequencies"] = count("n_frequencies", n)
            c["names"] = ("constant", "modulated")
        else:
            bands = defaults["bands"] if self.bands is None else self.bands
            bands = task_bands(bands, fs, minimum=2)  # classes
            c["bands"] = bands
            step = self.f_step_hz
            if step is None:
                step = _BANDS_DRIFT_CYCLES / max(duration, 1.0)
            c["f_step_hz"] = positive("f_step_hz", step)
            n = defaults["n_phases"] if self.n_phases is None else self.n_phases
            c["n_phases"] = count("n_phases", n)
            c["names"] = bands
            c["edges"] = tuple(BANDS[name] for name in bands)
        return c

    @property
    def classes_(self):
        """Class labels ``0 .. n_classes - 1`` (int64)."""
        return np.arange(len(self._config()["names"]), dtype=np.int64)

    @property
    def class_names_(self):
        """Class names: ('constant', 'modulated') for the paper task, band names for bands."""
        return self._config()["names"]

    @property
    def n_bins(self):
        """Bins per trial, ``duration * fs``."""
        return self._config()["n_bins"]

    def frequency_rule(self, label):
        """Frequencies (Hz) and weights of class ``label``'s frequency integral.

        Returns ``(nodes, weights)``, 1-d float arrays: nodes in Hz, weights summing to 1 (the
        uniform prior). Both empty for the paper task's constant class 0.
        """
        c = self._config()
        label = self._check_label(label, c)
        if c["task"] == "paper":
            if label == 0:
                return np.array([]), np.array([])
            return _frequency_rule(*c["f_range"], c["n_frequencies"])
        low, high = c["edges"][label]
        return _frequency_rule(low, high, math.ceil((high - low) / c["f_step_hz"] - 1e-9))

    def _check_label(self, label, c):
        try:
            label = operator.index(label)
        except TypeError:
            raise TypeError(f"a class label must be an integer, got {label!r}") from None
        if not 0 <= label < len(c["names"]):
            raise ValueError(f"class label {label} is not one of 0 .. {len(c['names']) - 1}")
        return label

    # -- templates ---------------------------------------------------------------------------
    def _templates(self, label, c):
        """Chunks ``(p, log_w)`` of class ``label``: templates (templates, bins), log-weights."""
        fs, rate = c["fs"], c["rate"]
        t = np.arange(c["n_bins"]) / fs
        if c["task"] == "paper" and label == 0:  # spike_task's own rate, exactly
            yield spike_task_rate(t, np.array([np.nan]), rate) / fs, np.zeros(1)
            return
        freqs, weights = self.frequency_rule(label)
        log_w = np.log(weights)
        if c["task"] == "paper":
            per_chunk = max(1, _CHUNK_ELEMENTS // t.size)
            for i in range(0, freqs.size, per_chunk):
                yield (spike_task_rate(t, freqs[i:i + per_chunk], rate) / fs,
                       log_w[i:i + per_chunk])
            return
        n_phases = c["n_phases"]
        phases = 2 * np.pi * np.arange(n_phases) / n_phases
        per_chunk = max(1, _CHUNK_ELEMENTS // (t.size * n_phases))
        cos_ph, sin_ph = np.cos(phases)[:, None], np.sin(phases)[:, None]
        for i in range(0, freqs.size, per_chunk):
            angle = 2 * np.pi * freqs[i:i + per_chunk, None] * t  # (frequencies, bins)
            # sin(angle + phase) by the addition theorem (a few times faster than np.sin on
            # every template; equal to ~1e-16, clipped at 0 where the trough rounds below it)
            modulation = (np.sin(angle)[:, None, :] * cos_ph
                          + np.cos(angle)[:, None, :] * sin_ph)
            p = np.maximum(rate / fs * (1.0 + modulation), 0.0)
            yield (p.reshape(-1, t.size),
                   np.repeat(log_w[i:i + per_chunk] - math.log(n_phases), n_phases))

    # -- classifier --------------------------------------------------------------------------
    def _validate_X(self, X, c):
        try:
            X = np.asarray(X)
        except Exception as exc:  # ragged lists and the like
            raise ValueError(f"X must be a 2-d array of 0/1 spikes (trials, bins); could not "
                             f"convert it ({exc})") from None
        if X.dtype == object or not (X.dtype == bool or np.issubdtype(X.dtype, np.integer)
                                     or np.issubdtype(X.dtype, np.floating)):
            raise TypeError(f"X must hold numbers 0 or 1 (bool, int or float), got dtype "
                            f"{X.dtype}")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-d (trials, bins), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"X has no trials, shape {X.shape}")
        if X.shape[1] != c["n_bins"]:
            raise ValueError(f"X has {X.shape[1]} bins per trial, but the {c['task']!r} task has "
                             f"{c['n_bins']} (duration {c['duration']} s at fs {c['fs']} Hz)")
        Xf = X.astype(np.float64)
        if c["likelihood"] == "bernoulli":
            bad = ~((Xf == 0) | (Xf == 1))
            need = "0/1 spike indicators (at most one spike per bin)"
        else:
            bad = ~(np.isfinite(Xf) & (Xf >= 0) & (Xf == np.round(Xf)))
            need = "spike counts (non-negative whole numbers)"
        if bad.any():
            i, j = np.argwhere(bad)[0]
            value = X[i, j].item()
            why = ("NaN or infinite" if not np.isfinite(Xf[i, j]) else
                   "negative" if Xf[i, j] < 0 else
                   "not a whole number" if Xf[i, j] != round(Xf[i, j]) else
                   "more than one spike in a bin: bin at 1/fs or finer, or use "
                   "likelihood='poisson'")
            raise ValueError(f"X must hold {need}; X[{i}, {j}] = {value!r} ({why}); "
                             f"{int(bad.sum())} bad value(s)")
        return Xf

    def fit(self, X=None, y=None):
        """Do nothing (the observer knows the process) and return self; validates ``X`` if given.

        Parameters
        ----------
        X : array_like or None
            Spike trains (trials, bins), 0/1; ignored apart from validation.
        y : array_like or None
            Ignored.

        Returns
        -------
        IdealObserver
            ``self``.
        """
        if X is not None:
            self._validate_X(X, self._config())
        return self

    def log_likelihoods(self, X):
        """Log-likelihood of every trial under every class (natural log).

        ``log P(X[i] | class k)``: the log-probability of the exact binary train (of the
        counts, with ``likelihood='poisson'``), with the class's unknown frequency (and phase)
        integrated over its uniform prior.

        Parameters
        ----------
        X : array_like
            Spike trains, (n_trials, n_bins), values 0 or 1 (bool, int or float; with
            ``likelihood='poisson'``, non-negative whole counts); bin n covers
            ``[n/fs, (n+1)/fs)`` s.

        Returns
        -------
        numpy.ndarray
            (n_trials, n_classes) float64, columns in the order of ``classes_``.

        Raises
        ------
        ValueError or TypeError
            ``X`` not 2-d, of the wrong number of bins, or holding values other than 0 and 1
            (other than non-negative whole counts, with ``likelihood='poisson'``).
        """
        c = self._config()
        X = self._validate_X(X, c)
        out = np.empty((X.shape[0], len(c["names"])))
        for k in range(out.shape[1]):
            out[:, k] = _log_mean_likelihood(X, self._templates(k, c), c["likelihood"])
        if c["likelihood"] == "poisson":  # the -log(X!) term, the same for every template
            out -= gammaln(X + 1).sum(axis=1, keepdims=True)
        return out

    def predict_proba(self, X):
        """Posterior class probabilities (equal class priors), (n_trials, n_classes) float64."""
        return softmax(self.log_likelihoods(X), axis=1)

    def predict(self, X):
        """Most likely class of each trial, (n_trials,) int64 labels (ties: the lower label)."""
        return self.classes_[np.argmax(self.log_likelihoods(X), axis=1)]

    def score(self, X, y):
        """Accuracy (fraction of trials classified correctly) on trains ``X`` with labels ``y``.

        Parameters
        ----------
        X : array_like
            Spike trains, (n_trials, n_bins), 0/1.
        y : array_like
            Labels, (n_trials,), integers in ``classes_``.

        Returns
        -------
        float
            Fraction correct, in [0, 1].
        """
        X = np.asarray(X)
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-d (trials,), got shape {y.shape}")
        if X.ndim >= 1 and y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} labels but X has {X.shape[0]} trials")
        classes = self.classes_
        unknown = ~np.isin(y, classes)
        if unknown.any():
            raise ValueError(f"y holds label {y[unknown][0].item()!r}, not one of the classes "
                             f"{classes.tolist()}")
        return float(np.mean(self.predict(X) == y))


def ideal_accuracy(task="paper", n_trials=4000, seed=0, **params):
    """Accuracy of the ideal observer on freshly generated trials of a task.

    Steps: build :class:`IdealObserver` ``(task, **params)``; generate ``n_trials`` trials with
    the project's generator of the task, seeded; return ``observer.score(X, y)``.

    - ``'paper'``: :func:`rrnsim.data.spike_task` (its ``duration``, ``fs``, ``rate`` and
      ``f_range`` follow ``params``); with ``likelihood='poisson'`` each bin instead holds a
      Poisson count of the same trial's rate, the process that likelihood assumes;
    - ``'bands'``: :func:`rrnsim.data.generators.bands_task` (Brian2; balanced classes), binned
      at ``1/fs`` with :func:`rrnsim.data.generators.bin_block` (``duration``, ``fs``, ``rate``
      and ``bands`` follow ``params``).

    Measured (seed, trials): paper 0.786 (0, 4,000), 0.779 (12345, 100,000); bands 0.914 (0,
    5,000), 0.923 (1, 5,000).

    Parameters
    ----------
    task : {'paper', 'bands'}
        The task.
    n_trials : int
        Trials to generate and classify. Default 4000.
    seed : int, numpy.random.Generator or None
        Seed of the generator (all randomness). Default 0.
    **params
        :class:`IdealObserver` parameters (``duration``, ``fs``, ``rate``, ``f_range``,
        ``n_frequencies``, ``bands``, ``f_step_hz``, ``n_phases``, ``likelihood``).

    Returns
    -------
    float
        Fraction of trials the observer classifies correctly. Its binomial standard error is
        about ``sqrt(a * (1 - a) / n_trials)`` (0.007 at 4000 trials for ``a = 0.78``).
    """
    observer = IdealObserver(task, **params)
    c = observer._config()
    if c["task"] == "paper":
        rng = np.random.default_rng(seed)
        data = spike_task(n_trials, seed=rng, duration=c["duration"], fs=c["fs"],
                          rate=c["rate"], f_range=c["f_range"], dtype=np.uint8)
        X = data.X if c["likelihood"] == "bernoulli" else rng.poisson(data.rates_hz / c["fs"])
        return observer.score(X, data.y)
    if c["likelihood"] == "poisson":
        raise ValueError("likelihood='poisson' needs Poisson counts, which the bands task's "
                         "generator (Brian2, at most one spike per bin) does not make")
    X, y = _bands_task_data(n_trials, seed, c)
    return observer.score(X, y)


def _bands_task_data(n_trials, seed, c):
    """Binned trials (X (trials, bins) 0/1, y (trials,)) of the bands task from the generator."""
    from .data.generators import bands_task, bin_block  # Brian2: imported only when needed

    block = bands_task(n_trials, seed=seed, duration=c["duration"], fs=c["fs"],
                       rate_hz=c["rate"], bands=c["bands"])
    return bin_block(block)
