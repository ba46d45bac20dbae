"""Spectra of node states, population rates and binned spike trains, through Elephant.

.. autosummary::

    power_spectrum
    band_power
    peak_frequency
    coherence
    emergent_rhythms
    spectrum_report
    population_rates

Inputs are a ``neo.AnalogSignal`` (time, channel), an
``elephant.conversion.BinnedSpikeTrain`` (its sampling rate is 1/bin size), a
:class:`rrnsim.RunResult` (node states and their sampling rate), or a ``pq.Quantity``
or plain array with an explicit sampling rate ``fs`` (Hz). Arrays follow rrnsim's conventions:
node states are (time,), (time, node) or (batch, time, node). Spectra come back with frequency on
axis 0, frequencies in ``pq.Hz`` and PSDs in (signal unit)**2/Hz (plain arrays count as
dimensionless). Prominences and excesses are plain floats in dB (``quantities`` has no decibel).
Inside, everything is plain float arrays in Hz and seconds.
"""
import warnings

import neo
import numpy as np
import quantities as pq
import scipy.signal
from elephant import spectral as _elephant
from elephant.conversion import BinnedSpikeTrain

from .rhythms import BANDS, band_of
from .validation import as_quantity, float_array, hertz, in_hz, positive

__all__ = ["power_spectrum", "band_power", "peak_frequency", "coherence", "emergent_rhythms",
           "spectrum_report", "population_rates", "METHODS"]

#: Power spectrum estimators: Elephant's ``welch_psd`` and ``multitaper_psd``.
METHODS = ("welch", "multitaper")


# --- boundary: units and validation -------------------------------------------------------------
def _time_series(signal, fs, axis):
    """Validate a signal: ``(x, fs_hz, units)`` with ``x`` a float array, time on the last axis."""
    signal = as_quantity("signal", signal)   # a Brian2 trace, in SI units
    from .network import RunResult
    if isinstance(signal, RunResult):   # node states with their own sampling rate
        if fs is not None and not np.isclose(hertz("fs", fs), signal.fs):
            raise ValueError(f"fs={fs} disagrees with the run's own sampling rate {signal.fs:g} Hz")
        signal, fs = signal.x, signal.fs
    if isinstance(signal, (BinnedSpikeTrain, neo.AnalogSignal)) and axis is not None:
        raise ValueError(f"axis is for array signals only: {type(signal).__name__} input has a "
                         f"fixed time axis, so leave axis=None (got axis={axis!r})")
    if isinstance(signal, BinnedSpikeTrain):
        data, rate, units, axis = signal.to_array().T, 1.0 / signal.bin_size, pq.dimensionless, 0
    elif isinstance(signal, neo.AnalogSignal):
        data, rate, units, axis = signal.magnitude, signal.sampling_rate, signal.units, 0
    else:
        if fs is None:
            raise ValueError("fs (Hz) is required for an array or quantity signal")
        data, rate = signal, fs
        units = signal.units if isinstance(signal, pq.Quantity) else pq.dimensionless
    fs_hz = hertz("fs", rate, allow_period=True)
    if fs is not None and not np.isclose(hertz("fs", fs, allow_period=True), fs_hz):
        raise ValueError(f"fs={fs} disagrees with the signal's own sampling rate {fs_hz:g} Hz")
    data = float_array("signal", data)
    if data.ndim not in (1, 2, 3):
        raise ValueError(f"signal must have shape (time,), (time, node) or (batch, time, node); "
                         f"got shape {data.shape}")
    if axis is None:
        axis = 1 if data.ndim == 3 else 0
    if not -data.ndim <= axis < data.ndim:
        raise ValueError(f"axis {axis} is out of range for a signal of shape {data.shape}")
    if data.shape[axis] < 2:
        raise ValueError(f"signal needs at least 2 time samples along axis {axis}; "
                         f"got shape {data.shape}")
    return np.moveaxis(data, axis, -1), fs_hz, units


def validate_spectrum(freqs, psd, name="psd"):
    """Validate a spectrum (for this module and :mod:`rrnsim.plots`): ``(f, p, units, ndim)``, ``p`` 2-d (freq, node), ``ndim`` of ``psd``."""
    f = float_array("freqs", in_hz("freqs", freqs))
    if f.ndim != 1 or f.size < 2 or np.any(np.diff(f) <= 0):
        raise ValueError(f"freqs must be a 1-d increasing array of at least 2 frequencies (Hz); "
                         f"got shape {f.shape}")
    psd = as_quantity(name, psd)
    units = psd.units if isinstance(psd, pq.Quantity) else pq.dimensionless
    p = float_array(name, psd)
    if p.ndim not in (1, 2) or p.shape[0] != f.size:
        raise ValueError(f"{name} must have shape ({f.size},) or ({f.size}, node) to match freqs; "
                         f"got shape {p.shape}")
    if np.any(p < 0):
        bad = tuple(int(i) for i in np.argwhere(p < 0)[0])
        raise ValueError(f"{name} has a negative power {p[bad]} at index {bad}")
    return f, p.reshape(f.size, -1), units, p.ndim


