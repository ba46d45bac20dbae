"""The discrete engine: the exact AR(2) recursion of every node, batched and compiled with numba.

Per step n, for each sample (DESIGN.md, "The paper's formulation"):

    g[n]     = W_in @ u[n]                              (input to each node)
    gate[n]  = tanh(x[n-1] * g[n])                      (coupling "gated")
             | expit(cos(phase[n-1]))                   (coupling "phase")
    drive[n] = g[n] + W_res @ gate[n] + noise[n]
    x[n]     = w1*x[n-1] + w2*x[n-2] + drive[n]

starting at rest (x[-1] = x[-2] = 0). The paper's feature is the mean over all T steps of
``A**2 = x**2 + ((v + beta_p*x)/omega_p)**2`` with ``v[n] = (x[n] - x[n-1])*fs``. The optional
resonance summaries are the means over all T steps of ``g[n]*x[n-1]`` and ``g[n]*q[n-1]``
(q the quadrature, below): how far the input arrives in step with each node's ongoing
oscillation. They are zero on input-free steps, so the closed forms below leave them alone.
Samples run in parallel; each keeps O(K) state, so features never build a (batch, time, node) array.

Without input (u[n] = 0) and without noise, a step is linear in the state (x[n-1], x[n-2]):
a stretch of k such steps moves it by M**k, M = [[w1, w2], [1, 0]], and adds linear (sums of x
and q) and quadratic (sum of A**2) forms of it to the summaries. Those forms are tabulated per
node for every k (:func:`_silent_propagators`; bilinear forms per pair of nodes for the optional
products, :func:`rrnsim.engines.products.stretch_tables`; and the stretch's share of the node
parameters' gradients, :func:`_silent_node_tables`), so sparse input (spike trains, the blank
margins of MNIST digits) costs a few table lookups per silent stretch, forward and adjoint.
Stretches also end at every multiple of ``_MAX_STRETCH`` steps (forward and adjoint alike), so
the tables stay small however long the run.
"""
import numpy as np
from numba import njit, prange

from .products import feature_index, stretch_tables

__all__ = ["COUPLINGS", "simulate", "backward", "steps_through_silence",
           "quadrature_coefficients", "quadrature_gradient", "window_index"]

#: Coupling names and their codes in the compiled kernel.
COUPLINGS = {"none": 0, "gated": 1, "phase": 2}
#: Longest input-free stretch crossed at once (steps): bounds the closed-form tables to
#: K x 4097 entries (and F x 4097 for products) whatever the length of the run.
_MAX_STRETCH = 4096


@njit(cache=True, inline="always")
def _tanh(z):
    """tanh without a call to libm, so that a loop over nodes of it vectorises (the forward
    kernel runs about 25% faster than with ``np.exp``). With a = z/32 (|z| clamped at 20, where
    tanh is +-1 in double precision): tanh(a) by Lambert's continued fraction to its term 15 (a
    [7/8] rational, relative error below 1e-17 for |a| <= 0.625), then five doublings
    tanh(2x) = 2 tanh(x) / (1 + tanh(x)**2) on numerator and denominator, which do not amplify
    relative errors. Against numpy's tanh: relative error at most 1.4e-15 over 2e7 random
    points (absolute 5.6e-16), near zero too; -0, inf and NaN as numpy; never above 1 in size."""
    a = min(max(z, -20.0), 20.0) * (1 / 32)
    k = a * a
    n = a * (2027025 + k * (270270 + k * (6930 + k * 36))) * (1 / 2027025)
    d = (2027025 + k * (945945 + k * (51975 + k * (630 + k)))) * (1 / 2027025)
    for _ in range(5):
        n, d = 2 * n * d, d * d + n * n
    return min(max(n / d, -1.0), 1.0)


@njit(cache=True, inline="always")
def _silent(u, b, n):
    """Whether sample b has no input at step n (all channels zero)."""
    for c in range(u.shape[2]):
        if u[b, n, c] != 0.0:
            return False
    return True


@njit(cache=True, inline="always")
def _node_input(w_in, u, b, n, out):
    """Fill ``out`` (K,) with ``W_in @ u[b, n]``."""
    for k in range(out.shape[0]):
        s = 0.0
        for c in range(u.shape[2]):
            s += w_in[k, c] * u[b, n, c]
        out[k] = s


@njit(cache=True, inline="always")
def _products_adjoint(tables, signals, index, d_prod, out):
    """Fill ``out`` (K, 2) with dL/d(signals) of the products ``Y_k' tables[i] Y_l`` (F, 2, 2)
    given their derivatives ``d_prod`` (F,); Y in ``signals`` (K, 2)."""
    out[:, :] = 0.0
    for i in range(index.shape[0]):
        k, l, g = index[i, 0], index[i, 1], d_prod[i]
        t = tables[i]
        out[k, 0] += g * (t[0, 0] * signals[l, 0] + t[0, 1] * signals[l, 1])
        out[k, 1] += g * (t[1, 0] * signals[l, 0] + t[1, 1] * signals[l, 1])
        out[l, 0] += g * (t[0, 0] * signals[k, 0] + t[1, 0] * signals[k, 1])
        out[l, 1] += g * (t[0, 1] * signals[k, 0] + t[1, 1] * signals[k, 1])


