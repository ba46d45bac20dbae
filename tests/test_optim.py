"""Training helpers (rrnsim.optim) against the values torch 2.13 gives."""
import numpy as np
import pytest

from rrnsim.optim import AdamW, one_cycle_lr

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


def test_adamw_lr_scale_is_a_parameter_group_with_its_own_learning_rate():
    rng = np.random.default_rng(0)
    start = {"a": rng.normal(size=3), "b": rng.normal(size=(2, 2))}
    grouped = {k: v.copy() for k, v in start.items()}
    alone = {k: v.copy() for k, v in start.items()}
    both = AdamW(grouped, decay=["a", "b"], lr_scale={"b": 0.1})
    only_a, only_b = AdamW({"a": alone["a"]}, decay=["a"]), AdamW({"b": alone["b"]}, decay=["b"])
    for _ in range(5):
        grads = {k: rng.normal(size=v.shape) for k, v in start.items()}
        both.step(grouped, {k: g.copy() for k, g in grads.items()}, 0.01, 0.1)
        only_a.step(alone, {"a": grads["a"]}, 0.01, 0.1)
        only_b.step(alone, {"b": grads["b"]}, 0.001, 0.1)
    for k in start:
        np.testing.assert_allclose(grouped[k], alone[k], rtol=1e-14)
    assert not np.allclose(grouped["b"], start["b"])


@pytest.mark.parametrize("options", [{"decay": ["a", "w_res"]}, {"lr_scale": {"w_res": 0.1}}])
def test_adamw_refuses_names_it_does_not_train(options):
    with pytest.raises(ValueError, match=r"\['w_res'\]"):
        AdamW({"a": np.zeros(2)}, **options)
