"""rrnsim: resonant recurrent networks of damped oscillators tuned to brain rhythms.

One model, two engines: Brian2 in continuous time and an exact discrete AR(2) engine.
"""
from .network import RRN, RunResult
from .rhythms import BANDS, band_of, make_layout
from .specs import load_spec, spec_names

__version__ = "0.1.0"
__all__ = ["RRN", "RunResult", "BANDS", "band_of", "make_layout", "load_spec", "spec_names"]
