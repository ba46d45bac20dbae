"""Tests of rrnsim.io: atomic writes and pickle-free .npz model files."""
import os

import numpy as np
import pytest

from rrnsim import io


def test_atomic_path_leaves_the_old_file_and_no_temporary_on_error(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old contents")
    with pytest.raises(RuntimeError, match="^midway$"):
        with io.atomic_path(path) as tmp:
            assert tmp.parent == tmp_path and tmp != path
            tmp.write_bytes(b"half-written")
            raise RuntimeError("midway")
    assert path.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_save_arrays_round_trip_and_file_mode_of_a_plain_open(tmp_path):
    path = tmp_path / "a.npz"
    arrays = {"w": np.arange(6.0).reshape(2, 3), "names": np.array(["x", "y"])}
    assert io.save_arrays(path, arrays, {"format": "test", "n": 2}) == path
    loaded, metadata = io.load_arrays(path)
    assert metadata == {"format": "test", "n": 2}
    assert sorted(loaded) == ["names", "w"]
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)
    plain = tmp_path / "plain"
    with open(plain, "wb"):
        pass
    assert os.stat(path).st_mode == os.stat(plain).st_mode  # umask-based, not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "plain"]


def test_load_arrays_refuses_pickled_objects(tmp_path):
    """A file holding a pickled object array (not written by save_arrays) is not unpickled."""
    path = tmp_path / "evil.npz"
    np.savez(path, __metadata__=np.array("{}"), payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="^cannot read .*evil.npz.* as an rrnsim .npz file: "):
        io.load_arrays(path)
