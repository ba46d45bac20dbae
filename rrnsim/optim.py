"""Gradient training helpers: AdamW, the one-cycle learning-rate schedule, gradient clipping."""
import numpy as np

__all__ = ["AdamW", "one_cycle_lr", "clip_grad_norm"]


def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0,
                 final_div_factor=1e4):
    """Learning rate at ``step`` of ``total_steps``, as ``torch`` OneCycleLR (cosine, its
    defaults): from max_lr/div_factor up to max_lr until step ``pct_start*total_steps - 1``,
    then down to max_lr/(div_factor*final_div_factor) at the last step. In a schedule of fewer
    than ``2/pct_start`` steps the rise ends before step 1 and the later steps fall partway
    down the second phase, as torch's do."""
    initial = max_lr / div_factor
    final = initial / final_div_factor
    rise_end = pct_start * total_steps - 1
    if step <= rise_end:
        start, end, frac = initial, max_lr, step / rise_end if rise_end > 0 else 1.0
    else:
        start, end = max_lr, final
        frac = (step - rise_end) / max(total_steps - 1 - rise_end, 1e-12)
    return end + (start - end) * (1 + np.cos(np.pi * min(frac, 1.0))) / 2


def clip_grad_norm(grads, max_norm):
    """Scale all gradients (dict of arrays, in place) so their joint L2 norm is at most
    ``max_norm``; returns the norm before clipping."""
    norm = float(np.sqrt(sum(float((g ** 2).sum()) for g in grads.values())))
    if not np.isfinite(norm):
        bad = [name for name, g in grads.items() if not np.isfinite(g).all()]
        raise FloatingPointError(f"non-finite gradients in {', '.join(bad)}: check the inputs "
                                 "for extreme values, or lower the learning rate")
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / (norm + 1e-12)
    return norm


class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    ``decay``: names of the parameters that weight decay applies to. ``lr_scale``: {name:
    factor} for parameters that learn at ``factor * lr`` (as a torch parameter group with its
    own learning rate; decoupled decay scales with it); the others learn at ``lr``.
    """

    def __init__(self, params, decay=(), lr_scale=None, betas=(0.9, 0.999), eps=1e-8):
        self.decay, self.betas, self.eps = set(decay), betas, eps
        self.lr_scale = dict(lr_scale or {})
        unknown = sorted((self.decay | set(self.lr_scale)) - set(params))
        if unknown:
            raise ValueError(f"decay and lr_scale name parameters that are not trained: {unknown} "
                             f"(trained: {sorted(params)})")
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params, grads, lr, weight_decay):
        """Update ``params`` in place from ``grads`` (dicts of arrays)."""
        self.t += 1
        b1, b2 = self.betas
        for name, g in grads.items():
            p = params[name]
            lr_p = lr * self.lr_scale.get(name, 1.0)
            if name in self.decay:
                p *= 1.0 - lr_p * weight_decay
            self.m[name] = b1 * self.m[name] + (1 - b1) * g
            self.v[name] = b2 * self.v[name] + (1 - b2) * g * g
            m_hat = self.m[name] / (1 - b1 ** self.t)
            v_hat = self.v[name] / (1 - b2 ** self.t)
            p -= lr_p * m_hat / (np.sqrt(v_hat) + self.eps)
