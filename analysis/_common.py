"""What the analysis scripts share: argument types, the MNIST folder, the named classifier
settings, and the JSON-lines results files (each record stamped with the commit that made it)."""
import argparse
import functools
import json
import os
import subprocess
from pathlib import Path

from rrnsim import PAPER_SETTINGS
from rrnsim.data import load_mnist

HERE = Path(__file__).resolve().parent

#: Named classifier settings (keyword arguments of ``RRNClassifier`` beside the defaults): the
#: paper's model (its features and readout, the reference's learning rate for every weight, no
#: prior on the readout), rrnsim's default, the defaults before the centred resonance
#: (``resonance``) and before the resonance features (``phase``), the node frequencies and
#: damping trained (``nodes``), and the optional readout refit, fixed oscillators and products
#: features.
SETTINGS = {"default": {},
            "paper": PAPER_SETTINGS,
            "resonance": {"features": "resonance"},
            "phase": {"features": "phase"},
            "nodes": {"train_nodes": True},
            "refit": {"components": 1, "refit_alpha": 3.0},
            "fixed-refit": {"components": 1, "refit_alpha": 3.0, "train_recurrent": False},
            "products": {"windows": 4, "products": 2, "refit_alpha": 100.0}}


def int_at_least(minimum):
    """argparse type: an integer >= ``minimum``."""
    def parse(text):
        value = int(text)   # a ValueError here is argparse's "invalid int value: ..."
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text}")
        return value
    parse.__name__ = "int"
    return parse


positive_int = int_at_least(1)
#: trial counts: the spike tasks hold both classes, so at least two trials
trial_count = int_at_least(2)


def non_negative_float(text):
    """argparse type: a finite float >= 0."""
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def unique(names):
    """``names`` without repeats, in their order (a model asked twice is run once)."""
    return list(dict.fromkeys(names))


def add_mnist_argument(parser):
    parser.add_argument("--data", default=str(HERE.parents[1] / "shared/data/mnist"),
                        help="folder of the MNIST IDX files (shared/data/mnist beside the "
                             "repository: %(default)s)")


def load_mnist_or_exit(parser, directory, **options):
    """``rrnsim.data.load_mnist(directory, **options)``; a missing folder or file is a usage error."""
    try:
        return load_mnist(directory, **options)
    except FileNotFoundError as error:
        parser.error(f"{error}: pass --data DIR, the folder of the MNIST IDX files")


def results_file(parser, path):
    """The ``--results`` path, checked before any work (a folder or an unwritable place is a usage
    error then, not a crash after the first run), and the commit of the code about to run, taken
    now so that a checkout during a long run does not misattribute its records."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"cannot make the folder of --results {str(path)!r}: {error}")
    if path.is_dir() or not os.access(path if path.exists() else path.parent, os.W_OK):
        parser.error(f"cannot append to --results {str(path)!r}: not a writable file")
    _commit()
    return path


@functools.lru_cache(maxsize=None)
def _commit():
    """The repository's commit, with '+changes' when tracked files other than the results differ
    from it; None outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(HERE), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ":/",
                      ":(exclude,top)analysis/results")
        return commit + ("+changes" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def append_record(path, record):
    """Append ``record`` to the JSON-lines file ``path`` with the commit that made it, and return
    the line written; a last line left without its newline (a killed write) is ended first, not
    joined."""
    line = json.dumps({**record, "commit": _commit()})
    with open(path, "ab+") as f:
        f.seek(0, 2)
        if f.tell():
            f.seek(-1, 2)
            if f.read(1) != b"\n":
                f.write(b"\n")
        f.write(line.encode() + b"\n")
    return line


def classifier_params(clf):
    """The classifier's parameters for a record (``verbose`` left out)."""
    return {k: v for k, v in clf.get_params().items() if k != "verbose"}
