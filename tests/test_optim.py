"""Training helpers (rrnsim.optim) against the values torch 2.13 gives."""
import numpy as np
import pytest

from rrnsim.optim import one_cycle_lr

# torch.optim.lr_scheduler.OneCycleLR(SGD(lr=1), max_lr=1.0, total_steps=N): the learning rate
# at each step, rounded to 5 digits (printed by torch 2.13.0).
TORCH_ONE_CYCLE = {
    1: [0.0],
    2: [0.81175, 0.0],
    3: [0.99442, 0.46264, 0.0],
    5: [0.04, 0.95048, 0.61126, 0.18826, 0.0],
    10: [0.04, 0.52, 1.0, 0.95048, 0.81175, 0.61126, 0.38874, 0.18826, 0.04952, 0.0],
}


@pytest.mark.parametrize("total", sorted(TORCH_ONE_CYCLE))
def test_one_cycle_matches_torch_also_for_short_schedules(total):
    ours = [one_cycle_lr(step, total, 1.0) for step in range(total)]
    np.testing.assert_allclose(ours, TORCH_ONE_CYCLE[total], atol=6e-6)
