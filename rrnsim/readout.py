"""Readout layers with hand-written gradients: batch normalisation, mixture softmax, loss.

Each layer's ``forward`` returns outputs and a cache; ``backward`` takes the output gradient and
the cache and returns the input gradient and a dict of parameter gradients. Arrays are float64,
(batch, features) in, (batch, classes) out.
"""
import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax

__all__ = ["BatchNorm", "MixtureReadout", "cross_entropy", "ridge_penalty", "ridge_refit"]


class BatchNorm:
    """Per-feature normalisation with learned scale and shift, running statistics for prediction.

    Training: ``z = scale * (F - mean_batch) / sqrt(var_batch + eps) + shift``; prediction uses
    running averages (momentum 0.1, as ``torch.nn.BatchNorm1d``, except that the first training
    batch sets them outright where torch starts them from mean 0 and variance 1).
    """

    def __init__(self, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum

    @staticmethod
    def init(n_features):
        """Parameters (scale 1, shift 0) and running statistics (mean 0, variance 1), each
        (n_features,)."""
        return {"scale": np.ones(n_features), "shift": np.zeros(n_features)}, \
               {"running_mean": np.zeros(n_features), "running_var": np.ones(n_features),
                "initialised": np.zeros(1)}

    def forward(self, F, params, state, training):
        """Normalised features (batch, D) and the cache for :meth:`backward`; ``training``
        normalises by the batch's statistics and updates ``state``, else by ``state``'s."""
        if training:
            mean, var = F.mean(0), F.var(0)
            m = self.momentum if state["initialised"][0] else 1.0  # first batch sets the scale
            n = F.shape[0]
            state["running_mean"][:] = (1 - m) * state["running_mean"] + m * mean
            state["running_var"][:] = (1 - m) * state["running_var"] + m * var * n / max(n - 1, 1)
            state["initialised"][0] = 1
        else:
            mean, var = state["running_mean"], state["running_var"]
        inv = 1.0 / np.sqrt(var + self.eps)
        normed = (F - mean) * inv
        return params["scale"] * normed + params["shift"], (normed, inv)

    @staticmethod
    def backward(d_out, params, cache):
        """dL/dF (batch, D) and the parameters' gradients, from dL/d(output) (batch, D)."""
        normed, inv = cache
        grads = {"scale": (d_out * normed).sum(0), "shift": d_out.sum(0)}
        d_normed = d_out * params["scale"]
        d_F = inv * (d_normed - d_normed.mean(0) - normed * (d_normed * normed).mean(0))
        return d_F, grads


class MixtureReadout:
    """Class scores ``logit_c = logsumexp_m(W[c, m] @ z + b[c, m]) - log(M)``.

    With ``components=1`` it is the paper's linear softmax readout. With M > 1 each class is a
    mixture of M linear templates: a likelihood ratio averaged over hidden causes (e.g. the
    unknown modulation frequency of a rhythm), which one linear readout cannot express.
    """

    def __init__(self, components=1):
        self.components = int(components)

    def init(self, n_features, n_classes, rng):
        """Weights (classes, M, D) and biases (classes, M), uniform in +-1/sqrt(D) (biases 0
        with one component), drawn from ``rng``."""
        M = self.components
        bound = 1.0 / np.sqrt(n_features)
        return {"weight": rng.uniform(-bound, bound, (n_classes, M, n_features)),
                "bias": rng.uniform(-bound, bound, (n_classes, M)) if M > 1
                else np.zeros((n_classes, M))}

    def forward(self, z, params):
        """Class scores (batch, classes) of features ``z`` (batch, D), and the cache for
        :meth:`backward`."""
        C, M, D = params["weight"].shape
        scores = (z @ params["weight"].reshape(C * M, D).T).reshape(-1, C, M) + params["bias"]
        if self.components == 1:
            return scores[:, :, 0], (z, None)
        # log-sum-exp over the components and their responsibilities, from one exp
        top = scores.max(axis=2, keepdims=True)
        weights = np.exp(scores - top)
        total = weights.sum(axis=2, keepdims=True)
        logits = (top + np.log(total))[:, :, 0] - np.log(self.components)
        return logits, (z, weights / total)

    @staticmethod
    def backward(d_logits, params, cache, input_grad=True):
        """dL/dz (``None`` without ``input_grad``) and the parameters' gradients (dict)."""
        z, responsibilities = cache
        d_scores = d_logits[:, :, None] if responsibilities is None \
            else d_logits[:, :, None] * responsibilities
        C, M, D = params["weight"].shape
        d_scores = d_scores.reshape(-1, C * M)
        grads = {"weight": (d_scores.T @ z).reshape(C, M, D), "bias": d_scores.sum(0).reshape(C, M)}
        return (d_scores @ params["weight"].reshape(C * M, D) if input_grad else None), grads


def cross_entropy(logits, y, label_smoothing=0.0):
    """Mean softmax cross-entropy of ``logits`` (batch, classes) against integer labels ``y``
    (batch,), the targets smoothed by ``label_smoothing``; returns (loss, gradient with respect
    to the logits (batch, classes))."""
    n, n_classes = logits.shape
    target = np.full((n, n_classes), label_smoothing / n_classes)
    target[np.arange(n), y] += 1.0 - label_smoothing
    log_p = log_softmax(logits, axis=1)
    return -(target * log_p).sum() / n, (np.exp(log_p) - target) / n


def ridge_penalty(weight, l2):
    """The ridge penalty ``l2 * sum(weight**2)`` and its gradient (shaped as ``weight``)."""
    return l2 * float((weight ** 2).sum()), 2 * l2 * weight


def ridge_refit(z, y, params, l2, max_iter=200, tol=1e-5):
    """Refit a :class:`MixtureReadout` (``params``: weight (C, M, D), bias (C, M)) to features
    ``z`` (n, D) and labels ``y`` (n,) by L-BFGS on the mean cross-entropy plus
    ``l2 * sum(weight**2)``, starting from ``params``, until an iteration improves the objective
    by less than ``tol`` (relative; scipy's ``ftol``) or after ``max_iter``. Returns the new
    params. (1e-5: sequential MNIST's refit stops after 88 iterations instead of 200, at the same
    test accuracy, and the spike task's accuracy is unchanged.)"""
    C, M, D = params["weight"].shape
    readout = MixtureReadout(M)

    def unpack(theta):
        return {"weight": theta[:C * M * D].reshape(C, M, D), "bias": theta[C * M * D:].reshape(C, M)}

    def loss_and_grad(theta):
        p = unpack(theta)
        logits, cache = readout.forward(z, p)
        loss, d_logits = cross_entropy(logits, y)
        grads = MixtureReadout.backward(d_logits, p, cache, input_grad=False)[1]
        penalty, d_penalty = ridge_penalty(p["weight"], l2)
        return (loss + penalty,
                np.concatenate([(grads["weight"] + d_penalty).ravel(), grads["bias"].ravel()]))

    result = minimize(loss_and_grad, np.concatenate([params["weight"].ravel(), params["bias"].ravel()]),
                      jac=True, method="L-BFGS-B", options={"maxiter": max_iter, "ftol": tol})
    return unpack(result.x)
