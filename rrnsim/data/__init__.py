"""Data for rrnsim: file loaders and synthetic tasks.

- :func:`load_mnist`: the standard MNIST IDX files (gzip or raw) as sequential-MNIST arrays,
  images (samples, 784) in [0, 1] and int64 labels.
- :func:`spike_task`: the paper's spike-train task, constant vs sinusoidally modulated
  100 Hz Poisson trains of 100 ms at 1 kHz, seeded.
"""
from .mnist import load_mnist
from .tasks import spike_task

__all__ = ["load_mnist", "spike_task"]
