import numpy as np
import pytest

import rrnsim


@pytest.fixture
def golden():
    """The paper's golden network (11 nodes), uncoupled weights."""
    return rrnsim.RRN.from_spec("golden")


def random_w_res(K, scale, seed):
    """Random recurrent weights with a zero diagonal (normal, std ``scale``)."""
    return np.random.default_rng(seed).normal(0.0, scale, (K, K)) * (1 - np.eye(K))