@njit(cache=True)
def _silent_propagators(w1, w2, a, c, n_max):
    """Closed forms for stretches of k = 0..n_max steps without drive, per node (K, n_max + 1, ...).

    With S = (x[n-1], x[n-2]) before the stretch, M = [[w1, w2], [1, 0]], h = (a, -c) (so that
    q = h @ (x[m], x[m-1])) and Q = e1 e1' + h h' (so that x**2 + q**2 = S' Q S):
    ``power[k]`` = sum_{j=1..k} (M^j)' Q M^j  (entries 00, 01, 11: the stretch's sum of A**2 is
    S' power S); ``sums[k]`` = rows e1' and h' of sum_{j=1..k} M^j (sums of x and q);
    ``step[k]`` = M^k; for the adjoint, ``back[k]`` = sum_{j<k} (M^j)' Q M^(j+1) and
    ``back_const[k]`` = sum_{j<k} (M^j)'.
    """
    n_node = w1.shape[0]
    power = np.zeros((n_node, n_max + 1, 3))
    sums = np.zeros((n_node, n_max + 1, 2, 2))
    step = np.zeros((n_node, n_max + 1, 2, 2))
    back = np.zeros((n_node, n_max + 1, 2, 2))
    back_const = np.zeros((n_node, n_max + 1, 2, 2))
    for k in range(n_node):
        h0, h1 = a[k], -c[k]
        q00, q01, q11 = 1.0 + h0 * h0, h0 * h1, h1 * h1
        m00, m01, m10, m11 = 1.0, 0.0, 0.0, 1.0        # M^(j-1)
        for j in range(1, n_max + 1):
            # QM = Q M^j with M^j = M @ M^(j-1)
            n00 = w1[k] * m00 + w2[k] * m10
            n01 = w1[k] * m01 + w2[k] * m11
            n10, n11 = m00, m01
            qm00 = q00 * n00 + q01 * n10
            qm01 = q00 * n01 + q01 * n11
            qm10 = q01 * n00 + q11 * n10
            qm11 = q01 * n01 + q11 * n11
            # back[j] = back[j-1] + (M^(j-1))' Q M^j
            back[k, j, 0, 0] = back[k, j - 1, 0, 0] + m00 * qm00 + m10 * qm10
            back[k, j, 0, 1] = back[k, j - 1, 0, 1] + m00 * qm01 + m10 * qm11
            back[k, j, 1, 0] = back[k, j - 1, 1, 0] + m01 * qm00 + m11 * qm10
            back[k, j, 1, 1] = back[k, j - 1, 1, 1] + m01 * qm01 + m11 * qm11
            back_const[k, j, 0, 0] = back_const[k, j - 1, 0, 0] + m00
            back_const[k, j, 0, 1] = back_const[k, j - 1, 0, 1] + m10
            back_const[k, j, 1, 0] = back_const[k, j - 1, 1, 0] + m01
            back_const[k, j, 1, 1] = back_const[k, j - 1, 1, 1] + m11
            # power[j] = power[j-1] + (M^j)' Q M^j
            power[k, j, 0] = power[k, j - 1, 0] + n00 * qm00 + n10 * qm10
            power[k, j, 1] = power[k, j - 1, 1] + n00 * qm01 + n10 * qm11
            power[k, j, 2] = power[k, j - 1, 2] + n01 * qm01 + n11 * qm11
            sums[k, j, 0, 0] = sums[k, j - 1, 0, 0] + n00
            sums[k, j, 0, 1] = sums[k, j - 1, 0, 1] + n01
            sums[k, j, 1, 0] = sums[k, j - 1, 1, 0] + h0 * n00 + h1 * n10
            sums[k, j, 1, 1] = sums[k, j - 1, 1, 1] + h0 * n01 + h1 * n11
            step[k, j, 0, 0], step[k, j, 0, 1] = n00, n01
            step[k, j, 1, 0], step[k, j, 1, 1] = n10, n11
            m00, m01, m10, m11 = n00, n01, n10, n11
        step[k, 0, 0, 0] = step[k, 0, 1, 1] = 1.0
    return power, sums, step, back, back_const


