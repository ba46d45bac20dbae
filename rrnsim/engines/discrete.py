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
def _tanh(z):
    """tanh through one exp: 3x faster than libm's tanh, within 2e-16 of it (absolute)."""
    return 1.0 - 2.0 / (np.exp(2.0 * z) + 1.0)


@njit(cache=True, inline="always")
def _node_input(w_in, u, b, n, out):
    """Fill ``out`` (K,) with ``W_in @ u[b, n]``; return whether any of it is non-zero."""
    active = False
    for k in range(out.shape[0]):
        s = 0.0
        for c in range(u.shape[2]):
            s += w_in[k, c] * u[b, n, c]
        out[k] = s
        if s != 0.0:
            active = True
    return active


@njit(cache=True, inline="always")
def _gates(coupling, x1, x2, g, omega_p, beta_p, fs, out):
    """Fill ``out`` (K,) with each node's coupling output at this step."""
    for k in range(x1.shape[0]):
        if coupling == 1:
            out[k] = _tanh(x1[k] * g[k])
        else:
            velocity = (x1[k] - x2[k]) * fs
            phase = np.arctan2(velocity + beta_p[k] * x1[k], omega_p[k] * x1[k])
            out[k] = 1.0 / (1.0 + np.exp(-np.cos(phase)))


@njit(parallel=True, cache=True)
def _simulate(u, w_in, w1, w2, w_res, coupling, noise, omega_p, beta_p, fs, window_of, n_windows,
              states, gates, power, window_x, window_q):
    n_batch, n_time, _ = u.shape
    n_node = w1.shape[0]
    record = states.shape[0] > 0
    record_gates = gates.shape[0] > 0
    noisy = noise.shape[0] > 0
    inv_omega_p = 1.0 / omega_p     # a multiply per step instead of a division
    for b in prange(n_batch):
        x1 = np.zeros(n_node)       # x[n-1]
        x2 = np.zeros(n_node)       # x[n-2]
        g = np.empty(n_node)
        gate = np.zeros(n_node)
        acc = np.zeros(n_node)
        sum_x = np.zeros(n_node)    # sums over the current window
        sum_q = np.zeros(n_node)
        for n in range(n_time):
            active = _node_input(w_in, u, b, n, g)  # without input the gated coupling is zero
            couple = coupling == 2 or (coupling == 1 and active)
            if couple:
                _gates(coupling, x1, x2, g, omega_p, beta_p, fs, gate)
                if record_gates:
                    gates[b, n, :] = gate   # read back only where the input is non-zero
            for k in range(n_node):
                drive = g[k]
                if couple:
                    for j in range(n_node):
                        drive += w_res[k, j] * gate[j]
                if noisy:
                    drive += noise[b, n, k]
                x = w1[k] * x1[k] + w2[k] * x2[k] + drive
                quadrature = ((x - x1[k]) * fs + beta_p[k] * x) * inv_omega_p[k]
                acc[k] += x * x + quadrature * quadrature
                sum_x[k] += x
                sum_q[k] += quadrature
                x2[k] = x1[k]
                x1[k] = x
            if record:
                states[b, n, :] = x1
            if n_windows > 0 and (n + 1 == n_time or window_of[n + 1] != window_of[n]):
                window_x[b, window_of[n], :] = sum_x
                window_q[b, window_of[n], :] = sum_q
                sum_x[:] = 0.0
                sum_q[:] = 0.0
        for k in range(n_node):
            power[b, k] = acc[k] / n_time


