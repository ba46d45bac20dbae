"""rrnsim: resonant recurrent networks of damped oscillators tuned to brain rhythms.

One model, two engines: Brian2 in continuous time and an exact discrete AR(2) engine.
"""
__version__ = "0.1.0"

from .classifier import PAPER_SETTINGS, RRNClassifier
from .network import RRN, RunResult
from .observer import IdealObserver
from .rhythms import BANDS, band_of, make_layout
from .specs import load_spec, spec_names

__all__ = ["RRN", "RunResult", "RRNClassifier", "PAPER_SETTINGS", "IdealObserver", "BANDS", "band_of", "make_layout", "load_spec", "spec_names"]
