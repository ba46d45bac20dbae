"""Training speed: rrnsim's fused numba kernels against the reference-style per-step PyTorch loop.

Measured side by side in one run, on the first 1,280 sequential-MNIST training images:

- rrnsim: the wall time of ``RRNClassifier(spec="golden", epochs=1).fit`` on the 1,280 sequences
  (10% held out for validation, so 9 training batches of 128 plus the validation pass), after
  one warm-up fit so that compilation is not counted;
- reference: ten training batches of 128 (forward, backward, AdamW step) through the paper-style
  per-step PyTorch loop (``analysis/reference_torch.py``), after one warm-up batch.

The two sides take turns, one timing of each per round, for 7 rounds; the best of each is kept.

Then one full epoch of sequential MNIST (55,000 training / 5,000 validation) with the default
model and with the paper's model. Needs the ``bench`` extra (torch==2.13.0).

    python analysis/bench_training.py
"""
import argparse
import os
import time

import numpy as np

from _common import add_mnist_argument, load_mnist_or_exit, positive_int
from rrnsim.classifier import PAPER_SETTINGS, RRNClassifier


#: The classifiers timed: the default arguments (the issue's measure), the same without the
#: validation split (10 training batches: the reference's work, batch for batch), and the
#: paper's model.
MODELS = {"default model": {}, "default model, no validation split": {"validation_fraction": 0.0},
          "paper's model": PAPER_SETTINGS}


def timed_fit(X, y, **options):
    started = time.perf_counter()
    clf = RRNClassifier(spec="golden", epochs=1, verbose=False, **options).fit(X, y)
    return time.perf_counter() - started, clf


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_mnist_argument(parser)
    parser.add_argument("--repeats", type=positive_int, default=7,
                        help="rounds of timing, each side once per round, best kept (7: this shared "
                             "host is noisy)")
    parser.add_argument("--no-epoch", action="store_true", help="skip the full-epoch timing")
    args = parser.parse_args(argv)
    import numba
    import torch
    from reference_torch import ReferenceRRN, time_training_batches  # torch: after --help
    X, y = load_mnist_or_exit(parser, args.data, kind="train")
    X64 = X.astype(np.float64)
    print(f"load average {os.getloadavg()[0]:.2f}; threads: numba {numba.get_num_threads()}, "
          f"torch {torch.get_num_threads()}; 1,280 sequences of 784 steps, golden layout")

    timed_fit(X64[:256], y[:256])  # warm-up: numba compilation and caches
    # the sides take turns, so that a slow spell of the shared host falls on both alike
    ours = {label: [] for label in MODELS}
    reference = []
    for _ in range(args.repeats):
        for label, options in MODELS.items():
            ours[label].append(timed_fit(X64[:1280], y[:1280], **options)[0])
        reference.append(time_training_batches(ReferenceRRN("golden"), n_batches=10,
                                               X=X64[:1280], y=y[:1280])["seconds_total"])
    ours = {label: min(seconds) for label, seconds in ours.items()}
    reference = min(reference)
    print(f"reference per-step PyTorch loop, 10 batches of 128: {reference:.3f} s "
          f"({reference / 10 * 1e3:.0f} ms per batch)")
    for label, seconds in ours.items():
        print(f"rrnsim RRNClassifier(epochs=1).fit, {label}: {seconds:.3f} s -> "
              f"{reference / seconds:.1f}x faster")
    if args.no_epoch:
        return
    for label in ("default model", "paper's model"):
        seconds, clf = timed_fit(X64, y, validation_fraction=5000 / 60000, **MODELS[label])
        print(f"one epoch of sequential MNIST (55,000 + 5,000 validation), {label}: "
              f"{seconds:.1f} s (validation accuracy {clf.history_[-1]['val_accuracy']:.3f})")


if __name__ == "__main__":
    main()
