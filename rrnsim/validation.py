"""Checks at the boundary: each returns the clean value or raises an error that names it."""
import operator

import numpy as np
import quantities as pq

__all__ = ["as_input", "count", "number", "positive", "fraction", "n_bins", "modulation_frequency", "frequency_range",
           "in_unit", "in_hz", "hertz"]


def count(name, value, minimum=1):
    """An integer >= ``minimum`` (bools refused)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def number(name, value, unit=None):
    """A finite float (strings and bools refused). A ``quantities`` value is rescaled to ``unit`` (e.g. ``pq.Hz``, ``pq.s``);
    without ``unit`` it is refused, so that no unit is silently dropped."""
    if isinstance(value, pq.Quantity):
        if unit is None:
            raise TypeError(f"{name} must be a plain number, got the quantity {value}")
        value = in_unit(name, value, unit)
    if isinstance(value, (str, bytes, bool)):  # float() would take "0.1" and True
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def in_unit(name, value, unit):
    """Magnitude in ``unit`` (e.g. ``pq.Hz``, ``pq.s``, ``pq.rad``) of a ``quantities`` value,
    scalar or array; a plain number or array is returned as it is (taken to be in ``unit``).
    Units of another dimension are an error naming ``name``."""
    if not isinstance(value, pq.Quantity):
        return value
    try:
        return value.rescale(unit).magnitude
    except ValueError:
        got = value if value.size == 1 else f"units {value.dimensionality}"
        raise ValueError(f"{name} must be in units of {unit.dimensionality} (or convertible), "
                         f"got {got}") from None


def positive(name, value, allow_zero=False, unit=None):
    """A finite float > 0 (>= 0 with ``allow_zero``); quantities as in :func:`number`."""
    value = number(name, value, unit)
    if value < 0 or (value == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        in_unit = "" if unit is None else f" {unit.dimensionality}"
        raise ValueError(f"{name} must be a finite {need} number, got {value}{in_unit}")
    return value


def fraction(name, value):
    """A float in [0, 1)."""
    value = number(name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def n_bins(duration, fs):
    """Whole number of samples in ``duration`` s at ``fs`` Hz, else ValueError naming both."""
    n_float = duration * fs
    n = int(round(n_float))
    if n < 1 or abs(n_float - n) > 1e-6 * max(1.0, n_float):
        raise ValueError(f"duration * fs must be a whole number of samples (at least 1); got "
                         f"duration={duration} s, fs={fs} Hz, i.e. {n_float} samples")
    return n


def as_input(X, n_channels=None, name="X"):
    """Validate inputs: (batch, time) or (batch, time, channels) finite numbers -> 3-d array."""
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must have shape (batch, time) or (batch, time, channels) with "
                         f"batch, time >= 1; got shape {X.shape}")
    if n_channels is not None and X.shape[2] != n_channels:
        raise ValueError(f"{name} has {X.shape[2]} channel(s) but the network's w_in takes "
                         f"{n_channels}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise ValueError(f"{name} has a non-finite value {X[bad]} at index {bad}")
    return X


def modulation_frequency(name, value, fs):
    """A frequency (Hz; a quantity is rescaled) in (0, fs/2), else an error naming it and the
    Nyquist frequency."""
    value = number(name, value, unit=pq.Hz)
    if value <= 0:
        raise ValueError(f"{name}: frequency {value} Hz must be positive")
    if value >= fs / 2:
        raise ValueError(f"{name}: frequency {value} Hz is not below the Nyquist frequency "
                         f"fs/2 = {fs / 2} Hz")
    return value


def frequency_range(name, value, fs):
    """``(low, high)`` frequencies (Hz), each in (0, fs/2), low <= high."""
    try:
        low, high = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be two numbers (low, high) in Hz, got {value!r}") from None
    low, high = (modulation_frequency(name, v, fs) for v in (low, high))
    if low > high:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {value!r}")
    return low, high


def in_hz(name, value, allow_period=False):
    """Magnitude (Hz) of a number, array or ``quantities`` value; with ``allow_period`` a time is
    read as a sampling interval (1/period). Other units are an error naming ``name``."""
    if not isinstance(value, pq.Quantity):
        return value
    dims = value.dimensionality.simplified
    if dims == pq.Hz.dimensionality.simplified:
        return value.rescale(pq.Hz).magnitude
    if allow_period and dims == pq.s.dimensionality.simplified:
        return 1.0 / value.rescale(pq.s).magnitude
    kinds = "a rate (e.g. Hz) or a sampling interval (e.g. ms)" if allow_period else "in Hz"
    got = value if value.size == 1 else f"units {value.dimensionality}"
    raise ValueError(f"{name} must be {kinds}, got {got}")


def hertz(name, value, allow_period=False):
    """A positive, finite scalar in Hz (see :func:`in_hz`), else ValueError naming it."""
    magnitude = in_hz(name, value, allow_period)
    try:
        hz = float(magnitude)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number in Hz, got {value!r}") from None
    if not np.isfinite(hz) or hz <= 0:
        raise ValueError(f"{name} must be a positive, finite number in Hz, got {value}")
    return hz
