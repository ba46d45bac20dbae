"""Tests of rrnsim.data: the MNIST IDX loader and the spike-train task."""
import gzip
import re

import numpy as np
import pytest
import quantities as pq

from conftest import whole
from rrnsim.data import load_mnist, spike_task
from rrnsim.data.mnist import MNIST, read_idx
from rrnsim.data.tasks import SpikeTask, spike_task_rate


# ---------------------------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------------------------

NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def idx_bytes(array, magic):
    """Encode a uint8 array as an IDX file: magic, big-endian uint32 dimensions, data."""
    array = np.asarray(array, dtype=np.uint8)
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write(path, data, compress):
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def make_set(rng, n):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the scale
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def write_mnist(directory, compress=True, n_train=5, n_test=3, seed=0):
    rng = np.random.default_rng(seed)
    sets = {"train": make_set(rng, n_train), "test": make_set(rng, n_test)}
    for kind, (images, labels) in sets.items():
        write(directory / NAMES[kind][0], idx_bytes(images, 2051), compress)
        write(directory / NAMES[kind][1], idx_bytes(labels, 2049), compress)
    return sets


def check_set(X, y, images, labels):
    assert X.shape == (images.shape[0], 784) and X.dtype == np.float32
    assert y.shape == (images.shape[0],) and y.dtype == np.int64
    np.testing.assert_array_equal(X, (images.reshape(-1, 784) / 255.0).astype(np.float32))
    np.testing.assert_array_equal(y, labels)
    assert X.min() == 0.0 and X.max() == 1.0


@pytest.mark.parametrize("compress", [True, False])
def test_load_mnist_roundtrip(tmp_path, compress):
    sets = write_mnist(tmp_path, compress=compress)
    data = load_mnist(tmp_path)
    assert isinstance(data, MNIST)
    check_set(data.X_train, data.y_train, *sets["train"])
    check_set(data.X_test, data.y_test, *sets["test"])
    # row-by-row order: pixel (row 1, column 0) is step 28
    assert data.X_train[2, 28] == np.float32(sets["train"][0][2, 1, 0] / 255.0)


def test_load_mnist_kind_and_dtype(tmp_path):
    sets = write_mnist(tmp_path)
    X, y = load_mnist(str(tmp_path), kind="test")
    check_set(X, y, *sets["test"])
    X64, _ = load_mnist(tmp_path, kind="train", dtype=np.float64)
    assert X64.dtype == np.float64
    np.testing.assert_array_equal(X64, sets["train"][0].reshape(-1, 784) / 255.0)


def test_load_mnist_only_reads_requested_kind(tmp_path):
    sets = write_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    X, y = load_mnist(tmp_path, kind="test")
    check_set(X, y, *sets["test"])
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_load_mnist_mixed_compression(tmp_path):
    sets = write_mnist(tmp_path, compress=True)
    images, labels = sets["train"]
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels, 2049), compress=False)
    X, y = load_mnist(tmp_path, kind="train")
    check_set(X, y, images, labels)


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, kind="test")


