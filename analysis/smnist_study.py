"""Sequential MNIST with the golden RRN: the paper's model and rrnsim's default model.

Trains on a 55,000/5,000 split of the 60,000 training images (the epoch kept by the
one-standard-error rule on the 5,000), tests on the 10,000 test images, and appends one JSON
line per run to ``--results``. Settings default to the reference's: batch 128, weight decay
1e-2; learning rates per run below.

    python analysis/smnist_study.py --epochs 30 --runs paper default
"""
import argparse
import json
import time
from pathlib import Path


from rrnsim.classifier import PAPER_SETTINGS, RRNClassifier
from rrnsim.data import load_mnist

#: Named runs: the paper's model (its features and readout, the reference's learning rate for
#: every weight, no prior on the readout), rrnsim's default classifier, the default before the
#: resonance features (``phase``), the default with the optional products features and refit, and
#: the default with the node frequencies and damping trained (``nodes``).
RUNS = {
    "paper": PAPER_SETTINGS,
    "default": dict(),
    "phase": dict(features="phase"),
    "products": dict(windows=4, products=2, refit_alpha=100.0),
    "nodes": dict(train_nodes=True),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/mnist"),
                        help="folder of the MNIST IDX files (shared/data/mnist beside the repository: "
                             "%(default)s)")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs per run (%(default)s)")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS),
                        help="named runs to train, in this order (default: all, "
                             f"{' '.join(RUNS)})")
    parser.add_argument("--seed", type=int, default=0,
                        help="classifier seed: initial weights, split and batch order (%(default)s)")
    parser.add_argument("--results", default=str(Path(__file__).resolve().parent / "results/smnist.jsonl"),
                        help="JSON-lines file that gets one record per run appended (%(default)s)")
    parser.add_argument("--quiet", action="store_true",
                        help="no per-epoch progress bar (default: shown)")
    args = parser.parse_args(argv)
    try:
        data = load_mnist(args.data)
    except FileNotFoundError as error:
        parser.error(f"{error}: pass --data DIR, the folder of the MNIST IDX files")
    for name in args.runs:
        clf = RRNClassifier(spec="golden", epochs=args.epochs, validation_fraction=5000 / 60000,
                            seed=args.seed, verbose=not args.quiet, **RUNS[name])
        started = time.perf_counter()
        clf.fit(data.X_train, data.y_train)
        seconds = time.perf_counter() - started
        accuracy = clf.score(data.X_test, data.y_test)
        n_val = int(round(clf.validation_fraction * len(data.y_train)))
        record = {"run": name, "epochs": args.epochs, "seed": args.seed,
                  "n_train": len(data.y_train) - n_val, "n_val": n_val, "n_test": len(data.y_test),
                  "test_accuracy": accuracy, "train_seconds": round(seconds, 1),
                  "n_parameters": clf.n_parameters_, "best_epoch": clf.best_epoch_,
                  "params": {k: v for k, v in clf.get_params().items() if k != "verbose"},
                  "val_accuracy": [h["val_accuracy"] for h in clf.history_]}
        print(json.dumps(record))
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        with open(args.results, "a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