@njit(parallel=True, cache=True)
def _backward(u, w_in, w1, w2, w_res, coupling, a, c, states, gates, window_of, window_len,
              d_power, d_window_x, d_window_q, g_w_in, g_w1, g_w2, g_w_res, g_a, g_c):
    """Adjoint of :func:`_simulate` (gated or no coupling) for one batch; per-sample gradients.

    ``a, c``: the quadrature q[n] = a*x[n] - c*x[n-1] (a = (fs + beta_p)/omega_p, c = fs/omega_p).
    ``d_*``: dL/d(feature). Outputs ``g_*[b]``: dL/d(parameter) contributed by sample b.
    """
    n_batch, n_time, n_chan = u.shape
    n_node = w1.shape[0]
    n_windows = window_len.shape[0]
    for b in prange(n_batch):
        lam1 = np.zeros(n_node)     # dL/d drive[n+1]
        lam2 = np.zeros(n_node)     # dL/d drive[n+2]
        carry = np.zeros(n_node)    # dL/dx[n] through gate[n+1] = tanh(x[n]*g[n+1])
        d = np.empty(n_node)
        g = np.empty(n_node)
        s = np.empty(n_node)
        dq_next = np.zeros(n_node)  # dL/dq[n+1] from the window means
        scale = 2.0 * d_power[b] / n_time
        gw1 = np.zeros(n_node)
        gw2 = np.zeros(n_node)
        ga = np.zeros(n_node)
        gc = np.zeros(n_node)
        gwr = np.zeros((n_node, n_node))
        gwi = np.zeros((n_node, n_chan))
        dwx = np.empty((n_windows, n_node))   # dL/dx[n], dL/dq[n] from the window means
        dwq = np.empty((n_windows, n_node))
        for w in range(n_windows):
            for k in range(n_node):
                dwx[w, k] = d_window_x[b, w, k] / window_len[w]
                dwq[w, k] = d_window_q[b, w, k] / window_len[w]
        for n in range(n_time - 1, -1, -1):
            w = window_of[n]
            for k in range(n_node):
                x = states[b, n, k]
                xm1 = states[b, n - 1, k] if n >= 1 else 0.0
                xm2 = states[b, n - 2, k] if n >= 2 else 0.0
                q = a[k] * x - c[k] * xm1
                dq = scale[k] * q       # dL/dq[n] from power (q**2) ...
                dx = scale[k] * x       # ... and dL/dx[n] directly (x**2)
                if n_windows > 0:
                    dq += dwq[w, k]
                    dx += dwx[w, k]
                ga[k] += dq * x
                gc[k] -= dq * xm1
                d[k] = (dx + a[k] * dq - c[k] * dq_next[k]
                        + w1[k] * lam1[k] + w2[k] * lam2[k] + carry[k])
                dq_next[k] = dq
                gw1[k] += d[k] * xm1
                gw2[k] += d[k] * xm2
            active = _node_input(w_in, u, b, n, g)
            if coupling == 1 and active:
                for j in range(n_node):
                    acc = 0.0
                    for k in range(n_node):
                        acc += w_res[k, j] * d[k]
                    s[j] = acc
                for k in range(n_node):
                    for j in range(n_node):
                        gwr[k, j] += d[k] * gates[b, n, j]
                for j in range(n_node):
                    xm1 = states[b, n - 1, j] if n >= 1 else 0.0
                    slope = s[j] * (1.0 - gates[b, n, j] ** 2)
                    carry[j] = slope * g[j]
                    dg = d[j] + slope * xm1
                    for ch in range(n_chan):
                        gwi[j, ch] += dg * u[b, n, ch]
            else:
                for j in range(n_node):
                    carry[j] = 0.0
                if active:
                    for j in range(n_node):
                        for ch in range(n_chan):
                            gwi[j, ch] += d[j] * u[b, n, ch]
            for k in range(n_node):
                lam2[k] = lam1[k]
                lam1[k] = d[k]
        g_w1[b] = gw1
        g_w2[b] = gw2
        g_a[b] = ga
        g_c[b] = gc
        g_w_res[b] = gwr
        g_w_in[b] = gwi


def window_index(n_time, n_windows):
    """Window of each step (time,) and each window's length (n_windows,): equal consecutive
    windows covering all steps (the last ones one step shorter when T does not divide)."""
    if n_windows == 0:
        return np.zeros(n_time, dtype=np.int64), np.zeros(0)
    if not 0 < n_windows <= n_time:
        raise ValueError(f"n_windows must be in [0, {n_time}] for {n_time} steps, got {n_windows}")
    window_of = (np.arange(n_time) * n_windows) // n_time
    return window_of.astype(np.int64), np.bincount(window_of, minlength=n_windows).astype(float)


