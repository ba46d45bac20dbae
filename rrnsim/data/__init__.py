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
from .generators import bands_task, bin_block, load_nix, modulated_poisson, paper_task, save_nix
from .mnist import load_mnist
from .ping import autocorrelation_frequency, ping_network
from .tasks import spike_task

__all__ = ["load_mnist", "spike_task", "modulated_poisson", "paper_task", "bands_task",
           "bin_block", "save_nix", "load_nix", "ping_network", "autocorrelation_frequency"]
