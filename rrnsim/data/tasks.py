"""Synthetic classification tasks: the paper's spike-train task.

The task (Kramer, arXiv 2506.17083): tell a constant-rate Poisson spike train from one whose
rate is modulated sinusoidally at an unknown frequency. Each trial is a binary spike train of
``duration`` s sampled at ``fs`` Hz (100 bins of 1 ms by default):

- label 0: constant rate ``rate`` (100 Hz);
- label 1: rate ``rate * (1 + sin(2*pi*f*t))``, with ``f`` drawn uniformly from ``f_range``
  (10-50 Hz) for each train, phase zero at the trial start.

The rate is evaluated at the bin times ``t[n] = n / fs`` (the start of bin n, so ``t[0] = 0``)
and bin n holds a spike with probability ``rate(t[n]) / fs`` (Bernoulli). Brian2's
``PoissonGroup`` draws spikes exactly this way (a spike in a time step with probability
``rates * dt``, rates evaluated at the step's start), so a ``PoissonGroup`` with
``rates = rate*(1 + sin(2*pi*f*t))`` at ``dt = 1/fs`` generates the same process (not the same
random numbers). :func:`spike_task_rate` is the one definition of the rate both use.
"""
import operator
from dataclasses import dataclass

import numpy as np
import quantities as pq

from ..validation import frequency_range, in_unit, n_bins, positive

__all__ = ["SpikeTask", "spike_task", "spike_task_rate"]


@dataclass(frozen=True)
class SpikeTask:
    """Trials of the spike-train task.

    Attributes
    ----------
    X : numpy.ndarray
        Spike trains, (n_trials, n_bins), values 0 or 1: ``X[i, n] = 1`` when trial i has a
        spike in bin n, the interval ``[n/fs, (n+1)/fs)`` s.
    y : numpy.ndarray
        Labels, (n_trials,) int64: 0 constant rate, 1 sinusoidally modulated rate.
    frequencies_hz : numpy.ndarray
        Modulation frequency (Hz) of each trial, (n_trials,) float64; NaN for label-0 trials.
    rates_hz : numpy.ndarray
        The generating rate (Hz) of each trial at each bin time, (n_trials, n_bins) float64:
        ``spike_task_rate(t, frequencies_hz, rate)``. The spike probability of a bin is
        ``rates_hz / fs``.
    fs : float
        Sampling rate (Hz); bins are ``1/fs`` s long.
    """

    X: np.ndarray
    y: np.ndarray
    frequencies_hz: np.ndarray
    rates_hz: np.ndarray
    fs: float

    @property
    def t(self):
        """Bin times (s), shape (n_bins,): ``n / fs``, the start of each bin (``t[0] = 0``)."""
        return np.arange(self.X.shape[1]) / self.fs


def spike_task_rate(t, frequencies_hz, rate=100.0):
    """Generating rate (Hz) of the spike-train task at times ``t`` (s).

    ``rate * (1 + sin(2*pi*f*t))`` for a modulated trial of frequency ``f`` (Hz), and the
    constant ``rate`` where ``f`` is NaN (a label-0 trial). Phase is zero at ``t = 0``, the trial
    start.

    Parameters
    ----------
    t : array_like
        Times (s) since the trial start, shape (n_times,).
    frequencies_hz : array_like
        Modulation frequency (Hz) per trial, shape (n_trials,) (or a scalar); NaN: constant.
    rate : float
        Mean rate (Hz) of the constant trials and baseline of the modulated ones.

    Returns
    -------
    numpy.ndarray
        Rates (Hz), shape (n_trials, n_times) (or (n_times,) for a scalar frequency).
    """
    t = np.asarray(in_unit("t", t, pq.s), dtype=float)
    f = np.asarray(in_unit("frequencies_hz", frequencies_hz, pq.Hz), dtype=float)
    rate = in_unit("rate", rate, pq.Hz)
    modulation = np.sin(2 * np.pi * f[..., None] * t)
    return rate * (1.0 + np.where(np.isnan(f)[..., None], 0.0, modulation))