@njit(cache=True)
def _silent_node_tables(w1, w2, a, c, n_max):
    """Closed forms of the node parameters' gradients over input-free stretches of m = 0..n_max
    steps, per node: (K, n_max + 1, 8, 2, 2), the 2x2 tables B1, B2, T1, T2, U1, U2, A, C.

    In a stretch of m steps from S = (x[start-1], x[start-2]), step j = 1..m has state
    Y_j = M^j S and state adjoint L_j = (M')^(m-j) psi + sum_{i=j..m} (M')^(i-j) (s Q M^i S + F)
    (psi: the adjoint arriving from after the stretch; s: the power's weight; F: the window
    means'). With d_j = e1' L_j and dq_j = s h' Y_j + f_q (+ the carry at j = m):
    sum_j d_j x[n-1] = psi' B1 S + s S' T1 S + F' U1 S (w1), the same with B2, T2, U2 for
    sum_j d_j x[n-2] (w2); sum_j (s h' Y_j) x[n] = s S' A S (a) and sum_j (s h' Y_j) x[n-1] =
    s S' C S (c). B1_m = sum_j M^(m-j) e1 e1' M^(j-1) (B2: e1 e2'), T_m = sum_{i<=m} B_i' Q M^i,
    U_m = sum_{i<=m} B_i, A_m = sum_j (M^j)' h e1' M^j, C_m = sum_j (M^j)' h e2' M^j.
    """
    n_node = w1.shape[0]
    tables = np.zeros((n_node, n_max + 1, 8, 2, 2))
    prev = np.empty((2, 2))     # M^(m-1)
    power = np.empty((2, 2))    # M^m
    qm = np.empty((2, 2))       # Q M^m
    b = np.zeros((2, 2, 2))     # B1, B2 at m-1, then at m
    for k in range(n_node):
        h0, h1 = a[k], -c[k]
        q00, q01, q11 = 1.0 + h0 * h0, h0 * h1, h1 * h1
        prev[0, 0], prev[0, 1], prev[1, 0], prev[1, 1] = 1.0, 0.0, 0.0, 1.0
        b[:, :, :] = 0.0
        for m in range(1, n_max + 1):
            power[0, 0] = w1[k] * prev[0, 0] + w2[k] * prev[1, 0]
            power[0, 1] = w1[k] * prev[0, 1] + w2[k] * prev[1, 1]
            power[1, 0], power[1, 1] = prev[0, 0], prev[0, 1]
            qm[0, 0] = q00 * power[0, 0] + q01 * power[1, 0]
            qm[0, 1] = q00 * power[0, 1] + q01 * power[1, 1]
            qm[1, 0] = q01 * power[0, 0] + q11 * power[1, 0]
            qm[1, 1] = q01 * power[0, 1] + q11 * power[1, 1]
            v0 = power[0, 0] * h0 + power[1, 0] * h1    # (M^m)' h
            v1 = power[0, 1] * h0 + power[1, 1] * h1
            t = tables[k, m]
            for which in range(2):   # B_m = M B_(m-1) + e1 e_(which+1)' M^(m-1)
                b00 = w1[k] * b[which, 0, 0] + w2[k] * b[which, 1, 0] + prev[which, 0]
                b01 = w1[k] * b[which, 0, 1] + w2[k] * b[which, 1, 1] + prev[which, 1]
                b10, b11 = b[which, 0, 0], b[which, 0, 1]
                b[which, 0, 0], b[which, 0, 1], b[which, 1, 0], b[which, 1, 1] = b00, b01, b10, b11
                t[which] = b[which]
                for i in range(2):
                    for j in range(2):
                        t[2 + which, i, j] = (tables[k, m - 1, 2 + which, i, j]
                                              + b[which, 0, i] * qm[0, j] + b[which, 1, i] * qm[1, j])
                        t[4 + which, i, j] = tables[k, m - 1, 4 + which, i, j] + b[which, i, j]
            for j in range(2):
                t[6, 0, j] = tables[k, m - 1, 6, 0, j] + v0 * power[0, j]
                t[6, 1, j] = tables[k, m - 1, 6, 1, j] + v1 * power[0, j]
                t[7, 0, j] = tables[k, m - 1, 7, 0, j] + v0 * power[1, j]
                t[7, 1, j] = tables[k, m - 1, 7, 1, j] + v1 * power[1, j]
            prev[:, :] = power
    return tables


@njit(cache=True, inline="always")
def _bilinear2(left0, left1, table, p, r):
    """(left0, left1) @ table @ (p, r) for a 2x2 ``table``."""
    return (left0 * (table[0, 0] * p + table[0, 1] * r)
            + left1 * (table[1, 0] * p + table[1, 1] * r))


@njit(cache=True, inline="always")
def _gates(coupling, x1, x2, g, omega_p, beta_p, fs, out):
    """Fill ``out`` (K,) with each node's coupling output at this step."""
    if coupling == 1:   # a loop of its own, so that it vectorises
        for k in range(x1.shape[0]):
            out[k] = _tanh(x1[k] * g[k])
        return
    for k in range(x1.shape[0]):
        velocity = (x1[k] - x2[k]) * fs
        phase = np.arctan2(velocity + beta_p[k] * x1[k], omega_p[k] * x1[k])
        out[k] = 1.0 / (1.0 + np.exp(-np.cos(phase)))


