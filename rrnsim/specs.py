"""Named network specifications: TOML files in ``models/`` (package data ``rrnsim.models``).

A spec has ``name``, ``description``, ``fs_hz``, ``radius``, ``coupling``, ``noise`` and a
``[frequencies]`` table with either ``layout`` (+ ``f0_hz``, ``count``, or ``start_hz``/``stop_hz``
for linear) or an explicit ``hz = [...]`` list.
"""
import tomllib
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .rhythms import LAYOUT_ALIASES, Layout, make_layout
from .engines.discrete import COUPLINGS
from .validation import positive

__all__ = ["Spec", "load_spec", "spec_names"]

_TOP_FIELDS = {"name": str, "description": str, "fs_hz": float, "radius": float,
               "coupling": str, "noise": float}
_FREQUENCY_FIELDS = {"layout": str, "f0_hz": float, "count": int, "start_hz": float,
                     "stop_hz": float, "hz": list}
_DEFAULTS = {"description": "", "fs_hz": 1000.0, "radius": 0.99999, "coupling": "gated",
             "noise": 0.0}


@dataclass(frozen=True)
class Spec:
    """A loaded specification: the network's settings and its layout (frequencies in Hz)."""

    name: str
    description: str
    fs_hz: float
    radius: float
    coupling: str
    noise: float
    layout: Layout
    source: str  # the file it came from


def spec_names():
    """Names of the specs shipped with rrnsim, sorted."""
    return sorted(p.name[:-5] for p in resources.files("rrnsim.models").iterdir()
                  if p.name.endswith(".toml"))


def _check_type(value, kind, where):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float \
        else isinstance(value, kind) and not isinstance(value, bool)
    if not ok:
        raise ValueError(f"{where}: expected {kind.__name__}, got {value!r}")


def load_spec(name_or_path):
    """Load a spec by shipped name (or the paper's alias) or from a TOML file path; returns a
    :class:`Spec`."""
    text, source, shipped = _read(str(name_or_path))
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{source}: not valid TOML ({err})") from None
    for key, value in table.items():
        if key == "frequencies":
            continue
        if key not in _TOP_FIELDS:
            raise ValueError(f"{source}: unknown field {key!r}; known: "
                             f"{', '.join(_TOP_FIELDS)}, [frequencies]")
        _check_type(value, _TOP_FIELDS[key], f"{source}: field {key!r}")
    if "name" not in table:
        raise ValueError(f"{source}: missing field 'name'")
    freq = table.get("frequencies")
    if not isinstance(freq, dict):
        raise ValueError(f"{source}: missing table [frequencies] (with 'layout' or 'hz')")
    for key, value in freq.items():
        if key not in _FREQUENCY_FIELDS:
            raise ValueError(f"{source}: unknown field 'frequencies.{key}'; known: "
                             f"{', '.join(_FREQUENCY_FIELDS)}")
        _check_type(value, _FREQUENCY_FIELDS[key], f"{source}: field 'frequencies.{key}'")
    settings = {**_DEFAULTS, **{k: v for k, v in table.items() if k != "frequencies"}}
    if settings["coupling"] not in COUPLINGS:
        raise ValueError(f"{source}: field 'coupling' must be one of {', '.join(COUPLINGS)}, got "
                         f"{settings['coupling']!r}")
    positive(f"{source}: field 'fs_hz'", settings["fs_hz"])
    positive(f"{source}: field 'noise' (a standard deviation)", settings["noise"], allow_zero=True)
    if not 0 < settings["radius"] < 1:
        raise ValueError(f"{source}: field 'radius' must be in (0, 1), got {settings['radius']}")
    layout_name = freq.get("layout", "explicit" if "hz" in freq else None)
    if layout_name is None:
        raise ValueError(f"{source}: field 'frequencies.layout' or 'frequencies.hz' is required")
    try:
        with warnings.catch_warnings():
            if shipped:     # by design, and listed by `rrnsim models`
                warnings.filterwarnings("ignore", message="layout .* dropped")
            layout = make_layout(layout_name, fs_hz=float(settings["fs_hz"]),
                                 radius=float(settings["radius"]),
                                 **{k: v for k, v in freq.items() if k != "layout"})
    except (ValueError, TypeError) as err:
        raise ValueError(f"{source}: field 'frequencies': {err}") from None
    return Spec(name=settings["name"], description=settings["description"],
                fs_hz=float(settings["fs_hz"]), radius=float(settings["radius"]),
                coupling=settings["coupling"], noise=float(settings["noise"]),
                layout=layout, source=source)


def _read(name_or_path):
    """The spec's TOML text, its source (for messages) and whether it is a shipped spec (whose
    layouts drop the nodes the paper's rule drops without a warning on every load)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or len(path.parts) > 1:  # a bare name is a shipped spec
        try:
            return path.read_text(encoding="utf-8"), str(path), False
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"cannot read spec file {str(path)!r}: {err}") from None
    name = LAYOUT_ALIASES.get(name_or_path, name_or_path)
    if name not in spec_names():
        raise ValueError(f"unknown spec {name_or_path!r}; shipped specs: {', '.join(spec_names())} "
                         "(or give a path to a .toml file)")
    resource = resources.files("rrnsim.models") / f"{name}.toml"
    return resource.read_text(encoding="utf-8"), f"rrnsim.models/{name}.toml", True