def spike_task(n_trials, seed=None, duration=0.1, fs=1000.0, rate=100.0, f_range=(10.0, 50.0),
               dtype=np.float64):
    """Generate the paper's spike-train task: constant vs sinusoidally modulated Poisson trains.

    Steps:

    1. labels: ``n_trials // 2`` zeros and the rest ones (balanced; for odd ``n_trials`` one
       more label 1), in an order shuffled with the seed;
    2. one modulation frequency per label-1 trial, uniform in ``f_range`` (Hz) (NaN for label 0);
    3. the rate of every trial at the bin times ``t[n] = n/fs``, ``n = 0 .. duration*fs - 1``:
       ``rate`` for label 0, ``rate * (1 + sin(2*pi*f*t[n]))`` for label 1
       (:func:`spike_task_rate`);
    4. spikes: bin n of a trial holds a spike with probability ``rate(t[n]) / fs``,
       independently across bins and trials.

    Step 4 is the Bernoulli approximation of a Poisson process (at most one spike per bin); the
    mean spike count per bin equals the Poisson one, ``rate * dt``, and with the defaults
    ``rate * dt <= 0.2`` (the modulated peak), where a Poisson process would put two or more
    spikes in a bin with probability below 2%. It is how Brian2's ``PoissonGroup`` draws spikes.

    Parameters
    ----------
    n_trials : int
        Number of trials, at least 2.
    seed : int, numpy.random.Generator or None
        Controls all randomness (labels order, frequencies, spikes): the same seed gives the same
        task. A Generator is used (and advanced) as is; draws come in the order of the steps.
    duration : float
        Trial length (s); ``duration * fs`` must be a whole number of bins. Default 0.1 (100 ms).
    fs : float
        Sampling rate (Hz): bins are ``1/fs`` s. Default 1000 (1 ms bins).
    rate : float
        Mean rate (Hz) of the constant trains and baseline of the modulated ones, >= 0, with
        ``2 * rate / fs <= 1`` (the modulated peak probability). Default 100.
    f_range : (float, float)
        Range (Hz) of the modulation frequency, ``0 < low <= high < fs/2``; ``low == high``
        fixes it. Default (10, 50).
    dtype : numpy dtype
        Type of the spike array ``X``. Default float64 (network input); uint8 or bool also work.

    Returns
    -------
    SpikeTask
        ``X`` (n_trials, n_bins) 0/1 spikes, ``y`` (n_trials,) int64 labels, ``frequencies_hz``
        (n_trials,) (NaN for label 0), ``rates_hz`` (n_trials, n_bins) generating rates, ``fs``,
        and bin times ``t`` (s).

    Raises
    ------
    ValueError or TypeError
        An argument out of range or of the wrong type, naming the value.
    """
    try:
        n_trials = operator.index(n_trials)
    except TypeError:
        raise TypeError(f"n_trials must be an integer, got {n_trials!r}") from None
    if n_trials < 2:
        raise ValueError(f"n_trials must be at least 2 (one trial of each class), got {n_trials}")
    fs = positive("fs", fs, unit=pq.Hz)
    duration = positive("duration", duration, unit=pq.s)
    rate = positive("rate", rate, allow_zero=True, unit=pq.Hz)
    n_samples = n_bins(duration, fs)
    if 2 * rate / fs > 1:
        raise ValueError(f"rate={rate} Hz is too high for fs={fs} Hz: the modulated peak "
                         f"2*rate/fs = {2 * rate / fs} is above 1 spike per bin")
    low, high = frequency_range("f_range", f_range, fs)
    dtype = np.dtype(dtype)
    try:
        rng = np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"seed must be None, a non-negative int or a numpy Generator, got "
                        f"{seed!r} ({exc})") from None

    n0 = n_trials // 2
    y = rng.permutation(np.repeat(np.array([0, 1], dtype=np.int64), [n0, n_trials - n0]))
    frequencies_hz = np.full(n_trials, np.nan)
    frequencies_hz[y == 1] = rng.uniform(low, high, size=n_trials - n0)
    t = np.arange(n_samples) / fs
    rates_hz = spike_task_rate(t, frequencies_hz, rate)
    X = (rng.random((n_trials, n_samples)) < rates_hz / fs).astype(dtype)
    return SpikeTask(X=X, y=y, frequencies_hz=frequencies_hz, rates_hz=rates_hz, fs=fs)
