"""The centred resonance (``rrnsim.engines.centring``) against its definition on uncoupled nodes."""
import numpy as np

from rrnsim import RRN
from rrnsim.engines import centring
from rrnsim.engines.discrete import quadrature_coefficients


def delayed(signal):
    """(batch, time, K) signals one step later, zero at the start."""
    return np.concatenate([np.zeros_like(signal[:, :1]), signal[:, :-1]], axis=1)


def test_step_response_and_its_derivatives():
    w1, w2 = np.array([1.9, 1.2]), np.array([-0.95, -0.5])
    s, d1, d2 = centring.step_response(w1, w2, 30)
    expected = np.zeros((32, 2))
    for n in range(30):
        expected[n + 2] = w1 * expected[n + 1] + w2 * expected[n] + 1.0
    np.testing.assert_allclose(s, expected[2:], rtol=1e-12)
    h = 1e-6
    for k, derivative in ((0, d1), (1, d2)):
        up, down = [w1.copy(), w2.copy()], [w1.copy(), w2.copy()]
        up[k] += h
        down[k] -= h
        fd = (centring.step_response(*up, 30)[0] - centring.step_response(*down, 30)[0]) / (2 * h)
        np.testing.assert_allclose(derivative, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


def test_uncoupled_nodes_resonate_with_the_fluctuations_of_their_input():
    """x = x_c + gbar*s for uncoupled nodes, x_c the response to g - gbar: the centred
    resonance is mean_n (g[n] - gbar)*x_c[n-1] less gbar*x_c[T-1]/T (and the same with q), and
    the trials' mean drive leaves it alone."""
    rng = np.random.default_rng(1)
    net = RRN([3.0, 20.0, 70.0], radius=[0.999, 0.99, 0.98], coupling="none",
              w_in=rng.normal(size=(3, 2)))
    u = rng.random((4, 50, 2)) * (rng.random((4, 50, 1)) < 0.5)
    omega_p, beta_p = net.paper_constants

    def centred(u):
        out = net.summaries(u, n_windows=3, resonance=True)
        return centring.CentredResonance(u, net.w_in, net.w1, net.w2, omega_p, beta_p, net.fs,
                                         out).features()
    got = centred(u)
    g = u @ net.w_in.T                                  # each node's input (batch, time, K)
    g_bar = g.mean(axis=1, keepdims=True)
    by_node = RRN(net.frequencies, radius=net.radius, coupling="none", w_in=np.eye(3))
    x_c = by_node.run(g - g_bar).x                      # the response to the fluctuations
    a, c = quadrature_coefficients(omega_p, beta_p, net.fs)
    q_c = a * x_c - c * delayed(x_c)
    T = u.shape[1]
    for name, state in (("centred_x", x_c), ("centred_q", q_c)):
        expected = ((g - g_bar) * delayed(state)).mean(axis=1) - g_bar[:, 0] * state[:, -1] / T
        np.testing.assert_allclose(got[name], expected, rtol=1e-8,
                                   atol=1e-10 * np.abs(expected).max())
    np.testing.assert_allclose(got["mean_input"], u.mean(axis=1), rtol=1e-12)
    # a constant added to the input moves the raw resonance, and the centred one only by the
    # boundary term's change of gbar
    shift = 0.3 * net.w_in.sum(axis=1)                  # the change of each node's gbar
    moved = centred(u + 0.3)["centred_x"] - got["centred_x"]
    np.testing.assert_allclose(moved, -shift * x_c[:, -1] / T, rtol=1e-7,
                               atol=1e-9 * np.abs(got["centred_x"]).max())
    raw_moved = (net.summaries(u + 0.3, resonance=True)["resonance_x"]
                 - net.summaries(u, resonance=True)["resonance_x"])
    assert np.all(np.abs(raw_moved) > 50 * np.abs(moved))


def test_features_are_float64_whatever_the_input_dtype_and_the_shared_tables_read_only():
    """Narrow inputs are read in float64 (the centring cancels large terms), and the cached
    step-response tables, shared by every batch with the same nodes, cannot be changed."""
    rng = np.random.default_rng(2)
    net = RRN([5.0, 30.0], radius=0.999, coupling="none", w_in=rng.normal(size=(2, 1)))
    u = (rng.random((3, 40, 1)) < 0.3).astype(np.float16) * np.float16(0.7)
    omega_p, beta_p = net.paper_constants

    def build(u):
        out = net.summaries(u, n_windows=2, resonance=True)
        return centring.CentredResonance(u, net.w_in, net.w1, net.w2, omega_p, beta_p, net.fs,
                                         out)
    narrow, wide = build(u), build(u.astype(np.float64))
    for name, values in narrow.features().items():
        np.testing.assert_array_equal(values, wide.features()[name])
    assert not narrow.s.flags.writeable and not narrow.S_x.flags.writeable
