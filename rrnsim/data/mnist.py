"""MNIST in its standard IDX files, read as sequential-MNIST arrays.

Sequential MNIST reads each 28 x 28 image row by row as one 784-step sequence of pixel values
in [0, 1] (pixel / 255). :func:`load_mnist` reads the four standard files (gzip-compressed or
raw), checks every header against the payload, and returns (samples, 784) images with int64
labels; :func:`read_idx` reads any single IDX file.
"""
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MNIST", "load_mnist", "read_idx", "MNIST_FILES", "IMAGES_MAGIC", "LABELS_MAGIC"]

#: IDX magic numbers of MNIST files: unsigned bytes (0x08) with 3 dimensions (images) or 1 (labels).
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

#: Standard file names (without ``.gz``), kind -> (images file, labels file).
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_IMAGE_SHAPE = (28, 28)
_N_CLASSES = 10
_GZIP_SIGNATURE = b"\x1f\x8b"


@dataclass(frozen=True)
class MNIST:
    """Sequential MNIST: images (samples, 784) float32 in [0, 1] and labels (samples,) int64.

    ``X_train[i]`` is the i-th training image read row by row (pixel / 255); ``y_train[i]`` its
    digit, 0-9. The standard files give 60,000 training and 10,000 test samples.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _read_bytes(path):
    """The file's bytes, decompressed when it is gzip (detected by content, not by name)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] != _GZIP_SIGNATURE:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: damaged or truncated gzip file ({exc})") from None


def read_idx(path, expected_magic=None):
    """Read one IDX file of unsigned bytes (gzip or raw) into a uint8 array.

    Steps: read the file (decompressing it if it starts with the gzip signature); check the
    magic number (data type 0x08, unsigned byte; ``expected_magic`` if given); read the
    big-endian uint32 dimensions; check that the payload holds exactly their product in bytes.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.
    expected_magic : int or None
        Required magic number, e.g. 2051 (images) or 2049 (labels).

    Returns
    -------
    numpy.ndarray
        uint8 array shaped by the file's dimensions (a read-only view of the file's bytes).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Naming the file: damaged gzip, wrong magic number, or a payload whose size does not
        match the header (truncated or with trailing bytes).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such IDX file")
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: truncated IDX file: {len(data)} bytes, shorter than the "
                         f"4-byte magic number")
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        known = {IMAGES_MAGIC: " (an MNIST images file)", LABELS_MAGIC: " (an MNIST labels file)"}
        raise ValueError(f"{path}: wrong magic number {magic}{known.get(magic, '')}, expected "
                         f"{expected_magic}{known.get(expected_magic, '')}")
    if magic >> 16 != 0 or (magic >> 8) & 0xFF != 0x08:
        raise ValueError(f"{path}: magic number {magic} (0x{magic:08x}) is not that of an IDX "
                         f"file of unsigned bytes (0x000008nn)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header: {len(data)} bytes, the {ndim} "
                         f"dimension(s) need {header}")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64))
    payload = len(data) - header
    if payload != expected:
        what = "truncated" if payload < expected else "has trailing bytes"
        raise ValueError(f"{path}: {what}: header says dimensions {dims} ({expected} bytes of "
                         f"data) but the file holds {payload}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _find(directory, name):
    """Path of ``name`` or ``name.gz`` in ``directory`` (the raw file when both exist)."""
    for candidate in (directory / name, directory / (name + ".gz")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"MNIST file {name!r} not found in {directory}: looked for {name} "
                            f"and {name}.gz")


def _load_kind(directory, kind, dtype):
    images_name, labels_name = MNIST_FILES[kind]
    images_path = _find(directory, images_name)
    labels_path = _find(directory, labels_name)
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[1:] != _IMAGE_SHAPE:
        raise ValueError(f"{images_path}: images are {images.shape[1]} x {images.shape[2]} "
                         f"pixels, MNIST's are {_IMAGE_SHAPE[0]} x {_IMAGE_SHAPE[1]}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
                         f"{labels.shape[0]} labels")
    if labels.size and labels.max() >= _N_CLASSES:
        bad = int(np.argmax(labels >= _N_CLASSES))
        raise ValueError(f"{labels_path}: label {labels[bad]} at index {bad} is not a digit 0-9")
    X = np.empty((images.shape[0], images.shape[1] * images.shape[2]), dtype=dtype)
    np.divide(images.reshape(X.shape), 255.0, out=X, casting="unsafe")
    return X, labels.astype(np.int64)


def load_mnist(directory, kind=None, dtype=np.float32):
    """Load MNIST from its IDX files as sequential-MNIST arrays.

    Steps: find each standard file in ``directory`` (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
    raw or with ``.gz``; compression is detected from the content); check magic numbers (2051
    images, 2049 labels), that the payload size matches the header, that images are 28 x 28,
    that image and label counts agree and that labels are digits 0-9; flatten each image row by
    row and scale pixels to [0, 1] (pixel / 255).

    Parameters
    ----------
    directory : str or os.PathLike
        Folder holding the files.
    kind : {None, "train", "test"}
        ``None`` loads both sets; ``"train"`` or ``"test"`` loads only that one.
    dtype : numpy dtype
        Floating type of the images. float32 by default, to save memory (60,000 x 784 float32
        is 188 MB; float64 doubles that); pixel / 255 is then rounded to float32.

    Returns
    -------
    MNIST or tuple of numpy.ndarray
        For ``kind=None`` an :class:`MNIST` with ``X_train`` (60000, 784), ``y_train`` (60000,),
        ``X_test`` (10000, 784), ``y_test`` (10000,) for the standard files; for ``"train"`` or
        ``"test"`` the pair ``(X, y)``. Images are ``dtype`` in [0, 1], labels int64.

    Raises
    ------
    FileNotFoundError
        The directory or a file is missing (naming it).
    ValueError
        A file is damaged, truncated, of the wrong kind, or inconsistent with its partner
        (naming the file and what is wrong); or ``kind`` is not one of the above.
    """
    if kind is not None and kind not in MNIST_FILES:
        raise ValueError(f"kind must be None, 'train' or 'test', got {kind!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating type, got {dtype}")
    directory = Path(os.fspath(directory))
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST directory {directory} does not exist")
    if kind is not None:
        return _load_kind(directory, kind, dtype)
    X_train, y_train = _load_kind(directory, "train", dtype)
    X_test, y_test = _load_kind(directory, "test", dtype)
    return MNIST(X_train, y_train, X_test, y_test)
