"""Each node's resonance with the fluctuations of its input about the trial's mean (the
classifier's ``"centred"`` features): computed from the discrete engine's summaries, with
gradients.

The resonance summaries of :mod:`rrnsim.engines.discrete`, ``R_x = mean_n g[n]*x[n-1]`` and
``R_q = mean_n g[n]*q[n-1]`` (g = W_in @ u the node's input, q its quadrature), mix two things:
how the input's fluctuations meet the node's oscillation, and the trial's mean drive ``gbar =
mean_n g[n]`` times the node's response to it. The second is linear in the input and large
(every node rings after the onset of a constant drive), so it drowns the first. The centred
resonance takes it out:

    C_x = R_x - gbar*(M_x + U_x) + gbar**2 * S_x

with ``M_x = mean_n x[n]`` (from the window means), ``U_x = mean_n g[n]*s[n-1]`` and ``S_x =
mean_n s[n]``, s the node's response to a unit drive at every step from n = 0 (uncoupled: the
same AR(2) recursion, ``s[n] = w1*s[n-1] + w2*s[n-2] + 1``); ``C_q`` the same with q and the
quadrature of s. For an uncoupled node (x = x_c + gbar*s, x_c its response to g - gbar) this is
``mean_n (g[n] - gbar) * x_c[n-1]`` less the boundary term ``gbar * x_c[T-1] / T``.
"""
import numpy as np
from numba import njit

from .discrete import quadrature_coefficients, quadrature_gradient, window_index

__all__ = ["step_response", "centred_resonance", "centred_resonance_backward"]


@njit(cache=True)
def step_response(w1, w2, n_time):
    """``s``, ``ds/dw1`` and ``ds/dw2``, each (n_time, K): the uncoupled nodes' states under a
    unit drive at every step from n = 0 (at rest before), and their derivatives."""
    K = w1.shape[0]
    s, d1, d2 = np.zeros((n_time, K)), np.zeros((n_time, K)), np.zeros((n_time, K))
    for n in range(n_time):
        for k in range(K):
            s1 = s[n - 1, k] if n >= 1 else 0.0
            s2 = s[n - 2, k] if n >= 2 else 0.0
            d1_1 = d1[n - 1, k] if n >= 1 else 0.0
            d1_2 = d1[n - 2, k] if n >= 2 else 0.0
            d2_1 = d2[n - 1, k] if n >= 1 else 0.0
            d2_2 = d2[n - 2, k] if n >= 2 else 0.0
            s[n, k] = w1[k] * s1 + w2[k] * s2 + 1.0
            d1[n, k] = s1 + w1[k] * d1_1 + w2[k] * d1_2
            d2[n, k] = s2 + w1[k] * d2_1 + w2[k] * d2_2
    return s, d1, d2


def _delayed(signal, steps=1):
    """``signal`` (time, ...) delayed by ``steps`` (zeros before the start)."""
    out = np.zeros_like(signal)
    if steps < len(signal):
        out[steps:] = signal[:len(signal) - steps]
    return out


def _input_projections(u, kernel):
    """``V[b, c, k] = mean_n u[b, n, c] * kernel[n, k]``: (batch, C, K)."""
    return np.stack([u[:, :, c] @ kernel for c in range(u.shape[2])], axis=1) / u.shape[1]


class _Pieces:
    """The terms of C_x and C_q for inputs ``u`` (batch, T, C) and a network's parameters."""

    def __init__(self, u, w_in, w1, w2, omega_p, beta_p, fs, out):
        T = u.shape[1]
        self.a, self.c = quadrature_coefficients(omega_p, beta_p, fs)
        self.s, self.ds_w1, self.ds_w2 = step_response(np.asarray(w1, dtype=float),
                                                       np.asarray(w2, dtype=float), T)
        self.sq = self.a * self.s - self.c * _delayed(self.s)
        self.mean_input = u.mean(axis=1)                                # (batch, C)
        self.g_bar = self.mean_input @ w_in.T                           # (batch, K)
        self.V_x = _input_projections(u, _delayed(self.s))              # (batch, C, K)
        self.V_q = _input_projections(u, _delayed(self.sq))
        self.U_x = np.einsum("bck,kc->bk", self.V_x, w_in)
        self.U_q = np.einsum("bck,kc->bk", self.V_q, w_in)
        _, window_len = window_index(T, out["window_x"].shape[1])
        self.window_weight = window_len / T                             # M = sum_w weight*mean_w
        self.M_x = np.einsum("bwk,w->bk", out["window_x"], self.window_weight)
        self.M_q = np.einsum("bwk,w->bk", out["window_q"], self.window_weight)


