"""Brian2 for rrnsim's modules, imported here once, keeping the caller's ``sys.excepthook``.

Importing brian2 installs an excepthook that reports any uncaught error as a Brian 2 bug (and
writes a debug log), so an rrnsim ValueError in a user's script would read as a Brian2 bug. The
hook that was there before stays (Brian2's own, if the user imported Brian2 first). Only the
modules that simulate import this one, so ``import rrnsim`` does not pay Brian2's second of
start-up.
"""
import sys

_hook = sys.excepthook
import brian2  # noqa: E402
sys.excepthook = _hook
del _hook

__all__ = ["brian2"]
