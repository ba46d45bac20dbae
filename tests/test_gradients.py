"""Back-propagation through the oscillators against central finite differences (float64)."""
import numpy as np
import pytest

from rrnsim.classifier import RRNClassifier


def small_problem(features, train_nodes=True, products=None, seed=0):
    """A fitted-shape classifier on a 4-node network, and one batch with zeros and two channels.

    The engine crosses the input-free stretches in closed form, except for the node parameters'
    gradients with ``products`` (``discrete.steps_through_silence``)."""
    rng = np.random.default_rng(seed)
    clf = RRNClassifier(spec="e", features=features, windows=3, components=2, products=products,
                        train_recurrent=True, train_input=True, train_nodes=train_nodes,
                        w_res_init=0.3, seed=seed, verbose=False)
    u = rng.random((5, 40, 2)) * (rng.random((5, 40, 1)) < 0.5)
    clf.n_channels_ = 2
    clf._init(2, 3, rng)
    clf.network_.radius = np.array([0.99, 0.985, 0.98, 0.97, 0.95])  # keep FD well conditioned
    clf.params_["node_beta"] = np.log(clf.network_.beta)
    for name in ("bn_scale", "bn_shift", "readout_bias"):
        clf.params_[name] += rng.normal(0, 0.3, clf.params_[name].shape)
    clf._sync_network()
    return clf, u, np.array([0, 1, 2, 1, 0])


def central_difference(loss, p, idx, h):
    """Richardson-extrapolated central difference (error O(h**4))."""
    def diff(step):
        original = p[idx]
        p[idx] = original + step
        up = loss()
        p[idx] = original - step
        down = loss()
        p[idx] = original
        return (up - down) / (2 * step)
    return (4 * diff(h / 2) - diff(h)) / 3


@pytest.mark.parametrize("train_nodes", [True, False])
@pytest.mark.parametrize("features, products", [("power", None), ("phase", None), ("phase", 1),
                                                ("resonance", None), ("resonance", 1),
                                                ("centred", None), ("centred", 1)])
def test_every_gradient_matches_finite_differences(features, products, train_nodes):
    clf, u, y = small_problem(features, train_nodes, products)
    l2 = 0.05  # the ridge prior on the readout's weights, part of the loss
    _, grads = clf._gradients(u, y, l2)

    def loss():
        clf._sync_network()
        return clf._gradients(u, y, l2)[0]

    K = clf.network_.n_nodes
    for name, grad in grads.items():
        p = clf.params_[name]
        fd = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            if name == "w_res" and idx[0] == idx[1]:
                continue  # the diagonal is fixed at zero
            fd[idx] = central_difference(loss, p, idx, 1e-4 * max(1.0, abs(p[idx])))
        clf._sync_network()
        off = ~np.eye(K, dtype=bool) if name == "w_res" else np.ones(p.shape, dtype=bool)
        error = np.abs(grad - fd)[off]
        bound = 1e-6 * np.abs(fd)[off] + 1e-9 * np.abs(fd).max()
        print(f"{features:>5} products={products} train_nodes={train_nodes:d} {name:>15}: "
              f"max |g - g_fd| / bound = {(error / bound).max():.3f}")
        assert np.all(error <= bound), name
    assert set(grads) == {"w_res", "w_in", "bn_scale", "bn_shift", "readout_weight",
                          "readout_bias"} | ({"node_f", "node_beta"} if train_nodes else set())


