"""Sequential MNIST with the golden RRN: the paper's model and rrnsim's default model.

Trains on a 55,000/5,000 split of the 60,000 training images (the epoch kept by the
one-standard-error rule on the 5,000), tests on the 10,000 test images, and appends one JSON
line per run to ``--results``. Settings default to the reference's: batch 128, weight decay
1e-2; the named settings are those of ``_common.SETTINGS``.

    python analysis/smnist_study.py --epochs 30 --runs paper default
"""
import argparse
import time

from _common import (HERE, SETTINGS, add_mnist_argument, append_record, classifier_params,
                     int_at_least, load_mnist_or_exit, positive_int, results_file, unique)
from rrnsim.classifier import RRNClassifier

#: The runs by default, in order (named settings of ``_common.SETTINGS``).
RUNS = ["paper", "default", "phase", "products", "nodes"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_mnist_argument(parser)
    parser.add_argument("--epochs", type=positive_int, default=30,
                        help="training epochs per run (%(default)s)")
    parser.add_argument("--runs", nargs="+", default=RUNS, choices=list(SETTINGS),
                        help=f"named settings to train, in this order (default: {' '.join(RUNS)})")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="classifier seed: initial weights, split and batch order (%(default)s)")
    parser.add_argument("--results", default=str(HERE / "results/smnist.jsonl"),
                        help="JSON-lines file that gets one record per run appended (%(default)s)")
    parser.add_argument("--quiet", action="store_true",
                        help="no per-epoch progress bar (default: shown)")
    args = parser.parse_args(argv)
    results = results_file(parser, args.results)
    data = load_mnist_or_exit(parser, args.data)
    for name in unique(args.runs):
        clf = RRNClassifier(spec="golden", epochs=args.epochs, validation_fraction=5000 / 60000,
                            seed=args.seed, verbose=not args.quiet, **SETTINGS[name])
        started = time.perf_counter()
        clf.fit(data.X_train, data.y_train)
        seconds = time.perf_counter() - started
        accuracy = clf.score(data.X_test, data.y_test)
        n_val = int(round(clf.validation_fraction * len(data.y_train)))  # the classifier's split
        record = {"run": name, "epochs": args.epochs, "seed": args.seed,
                  "n_train": len(data.y_train) - n_val, "n_val": n_val, "n_test": len(data.y_test),
                  "test_accuracy": accuracy, "train_seconds": round(seconds, 1),
                  "n_parameters": clf.n_parameters_, "best_epoch": clf.best_epoch_,
                  "params": classifier_params(clf),
                  "val_accuracy": [h["val_accuracy"] for h in clf.history_]}
        print(append_record(results, record), flush=True)


if __name__ == "__main__":
    main()