def test_bad_kind_and_dtype(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(ValueError, match=whole("kind must be None, 'train' or 'test', got "
                                               "'validation'")):
        load_mnist(tmp_path, kind="validation")
    with pytest.raises(ValueError, match=whole("dtype must be a floating type, got uint8")):
        load_mnist(tmp_path, dtype=np.uint8)


@pytest.mark.parametrize("compress", [True, False])
def test_truncated_payload(tmp_path, compress):
    sets = write_mnist(tmp_path, compress=compress)
    images = sets["train"][0]
    path = write(tmp_path / NAMES["train"][0], idx_bytes(images, 2051)[:-100], compress)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*truncated"):
        load_mnist(tmp_path)
    assert path.exists()


def test_truncated_gzip_stream(tmp_path):
    sets = write_mnist(tmp_path, compress=True)
    path = tmp_path / (NAMES["train"][1] + ".gz")
    path.write_bytes(gzip.compress(idx_bytes(sets["train"][1], 2049))[:-6])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz.*(gzip|truncated)"):
        load_mnist(tmp_path, kind="train")


def test_truncated_header(tmp_path):
    write_mnist(tmp_path, compress=False)
    (tmp_path / NAMES["test"][0]).write_bytes((2051).to_bytes(4, "big") + b"\x00\x00")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*truncated"):
        load_mnist(tmp_path, kind="test")
    (tmp_path / NAMES["test"][0]).write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*truncated"):
        load_mnist(tmp_path, kind="test")


def test_trailing_bytes(tmp_path):
    sets = write_mnist(tmp_path, compress=False)
    write(tmp_path / NAMES["test"][1], idx_bytes(sets["test"][1], 2049) + b"\x01", False)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.*trailing"):
        load_mnist(tmp_path, kind="test")


def test_wrong_magic(tmp_path):
    sets = write_mnist(tmp_path)
    # the labels file written with the images magic number
    write(tmp_path / NAMES["train"][1], idx_bytes(sets["train"][1], 2051), True)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.*magic number 2051.*2049"):
        load_mnist(tmp_path)
    # images and labels swapped
    write_mnist(tmp_path)
    a, b = tmp_path / (NAMES["test"][0] + ".gz"), tmp_path / (NAMES["test"][1] + ".gz")
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*magic.*labels file"):
        load_mnist(tmp_path, kind="test")


def test_not_unsigned_bytes(tmp_path):
    path = tmp_path / "x-idx1"
    path.write_bytes(bytes([0, 0, 0x0D, 1]) + (2).to_bytes(4, "big") + bytes(8))  # float32 type
    with pytest.raises(ValueError, match="x-idx1.*unsigned bytes"):
        read_idx(path)


def test_count_mismatch(tmp_path):
    sets = write_mnist(tmp_path)
    write(tmp_path / NAMES["train"][1], idx_bytes(sets["train"][1][:4], 2049), True)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.* 5 images.*"
                                         r"train-labels-idx1-ubyte.* 4 labels"):
        load_mnist(tmp_path)


def test_wrong_image_size(tmp_path):
    write_mnist(tmp_path)
    small = np.zeros((3, 27, 28), dtype=np.uint8)
    write(tmp_path / NAMES["test"][0], idx_bytes(small, 2051), True)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*27 x 28"):
        load_mnist(tmp_path, kind="test")


def test_label_out_of_range(tmp_path):
    sets = write_mnist(tmp_path)
    labels = sets["test"][1].copy()
    labels[1] = 10
    write(tmp_path / NAMES["test"][1], idx_bytes(labels, 2049), True)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.*label 10 at index 1"):
        load_mnist(tmp_path, kind="test")


