"""Checks at the boundary: each returns the clean value or raises an error that names it."""
import operator
import sys

import numpy as np
import quantities as pq

__all__ = ["as_input", "count", "number", "positive", "fraction", "n_bins", "modulation_frequency", "frequency_range",
           "in_unit", "in_hz", "hertz", "as_quantity",
           "float_array", "check_finite", "flag"]

_SI_BASE_UNITS = {"m": pq.m, "kg": pq.kg, "s": pq.s, "A": pq.A, "K": pq.K, "mol": pq.mol, "cd": pq.cd}


def _is_brian2(value):
    """Whether ``value`` is a Brian2 quantity. Brian2 is not imported for this: a Brian2 value
    means Brian2 is loaded already, so ``import rrnsim`` stays free of its second of start-up."""
    brian2 = sys.modules.get("brian2")
    return brian2 is not None and isinstance(value, brian2.Quantity)


def _si_unit(dim):
    """The ``quantities`` unit of a Brian2 dimension, at SI scale: Brian2's name for it where
    quantities reads that name (``V``, ``V**2``, ``kHz*mV``), else its SI base units."""
    name = str(sys.modules["brian2"].get_unit(dim)).replace("^", "**").replace(" ", "*")
    try:
        return pq.Quantity(1.0, name).units
    except (LookupError, SyntaxError, ValueError):
        unit = pq.dimensionless
        for symbol, base in _SI_BASE_UNITS.items():
            unit = unit * base ** dim.get_dimension(symbol)
        return unit


def as_quantity(name, value):
    """``value`` with units as one ``quantities`` value: a Brian2 quantity at SI scale, a list or
    tuple of quantities as one array in its first item's units. Anything else is returned as it
    is. Units that do not match within a list are an error naming ``name``."""
    if _is_brian2(value):
        if _is_plain(value):
            return np.asarray(value)
        return np.asarray(value) * _si_unit(value.dim)
    if isinstance(value, (list, tuple)):     # nested lists too
        items = [as_quantity(name, v) for v in value]
        if not any(isinstance(v, pq.Quantity) for v in items):
            return value
        if not all(isinstance(v, pq.Quantity) for v in items):
            raise TypeError(f"{name} mixes plain numbers and quantities: {value!r}")
        units = items[0].units
        try:
            magnitudes = [v.rescale(units).magnitude for v in items]
        except ValueError:
            raise ValueError(f"{name} mixes units of different dimensions: {value!r}") from None
        try:
            return np.array(magnitudes) * units
        except ValueError:
            raise ValueError(f"{name} is ragged: its rows differ in length") from None
    return value


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


