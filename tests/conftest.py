import re

import numpy as np
import pytest

import rrnsim

#: Brian2 engine states must lie within this fraction of the RMS of the discrete states.
BOUND = 1e-4


@pytest.fixture
def golden():
    """The paper's golden network (11 nodes), uncoupled weights."""
    return rrnsim.RRN.from_spec("golden")


def random_w_res(K, scale, seed):
    """Random recurrent weights with a zero diagonal (normal, std ``scale``)."""
    return np.random.default_rng(seed).normal(0.0, scale, (K, K)) * (1 - np.eye(K))


def relative_error(brian_states, discrete_states):
    """Largest absolute difference between two engines' states, as a fraction of the RMS of the
    (exact) discrete states."""
    return np.abs(brian_states - discrete_states).max() / np.sqrt(np.mean(discrete_states ** 2))


def whole(message):
    """A ``pytest.raises(match=...)`` pattern that matches ``message`` exactly and whole, so a
    message that loses its value (or grows one: "got 0" in "got 100.0") fails."""
    return f"^{re.escape(message)}$"