def test_read_idx_shape(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write(tmp_path / "a-idx3", idx_bytes(array, 2051), True)
    np.testing.assert_array_equal(read_idx(path, 2051), array)


# ---------------------------------------------------------------------------------------------
# Spike-train task
# ---------------------------------------------------------------------------------------------

def test_spike_task_shape_and_balance():
    task = spike_task(200, seed=1)
    assert isinstance(task, SpikeTask)
    assert task.X.shape == (200, 100) and task.X.dtype == np.float64
    assert set(np.unique(task.X)) <= {0.0, 1.0}
    assert task.y.shape == (200,) and task.y.dtype == np.int64
    assert np.bincount(task.y).tolist() == [100, 100]
    assert 0 < task.y[:100].sum() < 100  # shuffled, not blocked
    assert np.isnan(task.frequencies_hz[task.y == 0]).all()
    f1 = task.frequencies_hz[task.y == 1]
    assert ((f1 >= 10) & (f1 <= 50)).all() and np.unique(f1).size == f1.size
    assert task.rates_hz.shape == (200, 100)
    np.testing.assert_allclose(task.t, np.arange(100) * 1e-3)
    assert task.fs == 1000.0


def test_spike_task_odd_and_dtype():
    task = spike_task(7, seed=0, dtype=np.uint8)
    assert task.X.dtype == np.uint8
    assert np.bincount(task.y).tolist() == [3, 4]
    task = spike_task(10, seed=0, duration=0.25, fs=2000.0)
    assert task.X.shape == (10, 500)


def test_spike_task_reproducible():
    a, b = spike_task(50, seed=7), spike_task(50, seed=7)
    for name in ("X", "y", "frequencies_hz", "rates_hz"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = spike_task(50, seed=np.random.default_rng(7))  # a Generator with the same seed
    np.testing.assert_array_equal(a.X, c.X)
    d = spike_task(50, seed=8)
    assert not np.array_equal(a.X, d.X)
    assert not np.array_equal(a.y, d.y)
    # a shared Generator advances: consecutive calls differ
    rng = np.random.default_rng(3)
    assert not np.array_equal(spike_task(50, seed=rng).X, spike_task(50, seed=rng).X)


def test_spike_task_rates_definition():
    task = spike_task(20, seed=2)
    t = np.arange(100) / 1000.0
    for i in range(20):
        f = task.frequencies_hz[i]
        expected = 100.0 * np.ones(100) if task.y[i] == 0 else 100 * (1 + np.sin(2 * np.pi * f * t))
        np.testing.assert_allclose(task.rates_hz[i], expected, rtol=0, atol=1e-12)
    assert spike_task_rate(t, np.nan).tolist() == [100.0] * 100
    np.testing.assert_allclose(spike_task_rate([0.0, 0.0125], 20.0, rate=50.0), [50.0, 100.0])
    np.testing.assert_allclose(spike_task_rate([0.0, 12.5] * pq.ms, 0.02 * pq.kHz, rate=50 * pq.Hz),
                               [50.0, 100.0])   # quantities in their units, not read as s and Hz


def test_spike_task_mean_rate():
    task = spike_task(4000, seed=11)
    dt = 1e-3
    # constant trials: 2000 x 100 Bernoulli(0.1) bins
    X0 = task.X[task.y == 0]
    n = X0.size
    rate0 = X0.mean() / dt
    sd = np.sqrt(0.1 * 0.9 / n) / dt
    assert abs(rate0 - 100.0) < 5 * sd  # sd ~ 0.67 Hz
    # modulated trials: total count against the rate implied by the drawn frequencies
    mask = task.y == 1
    t = np.arange(100) * dt
    p = 0.1 * (1 + np.sin(2 * np.pi * task.frequencies_hz[mask, None] * t))
    count = task.X[mask].sum()
    assert abs(count - p.sum()) < 5 * np.sqrt((p * (1 - p)).sum())
    # and per trial, the rate of a constant train is 100 Hz on average
    np.testing.assert_allclose(X0.sum(axis=1).mean(), 10.0, atol=5 * np.sqrt(0.9 * 10 / 2000))


def test_spike_task_psth_fixed_frequency():
    f = 20.0
    task = spike_task(6000, seed=5, f_range=(f, f))
    assert (task.frequencies_hz[task.y == 1] == f).all()
    X1 = task.X[task.y == 1]
    psth = X1.mean(axis=0)  # spike probability per bin
    t = np.arange(100) * 1e-3
    p = 0.1 * (1 + np.sin(2 * np.pi * f * t))
    sd = np.sqrt(p * (1 - p) / X1.shape[0])
    z = (psth - p) / np.maximum(sd, 1e-3)
    assert np.abs(z).max() < 5
    assert np.corrcoef(psth, p)[0, 1] > 0.97
    # phase zero at the trial start: rising at t = 0, peak at 12.5 ms, trough at 37.5 ms
    assert psth[10:16].mean() > 0.17 and psth[35:41].mean() < 0.03


def test_spike_task_psth_over_frequency_prior():
    task = spike_task(8000, seed=9)
    psth = task.X[task.y == 1].mean(axis=0) / 1e-3  # Hz
    t = np.arange(100) * 1e-3
    a, b = 10.0, 50.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_sin = (np.cos(2 * np.pi * a * t) - np.cos(2 * np.pi * b * t)) / (2 * np.pi * t * (b - a))
    mean_sin[0] = 0.0
    expected = 100 * (1 + mean_sin)
    assert np.corrcoef(psth, expected)[0, 1] > 0.9
    sd = np.sqrt(0.2 * 0.8 / 4000) / 1e-3  # a bound on the per-bin standard error (Hz)
    assert np.abs(psth - expected).max() < 5 * sd


NYQUIST = "is not below the Nyquist frequency fs/2 = 500.0 Hz"


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_trials=1), "n_trials must be at least 2 (one trial of each class), got 1"),
    (dict(n_trials=-4), "n_trials must be at least 2 (one trial of each class), got -4"),
    (dict(rate=-5.0), "rate must be a finite non-negative number, got -5.0 Hz"),
    (dict(rate=float("nan")), "rate must be finite, got nan"),
    (dict(rate=600.0), "rate=600.0 Hz is too high for fs=1000.0 Hz: the modulated peak "
                       "2*rate/fs = 1.2 is above 1 spike per bin"),
    (dict(fs=0.0), "fs must be a finite positive number, got 0.0 Hz"),
    (dict(duration=-0.1), "duration must be a finite positive number, got -0.1 s"),
    (dict(duration=0.1005), "duration * fs must be a whole number of samples (at least 1); got "
                            "duration=0.1005 s, fs=1000.0 Hz, i.e. 100.5 samples"),
    (dict(f_range=(10.0, 600.0)), f"f_range: frequency 600.0 Hz {NYQUIST}"),
    (dict(f_range=(10.0, 500.0)), f"f_range: frequency 500.0 Hz {NYQUIST}"),
    (dict(f_range=(50.0, 10.0)), "f_range must be (low, high) with low <= high, got (50.0, 10.0)"),
    (dict(f_range=(-1.0, 10.0)), "f_range: frequency -1.0 Hz must be positive"),
])
def test_spike_task_bad_arguments(kwargs, message):
    kwargs = {"n_trials": 10, **kwargs}
    with pytest.raises(ValueError, match=whole(message)):
        spike_task(**kwargs)


