"""Brain-rhythm bands and the frequency layouts of RRN nodes.

Bands (Hz, [low, high)): delta 1-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-100,
high gamma 100-200. Layouts place node frequencies (Hz) over them: the paper's ``golden``
(f0*phi**n), ``binary`` (f0*2**n, the paper's "two"), ``e`` (f0*e**n, the paper's "log") and
``linear``; ``bands`` puts one node at each band centre; ``explicit`` takes a list.
"""
import warnings
from dataclasses import dataclass, field

import numpy as np
import quantities as pq

from . import validation
from .oscillator import stability_violations

__all__ = ["BANDS", "TASK_BANDS", "band_of", "task_bands", "Layout", "make_layout", "LAYOUTS", "LAYOUT_ALIASES", "PHI", "E"]

#: Rhythm bands, name -> (low Hz, high Hz), in increasing frequency.
BANDS = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 100.0),
    "high gamma": (100.0, 200.0),
}

#: The golden ratio and e as the paper published them (so its frequencies are reproduced).
PHI = 1.618
E = 2.718

#: The paper's names for our layouts.
LAYOUT_ALIASES = {"two": "binary", "log": "e"}


#: The classes of the bands task (rrnsim.data.bands_task, rrnsim.IdealObserver("bands")).
TASK_BANDS = ("delta", "theta", "alpha", "beta", "gamma")


def task_bands(bands, fs, minimum=1):
    """Band names as a tuple: at least ``minimum``, known, not repeated, and each band's upper
    edge below the Nyquist frequency ``fs/2`` (Hz), else ValueError naming the bad band."""
    if isinstance(bands, str):
        bands = (bands,)
    try:
        bands = tuple(bands)
    except TypeError:
        raise TypeError(f"bands must be a sequence of band names, got {bands!r}") from None
    if len(bands) < minimum:
        raise ValueError(f"bands needs at least {minimum} band(s), got {bands!r}")
    for name in bands:
        if name not in BANDS:
            raise ValueError(f"unknown band {name!r} in bands={bands!r}; known: "
                             f"{', '.join(map(repr, BANDS))}")
        if BANDS[name][1] >= fs / 2:
            raise ValueError(f"band {name!r} {BANDS[name]} Hz reaches the Nyquist frequency "
                             f"fs/2 = {fs / 2:g} Hz")
    if len(set(bands)) != len(bands):
        raise ValueError(f"bands must not repeat a band, got {bands!r}")
    return bands


def band_of(frequency_hz):
    """Name of the rhythm band holding ``frequency_hz`` (Hz, or a quantity); '' outside 1-200 Hz.
    A frequency that is not a finite number is an error naming it."""
    frequency_hz = validation.number("frequency_hz", frequency_hz, unit=pq.Hz)
    for name, (low, high) in BANDS.items():
        if low <= frequency_hz < high:
            return name
    return ""


@dataclass(frozen=True)
class Layout:
    """Node frequencies (Hz) that passed the stability filter, and those it dropped with why."""

    name: str
    frequencies_hz: np.ndarray
    dropped: dict = field(default_factory=dict)  # frequency (Hz) -> reason


def _candidates(name, f0_hz, count, fs_hz, start_hz, stop_hz, hz):
    ratio = {"golden": PHI, "binary": 2.0, "e": E}.get(name)
    if ratio is not None:
        if count is None:  # every power below Nyquist; the filter then trims
            count = int(np.floor(np.log(fs_hz / 2 / f0_hz) / np.log(ratio))) + 1
        return f0_hz * ratio ** np.arange(count)
    if name == "linear":
        return np.linspace(start_hz, stop_hz, count)
    if name == "bands":
        return np.array([(low + high) / 2 for low, high in BANDS.values()])
    hz = np.atleast_1d(validation.float_array("hz", validation.in_unit("hz", [] if hz is None else hz, pq.Hz)))
    if hz.ndim != 1 or hz.size == 0:
        raise ValueError(f"an explicit layout needs a non-empty flat list of frequencies (hz), got "
                         f"shape {hz.shape}")
    return hz