def _in_range(f, fmin, fmax):
    """Boolean mask of ``fmin <= f <= fmax`` (Hz; ``None`` is no bound), non-empty."""
    low = -np.inf if fmin is None else float(in_hz("fmin", fmin))
    high = np.inf if fmax is None else float(in_hz("fmax", fmax))
    mask = (f >= low) & (f <= high)
    if not mask.any():
        raise ValueError(f"no frequency bin between fmin={fmin} and fmax={fmax} "
                         f"(the spectrum covers {f[0]:g}-{f[-1]:g} Hz)")
    return mask


def _db(p):
    return 10.0 * np.log10(np.maximum(p, np.finfo(float).tiny))


def _segments(frequency_resolution, n_segments, fs, n_time):
    """Elephant's Welch segment keyword: a frequency resolution (Hz) or a number of segments."""
    if frequency_resolution is not None:
        res = hertz("frequency_resolution", frequency_resolution)
        if not 2 <= int(fs / res) <= n_time:
            raise ValueError(f"frequency_resolution {res:g} Hz needs segments of {int(fs / res)} "
                             f"samples; the signal has {n_time} ({n_time / fs:g} s), so use "
                             f"{fs / n_time:g} to {fs / 2:g} Hz")
        return {"frequency_resolution": res}
    if not isinstance(n_segments, (int, np.integer)) or not 1 <= n_segments <= n_time // 2:
        raise ValueError(f"n_segments must be an integer from 1 to {n_time // 2}, "
                         f"got {n_segments!r}")
    return {"n_segments": int(n_segments)}


# --- spectra -------------------------------------------------------------------------------------
def power_spectrum(signal, fs=None, method="welch", frequency_resolution=None, n_segments=8,
                   axis=None):
    """Power spectral density (PSD) of node states, rates or binned spike trains.

    The PSD is obtained through the following steps:

    1. Read the samples and the sampling rate: from a ``neo.AnalogSignal`` (time, channel), a
       ``BinnedSpikeTrain`` (counts per bin, rate 1/bin size), or an array with ``fs``;
    2. Estimate the one-sided PSD of every series along the time axis with Elephant:
       ``welch_psd`` (Hann-windowed segments, half overlapping, periodograms averaged) or
       ``multitaper_psd`` (whole series, DPSS tapers, estimates averaged). Both remove the mean
       first, so a non-zero mean (rates, node states) does not swamp the low frequencies: Welch
       subtracts each segment's mean (``detrend='constant'``), multitaper each series' mean;
    3. Put frequency on axis 0; for a 3-d signal, average the PSD over the batch (the first axis
       that is not time).

    Parameters
    ----------
    signal : neo.AnalogSignal, BinnedSpikeTrain, rrnsim.RunResult, pq.Quantity or np.ndarray
        Shape (time,), (time, node) or (batch, time, node); finite values. A ``RunResult``
        (``RRN.run``) brings its states and sampling rate.
    fs : float or pq.Quantity, optional
        Sampling rate (Hz; a time quantity is read as the sampling interval). Required for arrays;
        read from an ``AnalogSignal`` or ``BinnedSpikeTrain`` (a differing ``fs`` is an error).
    method : {"welch", "multitaper"}
        The Elephant estimator.
    frequency_resolution : float or pq.Quantity, optional
        Welch: spacing of the frequency bins (Hz); segments are ``int(fs/frequency_resolution)``
        samples long. Multitaper: the full bandwidth 2W of the tapers (Elephant's
        ``peak_resolution``), at least 2/T for T s of data; bins are fs/N apart. ``None``: Welch
        uses ``n_segments``, multitaper Elephant's default (NW = 4).
    n_segments : int
        Welch only, when ``frequency_resolution`` is None: number of half-overlapping segments.
    axis : int, optional
        Time axis of an array signal; ``None`` is rrnsim's convention (1 for 3-d, else 0). Must
        be ``None`` for an ``AnalogSignal`` or ``BinnedSpikeTrain``, which fix their time axis.

    Returns
    -------
    freqs : pq.Quantity
        Frequencies (Hz), shape (freq,).
    psd : pq.Quantity
        PSD in (signal unit)**2/Hz, shape (freq,), (freq, node) (3-d input: batch-averaged).

    Notes
    -----
    Multitaper holds (series x tapers x time) values in memory at once; prefer Welch for long
    batched runs.
    """
    x, fs, units = _time_series(signal, fs, axis)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    n_time = x.shape[-1]
    series = x.reshape(-1, n_time)
    if method == "welch":
        freqs, psd = _elephant.welch_psd(series, fs=fs, **_segments(frequency_resolution,
                                                                      n_segments, fs, n_time))
    else:
        options = {}
        if frequency_resolution is not None:
            res = hertz("frequency_resolution", frequency_resolution)
            n_tapers = int(np.floor(n_time / fs * res)) - 1   # as Elephant counts them
            if n_tapers < 1:
                raise ValueError(f"frequency_resolution {res:g} Hz leaves no taper for "
                                 f"{n_time / fs:g} s: the multitaper minimum is 2/T = "
                                 f"{2.0 * fs / n_time:g} Hz (a little more where 2/T rounds down)")
            options["peak_resolution"] = res
        series = series - series.mean(axis=-1, keepdims=True)  # Elephant keeps the mean
        freqs, psd = _elephant.multitaper_psd(series, fs=fs, **options)
        if n_time % 2 == 0:  # Elephant doubles the Nyquist bin too; one-sided, it is not doubled
            psd[..., -1] /= 2
    psd = np.moveaxis(psd.reshape(x.shape[:-1] + (-1,)), -1, 0)
    if psd.ndim == 3:
        psd = psd.mean(axis=1)
    return np.asarray(freqs) * pq.Hz, psd * (units ** 2 / pq.Hz)