def centred_resonance(u, w_in, w1, w2, omega_p, beta_p, fs, out):
    """``centred_x``, ``centred_q`` (batch, K) and ``mean_input`` (batch, C), the trial means of
    the inputs ``u`` (batch, T, C), from the engine's summaries ``out`` (with at least one window
    and the resonance summaries) of the network (w_in, w1, w2, omega_p, beta_p, fs) on ``u``."""
    p = _Pieces(u, w_in, w1, w2, omega_p, beta_p, fs, out)
    return {"centred_x": out["resonance_x"] - p.g_bar * (p.M_x + p.U_x) + p.g_bar ** 2 * p.s.mean(0),
            "centred_q": out["resonance_q"] - p.g_bar * (p.M_q + p.U_q) + p.g_bar ** 2 * p.sq.mean(0),
            "mean_input": p.mean_input}


def centred_resonance_backward(u, w_in, w1, w2, omega_p, beta_p, fs, out, d_centred_x,
                               d_centred_q, nodes):
    """The loss's derivatives with respect to the summaries, from ``d_centred_x``,
    ``d_centred_q`` (batch, K): ``resonance_x``, ``resonance_q`` (batch, K), ``window_x``,
    ``window_q`` (batch, W, K); and the direct gradients (summed over the batch) of ``w_in``
    (K, C) and with ``nodes`` of ``w1``, ``w2`` (K,), through gbar, U and S (add them to
    :func:`rrnsim.engines.discrete.backward`'s, which cover the summaries' own paths)."""
    p = _Pieces(u, w_in, w1, w2, omega_p, beta_p, fs, out)
    S_x, S_q = p.s.mean(0), p.sq.mean(0)
    d_g_bar = (d_centred_x * (2 * p.g_bar * S_x - p.M_x - p.U_x)
               + d_centred_q * (2 * p.g_bar * S_q - p.M_q - p.U_q))
    d_U_x, d_U_q = -p.g_bar * d_centred_x, -p.g_bar * d_centred_q   # also dL/dM_x, dL/dM_q
    d = {"resonance_x": d_centred_x, "resonance_q": d_centred_q,
         "window_x": d_U_x[:, None, :] * p.window_weight[None, :, None],
         "window_q": d_U_q[:, None, :] * p.window_weight[None, :, None]}
    grads = {"w_in": (d_g_bar.T @ p.mean_input + np.einsum("bk,bck->kc", d_U_x, p.V_x)
                      + np.einsum("bk,bck->kc", d_U_q, p.V_q))}
    if nodes:
        T = u.shape[1]
        # dL/d(kernel)[n, k] of U = mean_n g[n]*kernel[n]: G[n, k] = sum_b dU[b, k]*g[b, n, k] / T
        G_x = sum(w_in[:, c] * (u[:, :, c].T @ d_U_x) for c in range(u.shape[2])) / T
        G_q = sum(w_in[:, c] * (u[:, :, c].T @ d_U_q) for c in range(u.shape[2])) / T
        d_S_x = (p.g_bar ** 2 * d_centred_x).sum(0)
        d_S_q = (p.g_bar ** 2 * d_centred_q).sum(0)
        # U_x reads s[n-1], U_q reads sq[n-1] = a*s[n-1] - c*s[n-2], S_x = mean(s) and
        # S_q = a*mean(s) - c*mean(s[n-1]): the loss's derivative with respect to each s[n],
        # and through a and c (functions of w1 and w2 too)
        d_s = np.zeros_like(p.s)
        d_s[:-1] += G_x[1:] + p.a * G_q[1:] - p.c * d_S_q / T
        d_s[:-2] -= p.c * G_q[2:]
        d_s += (d_S_x + p.a * d_S_q) / T
        g_a = (G_q * _delayed(p.s)).sum(0) + d_S_q * p.s.mean(0)
        g_c = -(G_q * _delayed(p.s, 2)).sum(0) - d_S_q * _delayed(p.s).mean(0)
        g_w1, g_w2 = quadrature_gradient(g_a, g_c, w1, w2, omega_p, beta_p, fs)
        grads["w1"] = g_w1 + (d_s * p.ds_w1).sum(0)
        grads["w2"] = g_w2 + (d_s * p.ds_w2).sum(0)
    return d, grads
