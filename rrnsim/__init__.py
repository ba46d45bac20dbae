"""rrnsim: resonant recurrent networks of damped oscillators tuned to brain rhythms.

One model, two engines: Brian2 in continuous time and an exact discrete AR(2) engine.
"""
import sys

__version__ = "0.1.0"

_excepthook = sys.excepthook
from .classifier import PAPER_SETTINGS, RRNClassifier  # noqa: E402 (imports brian2)
from .network import RRN, RunResult  # noqa: E402
from .observer import IdealObserver  # noqa: E402
from .rhythms import BANDS, band_of, make_layout  # noqa: E402
from .specs import load_spec, spec_names  # noqa: E402

# importing brian2 installs an excepthook that blames Brian2 for any uncaught error (and writes a
# debug log): an rrnsim ValueError in a user's script would read as a Brian2 bug. Keep the hook
# that was there before rrnsim imported brian2 (one the user set on purpose stays).
sys.excepthook = _excepthook
del _excepthook

__all__ = ["RRN", "RunResult", "RRNClassifier", "PAPER_SETTINGS", "IdealObserver", "BANDS", "band_of", "make_layout", "load_spec", "spec_names"]