def band_power(freqs, psd):
    """Power in each rhythm band of :data:`rrnsim.rhythms.BANDS`, per node.

    1. Take the PSD at the frequency bins inside each band ``[low, high]`` (Hz) and, linearly
       interpolated, at the band's edges (so coarse bins still give the band's share);
    2. Integrate it over the band with the trapezoid rule. Adjacent bands add up: their sum is
       the power from 1 to 200 Hz.

    Parameters
    ----------
    freqs : pq.Quantity or np.ndarray
        Frequencies (Hz), increasing, shape (freq,).
    psd : pq.Quantity or np.ndarray
        PSD, shape (freq,) or (freq, node), as :func:`power_spectrum` returns.

    Returns
    -------
    dict
        Band name -> power per node, a ``pq.Quantity`` in psd units x Hz (e.g. mV**2), shape
        (node,) or scalar; NaN for a band the spectrum does not cover (e.g. above Nyquist).
    """
    f, p, units, ndim = validate_spectrum(freqs, psd)
    powers = {}
    for name, (low, high) in BANDS.items():
        if f[0] <= low and high <= f[-1]:
            inside = (f > low) & (f < high)
            edges = np.array([np.interp([low, high], f, column) for column in p.T]).T
            values = np.concatenate([edges[:1], p[inside], edges[1:]])
            power = np.trapezoid(values, np.r_[low, f[inside], high], axis=0)
        else:
            power = np.full(p.shape[1], np.nan)
        powers[name] = (power if ndim == 2 else power[0]) * (units * pq.Hz)
    return powers


def peak_frequency(freqs, psd, fmin=None, fmax=None):
    """Frequency of the largest PSD value per node, and its prominence (dB).

    1. Restrict to ``fmin <= f <= fmax`` (Hz) and take the bin of largest power;
    2. Its prominence is ``scipy.signal.peak_prominences`` of that bin in the whole log spectrum
       ``10*log10(psd)``: how far (dB) the peak stands above the higher of the two lowest points
       between it and the nearest higher point (or the spectrum's end) on each side. It is 0 when
       the bin is not a local maximum (e.g. the spectrum keeps rising past ``fmax``, or the peak
       is the spectrum's first or last bin).

    Parameters
    ----------
    freqs, psd : as for :func:`band_power`.
    fmin, fmax : float or pq.Quantity, optional
        Search range (Hz, inclusive); ``None`` is no bound.

    Returns
    -------
    peak : pq.Quantity
        Peak frequency (Hz), shape (node,) or scalar.
    prominence_db : np.ndarray
        Prominence (dB), same shape.
    """
    f, p, _, ndim = validate_spectrum(freqs, psd)
    candidates = np.flatnonzero(_in_range(f, fmin, fmax))
    peaks = candidates[np.argmax(p[candidates], axis=0)]
    with warnings.catch_warnings():  # scipy warns about prominence 0, which we document
        warnings.filterwarnings("ignore", "some peaks have a prominence of 0")
        prominence = np.array([scipy.signal.peak_prominences(_db(p[:, k]), [i])[0][0]
                               for k, i in enumerate(peaks)])
    if ndim == 1:
        return f[peaks[0]] * pq.Hz, prominence[0]
    return f[peaks] * pq.Hz, prominence