# reassoc and contract (no other fast-math): the sums over nodes vectorise and multiply-adds fuse,
# which changes results in the last bits only (NaN and inf behave as without)
@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def _simulate(u, w_in, w1, w2, w_res, coupling, noise, omega_p, beta_p, fs, window_of, n_windows,
              max_stretch, prod_index, run_prod, skip, states, gates, power, window_x, window_q,
              products, resonance_x, resonance_q):
    n_batch, n_time, _ = u.shape
    n_node = w1.shape[0]
    record = states.shape[0] > 0
    record_gates = gates.shape[0] > 0
    resonance = resonance_x.shape[0] > 0
    noisy = noise.shape[0] > 0
    inv_omega_p = 1.0 / omega_p     # a multiply per step instead of a division
    a, c = (fs + beta_p) * inv_omega_p, fs * inv_omega_p
    n_prod = prod_index.shape[0]
    run_power, run_sums, run_step, _, _ = _silent_propagators(w1, w2, a, c,
                                                              max_stretch if skip else 0)
    for b in prange(n_batch):
        x1 = np.zeros(n_node)       # x[n-1]
        x2 = np.zeros(n_node)       # x[n-2]
        g = np.zeros(n_node)
        gate = np.zeros(n_node)
        acc = np.zeros(n_node)
        sum_x = np.zeros(n_node)    # sums over the current window
        sum_q = np.zeros(n_node)
        signals = np.zeros((n_node, 2))     # x and q at this step, or Y at a stretch's start
        acc_prod = np.zeros(n_prod)
        acc_rx = np.zeros(n_node)   # sums of g[n]*x[n-1] and g[n]*q[n-1]
        acc_rq = np.zeros(n_node)
        n = 0
        while n < n_time:
            silent = _silent(u, b, n)
            if skip and silent:     # jump over the input-free stretch n..end-1 in closed form
                end = n + 1
                while (end < n_time and end % max_stretch != 0 and window_of[end] == window_of[n]
                       and _silent(u, b, end)):
                    end += 1
                m = end - n
                if n_prod:
                    for k in range(n_node):
                        signals[k, 0] = w1[k] * x1[k] + w2[k] * x2[k]
                        signals[k, 1] = x1[k]
                    for i in range(n_prod):
                        left, right = prod_index[i, 0], prod_index[i, 1]
                        acc_prod[i] += _bilinear2(signals[left, 0], signals[left, 1],
                                                  run_prod[i, m], signals[right, 0], signals[right, 1])
                for k in range(n_node):
                    p, r = x1[k], x2[k]
                    acc[k] += (run_power[k, m, 0] * p * p + 2.0 * run_power[k, m, 1] * p * r
                               + run_power[k, m, 2] * r * r)
                    sum_x[k] += run_sums[k, m, 0, 0] * p + run_sums[k, m, 0, 1] * r
                    sum_q[k] += run_sums[k, m, 1, 0] * p + run_sums[k, m, 1, 1] * r
                    x1[k] = run_step[k, m, 0, 0] * p + run_step[k, m, 0, 1] * r
                    x2[k] = run_step[k, m, 1, 0] * p + run_step[k, m, 1, 1] * r
                n = end - 1
                if record:          # the adjoint reads the states only around driven steps
                    states[b, n, :] = x1
                    if m > 1:
                        states[b, n - 1, :] = x2
            else:
                if silent:
                    g[:] = 0.0
                else:
                    _node_input(w_in, u, b, n, g)
                couple = coupling == 2 or (coupling == 1 and not silent)
                if couple:
                    _gates(coupling, x1, x2, g, omega_p, beta_p, fs, gate)
                    if record_gates:
                        gates[b, n, :] = gate   # read back only where there is input
                for k in range(n_node):
                    drive = g[k]
                    if resonance:   # g[n]*x[n-1] and g[n]*q[n-1] (0 on input-free steps)
                        acc_rx[k] += drive * x1[k]
                        acc_rq[k] += drive * (a[k] * x1[k] - c[k] * x2[k])
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
                    signals[k, 0] = x
                    signals[k, 1] = quadrature
                    x2[k] = x1[k]
                    x1[k] = x
                for i in range(n_prod):
                    acc_prod[i] += (signals[prod_index[i, 0], prod_index[i, 2]]
                                    * signals[prod_index[i, 1], prod_index[i, 3]])
                if record:
                    states[b, n, :] = x1
            if n_windows > 0 and (n + 1 == n_time or window_of[n + 1] != window_of[n]):
                window_x[b, window_of[n], :] = sum_x
                window_q[b, window_of[n], :] = sum_q
                sum_x[:] = 0.0
                sum_q[:] = 0.0
            n += 1
        for k in range(n_node):
            power[b, k] = acc[k] / n_time
        for i in range(n_prod):
            products[b, i] = acc_prod[i] / n_time
        if resonance:
            for k in range(n_node):
                resonance_x[b, k] = acc_rx[k] / n_time
                resonance_q[b, k] = acc_rq[k] / n_time


