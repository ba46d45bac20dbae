"""Spike-train tasks, 5 seeds: an RRN (golden unless --spec) beside the Bayes-optimal observer.

- ``paper``: the paper's task (constant vs rhythm-modulated 100 Hz trains of 100 ms), 1,000
  training trains from ``rrnsim.data.spike_task``, a fresh test set per seed;
- ``bands``: one class per rhythm band (delta..gamma), 1 s trains at 30 Hz mean rate, generated
  with Brian2 (``rrnsim.data.bands_task``), 1,000 training trials per seed.

For each seed: train ``RRNClassifier(spec=SPEC, **model)`` (``--spec``, default golden) and
score it and the ``IdealObserver`` on the same test trials, sampled at the spec's rate. Appends JSON lines to ``--results``
and prints a table.

    python analysis/spike_study.py --tasks paper bands --models default paper --seeds 5
    python analysis/spike_study.py --spec analysis/modulation_band.toml   # 11 nodes in 10-50 Hz
"""
import argparse
import time

import numpy as np
from tqdm.auto import tqdm

from _common import (HERE, SETTINGS, append_record, classifier_params, positive_int, results_file,
                     trial_count, unique)
from rrnsim import IdealObserver, RRNClassifier
from rrnsim.data import bands_task, bin_block, spike_task
from rrnsim.specs import load_spec


def task_data(task, n_trials, seed, fs=1000.0):
    """Trials (X, y) of a task, sampled at the network's rate ``fs`` (Hz)."""
    if task == "paper":
        data = spike_task(n_trials, seed=seed, fs=fs)
        return data.X, data.y
    return bin_block(bands_task(n_trials, seed=seed, fs=fs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=["paper"], choices=["paper", "bands"],
                        help="spike tasks: paper (constant vs rhythm-modulated trains), bands (one class "
                             "per rhythm band) (paper)")
    parser.add_argument("--models", nargs="+", default=["default"], choices=list(SETTINGS),
                        help="classifier settings to train on each task (default)")
    parser.add_argument("--spec", default="golden",
                        help="network spec name or TOML path (%(default)s)")
    parser.add_argument("--seeds", type=positive_int, default=5,
                        help="number of seeds s = 0..N-1: training data seed 1000+s, test 2000+s, "
                             "classifier seed s (%(default)s)")
    parser.add_argument("--train", type=trial_count, default=1000, help="training trials (1000)")
    parser.add_argument("--test", type=trial_count, default=10000,
                        help="test trials per seed (10000)")
    parser.add_argument("--results", default=str(HERE / "results/spike_tasks.jsonl"),
                        help="JSON-lines file that gets one record per task, model and seed appended "
                             "(%(default)s)")
    args = parser.parse_args(argv)
    try:
        spec = load_spec(args.spec)  # a bad spec fails here, before any data are made
    except (OSError, ValueError) as error:
        parser.error(str(error))
    results = results_file(parser, args.results)
    tasks, models = unique(args.tasks), unique(args.models)
    table = {}
    bar = tqdm(total=len(tasks) * args.seeds * len(models), desc="fits", unit="fit")
    for task in tasks:
        observer = IdealObserver(task, fs=spec.fs_hz)
        for seed in range(args.seeds):
            X_train, y_train = task_data(task, args.train, 1000 + seed, spec.fs_hz)
            X_test, y_test = task_data(task, args.test, 2000 + seed, spec.fs_hz)
            ideal = observer.score(X_test, y_test)
            table.setdefault((task, "ideal observer"), []).append(ideal)
            for model in models:
                if seed == 0:  # compile the kernels first, so that train_seconds is training
                    RRNClassifier(spec=args.spec, epochs=1, verbose=False,
                                  **SETTINGS[model]).fit(X_train[:64], y_train[:64])
                started = time.perf_counter()
                clf = RRNClassifier(spec=args.spec, seed=seed, verbose=False, **SETTINGS[model])
                clf.fit(X_train, y_train)
                record = {"task": task, "model": model, "seed": seed, "n_train": len(y_train),
                          "test_accuracy": clf.score(X_test, y_test), "ideal_accuracy": ideal,
                          "n_test": len(y_test), "n_parameters": clf.n_parameters_,
                          "train_seconds": round(time.perf_counter() - started, 2),
                          "params": classifier_params(clf),
                          "frequencies_hz": spec.layout.frequencies_hz.round(4).tolist(),
                          "fs_hz": spec.fs_hz}
                table.setdefault((task, model), []).append(record["test_accuracy"])
                bar.write(append_record(results, record))   # above the bar
                bar.update()
    bar.close()
    print(f"\n{'task':<7} {'model':<16} {'mean':>6} {'sd':>6}  per seed")
    for (task, model), values in table.items():
        print(f"{task:<7} {model:<16} {np.mean(values):6.3f} {np.std(values):6.3f}  "
              + " ".join(f"{v:.3f}" for v in values))


if __name__ == "__main__":
    main()