def coherence(a, b, fs=None, frequency_resolution=None, n_segments=8, axis=None):
    """Magnitude-squared coherence and phase lag of two signals (Elephant's ``welch_coherence``).

    1. Cut both signals into the same Hann-windowed, half-overlapping segments;
    2. Average the auto-spectra ``Paa``, ``Pbb`` and the cross-spectrum ``Pab = conj(A)*B``;
    3. Coherence ``|Pab|**2 / (Paa*Pbb)`` (0 to 1) and phase lag ``angle(Pab)``.

    Parameters
    ----------
    a, b : neo.AnalogSignal, BinnedSpikeTrain, pq.Quantity or np.ndarray
        Same shape and sampling rate; shapes and ``fs``/``axis`` as for :func:`power_spectrum`.
    fs, frequency_resolution, n_segments, axis : as for :func:`power_spectrum` (Welch).

    Returns
    -------
    freqs : pq.Quantity
        Frequencies (Hz), shape (freq,).
    coherence : np.ndarray
        Coherence (dimensionless), frequency on axis 0 then the remaining axes of the input.
        A 3-d input gives one coherence per batch entry (coherences are not averaged).
    phase_lag : pq.Quantity
        ``angle(Pab)`` in rad, in (-pi, pi]: when ``b`` is ``a`` delayed by ``tau`` s it is
        ``-2*pi*f*tau``, i.e. negative when ``a`` leads.
    """
    x, fs_a, _ = _time_series(a, fs, axis)
    y, fs_b, _ = _time_series(b, fs, axis)
    if x.shape != y.shape or not np.isclose(fs_a, fs_b):
        raise ValueError(f"a and b must have the same shape and sampling rate; got {x.shape} at "
                         f"{fs_a:g} Hz and {y.shape} at {fs_b:g} Hz (time axis last)")
    segments = _segments(frequency_resolution, n_segments, fs_a, x.shape[-1])
    freqs, coh, lag = _elephant.welch_coherence(x, y, fs=fs_a, **segments)
    return (np.asarray(freqs) * pq.Hz, np.moveaxis(coh, -1, 0), np.moveaxis(lag, -1, 0) * pq.rad)


# --- rhythms -------------------------------------------------------------------------------------
def emergent_rhythms(freqs, psd_coupled, psd_uncoupled, threshold_db=3.0, fmin=None, fmax=None):
    """Spectral peaks of a coupled network that its uncoupled version does not have.

    Criterion, per node, with both spectra on the same frequency bins:

    1. A peak is a local maximum of the coupled log spectrum ``10*log10(psd_coupled)`` with a
       prominence (``scipy.signal.find_peaks``) of at least ``threshold_db``, at
       ``fmin <= f <= fmax``;
    2. It is emergent when, at that bin, ``10*log10(psd_coupled/psd_uncoupled) >= threshold_db``.

    Estimate both spectra with enough averaging (long runs, batches): noise bumps of a few dB in
    a single short Welch estimate can pass a 3-dB criterion.

    Parameters
    ----------
    freqs : pq.Quantity or np.ndarray
        Frequencies (Hz), shape (freq,).
    psd_coupled, psd_uncoupled : pq.Quantity or np.ndarray
        PSDs of the same shape, (freq,) or (freq, node), in the same units.
    threshold_db : float
        Minimum prominence and excess (dB).
    fmin, fmax : float or pq.Quantity, optional
        Search range (Hz); ``None`` is no bound.

    Returns
    -------
    list of dict
        One per emergent peak, by node then frequency: ``node`` (index), ``frequency_hz``,
        ``excess_db`` (coupled over uncoupled at the peak), ``band`` (name, '' outside 1-200 Hz).
    """
    f, coupled, units_c, _ = validate_spectrum(freqs, psd_coupled, "psd_coupled")
    _, uncoupled, units_u, _ = validate_spectrum(freqs, psd_uncoupled, "psd_uncoupled")
    if (coupled.shape, units_c.dimensionality) != (uncoupled.shape, units_u.dimensionality):
        raise ValueError(f"psd_coupled and psd_uncoupled must match in shape and units; got "
                         f"{coupled.shape} {units_c.dimensionality} and {uncoupled.shape} "
                         f"{units_u.dimensionality}")
    threshold_db = float(threshold_db)
    if not np.isfinite(threshold_db) or threshold_db < 0:
        raise ValueError(f"threshold_db must be a non-negative number of dB, got {threshold_db}")
    inside = _in_range(f, fmin, fmax)
    rhythms = []
    for k in range(coupled.shape[1]):
        level = _db(coupled[:, k])
        excess = level - _db(uncoupled[:, k])
        peaks, _ = scipy.signal.find_peaks(level, prominence=threshold_db)
        rhythms += [{"node": k, "frequency_hz": float(f[i]), "excess_db": float(excess[i]),
                     "band": band_of(f[i])}
                    for i in peaks if inside[i] and excess[i] >= threshold_db]
    return rhythms


