"""Training helpers (rrnsim.optim, rrnsim.readout's loss and normalisation) against torch 2.13's
values and against their formulas written out here."""
import math

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from rrnsim.optim import AdamW, clip_grad_norm, one_cycle_lr
from rrnsim.readout import BatchNorm, cross_entropy

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


def test_adamw_follows_its_formulas_step_by_step():
    """Three steps on a tiny vector against AdamW written out scalar by scalar: decoupled decay
    (p -= lr*wd*p, not wd*p added to the gradient), then Adam's bias-corrected update."""
    lr, wd, (b1, b2), eps = 0.1, 0.5, (0.9, 0.999), 1e-8
    start = [0.5, -1.0, 2.0]
    grads = [[0.3, -0.2, 0.01], [0.1, 0.4, -0.05], [-0.2, 0.1, 0.02]]
    params = {"w": np.array(start), "b": np.array(start)}    # "b": no weight decay
    optimiser = AdamW(params, decay=["w"])
    for g in grads:
        optimiser.step(params, {"w": np.array(g), "b": np.array(g)}, lr, wd)

    def by_hand(decay):
        result = []
        for i, p in enumerate(start):
            m = v = 0.0
            for t, g in enumerate(grads, start=1):
                p = p - lr * decay * p
                m = b1 * m + (1 - b1) * g[i]
                v = b2 * v + (1 - b2) * g[i] ** 2
                p = p - lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
            result.append(p)
        return result
    np.testing.assert_allclose(params["w"], by_hand(wd), rtol=1e-13)
    np.testing.assert_allclose(params["b"], by_hand(0.0), rtol=1e-13)
    # the first step moves each parameter by lr (times its decay) whatever its gradient's size:
    # the bias-corrected ratio m_hat/sqrt(v_hat) is sign(g) at t = 1
    one = {"w": np.array(start)}
    AdamW(one).step(one, {"w": np.array(grads[0])}, lr, wd)
    np.testing.assert_allclose(one["w"], np.array(start) - lr * np.sign(grads[0]), rtol=1e-6)


def test_clip_grad_norm_scales_all_gradients_together_and_returns_the_norm_before():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0], [4.0]])}    # joint norm 5
    assert clip_grad_norm(grads, 1.0) == 5.0
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], rtol=1e-11)
    np.testing.assert_allclose(grads["b"], [[0.0], [0.8]], rtol=1e-11)
    assert clip_grad_norm(grads, 1.0) == pytest.approx(1.0, rel=1e-11)
    small = {"a": np.array([0.3, -0.4])}
    assert clip_grad_norm(small, 1.0) == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_array_equal(small["a"], [0.3, -0.4])     # within the bound: untouched
    with pytest.raises(FloatingPointError, match="non-finite gradients in b: check the inputs"):
        clip_grad_norm({"a": np.ones(2), "b": np.array([1.0, np.inf])}, 1.0)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_cross_entropy_with_label_smoothing_is_its_formula(smoothing):
    """The target puts 1 - s on the label plus s spread evenly over all C classes (as torch's
    label_smoothing); the loss is the batch mean of -sum(target * log softmax); its gradient
    is (softmax - target) / n, also checked against finite differences."""
    rng = np.random.default_rng(0)
    logits, y = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    loss, grad = cross_entropy(logits, y, label_smoothing=smoothing)
    target = np.full((5, 4), smoothing / 4)
    target[np.arange(5), y] = 1 - smoothing + smoothing / 4
    log_p = log_softmax(logits, axis=1)
    assert loss == pytest.approx(-(target * log_p).sum(axis=1).mean(), rel=1e-13)
    expected_loss = np.mean([-(1 - smoothing) * log_p[i, y[i]] - smoothing * log_p[i].mean()
                             for i in range(5)])
    assert loss == pytest.approx(expected_loss, rel=1e-13)
    np.testing.assert_allclose(grad, (softmax(logits, axis=1) - target) / 5, rtol=1e-12,
                               atol=1e-15)
    step = 1e-6
    for i, c in ((0, 0), (1, 3), (4, 1)):
        shifted = logits.copy()
        shifted[i, c] += step
        up = cross_entropy(shifted, y, smoothing)[0]
        shifted[i, c] -= 2 * step
        down = cross_entropy(shifted, y, smoothing)[0]
        assert grad[i, c] == pytest.approx((up - down) / (2 * step), rel=1e-6, abs=1e-10)


def test_batch_norm_keeps_the_unbiased_running_variance():
    """Training normalises by the batch's own (biased) variance; the running variance, used for
    prediction, averages the unbiased n/(n-1) estimate (torch.nn.BatchNorm1d), the first batch
    setting it outright and later ones at momentum 0.1."""
    rng = np.random.default_rng(1)
    first, second = rng.normal(2.0, 3.0, (5, 3)), rng.normal(-1.0, 0.5, (4, 3))
    _, state = BatchNorm.init(3)
    params = {"scale": np.array([1.0, 2.0, 0.5]), "shift": np.array([0.0, 1.0, -1.0])}
    norm = BatchNorm()
    out, _ = norm.forward(first, params, state, training=True)
    np.testing.assert_allclose(state["running_mean"], first.mean(0), rtol=1e-13)
    np.testing.assert_allclose(state["running_var"], first.var(0, ddof=1), rtol=1e-13)
    np.testing.assert_allclose(
        out, params["scale"] * (first - first.mean(0)) / np.sqrt(first.var(0) + 1e-5)
        + params["shift"], rtol=1e-12)
    norm.forward(second, params, state, training=True)
    np.testing.assert_allclose(state["running_mean"],
                               0.9 * first.mean(0) + 0.1 * second.mean(0), rtol=1e-13)
    running_var = 0.9 * first.var(0, ddof=1) + 0.1 * second.var(0, ddof=1)
    np.testing.assert_allclose(state["running_var"], running_var, rtol=1e-13)
    test = rng.normal(size=(2, 3))
    predicted, _ = norm.forward(test, params, state, training=False)
    np.testing.assert_allclose(predicted, params["scale"] * (test - state["running_mean"])
                               / np.sqrt(running_var + 1e-5) + params["shift"], rtol=1e-12)
