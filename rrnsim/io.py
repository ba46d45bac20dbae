"""Files: ``.npz`` arrays plus JSON metadata, written atomically, read without pickle."""
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["save_arrays", "load_arrays", "atomic_path"]

_META_KEY = "__metadata__"


class atomic_path:
    """Context manager giving a temporary path (a ``pathlib.Path`` ending in ``suffix``, default
    ``path``'s own) beside ``path``, renamed onto it on success.

    On error, in the body or in the final rename, the temporary file is removed and ``path`` is
    left as it was.
    """

    def __init__(self, path, suffix=""):
        self.path = Path(path)
        self.suffix = suffix or self.path.suffix

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=self.suffix,
                                   dir=self.path.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would create it, not mkstemp's 0600
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                fd = os.open(self.tmp, os.O_RDONLY)   # on disk before the rename, so that a
                try:                                  # crash leaves the old file or the new one
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(self.tmp, self.path)
                return False
            except OSError as err:
                self.tmp.unlink(missing_ok=True)
                raise OSError(f"cannot write {str(self.path)!r}: {err.strerror}") from None
        self.tmp.unlink(missing_ok=True)
        return False


def save_arrays(path, arrays, metadata=None):
    """Write ``arrays`` (name -> array) and JSON-able ``metadata`` to the ``.npz`` file ``path``;
    returns the path (``pathlib.Path``)."""
    reserved = {_META_KEY, "file", "allow_pickle"} & set(arrays)  # numpy.savez's own names
    if reserved:
        raise ValueError(f"array name {reserved.pop()!r} is reserved")
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    for name, array in payload.items():
        if array.dtype.hasobject:   # numpy would pickle it, and load_arrays refuses pickles
            raise ValueError(f"array {name!r} holds Python objects ({array.dtype}); rrnsim "
                             "model files store plain numbers and strings only")
    payload[_META_KEY] = np.array(json.dumps(metadata or {}))
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **payload)
    return Path(path)


def load_arrays(path):
    """Read a file written by :func:`save_arrays`: ``(arrays, metadata)``, no pickle allowed."""
    if Path(path).is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not an .npz file")
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if not zipfile.is_zipfile(path):    # else numpy reads it as .npy and talks of pickles
        raise ValueError(f"{str(path)!r} is not an .npz file, or is truncated (rrnsim writes its "
                         "model and array files as .npz archives)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as err:  # zipfile, zlib, value errors of a corrupt or truncated file
        raise ValueError(f"cannot read {str(path)!r} as an rrnsim .npz file: {err}") from None
    if _META_KEY not in arrays:
        raise ValueError(f"{str(path)!r} has no rrnsim metadata (not written by rrnsim?)")
    try:
        metadata = json.loads(str(arrays.pop(_META_KEY)))
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} has corrupt metadata: {err}") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{str(path)!r} has corrupt metadata: a JSON "
                         f"{type(metadata).__name__}, not an object")
    return arrays, metadata