def simulate(u, w_in, w1, w2, w_res, coupling, omega_p, beta_p, fs, noise=None, record=True,
             n_windows=0, record_gates=False):
    """Run the recursion on one block of samples.

    Parameters
    ----------
    u : (batch, time, channels) float64 array, C-contiguous
    w_in : (K, channels); w1, w2, omega_p, beta_p : (K,); w_res : (K, K); fs : float (Hz)
    coupling : str, one of :data:`COUPLINGS`
    noise : (batch, time, K) float64 or None — added to the drive at each step
    record : bool — return the states too (else only the summaries)
    n_windows : int — also return the mean of x and of the quadrature
        ``q = ((x[n] - x[n-1])*fs + beta_p*x)/omega_p`` in ``n_windows`` consecutive windows
    record_gates : bool — also return each step's coupling outputs (for back-propagation)

    Returns
    -------
    dict with ``power`` (batch, K): the paper's mean A**2 = mean(x**2 + q**2) per node;
    ``states`` (batch, time, K) when ``record``; ``gates`` (batch, time, K) when ``record_gates``;
    ``window_x``, ``window_q`` (batch, n_windows, K) when ``n_windows`` > 0.
    """
    n_batch, n_time, _ = u.shape
    n_node = len(w1)
    window_of, window_len = window_index(n_time, n_windows)
    out = {"power": np.empty((n_batch, n_node)),
           "states": np.empty((n_batch, n_time, n_node) if record else (0, 0, 0)),
           "gates": np.empty((n_batch, n_time, n_node) if record_gates else (0, 0, 0)),
           "window_x": np.zeros((n_batch, n_windows, n_node)),
           "window_q": np.zeros((n_batch, n_windows, n_node))}
    _simulate(u, np.ascontiguousarray(w_in, dtype=np.float64), w1, w2,
              np.ascontiguousarray(w_res, dtype=np.float64), COUPLINGS[coupling],
              np.empty((0, 0, 0)) if noise is None else noise, omega_p, beta_p, float(fs),
              window_of, n_windows, out["states"], out["gates"], out["power"], out["window_x"],
              out["window_q"])
    if n_windows:
        out["window_x"] /= window_len[:, None]
        out["window_q"] /= window_len[:, None]
    else:
        del out["window_x"], out["window_q"]
    if not record:
        del out["states"]
    if not record_gates:
        del out["gates"]
    return out


def backward(u, w_in, w1, w2, w_res, coupling, omega_p, beta_p, fs, states, gates, d_power,
             d_window_x=None, d_window_q=None):
    """Gradients of a loss through :func:`simulate` (coupling "gated" or "none", no noise).

    ``d_power`` (batch, K) and optionally ``d_window_x``, ``d_window_q`` (batch, W, K) are the
    loss's derivatives with respect to those outputs. Returns a dict of gradients summed over
    the batch: ``w_in`` (K, C), ``w_res`` (K, K) (diagonal included: mask it if it is fixed),
    ``w1``, ``w2`` (K,) — through the recursion and through omega_p, beta_p of the features.
    """
    if coupling not in ("gated", "none"):
        raise ValueError(f"back-propagation supports coupling 'gated' or 'none', got {coupling!r}")
    n_batch, n_time, n_chan = u.shape
    K = len(w1)
    n_windows = 0 if d_window_x is None else d_window_x.shape[1]
    window_of, window_len = window_index(n_time, n_windows)
    if n_windows == 0:
        d_window_x = d_window_q = np.zeros((n_batch, 0, K))
    a, c = (fs + beta_p) / omega_p, fs / omega_p
    g = {"w_in": np.zeros((n_batch, K, n_chan)), "w1": np.zeros((n_batch, K)),
         "w2": np.zeros((n_batch, K)), "w_res": np.zeros((n_batch, K, K)),
         "a": np.zeros((n_batch, K)), "c": np.zeros((n_batch, K))}
    _backward(u, np.ascontiguousarray(w_in, dtype=np.float64), w1, w2,
              np.ascontiguousarray(w_res, dtype=np.float64), COUPLINGS[coupling], a, c, states,
              gates, window_of, window_len, np.ascontiguousarray(d_power),
              np.ascontiguousarray(d_window_x), np.ascontiguousarray(d_window_q),
              g["w_in"], g["w1"], g["w2"], g["w_res"], g["a"], g["c"])
    g = {k: v.sum(axis=0) for k, v in g.items()}
    # a = (fs + beta_p)/omega_p and c = fs/omega_p depend on w1, w2 through the paper's constants
    w1_, w2_ = np.asarray(w1), np.asarray(w2)
    dt = 1.0 / fs
    d_omega = np.array([1.0 / (w2_ * dt ** 2), (1.0 - w1_) / (w2_ ** 2 * dt ** 2)]) / (2 * omega_p)
    d_beta = np.array([-1.0 / (2 * w2_ * dt), w1_ / (2 * w2_ ** 2 * dt)])
    d_a = d_beta / omega_p - (fs + beta_p) / omega_p ** 2 * d_omega
    d_c = -fs / omega_p ** 2 * d_omega
    g["w1"] += g["a"] * d_a[0] + g["c"] * d_c[0]
    g["w2"] += g["a"] * d_a[1] + g["c"] * d_c[1]
    del g["a"], g["c"]
    return g
