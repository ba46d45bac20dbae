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
mean_n s[n]``; ``C_q`` the same with q and the quadrature of s. Here s is the node's own
response to a unit drive at every step from n = 0, without the coupling: the AR(2) recursion
``s[n] = w1*s[n-1] + w2*s[n-2] + 1``. So for an uncoupled network (coupling ``"none"``,
x = x_c + gbar*s with x_c the response to g - gbar) C_x is exactly
``mean_n (g[n] - gbar) * x_c[n-1]`` less the boundary term ``gbar * x_c[T-1] / T``; with
coupling, the mean drive's share is taken out as the node alone would respond to it.
Everything is computed in float64, whatever the input's dtype.
"""
import numpy as np
from numba import njit

from .discrete import quadrature_coefficients, quadrature_gradient, window_index

__all__ = ["step_response", "CentredResonance"]

#: (key, tables) of the last call to _step_tables. Swapped whole, so threads sharing it read a
#: consistent pair (threads alternating between networks just recompute); the tables are
#: read-only, as every CentredResonance with the same nodes shares them.
_last_tables = (None, None)
#: Samples whose inputs are projected at once (a float64 copy of that many at most).
_BLOCK = 2048


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


def _step_tables(w1, w2, a, c, n_time):
    """The step response's tables for ``n_time`` steps: s, ds/dw1, ds/dw2 (n_time, K), S_x =
    mean(s) and S_q = mean(sq) (K,), and the input projections' kernels [s[n-1], sq[n-1]] / T
    (n_time, 2K). Kept for the next call with the same arguments: without trained nodes every
    batch asks for the same."""
    global _last_tables
    arrays = [np.ascontiguousarray(v, dtype=np.float64) for v in (w1, w2, a, c)]
    key = (b"".join(v.tobytes() for v in arrays), int(n_time))
    cached_key, tables = _last_tables   # one read of one pair: safe when threads share the cache
    if cached_key != key:
        s, ds_w1, ds_w2 = step_response(arrays[0], arrays[1], int(n_time))
        sq = arrays[2] * s - arrays[3] * _delayed(s)
        kernels = np.concatenate([_delayed(s), _delayed(sq)], axis=1) / n_time
        tables = s, ds_w1, ds_w2, s.mean(0), sq.mean(0), kernels
        for table in tables:
            table.setflags(write=False)
        _last_tables = key, tables
    return tables


def _input_projections(u, kernels):
    """The trial means of the inputs ``u`` (batch, T, C), (batch, C), and their projections on
    ``kernels`` (T, J), ``sum_n u[b, n, c] * kernels[n, j]`` (batch, C, J); in float64, a block
    of samples at a time."""
    n, _, C = u.shape
    means, projections = np.empty((n, C)), np.empty((n, C, kernels.shape[1]))
    for start in range(0, n, _BLOCK):
        block = np.asarray(u[start:start + _BLOCK], dtype=np.float64)
        means[start:start + _BLOCK] = block.mean(axis=1)
        projections[start:start + _BLOCK] = np.einsum("bnc,nj->bcj", block, kernels,
                                                      optimize=True)
    return means, projections


class CentredResonance:
    """The centred resonance of a batch: inputs ``u`` (batch, T, C), the network's ``w_in``,
    ``w1``, ``w2``, ``omega_p``, ``beta_p``, ``fs``, and the engine's summaries ``out`` of that
    network on ``u`` (with at least one window and the resonance summaries). Built once per
    batch, it gives the features and back-propagates through them."""

    def __init__(self, u, w_in, w1, w2, omega_p, beta_p, fs, out):
        T = u.shape[1]
        K = len(w1)
        self.u, self.w_in, self.w1, self.w2 = u, w_in, w1, w2
        self.omega_p, self.beta_p, self.fs = omega_p, beta_p, fs
        self.resonance_x, self.resonance_q = out["resonance_x"], out["resonance_q"]
        self.a, self.c = quadrature_coefficients(omega_p, beta_p, fs)
        (self.s, self.ds_w1, self.ds_w2, self.S_x, self.S_q,
         kernels) = _step_tables(w1, w2, self.a, self.c, T)
        # V[b, c, k] = mean_n u[b, n, c] * s[n-1, k] (and with sq): one product for both
        self.mean_input, V = _input_projections(u, kernels)           # (batch, C), (batch, C, 2K)
        self.g_bar = self.mean_input @ w_in.T                           # (batch, K)
        self.V_x, self.V_q = V[..., :K], V[..., K:]
        self.U_x = np.einsum("bck,kc->bk", self.V_x, w_in)
        self.U_q = np.einsum("bck,kc->bk", self.V_q, w_in)
        _, window_len = window_index(T, out["window_x"].shape[1])
        self.window_weight = window_len / T                             # M = sum_w weight*mean_w
        self.M_x = np.einsum("bwk,w->bk", out["window_x"], self.window_weight)
        self.M_q = np.einsum("bwk,w->bk", out["window_q"], self.window_weight)

    def features(self):
        """``centred_x``, ``centred_q`` (batch, K) and ``mean_input`` (batch, C), the trial
        means of the inputs."""
        g = self.g_bar
        return {"centred_x": self.resonance_x - g * (self.M_x + self.U_x) + g ** 2 * self.S_x,
                "centred_q": self.resonance_q - g * (self.M_q + self.U_q) + g ** 2 * self.S_q,
                "mean_input": self.mean_input}

    def backward(self, d_centred_x, d_centred_q, nodes):
        """The loss's derivatives with respect to the summaries, from ``d_centred_x``,
        ``d_centred_q`` (batch, K): ``resonance_x``, ``resonance_q`` (batch, K), ``window_x``,
        ``window_q`` (batch, W, K); and the direct gradients (summed over the batch) of ``w_in``
        (K, C) and with ``nodes`` of ``w1``, ``w2`` (K,), through gbar, U and S (add them to
        :func:`rrnsim.engines.discrete.backward`'s, which cover the summaries' own paths)."""
        g_bar, u, w_in = self.g_bar, self.u, self.w_in
        d_g_bar = (d_centred_x * (2 * g_bar * self.S_x - self.M_x - self.U_x)
                   + d_centred_q * (2 * g_bar * self.S_q - self.M_q - self.U_q))
        d_U_x, d_U_q = -g_bar * d_centred_x, -g_bar * d_centred_q   # also dL/dM_x, dL/dM_q
        d = {"resonance_x": d_centred_x, "resonance_q": d_centred_q,
             "window_x": d_U_x[:, None, :] * self.window_weight[None, :, None],
             "window_q": d_U_q[:, None, :] * self.window_weight[None, :, None]}
        grads = {"w_in": (d_g_bar.T @ self.mean_input + np.einsum("bk,bck->kc", d_U_x, self.V_x)
                          + np.einsum("bk,bck->kc", d_U_q, self.V_q))}
        if nodes:
            T = u.shape[1]
            # dL/d(kernel)[n, k] of U = mean_n g[n]*kernel[n]: sum_b dU[b, k]*g[b, n, k] / T
            K = len(self.w1)
            d_U = np.concatenate([d_U_x, d_U_q], axis=1)                # (batch, 2K)
            G = np.tensordot(u, d_U, axes=([0], [0])) / T               # (T, C, 2K)
            G_x = np.einsum("nck,kc->nk", G[..., :K], w_in)
            G_q = np.einsum("nck,kc->nk", G[..., K:], w_in)
            d_S_x = (g_bar ** 2 * d_centred_x).sum(0)
            d_S_q = (g_bar ** 2 * d_centred_q).sum(0)
            # U_x reads s[n-1], U_q reads sq[n-1] = a*s[n-1] - c*s[n-2], S_x = mean(s) and
            # S_q = a*mean(s) - c*mean(s[n-1]): the loss's derivative with respect to each s[n],
            # and through a and c (functions of w1 and w2 too)
            a, c, s = self.a, self.c, self.s
            d_s = np.zeros_like(s)
            d_s[:-1] += G_x[1:] + a * G_q[1:] - c * d_S_q / T
            d_s[:-2] -= c * G_q[2:]
            d_s += (d_S_x + a * d_S_q) / T
            g_a = (G_q * _delayed(s)).sum(0) + d_S_q * s.mean(0)
            g_c = -(G_q * _delayed(s, 2)).sum(0) - d_S_q * _delayed(s).mean(0)
            g_w1, g_w2 = quadrature_gradient(g_a, g_c, self.w1, self.w2, self.omega_p,
                                             self.beta_p, self.fs)
            grads["w1"] = g_w1 + (d_s * self.ds_w1).sum(0)
            grads["w2"] = g_w2 + (d_s * self.ds_w2).sum(0)
        return d, grads