#: Layout names (the paper's four, band centres, an explicit list).
LAYOUTS = ("golden", "binary", "e", "linear", "bands", "explicit")
#: The settings of :func:`make_layout` each layout uses.
_LAYOUT_SETTINGS = {"golden": {"f0_hz", "count"}, "binary": {"f0_hz", "count"},
                    "e": {"f0_hz", "count"}, "linear": {"count", "start_hz", "stop_hz"},
                    "bands": set(), "explicit": {"hz"}}
_PAPER_LAYOUTS = ("golden", "binary", "e", "linear")


def make_layout(name, f0_hz=None, count=None, fs_hz=1000.0, radius=0.99999,
                start_hz=None, stop_hz=None, hz=None):
    """Node frequencies (Hz) of a named layout, with the unstable ones dropped: a :class:`Layout`
    (``name``, ``frequencies_hz`` (K,) Hz, ``dropped`` {frequency: reason}).

    Parameters
    ----------
    name : str
        One of :data:`LAYOUTS` or an alias ('two', 'log').
    f0_hz : float
        Lowest frequency of the ratio layouts (golden, binary, e); default 2 Hz.
    count : int or None
        Number of candidate nodes; ``None`` takes every power below Nyquist (ratio layouts).
    fs_hz, radius : float
        Sampling rate (Hz) and pole radius the stability filter checks against.
    start_hz, stop_hz : float
        Range of the linear layout (``count`` nodes, both ends included; start default 2 Hz).
    hz : sequence of float
        Frequencies of the explicit layout; any unstable one is an error naming it.

    Frequencies may be ``quantities`` values (rescaled to Hz). A setting the layout does not use
    (e.g. ``hz`` with ``"golden"``) is an error naming it.

    The paper's layouts also require ``w1 > 0`` (f < fs/4) and drop the nodes that fail,
    with a warning that names them. The ``bands`` layout drops above-Nyquist centres.
    """
    name = LAYOUT_ALIASES.get(name, name)
    if name not in _LAYOUT_SETTINGS:
        raise ValueError(f"unknown layout {name!r}; known: {', '.join(LAYOUTS)} "
                         f"(aliases: {', '.join(LAYOUT_ALIASES)})")
    given = {key for key, value in dict(f0_hz=f0_hz, count=count, start_hz=start_hz,
                                        stop_hz=stop_hz, hz=hz).items() if value is not None}
    unused = sorted(given - _LAYOUT_SETTINGS[name])
    if unused:
        raise ValueError(f"layout {name!r} does not use {', '.join(unused)}")
    fs_hz = validation.positive("fs_hz", fs_hz, unit=pq.Hz)
    f0_hz = validation.positive("f0_hz", 2.0 if f0_hz is None else f0_hz, unit=pq.Hz)
    start_hz = validation.positive("start_hz", 2.0 if start_hz is None else start_hz, unit=pq.Hz)
    if stop_hz is not None:
        stop_hz = validation.positive("stop_hz", stop_hz, unit=pq.Hz)
    if count is not None:
        count = validation.count("count", count)
    if name == "linear" and (count is None or stop_hz is None):
        raise ValueError("the linear layout needs count and stop_hz")
    if name == "linear" and (start_hz >= stop_hz or count < 2):
        raise ValueError(f"the linear layout needs start_hz < stop_hz and count >= 2, got "
                         f"start_hz={start_hz}, stop_hz={stop_hz}, count={count}")
    radius = validation.number("radius", radius, unit=pq.dimensionless)
    candidates = _candidates(name, f0_hz, count, fs_hz, start_hz, stop_hz, hz)
    reasons = stability_violations(candidates, radius, fs_hz,
                                   require_positive_w1=name in _PAPER_LAYOUTS)
    dropped = {float(f): why for f, why in zip(candidates, reasons) if why}
    if name == "explicit" and dropped:
        raise ValueError("unstable frequencies in the explicit layout: " + "; ".join(dropped.values()))
    if dropped:
        warnings.warn(f"layout {name!r} dropped {len(dropped)} node(s): " + "; ".join(dropped.values()),
                      stacklevel=2)
    kept = np.array([f for f, why in zip(candidates, reasons) if not why])
    if kept.size == 0:
        raise ValueError(f"layout {name!r} has no stable node at fs={fs_hz} Hz, radius={radius}")
    return Layout(name, kept, dropped)