def test_spike_task_reads_quantities_in_their_units():
    plain = spike_task(6, seed=3)
    task = spike_task(6, seed=3, duration=100 * pq.ms, fs=1 * pq.kHz, rate=0.1 * pq.kHz)
    np.testing.assert_array_equal(task.X, plain.X)
    with pytest.raises(ValueError, match=whole("duration must be in units of s (or convertible), "
                                               "got 100.0 Hz")):
        spike_task(6, duration=100 * pq.Hz)


def bad_seed(value):
    """The whole message for a refused seed: rrnsim's words, then numpy's own reason in
    parentheses (numpy's wording, not checked here)."""
    return (r"^" + re.escape(f"seed must be None, a non-negative int or a numpy Generator, got "
                             f"{value}") + r" \(.+\)$")


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_trials=10.5), whole("n_trials must be an integer, got 10.5")),
    (dict(seed="abc"), bad_seed("'abc'")),
    (dict(f_range=30.0), whole("f_range must be two numbers (low, high) in Hz, got 30.0")),
])
def test_spike_task_bad_types(kwargs, match):
    kwargs = {"n_trials": 10, **kwargs}
    with pytest.raises(TypeError, match=match):
        spike_task(**kwargs)


def test_spike_task_negative_seed():
    with pytest.raises(ValueError, match=bad_seed("-1")):
        spike_task(10, seed=-1)


def test_every_public_name_of_rrnsim_data_resolves():
    """The names from modules that import Brian2 load on first use; each one in ``__all__``
    must be reachable as ``rrnsim.data.<name>``."""
    import rrnsim.data
    for name in rrnsim.data.__all__:
        assert callable(getattr(rrnsim.data, name)), name