@njit(parallel=True, cache=True)
def _backward(u, w_in, w1, w2, w_res, coupling, a, c, states, gates, window_of, window_len,
              max_stretch, prod_index, run_prod, nodes, skip, d_power, d_window_x, d_window_q,
              d_products, d_resonance_x, d_resonance_q, g_w_in, g_w1, g_w2, g_w_res, g_a, g_c):
    """Adjoint of :func:`_simulate` (gated or no coupling) for one batch; per-sample gradients.

    ``a, c``: the quadrature q[n] = a*x[n] - c*x[n-1] (a = (fs + beta_p)/omega_p, c = fs/omega_p).
    ``d_*``: dL/d(feature). Outputs ``g_*[b]``: dL/d(parameter) contributed by sample b; the
    node parameters' (w1, w2, a, c) only when ``nodes``. With ``skip``, input-free stretches
    are crossed in closed form (:func:`_silent_propagators`, and :func:`_silent_node_tables` for
    the node parameters; not with ``nodes`` and products), reading the states only where
    :func:`_simulate` with ``skip`` wrote them.
    """
    n_batch, n_time, n_chan = u.shape
    n_node = w1.shape[0]
    n_windows = window_len.shape[0]
    n_prod = prod_index.shape[0]
    resonance = d_resonance_x.shape[0] > 0
    _, run_sums, run_step, run_back, run_back_const = _silent_propagators(
        w1, w2, a, c, max_stretch if skip else 0)
    node_tables = _silent_node_tables(w1, w2, a, c, max_stretch if skip and nodes else 0)
    for b in prange(n_batch):
        # state adjoint dL/d(x[n+1], x[n]) as the loop reaches step n: (lam_x, lam_p)
        lam_x = np.zeros(n_node)
        lam_p = np.zeros(n_node)
        carry = np.zeros(n_node)    # dL/dx[n] through gate[n+1] = tanh(x[n]*g[n+1])
        carry_q = np.zeros(n_node)  # dL/dq[n] through the resonance summaries' g[n+1]*q[n]
        d_res_x = d_resonance_x[b] / n_time if resonance else np.zeros(n_node)
        d_res_q = d_resonance_q[b] / n_time if resonance else np.zeros(n_node)
        dg_res = np.zeros(n_node)   # dL/dg[n] through the resonance summaries
        d = np.empty(n_node)        # dL/d drive[n] = dL/dx[n]
        g = np.empty(n_node)
        s = np.empty(n_node)
        scale = 2.0 * d_power[b] / n_time
        gw1 = np.zeros(n_node)
        gw2 = np.zeros(n_node)
        ga = np.zeros(n_node)
        gc = np.zeros(n_node)
        gwr = np.zeros((n_node, n_node))
        gwi = np.zeros((n_node, n_chan))
        dq = np.empty(n_node)
        zero = np.zeros(n_node)
        d_prod = d_products[b] / n_time
        signals = np.zeros((n_node, 2))     # x and q at this step, or Y at a stretch's start
        d_signals = np.zeros((n_node, 2))   # dL/d(signals) through the products
        # dL/dx[n], dL/dq[n] from the window means (one row of zeros without windows)
        dwx = np.zeros((max(n_windows, 1), n_node))
        dwq = np.zeros((max(n_windows, 1), n_node))
        for w in range(n_windows):
            for k in range(n_node):
                dwx[w, k] = d_window_x[b, w, k] / window_len[w]
                dwq[w, k] = d_window_q[b, w, k] / window_len[w]
        n = n_time - 1
        while n >= 0:
            w = window_of[n]
            silent = _silent(u, b, n)
            if silent and skip:     # the input-free stretch start..n in closed form
                start = n
                while (start > 0 and start % max_stretch != 0 and window_of[start - 1] == w
                       and _silent(u, b, start - 1)):
                    start -= 1
                m = n + 1 - start
                if n_prod:  # the stretch's products Y_k' U Y_l, Y = (x[start], x[start-1])
                    for k in range(n_node):
                        p = states[b, start - 1, k] if start >= 1 else 0.0
                        r = states[b, start - 2, k] if start >= 2 else 0.0
                        signals[k, 0] = w1[k] * p + w2[k] * r
                        signals[k, 1] = p
                    _products_adjoint(run_prod[:, m], signals, prod_index, d_prod, d_signals)
                for k in range(n_node):
                    p = states[b, start - 1, k] if start >= 1 else 0.0
                    r = states[b, start - 2, k] if start >= 2 else 0.0
                    # adjoint arriving from step n+1: M' lam + (carry, 0) + (a, -c)*carry_q
                    psi0 = w1[k] * lam_x[k] + lam_p[k] + carry[k] + a[k] * carry_q[k]
                    psi1 = w2[k] * lam_x[k] - c[k] * carry_q[k]
                    f0 = dwx[w, k] + a[k] * dwq[w, k]   # the window means' gradient
                    f1 = -c[k] * dwq[w, k]
                    if nodes:   # sums over the stretch of d*x[n-1], d*x[n-2], dq*x[n], dq*x[n-1]
                        t = node_tables[k, m]
                        gw1[k] += (_bilinear2(psi0, psi1, t[0], p, r)
                                   + scale[k] * _bilinear2(p, r, t[2], p, r)
                                   + _bilinear2(f0, f1, t[4], p, r))
                        gw2[k] += (_bilinear2(psi0, psi1, t[1], p, r)
                                   + scale[k] * _bilinear2(p, r, t[3], p, r)
                                   + _bilinear2(f0, f1, t[5], p, r))
                        ga[k] += (scale[k] * _bilinear2(p, r, t[6], p, r)
                                  + dwq[w, k] * (run_sums[k, m, 0, 0] * p + run_sums[k, m, 0, 1] * r)
                                  + carry_q[k] * (run_step[k, m, 0, 0] * p + run_step[k, m, 0, 1] * r))
                        gc[k] -= (scale[k] * _bilinear2(p, r, t[7], p, r)
                                  + dwq[w, k] * (p + run_sums[k, m - 1, 0, 0] * p
                                                 + run_sums[k, m - 1, 0, 1] * r)
                                  + carry_q[k] * (run_step[k, m, 1, 0] * p + run_step[k, m, 1, 1] * r))
                    lam_x[k] = (scale[k] * (run_back[k, m, 0, 0] * p + run_back[k, m, 0, 1] * r)
                                + run_back_const[k, m, 0, 0] * f0 + run_back_const[k, m, 0, 1] * f1
                                + run_step[k, m - 1, 0, 0] * psi0 + run_step[k, m - 1, 1, 0] * psi1
                                + d_signals[k, 0])
                    lam_p[k] = (scale[k] * (run_back[k, m, 1, 0] * p + run_back[k, m, 1, 1] * r)
                                + run_back_const[k, m, 1, 0] * f0 + run_back_const[k, m, 1, 1] * f1
                                + run_step[k, m - 1, 0, 1] * psi0 + run_step[k, m - 1, 1, 1] * psi1
                                + d_signals[k, 1])
                    carry[k] = 0.0
                    carry_q[k] = 0.0
                n = start - 1
                continue
            x = states[b, n]
            xm1 = states[b, n - 1] if n >= 1 else zero
            if n_prod:
                for k in range(n_node):
                    signals[k, 0] = x[k]
                    signals[k, 1] = a[k] * x[k] - c[k] * xm1[k]
                d_signals[:, :] = 0.0
                for i in range(n_prod):
                    k, l = prod_index[i, 0], prod_index[i, 1]
                    sk, sl = prod_index[i, 2], prod_index[i, 3]
                    d_signals[k, sk] += d_prod[i] * signals[l, sl]
                    d_signals[l, sl] += d_prod[i] * signals[k, sk]
            for k in range(n_node):
                # dL/dq[n] and dL/dx[n] from the power (x**2 + q**2), the window means, the
                # products and the resonance summaries
                dq_k = (scale[k] * (a[k] * x[k] - c[k] * xm1[k]) + dwq[w, k] + d_signals[k, 1]
                        + carry_q[k])
                d_k = (scale[k] * x[k] + dwx[w, k] + d_signals[k, 0] + a[k] * dq_k
                       + w1[k] * lam_x[k] + lam_p[k] + carry[k])
                lam_p[k] = w2[k] * lam_x[k] - c[k] * dq_k
                lam_x[k] = d_k
                d[k] = d_k
                dq[k] = dq_k
            xm2 = states[b, n - 2] if n >= 2 else zero     # read with nodes or resonance
            if nodes:
                for k in range(n_node):
                    ga[k] += dq[k] * x[k]
                    gc[k] -= dq[k] * xm1[k]
                    gw1[k] += d[k] * xm1[k]
                    gw2[k] += d[k] * xm2[k]
            if silent:
                for j in range(n_node):
                    carry[j] = 0.0
                    carry_q[j] = 0.0
            else:
                _node_input(w_in, u, b, n, g)
                if resonance:   # g[n]*x[n-1] and g[n]*q[n-1] through g (x[n-1], q[n-1]: carry)
                    for j in range(n_node):
                        dg_res[j] = (d_res_x[j] * xm1[j]
                                     + d_res_q[j] * (a[j] * xm1[j] - c[j] * xm2[j]))
                if coupling == 1:
                    for j in range(n_node):
                        acc = 0.0
                        for k in range(n_node):
                            acc += w_res[k, j] * d[k]
                        s[j] = acc
                    for k in range(n_node):
                        for j in range(n_node):
                            gwr[k, j] += d[k] * gates[b, n, j]
                    for j in range(n_node):
                        slope = s[j] * (1.0 - gates[b, n, j] ** 2)
                        carry[j] = slope * g[j] + d_res_x[j] * g[j]
                        carry_q[j] = d_res_q[j] * g[j]
                        dg = d[j] + slope * xm1[j] + dg_res[j]
                        for ch in range(n_chan):
                            gwi[j, ch] += dg * u[b, n, ch]
                else:
                    for j in range(n_node):
                        carry[j] = d_res_x[j] * g[j]
                        carry_q[j] = d_res_q[j] * g[j]
                        for ch in range(n_chan):
                            gwi[j, ch] += (d[j] + dg_res[j]) * u[b, n, ch]
            n -= 1
        g_w1[b] = gw1
        g_w2[b] = gw2
        g_a[b] = ga
        g_c[b] = gc
        g_w_res[b] = gwr
        g_w_in[b] = gwi