def spectrum_report(freqs, psd, fmin=None, fmax=None):
    """A small table of each node's spectrum: peak, its band and prominence, band powers.

    1. :func:`peak_frequency` per node (in ``fmin``-``fmax`` Hz) and its rhythm band;
    2. :func:`band_power` per node.

    Returns
    -------
    list of dict
        One per node: ``node``, ``peak_hz``, ``band`` (of the peak), ``prominence_db``, and
        ``power_<band>`` for every band (spaces as underscores; psd units x Hz, as floats).
    """
    peaks, prominence = peak_frequency(freqs, psd, fmin, fmax)
    powers = band_power(freqs, psd)
    peaks, prominence = np.atleast_1d(peaks.magnitude), np.atleast_1d(prominence)
    rows = []
    for k, (peak, prom) in enumerate(zip(peaks, prominence)):
        row = {"node": k, "peak_hz": float(peak), "band": band_of(peak),
               "prominence_db": float(prom)}
        row.update({"power_" + name.replace(" ", "_"): float(np.atleast_1d(power.magnitude)[k])
                    for name, power in powers.items()})
        rows.append(row)
    return rows


def population_rates(block, bin_size=1 * pq.ms):
    """Population rate of each trial of a ``neo.Block``: all its spike trains summed.

    ``bin_size`` is a time quantity (``quantities`` or Brian2; default 1 ms).

    1. For each segment (trial), count the spikes of all its trains in bins of ``bin_size``
       with ``elephant.statistics.time_histogram``;
    2. divide by the bin size.

    Returns a ``neo.AnalogSignal`` (time, trial) in Hz, sampled at 1/``bin_size``. Trials must
    share ``t_start`` and ``t_stop``; a segment without spike trains is an error naming it.
    """
    from elephant.statistics import time_histogram
    if not isinstance(block, neo.Block) or not block.segments:
        raise ValueError("population_rates needs a neo.Block with at least one segment")
    bin_size = as_quantity("bin_size", bin_size)     # a Brian2 time too
    if not isinstance(bin_size, pq.Quantity):
        raise TypeError(f"bin_size must be a time quantity (e.g. 1*pq.ms), got {bin_size!r}")
    bin_size = positive("bin_size", bin_size, unit=pq.s) * pq.s
    rates = []
    for index, segment in enumerate(block.segments):
        if not segment.spiketrains:
            raise ValueError(f"segment {index} ({segment.name!r}) has no spike trains")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # quantities deprecation notices inside Elephant
            counts = time_histogram(list(segment.spiketrains), bin_size=bin_size, output="counts")
        rates.append(counts.magnitude[:, 0] / bin_size.rescale(pq.s).magnitude)
    spans = [(min(t.t_start for t in seg.spiketrains).rescale(pq.s).item(),
              max(t.t_stop for t in seg.spiketrains).rescale(pq.s).item()) for seg in block.segments]
    for index, span in enumerate(spans):
        if not np.allclose(span, spans[0]):
            raise ValueError(f"trial {index} spans {span[0]:g}-{span[1]:g} s but trial 0 "
                             f"{spans[0][0]:g}-{spans[0][1]:g} s: trials need the same t_start "
                             "and t_stop")
    return neo.AnalogSignal(np.stack(rates, axis=1) * pq.Hz,
                            sampling_rate=(1 / bin_size).rescale(pq.Hz),
                            t_start=block.segments[0].spiketrains[0].t_start)
