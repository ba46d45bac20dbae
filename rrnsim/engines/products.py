"""Time-averaged products of node states (the classifier's ``products`` features): their layout
and the closed forms the discrete engine uses to cross input-free stretches.

For each node k the run's two state signals are x[n] and its quadrature
``q[n] = ((x[n] - x[n-1])*fs + beta_p*x[n]) / omega_p = a*x[n] - c*x[n-1]`` (the paper's
amplitude is A**2 = x**2 + q**2). The features are the means over all T steps of the products
of these signals for every pair of nodes at most ``band`` apart in the layout's node order
(frequency order for the named layouts):

- each node k: mean(x_k*x_k), mean(x_k*q_k), mean(q_k*q_k);
- each pair k < l <= k + band: mean(x_k*x_l), mean(x_k*q_l), mean(q_k*x_l), mean(q_k*q_l).

They are second-order statistics of the input filtered by neighbouring resonators: the power
between two node frequencies shows in their cross products, which the per-node power misses.
:func:`rrnsim.engines.discrete.simulate` computes them (``products=band``) as it runs, and
:func:`rrnsim.engines.discrete.backward` back-propagates through them.
"""
import numpy as np
from numba import njit

__all__ = ["n_features", "feature_index", "stretch_tables"]

_last_tables = (None, None)     # (key, tables) of the last call to stretch_tables


def n_features(n_nodes, band):
    """Number of product features for ``n_nodes`` nodes and pairs at most ``band`` apart."""
    return len(feature_index(n_nodes, band))


def feature_index(n_nodes, band):
    """The product features in order, (F, 4) int64: rows (k, l, signal of k, signal of l), the
    signal 0 for x and 1 for q. A ``None`` band gives no features."""
    rows = []
    if band is not None:
        band = max(0, min(int(band), n_nodes - 1))
        for k in range(n_nodes):
            rows += [(k, k, 0, 0), (k, k, 0, 1), (k, k, 1, 1)]
            for l in range(k + 1, min(k + band + 1, n_nodes)):
                rows += [(k, l, 0, 0), (k, l, 0, 1), (k, l, 1, 0), (k, l, 1, 1)]
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def stretch_tables(w1, w2, a, c, index, n_max):
    """The products' closed forms over input-free stretches of 0..``n_max`` steps, (F, n_max + 1,
    2, 2) (:func:`_stretch_propagators`), for nodes with AR(2) coefficients ``w1``, ``w2`` and
    quadrature coefficients ``a``, ``c`` (each (K,)) and the feature ``index`` (F, 4). Kept for
    the next call with the same arguments: training asks for the same tables twice per batch
    (forward and adjoint), and without node parameters every batch."""
    global _last_tables
    arrays = [np.ascontiguousarray(v, dtype=np.float64) for v in (w1, w2, a, c)]
    key = (b"".join(v.tobytes() for v in arrays), index.tobytes(), int(n_max))
    cached_key, tables = _last_tables   # one read of one pair: safe when threads share the cache
    if cached_key != key:
        tables = _stretch_propagators(*arrays, index, int(n_max))
        _last_tables = key, tables
    return tables


@njit(cache=True)
def _stretch_propagators(w1, w2, a, c, index, n_max):
    """Closed forms of the products over stretches of m = 0..n_max steps without drive,
    (F, n_max + 1, 2, 2).

    With Y_k = (x_k[s], x_k[s-1]) at the stretch's first step s and M_k = [[w1, w2], [1, 0]],
    the signals at step s + j are ``x_k = (1, 0) M_k^j Y_k`` and ``q_k = (a_k, -c_k) M_k^j Y_k``.
    Feature i = (k, l, sk, sl) gains ``Y_k' out[i, m] Y_l`` over the stretch's m steps, where
    ``out[i, m] = sum_{j<m} r_k(j)' r_l(j)`` and r(j) is that signal's row vector.
    """
    n_feat = index.shape[0]
    n_node = w1.shape[0]
    out = np.zeros((n_feat, n_max + 1, 2, 2))
    power = np.zeros((n_node, 2, 2))    # M_k^j
    rows = np.zeros((n_node, 2, 2))     # the x and q rows of M_k^j
    for k in range(n_node):
        power[k, 0, 0] = power[k, 1, 1] = 1.0
    for j in range(n_max):
        for k in range(n_node):
            rows[k, 0, 0], rows[k, 0, 1] = power[k, 0, 0], power[k, 0, 1]
            rows[k, 1, 0] = a[k] * power[k, 0, 0] - c[k] * power[k, 1, 0]
            rows[k, 1, 1] = a[k] * power[k, 0, 1] - c[k] * power[k, 1, 1]
        for i in range(n_feat):
            k, l, sk, sl = index[i, 0], index[i, 1], index[i, 2], index[i, 3]
            for p in range(2):
                for r in range(2):
                    out[i, j + 1, p, r] = out[i, j, p, r] + rows[k, sk, p] * rows[l, sl, r]
        for k in range(n_node):
            p0, p1 = power[k, 0, 0], power[k, 0, 1]
            power[k, 0, 0] = w1[k] * p0 + w2[k] * power[k, 1, 0]
            power[k, 0, 1] = w1[k] * p1 + w2[k] * power[k, 1, 1]
            power[k, 1, 0], power[k, 1, 1] = p0, p1
    return out