def quadrature_coefficients(omega_p, beta_p, fs):
    """``a, c`` (K,) of the quadrature as a function of the states: q[n] = a*x[n] - c*x[n-1]."""
    return (fs + beta_p) / omega_p, fs / omega_p


def _longest_stretch(window_len, n_time):
    """The longest input-free stretch the kernels may cross at once: stretches end at windows
    and at multiples of :data:`_MAX_STRETCH`."""
    return min(int(window_len.max()) if len(window_len) else n_time, _MAX_STRETCH)


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
             n_windows=0, record_gates=False, skip_silent=False, products=None, resonance=False):
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
    skip_silent : bool — cross stretches without input in closed form (coupling "gated" or
        "none", no noise; equal to stepping up to rounding, and faster for sparse input such as
        spike trains). The recorded states are then written only around the steps with input:
        enough for :func:`backward` (unless :func:`steps_through_silence`), not for reading.
    products : int or None — also return the mean products of the x and q of nodes at most
        ``products`` apart (:mod:`rrnsim.engines.products`)
    resonance : bool — also return the means over time of ``g[n]*x[n-1]`` and ``g[n]*q[n-1]``
        per node (g = W_in @ u, the node's input, without the coupling and the noise)

    Returns
    -------
    dict with ``power`` (batch, K): the paper's mean A**2 = mean(x**2 + q**2) per node;
    ``states`` (batch, time, K) when ``record``; ``gates`` (batch, time, K) when ``record_gates``;
    ``window_x``, ``window_q`` (batch, n_windows, K) when ``n_windows`` > 0; ``products``
    (batch, F) when ``products`` is not None; ``resonance_x``, ``resonance_q`` (batch, K) when
    ``resonance``.
    """
    n_batch, n_time, _ = u.shape
    n_node = len(w1)
    window_of, window_len = window_index(n_time, n_windows)
    prod_index = feature_index(n_node, products)
    a, c = quadrature_coefficients(omega_p, beta_p, fs)
    # only without noise and phase coupling is an input-free step drive-free
    skips = skip_silent and noise is None and coupling != "phase"
    max_stretch = _longest_stretch(window_len, n_time)
    run_prod = stretch_tables(w1, w2, a, c, prod_index, max_stretch if skips else 0)
    out = {"power": np.empty((n_batch, n_node)),
           "products": np.empty((n_batch, len(prod_index))),
           "states": np.empty((n_batch, n_time, n_node) if record else (0, 0, 0)),
           "gates": np.empty((n_batch, n_time, n_node) if record_gates else (0, 0, 0)),
           "window_x": np.zeros((n_batch, n_windows, n_node)),
           "window_q": np.zeros((n_batch, n_windows, n_node)),
           "resonance_x": np.empty((n_batch if resonance else 0, n_node)),
           "resonance_q": np.empty((n_batch if resonance else 0, n_node))}
    _simulate(u, np.ascontiguousarray(w_in, dtype=np.float64), w1, w2,
              np.ascontiguousarray(w_res, dtype=np.float64), COUPLINGS[coupling],
              np.empty((0, 0, 0)) if noise is None else noise, omega_p, beta_p, float(fs),
              window_of, n_windows, max_stretch, prod_index, run_prod, skips, out["states"],
              out["gates"], out["power"], out["window_x"], out["window_q"], out["products"],
              out["resonance_x"], out["resonance_q"])
    if n_windows:
        out["window_x"] /= window_len[:, None]
        out["window_q"] /= window_len[:, None]
    else:
        del out["window_x"], out["window_q"]
    if products is None:
        del out["products"]
    if not resonance:
        del out["resonance_x"], out["resonance_q"]
    if not record:
        del out["states"]
    if not record_gates:
        del out["gates"]
    return out


def steps_through_silence(nodes, products):
    """True when :func:`backward` must step through input-free stretches (and so needs every
    state: ``simulate(..., skip_silent=False)``): the node parameters' gradients with the
    products summaries have no closed form here."""
    return bool(nodes) and products is not None


def backward(u, w_in, w1, w2, w_res, coupling, omega_p, beta_p, fs, states, gates, d_power,
             d_window_x=None, d_window_q=None, nodes=True, products=None, d_products=None,
             d_resonance_x=None, d_resonance_q=None, skip_silent=True):
    """Gradients of a loss through :func:`simulate` (coupling "gated" or "none", no noise).

    ``d_power`` (batch, K) and optionally ``d_window_x``, ``d_window_q`` (batch, W, K) and, with
    the band ``products``, ``d_products`` (batch, F), and ``d_resonance_x``, ``d_resonance_q``
    (batch, K) are the loss's derivatives with respect to those outputs. Returns a dict of
    gradients summed over the batch: ``w_in`` (K, C), ``w_res`` (K, K) (diagonal included: mask
    it if it is fixed), and with ``nodes`` ``w1``, ``w2`` (K,) — through the recursion and
    through omega_p, beta_p of the features. With ``skip_silent`` the adjoint crosses input-free
    stretches in closed form, so ``states`` may come from ``simulate(..., skip_silent=True)``;
    except where :func:`steps_through_silence` (node gradients with products): that steps, and
    needs every state. Such states also need the forward pass's windows here (W of
    ``d_window_x``, 0 without): stretches end at window boundaries, and the adjoint reads the
    states around the boundaries the forward pass wrote. Nothing checks either condition.
    """
    if coupling not in ("gated", "none"):
        raise ValueError(f"back-propagation supports coupling 'gated' or 'none', got {coupling!r}")
    n_batch, n_time, n_chan = u.shape
    K = len(w1)
    n_windows = 0 if d_window_x is None else d_window_x.shape[1]
    window_of, window_len = window_index(n_time, n_windows)
    if n_windows == 0:
        d_window_x = d_window_q = np.zeros((n_batch, 0, K))
    prod_index = feature_index(K, products if d_products is not None else None)
    if d_products is None:
        d_products = np.zeros((n_batch, 0))
    if d_products.shape != (n_batch, len(prod_index)):
        raise ValueError(f"d_products must have shape {(n_batch, len(prod_index))} for products="
                         f"{products}, got {d_products.shape}")
    if (d_resonance_x is None) != (d_resonance_q is None):
        raise ValueError("give both d_resonance_x and d_resonance_q, or neither")
    if d_resonance_x is None:
        d_resonance_x = d_resonance_q = np.zeros((0, K))
    elif not np.shape(d_resonance_x) == np.shape(d_resonance_q) == (n_batch, K):
        raise ValueError(f"d_resonance_x and d_resonance_q must have shape {(n_batch, K)}, got "
                         f"{np.shape(d_resonance_x)} and {np.shape(d_resonance_q)}")
    a, c = quadrature_coefficients(omega_p, beta_p, fs)
    max_stretch = _longest_stretch(window_len, n_time)
    skip = skip_silent and not steps_through_silence(nodes, products if len(prod_index) else None)
    run_prod = stretch_tables(w1, w2, a, c, prod_index, max_stretch if skip else 0)
    g = {"w_in": np.zeros((n_batch, K, n_chan)), "w1": np.zeros((n_batch, K)),
         "w2": np.zeros((n_batch, K)), "w_res": np.zeros((n_batch, K, K)),
         "a": np.zeros((n_batch, K)), "c": np.zeros((n_batch, K))}
    _backward(u, np.ascontiguousarray(w_in, dtype=np.float64), w1, w2,
              np.ascontiguousarray(w_res, dtype=np.float64), COUPLINGS[coupling], a, c, states,
              gates, window_of, window_len, max_stretch, prod_index, run_prod, bool(nodes), skip,
              np.ascontiguousarray(d_power), np.ascontiguousarray(d_window_x),
              np.ascontiguousarray(d_window_q), np.ascontiguousarray(d_products, dtype=np.float64),
              np.ascontiguousarray(d_resonance_x, dtype=np.float64),
              np.ascontiguousarray(d_resonance_q, dtype=np.float64),
              g["w_in"], g["w1"], g["w2"], g["w_res"], g["a"], g["c"])
    g = {k: v.sum(axis=0) for k, v in g.items()}
    if not nodes:
        return {"w_in": g["w_in"], "w_res": g["w_res"]}
    through_a_c = quadrature_gradient(g.pop("a"), g.pop("c"), w1, w2, omega_p, beta_p, fs)
    g["w1"] += through_a_c[0]
    g["w2"] += through_a_c[1]
    return g


def quadrature_gradient(g_a, g_c, w1, w2, omega_p, beta_p, fs):
    """Gradients (K,) of w1 and w2 from those of the quadrature's coefficients ``a``, ``c`` (K,):
    a = (fs + beta_p)/omega_p and c = fs/omega_p depend on w1, w2 through the paper's
    constants."""
    w1, w2 = np.asarray(w1), np.asarray(w2)
    dt = 1.0 / fs
    d_omega = np.array([1.0 / (w2 * dt ** 2), (1.0 - w1) / (w2 ** 2 * dt ** 2)]) / (2 * omega_p)
    d_beta = np.array([-1.0 / (2 * w2 * dt), w1 / (2 * w2 ** 2 * dt)])
    d_a = d_beta / omega_p - (fs + beta_p) / omega_p ** 2 * d_omega
    d_c = -fs / omega_p ** 2 * d_omega
    return g_a * d_a[0] + g_c * d_c[0], g_a * d_a[1] + g_c * d_c[1]
