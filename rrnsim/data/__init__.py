"""Data for rrnsim: file loaders, synthetic tasks, Brian2 spike generators.

- :func:`load_mnist`: the standard MNIST IDX files (gzip or raw) as sequential-MNIST arrays,
  images (samples, 784) in [0, 1] and int64 labels.
- :func:`spike_task`: the paper's spike-train task as arrays, constant vs sinusoidally
  modulated 100 Hz trains of 100 ms at 1 kHz, seeded.
- :mod:`~rrnsim.data.generators`: the same tasks (and a multi-band one) simulated with Brian2 as
  ``neo.Block`` s; :func:`bin_block` turns them into arrays, :func:`save_nix` / :func:`load_nix`
  store them.
- :mod:`~rrnsim.data.ping`: a PING excitatory-inhibitory network whose gamma rhythm emerges.
"""
import importlib

from .mnist import load_mnist
from .tasks import spike_task

#: Names from the modules that import Brian2, loaded on first use (``import rrnsim`` stays quick).
_BRIAN2_NAMES = {name: "generators" for name in ("bands_task", "bin_block", "load_nix",
                                                  "modulated_poisson", "modulated_poisson_group",
                                                  "paper_task", "save_nix")}
_BRIAN2_NAMES.update(autocorrelation_frequency="ping", ping_network="ping")


def __getattr__(name):
    if name in _BRIAN2_NAMES:
        return getattr(importlib.import_module(f".{_BRIAN2_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["load_mnist", "spike_task", "modulated_poisson", "modulated_poisson_group",
           "paper_task", "bands_task", "bin_block", "save_nix", "load_nix", "ping_network",
           "autocorrelation_frequency"]