def flag(name, value):
    """True or False (numpy's bools too); anything else, e.g. the string "no", is an error."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def number(name, value, unit=None):
    """A finite float (strings and bools refused). A ``quantities`` value is rescaled to ``unit`` (e.g. ``pq.Hz``, ``pq.s``);
    without ``unit`` it is refused, so that no unit is silently dropped. Brian2 quantities are read
    as in :func:`as_quantity`."""
    if (isinstance(value, pq.Quantity) or _is_brian2(value)) and not _is_plain(value):
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


def _is_plain(value):
    """Whether a Brian2 value is a plain number in disguise (Brian2 keeps dimensionless results
    as quantities)."""
    return _is_brian2(value) and value.is_dimensionless


def _described(value):
    """How an error names a quantity (a list of them too): the value itself when scalar, else its
    units."""
    if isinstance(value, (list, tuple)):
        value = as_quantity("value", value)
    if np.size(value) == 1:
        return str(value)
    units = (sys.modules["brian2"].get_unit(value.dim) if _is_brian2(value)
             else value.dimensionality)
    return f"units {units}"


def float_array(name, values, finite=True):
    """``values`` (a quantity's magnitudes) as a float array; non-numbers, and with ``finite`` NaN
    or inf, are an error naming them."""
    values = _numeric(name, values.magnitude if isinstance(values, pq.Quantity) else values)
    values = values.astype(float)
    if finite:
        check_finite(name, values)
    return values


def _numeric(name, values):
    """``values`` as a real numeric array, else an error naming ``name`` (in scikit-learn's
    words where it has them, so that its checks recognise them). An object array of numbers is
    converted to float."""
    sparse = sys.modules.get("scipy.sparse")   # loaded already if ``values`` is sparse
    if sparse is not None and sparse.issparse(values):
        raise TypeError(f"{name} is a sparse {type(values).__name__}: sparse input is not "
                        f"supported; pass {name}.toarray()")
    values = np.asarray(values)
    if values.dtype == object:
        try:
            values = values.astype(float)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name} must be numeric: {error}") from None
    if values.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {values.dtype}")
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {values.dtype}")
    return values


def check_finite(name, values):
    """An error naming ``name``, the first NaN or inf in the float array ``values`` and its
    index, if it holds one."""
    if not np.isfinite(values).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        value = "NaN" if np.isnan(values[bad]) else values[bad]
        raise ValueError(f"{name} has a non-finite value {value} at index {bad}")


def in_unit(name, value, unit):
    """Magnitude in ``unit`` (e.g. ``pq.Hz``, ``pq.s``, ``pq.rad``) of a ``quantities`` value,
    scalar or array, or of a Brian2 quantity or a list of quantities (:func:`as_quantity`); a plain
    number or array is returned as it is (taken to be in ``unit``). Units of another dimension are
    an error naming ``name``."""
    quantity = as_quantity(name, value)
    if not isinstance(quantity, pq.Quantity):
        return quantity
    try:
        return quantity.rescale(unit).magnitude
    except ValueError:
        raise ValueError(f"{name} must be in units of {unit.dimensionality} (or convertible), "
                         f"got {_described(value)}") from None


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
    """Validate inputs: (batch, time) or (batch, time, channels) finite numbers -> 3-d array.
    Inputs are dimensionless: a quantity with units is refused rather than read in some unit."""
    quantity = as_quantity(name, X)
    if isinstance(quantity, pq.Quantity):
        if quantity.dimensionality.simplified != pq.dimensionless.dimensionality:
            raise TypeError(f"{name} must be plain numbers (the drive is dimensionless), got "
                            f"{_described(X)}")
        quantity = quantity.rescale(pq.dimensionless).magnitude
    X = _numeric(name, quantity)
    if X.ndim not in (2, 3):
        reshape = " Reshape your data: X[None] for a single trial." if X.ndim == 1 else ""
        raise ValueError(f"{name} must have shape (batch, time) or (batch, time, channels), got "
                         f"shape {X.shape}.{reshape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
                         "required.")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has no time steps: 0 feature(s) (shape={X.shape}) while a "
                         "minimum of 1 is required.")
    if X.ndim == 2:
        X = X[:, :, None]
    if X.shape[2] == 0:
        raise ValueError(f"{name} has 0 channels (shape={X.shape}): give at least one")
    if n_channels is not None and X.shape[2] != n_channels:
        raise ValueError(f"{name} has {X.shape[2]} channel(s) but the network's w_in takes "
                         f"{n_channels}")
    if X.dtype.kind == "f":
        check_finite(name, X)
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
    quantity = as_quantity(name, value)
    if not isinstance(quantity, pq.Quantity):
        return quantity
    dims = quantity.dimensionality.simplified
    if dims == pq.Hz.dimensionality.simplified:
        return quantity.rescale(pq.Hz).magnitude
    if allow_period and dims == pq.s.dimensionality.simplified:
        return 1.0 / quantity.rescale(pq.s).magnitude
    kinds = "a rate (e.g. Hz) or a sampling interval (e.g. ms)" if allow_period else "in Hz"
    raise ValueError(f"{name} must be {kinds}, got {_described(value)}")


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