@pytest.mark.parametrize("max_stretch", [None, 5])
def test_closed_form_stretches_equal_stepping_on_random_networks(max_stretch, monkeypatch):
    """Summaries and gradients (W_in, W_res, and the node parameters' without products) with
    input-free stretches crossed in closed form equal those of stepping through them, on random
    small networks, inputs, windows, products bands, resonance summaries and couplings; also with
    stretches cut every 5 steps (as long runs are, every 4096)."""
    from rrnsim import RRN
    from rrnsim.engines import discrete
    if max_stretch:
        monkeypatch.setattr(discrete, "_MAX_STRETCH", max_stretch)
    rng = np.random.default_rng(0)
    for case in range(24):
        K, C, T, B = rng.integers(1, 6), rng.integers(1, 3), int(rng.integers(1, 60)), 3
        net = RRN(np.sort(rng.uniform(1, 200, K)), radius=rng.uniform(0.9, 0.99999),
                  w_res=rng.normal(0, 0.3, (K, K)) * (1 - np.eye(K)), w_in=rng.normal(size=(K, C)),
                  coupling=["gated", "none"][case % 2])
        u = rng.random((B, T, C)) * (rng.random((B, T, 1)) < rng.uniform(0, 1))
        u[0, :, 0] = 0.0  # a silent channel
        u[1] = 0.0        # a silent sample
        W = int(rng.integers(0, T + 1))
        if max_stretch:
            W = case % 2    # no or one window: stretches longer than the cap
        band = [None, 0, None, 1, None, 2, None, 5][case % 8]
        resonance = case % 3 != 0
        omega_p, beta_p = net.paper_constants
        args = (u, net.w_in, net.w1, net.w2, net.w_res, net.coupling, omega_p, beta_p, net.fs)
        stepped, skipped = (discrete.simulate(*args, record_gates=True, n_windows=W, skip_silent=skip,
                                              products=band, resonance=resonance)
                            for skip in (False, True))
        for key in ("power", "window_x", "window_q", "products", "resonance_x", "resonance_q"):
            np.testing.assert_allclose(skipped.get(key, 0), stepped.get(key, 0), rtol=1e-9,
                                       atol=1e-11 * np.abs(stepped.get(key, 0)).max())
        d = [rng.normal(size=(B, K)), rng.normal(size=(B, W, K)), rng.normal(size=(B, W, K))]
        options = {"products": band,
                   "d_products": None if band is None else rng.normal(size=stepped["products"].shape)}
        if resonance:
            options.update(d_resonance_x=rng.normal(size=(B, K)),
                           d_resonance_q=rng.normal(size=(B, K)))
        full = discrete.backward(*args, stepped["states"], stepped["gates"], *d, nodes=True,
                                 skip_silent=False, **options)
        # states the skipping forward pass did not write (np.empty's leftovers; the written ones
        # equal stepping's up to rounding): NaN, so that reading one shows
        unwritten = ~np.isclose(skipped["states"], stepped["states"], rtol=1e-6, atol=1e-12)
        skipped["states"][unwritten] = np.nan
        fast = discrete.backward(*args, skipped["states"], skipped["gates"], *d, nodes=False,
                                 **options)
        assert set(fast) == {"w_in", "w_res"}
        if not discrete.steps_through_silence(True, band):
            fast.update(discrete.backward(*args, skipped["states"], skipped["gates"], *d,
                                          nodes=True, **options))
            assert set(fast) == set(full)
        for key in fast:
            np.testing.assert_allclose(fast[key], full[key], rtol=1e-8,
                                       atol=1e-11 * np.abs(full[key]).max())


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_products_are_the_mean_products_of_the_recorded_signals(noise):
    """``RRN.summaries`` products (closed-form stretches; stepped when noise is on) equal their
    definition computed from the states that ``RRN.run`` records."""
    from rrnsim import RRN
    from rrnsim.engines import discrete, products
    rng = np.random.default_rng(1)
    K, T = 5, 60
    net = RRN([4.0, 9.0, 20.0, 45.0, 90.0], radius=0.98, noise=noise, seed=3,
              w_res=rng.normal(0, 0.3, (K, K)) * (1 - np.eye(K)))
    u = rng.random((3, T)) * (rng.random((3, T)) < 0.3)
    x = net.run(u).x
    omega_p, beta_p = net.paper_constants
    a, c = discrete.quadrature_coefficients(omega_p, beta_p, net.fs)
    q = a * x - c * np.concatenate([np.zeros((3, 1, K)), x[:, :-1]], axis=1)
    signals = (x, q)
    index = products.feature_index(K, 2)
    assert len(index) == products.n_features(K, 2) == 3 * 5 + 4 * (4 + 3)
    expected = np.stack([(signals[sk][:, :, k] * signals[sl][:, :, l]).mean(axis=1)
                         for k, l, sk, sl in index], axis=1)
    got = net.summaries(u, n_windows=2, products=2)["products"]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11 * np.abs(expected).max())
    assert products.n_features(K, None) == 0 and products.n_features(K, 10) == products.n_features(K, 4)


def test_resonance_is_the_mean_input_times_the_previous_signals():
    """``RRN.summaries`` resonance (closed-form stretches) equals its definition, the means over
    time of g[n]*x[n-1] and g[n]*q[n-1] with g = W_in @ u, from the recorded states."""
    from rrnsim import RRN
    from rrnsim.engines import discrete
    rng = np.random.default_rng(2)
    K, T = 4, 50
    net = RRN([5.0, 12.0, 30.0, 70.0], radius=0.97, w_in=rng.normal(size=(K, 2)),
              w_res=rng.normal(0, 0.3, (K, K)) * (1 - np.eye(K)))
    u = rng.random((3, T, 2)) * (rng.random((3, T, 1)) < 0.3)
    x = net.run(u).x
    a, c = discrete.quadrature_coefficients(*net.paper_constants, net.fs)
    x_before = np.concatenate([np.zeros((3, 1, K)), x[:, :-1]], axis=1)               # x[n-1]
    q_before = a * x_before - c * np.concatenate([np.zeros((3, 2, K)), x[:, :-2]], axis=1)
    g = u @ net.w_in.T
    got = net.summaries(u, resonance=True)
    np.testing.assert_allclose(got["resonance_x"], (g * x_before).mean(axis=1), rtol=1e-9)
    np.testing.assert_allclose(got["resonance_q"], (g * q_before).mean(axis=1), rtol=1e-9)
    assert "resonance_x" not in net.summaries(u)


def test_backward_refuses_resonance_derivatives_of_the_wrong_shape():
    from rrnsim import RRN
    from rrnsim.engines import discrete
    net = RRN([5.0, 12.0, 30.0])
    u = np.ones((4, 10, 1))
    args = (u, net.w_in, net.w1, net.w2, net.w_res, net.coupling, *net.paper_constants, net.fs)
    out = discrete.simulate(*args, record_gates=True, resonance=True)
    for shape in [(1, 3), (4, 2)]:
        with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
            discrete.backward(*args, out["states"], out["gates"], np.zeros((4, 3)),
                              d_resonance_x=np.zeros(shape), d_resonance_q=np.zeros(shape))
    with pytest.raises(ValueError, match="both"):
        discrete.backward(*args, out["states"], out["gates"], np.zeros((4, 3)),
                          d_resonance_x=np.zeros((4, 3)))
