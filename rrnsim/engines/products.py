"""Time-averaged products of node states (the classifier's ``products`` features), numba-compiled.

For each node k the run's two state signals are x[n] and its quadrature
``q[n] = ((x[n] - x[n-1])*fs + beta_p*x[n]) / omega_p = a*x[n] - c*x[n-1]`` (the paper's
amplitude is A**2 = x**2 + q**2). The features are the means over all T steps of the products
of these signals for every pair of nodes at most ``band`` apart in the layout's node order
(frequency order for the named layouts):

- each node k: mean(x_k*x_k), mean(x_k*q_k), mean(q_k*q_k);
- each pair k < l <= k + band: mean(x_k*x_l), mean(x_k*q_l), mean(q_k*x_l), mean(q_k*q_l).

They are second-order statistics of the input filtered by neighbouring resonators: the power
between two node frequencies shows in their cross products, which the per-node power misses.
"""
import numpy as np
from numba import njit, prange

from .discrete import quadrature_coefficients

__all__ = ["n_features", "forward", "backward"]


def n_features(n_nodes, band):
    """Number of product features for ``n_nodes`` nodes and pairs at most ``band`` apart."""
    band = max(0, min(int(band), n_nodes - 1))
    return 3 * n_nodes + 4 * sum(n_nodes - d for d in range(1, band + 1))


@njit(parallel=True, cache=True)
def _forward(x, a, c, band, out):
    n_batch, n_time, K = x.shape
    F = out.shape[1]
    for b in prange(n_batch):
        q = np.empty(K)
        acc = np.zeros(F)
        for n in range(n_time):
            for k in range(K):
                xm1 = x[b, n - 1, k] if n >= 1 else 0.0
                q[k] = a[k] * x[b, n, k] - c[k] * xm1
            i = 0
            for k in range(K):
                xk = x[b, n, k]
                qk = q[k]
                acc[i] += xk * xk
                acc[i + 1] += xk * qk
                acc[i + 2] += qk * qk
                i += 3
                for l in range(k + 1, min(k + band + 1, K)):
                    xl = x[b, n, l]
                    ql = q[l]
                    acc[i] += xk * xl
                    acc[i + 1] += xk * ql
                    acc[i + 2] += qk * xl
                    acc[i + 3] += qk * ql
                    i += 4
        for i in range(F):
            out[b, i] = acc[i] / n_time


@njit(parallel=True, cache=True)
def _backward(x, a, c, band, d_products, dx, dq):
    n_batch, n_time, K = x.shape
    F = d_products.shape[1]
    for b in prange(n_batch):
        q = np.empty(K)
        gx = np.empty(K)
        gq = np.empty(K)
        g = np.empty(F)
        for i in range(F):
            g[i] = d_products[b, i] / n_time
        for n in range(n_time):
            for k in range(K):
                xm1 = x[b, n - 1, k] if n >= 1 else 0.0
                q[k] = a[k] * x[b, n, k] - c[k] * xm1
                gx[k] = 0.0
                gq[k] = 0.0
            i = 0
            for k in range(K):
                xk = x[b, n, k]
                qk = q[k]
                gx[k] += 2.0 * g[i] * xk + g[i + 1] * qk
                gq[k] += g[i + 1] * xk + 2.0 * g[i + 2] * qk
                i += 3
                for l in range(k + 1, min(k + band + 1, K)):
                    xl = x[b, n, l]
                    ql = q[l]
                    gx[k] += g[i] * xl + g[i + 1] * ql
                    gq[k] += g[i + 2] * xl + g[i + 3] * ql
                    gx[l] += g[i] * xk + g[i + 2] * qk
                    gq[l] += g[i + 1] * xk + g[i + 3] * qk
                    i += 4
            for k in range(K):
                dx[b, n, k] += gx[k]
                dq[b, n, k] += gq[k]


def forward(states, omega_p, beta_p, fs, band):
    """Product features (batch, :func:`n_features`) of recorded ``states`` (batch, time, K)."""
    a, c = quadrature_coefficients(omega_p, beta_p, fs)
    out = np.empty((states.shape[0], n_features(states.shape[2], band)))
    _forward(np.ascontiguousarray(states), a, c, int(band), out)
    return out


def backward(states, omega_p, beta_p, fs, band, d_products, dx, dq):
    """Add to ``dx``, ``dq`` (batch, time, K) the loss's derivatives with respect to x[n] and
    q[n] through the product features, given ``d_products`` = dL/d(features)."""
    a, c = quadrature_coefficients(omega_p, beta_p, fs)
    _backward(np.ascontiguousarray(states), a, c, int(band), np.ascontiguousarray(d_products), dx, dq)
