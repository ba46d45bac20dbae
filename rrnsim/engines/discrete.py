"""The discrete engine: the exact AR(2) recursion of every node, batched and compiled with numba.

Per step n, for each sample (DESIGN.md, "The paper's formulation"):

    g[n]     = W_in @ u[n]                              (input to each node)
    gate[n]  = tanh(x[n-1] * g[n])                      (coupling "gated")
             | expit(cos(phase[n-1]))                   (coupling "phase")
    drive[n] = g[n] + W_res @ gate[n] + noise[n]
    x[n]     = w1*x[n-1] + w2*x[n-2] + drive[n]

starting at rest (x[-1] = x[-2] = 0). The paper's feature is the mean over all T steps of
``A**2 = x**2 + ((v + beta_p*x)/omega_p)**2`` with ``v[n] = (x[n] - x[n-1])*fs``.
Samples run in parallel; each keeps O(K) state, so features never build a (batch, time, node) array.
"""
import numpy as np
from numba import njit, prange

__all__ = ["COUPLINGS", "simulate"]

#: Coupling names and their codes in the compiled kernel.
COUPLINGS = {"none": 0, "gated": 1, "phase": 2}


@njit(cache=True, inline="always")
def _gates(coupling, x1, x2, g, omega_p, beta_p, fs, out):
    """Fill ``out`` (K,) with each node's coupling output at this step."""
    for k in range(x1.shape[0]):
        if coupling == 1:
            out[k] = np.tanh(x1[k] * g[k])
        else:
            velocity = (x1[k] - x2[k]) * fs
            phase = np.arctan2(velocity + beta_p[k] * x1[k], omega_p[k] * x1[k])
            out[k] = 1.0 / (1.0 + np.exp(-np.cos(phase)))


@njit(parallel=True, cache=True)
def _simulate(u, w_in, w1, w2, w_res, coupling, noise, omega_p, beta_p, fs, states, power):
    n_batch, n_time, n_chan = u.shape
    n_node = w1.shape[0]
    record = states.shape[0] > 0
    noisy = noise.shape[0] > 0
    for b in prange(n_batch):
        x1 = np.zeros(n_node)       # x[n-1]
        x2 = np.zeros(n_node)       # x[n-2]
        g = np.empty(n_node)
        gate = np.zeros(n_node)
        acc = np.zeros(n_node)
        for n in range(n_time):
            for k in range(n_node):
                s = 0.0
                for c in range(n_chan):
                    s += w_in[k, c] * u[b, n, c]
                g[k] = s
            if coupling != 0:
                _gates(coupling, x1, x2, g, omega_p, beta_p, fs, gate)
            for k in range(n_node):
                drive = g[k]
                if coupling != 0:
                    for j in range(n_node):
                        drive += w_res[k, j] * gate[j]
                if noisy:
                    drive += noise[b, n, k]
                x = w1[k] * x1[k] + w2[k] * x2[k] + drive
                quadrature = ((x - x1[k]) * fs + beta_p[k] * x) / omega_p[k]
                acc[k] += x * x + quadrature * quadrature
                if record:
                    states[b, n, k] = x
                x2[k] = x1[k]
                x1[k] = x
        for k in range(n_node):
            power[b, k] = acc[k] / n_time


def simulate(u, w_in, w1, w2, w_res, coupling, omega_p, beta_p, fs, noise=None, record=True):
    """Run the recursion on one block of samples.

    Parameters
    ----------
    u : (batch, time, channels) float64 array, C-contiguous
    w_in : (K, channels); w1, w2, omega_p, beta_p : (K,); w_res : (K, K); fs : float (Hz)
    coupling : str, one of :data:`COUPLINGS`
    noise : (batch, time, K) float64 or None — added to the drive at each step
    record : bool — return the states too (else only the features)

    Returns
    -------
    states : (batch, time, K) float64, or None when ``record`` is False
    power : (batch, K) float64 — the paper's mean A**2 per node
    """
    n_batch, n_time, _ = u.shape
    n_node = len(w1)
    states = np.empty((n_batch, n_time, n_node) if record else (0, 0, 0))
    power = np.empty((n_batch, n_node))
    _simulate(u, np.ascontiguousarray(w_in, dtype=np.float64), w1, w2,
              np.ascontiguousarray(w_res, dtype=np.float64), COUPLINGS[coupling],
              np.empty((0, 0, 0)) if noise is None else noise, omega_p, beta_p, float(fs),
              states, power)
    return (states if record else None), power
