import brian2 as b2
import numpy as np
import pytest
import quantities as pq
from scipy.special import expit

import rrnsim
from conftest import random_w_res, whole


def paper_reference(net, X, noise=None):
    """The paper's formulation written out step by step (DESIGN.md), one sample at a time."""
    K, (B, T) = net.n_nodes, X.shape[:2]
    X = X.reshape(B, T, -1)
    w1, w2 = net.w1, net.w2
    omega_p, beta_p = net.paper_constants
    states, power = np.zeros((B, T, K)), np.zeros((B, K))
    for b in range(B):
        x1, x2 = np.zeros(K), np.zeros(K)
        for n in range(T):
            g = net.w_in @ X[b, n]
            if net.coupling == "gated":
                gate = np.tanh(x1 * g)
            elif net.coupling == "phase":
                gate = expit(np.cos(np.arctan2((x1 - x2) * net.fs + beta_p * x1, omega_p * x1)))
            else:
                gate = np.zeros(K)
            drive = g + net.w_res @ gate + (0 if noise is None else noise[b, n])
            x = w1 * x1 + w2 * x2 + drive
            v = (x - x1) * net.fs
            power[b] += x ** 2 + ((v + beta_p * x) / omega_p) ** 2
            states[b, n] = x
            x2, x1 = x1, x
    return states, power / T


@pytest.mark.parametrize("coupling", ["gated", "phase", "none"])
def test_discrete_engine_is_the_papers_formulation(golden, coupling):
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, 0), coupling=coupling)
    X = np.random.default_rng(1).random((3, 120))
    states, power = paper_reference(net, X)
    np.testing.assert_allclose(net.run(X).x, states, rtol=1e-12, atol=1e-12 * np.abs(states).max())
    np.testing.assert_allclose(net.features(X), power, rtol=1e-11)


def test_gate_tanh_matches_numpy():
    """The kernel's own tanh (a rational and doublings, so that it vectorises) against numpy's:
    relative error within 2e-15 over dense random points, near zero included; -0, inf, NaN."""
    from numba import njit
    from rrnsim.engines.discrete import _tanh

    @njit
    def gate_tanh(z):
        out = np.empty_like(z)
        for i in range(z.size):
            out[i] = _tanh(z[i])
        return out

    rng = np.random.default_rng(0)
    z = np.concatenate([rng.uniform(-1, 1, 200_000), rng.uniform(-25, 25, 200_000),
                        np.geomspace(1e-300, 1, 3001), -np.geomspace(1e-300, 1, 3001), [1e300]])
    got = gate_tanh(z)
    np.testing.assert_allclose(got, np.tanh(z), rtol=2e-15, atol=0)
    assert np.abs(got).max() <= 1.0
    special = gate_tanh(np.array([-0.0, np.inf, -np.inf, np.nan]))
    assert np.signbit(special[0]) and special[0] == 0.0
    np.testing.assert_array_equal(special[1:3], [1.0, -1.0])
    assert np.isnan(special[3])


@pytest.mark.parametrize("coupling", ["gated", "none"])
def test_summaries_cross_silent_stretches_exactly(golden, coupling):
    """Input-free stretches (spike-train-like input, long silences, windows that cut them) are
    crossed in closed form; the summaries still match the step-by-step formulation."""
    rng = np.random.default_rng(4)
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, 0), coupling=coupling)
    X = (rng.random((4, 300)) < 0.05) * 1.0
    X[1, 40:260] = 0.0
    X[2] = 0.0
    X[3, :5] = 1.0
    states, power = paper_reference(net, X)
    omega_p, beta_p = net.paper_constants
    previous = np.concatenate([np.zeros((4, 1, 11)), states[:, :-1]], axis=1)
    quadrature = ((states - previous) * net.fs + beta_p * states) / omega_p
    out = net.summaries(X, n_windows=3)
    scale = np.abs(states).max()
    np.testing.assert_allclose(out["power"], power, rtol=1e-9, atol=1e-12 * scale ** 2)
    for key, series in (("window_x", states), ("window_q", quadrature)):
        means = np.stack([w.mean(axis=1) for w in np.array_split(series, 3, axis=1)], axis=1)
        np.testing.assert_allclose(out[key], means, rtol=1e-9, atol=1e-11 * np.abs(series).max())


def test_multichannel_input():
    rng = np.random.default_rng(2)
    net = rrnsim.RRN([5.0, 20.0, 60.0], radius=0.99, w_in=rng.normal(size=(3, 2)),
                     w_res=random_w_res(3, 0.2, 3))
    X = rng.random((2, 50, 2))
    np.testing.assert_allclose(net.run(X).x, paper_reference(net, X)[0], rtol=1e-12, atol=1e-12)


def test_noise_is_seeded_and_independent_of_blocking(golden, monkeypatch):
    net = rrnsim.RRN(golden.frequencies, noise=0.5, seed=7, w_res=random_w_res(11, 0.1, 0))
    X = np.random.default_rng(1).random((5, 40))
    first = net.run(X).x
    np.testing.assert_array_equal(first, net.run(X).x)
    noise = 0.5 * np.random.default_rng(7).standard_normal((5, 40, 11))
    np.testing.assert_allclose(first, paper_reference(net, X, noise)[0], rtol=1e-12, atol=1e-9)
    monkeypatch.setattr("rrnsim.network._BLOCK", 2)  # three blocks: same noise, same states
    np.testing.assert_array_equal(net.run(X).x, first)
    assert not np.array_equal(rrnsim.RRN(golden.frequencies, noise=0.5, seed=8).run(X).x, first)


def test_run_result_times(golden):
    res = golden.run(np.zeros((1, 4)))
    np.testing.assert_allclose(res.t, [0.001, 0.002, 0.003, 0.004])
    assert res.x.shape == (1, 4, 11) and res.x.dtype == np.float64


def test_features_streams_large_batches(golden):
    X = np.random.default_rng(0).random((3000, 30)).astype(np.float32)  # two blocks
    F = golden.features(X)
    assert F.shape == (3000, 11)
    np.testing.assert_allclose(F[2500], golden.features(X[2500:2501])[0])


SHAPE = "X must have shape (batch, time) or (batch, time, channels), got shape "


@pytest.mark.parametrize("X, message", [
    (np.array([[0.0, np.nan, 1.0]]), "X has a non-finite value NaN at index (0, 1, 0)"),
    (np.array([[0.0, np.inf]]), "X has a non-finite value inf at index (0, 1, 0)"),
    (np.zeros(5), SHAPE + "(5,). Reshape your data: X[None] for a single trial."),
    (np.zeros((2, 3, 4, 5)), SHAPE + "(2, 3, 4, 5)."),
    (np.zeros((0, 3)), "X has 0 sample(s) (shape=(0, 3)) while a minimum of 1 is required."),
    (np.zeros((2, 0)), "X has no time steps: 0 feature(s) (shape=(2, 0)) while a minimum of 1 "
                       "is required."),
    (np.zeros((2, 3, 0)), "X has 0 channels (shape=(2, 3, 0)): give at least one"),
    (np.zeros((2, 3), dtype=complex), "Complex data not supported: X has dtype complex128"),
    (np.array([[0.5, "a"]], dtype=object), "X must be numeric: could not convert string to "
                                           "float: 'a'"),
    (np.zeros((2, 3, 2)), "X has 2 channel(s) but the network's w_in takes 1"),
    (np.array([["a", "b"]]), "X must be numeric, got dtype <U1"),
])
def test_bad_inputs_are_named(golden, X, message):
    with pytest.raises(ValueError, match=whole(message)):
        golden.features(X)


UNSTABLE = "unstable node(s): "
POLES = "is not in (0, 1): its poles must lie inside the unit circle, away from 0"


@pytest.mark.parametrize("kwargs, message", [
    (dict(frequencies=[10.0], radius=1.0), f"{UNSTABLE}radius 1.0 of 10 Hz {POLES}"),
    (dict(frequencies=[10.0], radius=1.5), f"{UNSTABLE}radius 1.5 of 10 Hz {POLES}"),
    (dict(frequencies=[10.0], radius=0.0), f"{UNSTABLE}radius 0.0 of 10 Hz {POLES}"),
    (dict(frequencies=[10.0, 700.0]),
     f"{UNSTABLE}frequency 700 Hz is at or above Nyquist (500 Hz)"),
    (dict(frequencies=[10.0], fs=0), "fs must be a finite positive number, got 0.0 Hz"),
    (dict(frequencies=[10.0], fs=-5.0), "fs must be a finite positive number, got -5.0 Hz"),
    (dict(frequencies=[10.0, 20.0], w_res=np.zeros((3, 3))),
     "w_res must have shape (2, 2) for 2 nodes, got (3, 3)"),
    (dict(frequencies=[10.0, 20.0], w_res=np.ones((2, 2))),
     "w_res must have a zero diagonal; w_res[0, 0] = 1.0"),
    (dict(frequencies=[10.0, 20.0], w_in=np.ones((3, 1))),
     "w_in must have shape (2, channels) for 2 nodes, got (3, 1)"),
    (dict(frequencies=[10.0], coupling="magnetic"),
     "coupling must be one of none, gated, phase, got 'magnetic'"),
    (dict(frequencies=[10.0], coupling=["gated"]),
     "coupling must be one of none, gated, phase, got ['gated']"),
    (dict(frequencies=[np.nan]), "frequencies has a non-finite value NaN at index (0,)"),
    (dict(frequencies=["a"]), "frequencies must be numeric, got dtype <U1"),
    (dict(frequencies=[10.0], radius="0.9"), "radius must be numeric, got dtype <U3"),
    (dict(frequencies=[10.0], noise=-1.0), "noise must be a finite non-negative number, got -1.0"),
    (dict(frequencies=[10.0, 20.0], radius=[0.9, 0.9, 0.9]),
     "radius must be one value or one per node (2), got shape (3,)"),
    (dict(frequencies=[10.0], fs=pq.Quantity(1.0, "ms")),
     "fs must be in units of Hz (or convertible), got 1.0 ms"),
])
def test_bad_network_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=whole(message)):
        rrnsim.RRN(**kwargs)


def test_a_seed_of_the_wrong_type_is_named_at_construction():
    with pytest.raises(TypeError, match=whole("seed must be an integer, got 'x'")):
        rrnsim.RRN([10.0], noise=1.0, seed="x")


def test_brian2_quantities_are_converted_and_wrong_units_refused():
    """Brian2 quantities hold SI values: read bare, 10*ms would be 0.01 Hz."""
    assert rrnsim.RRN([10.0] * b2.Hz, fs=2 * b2.kHz).fs == 2000.0
    np.testing.assert_allclose(rrnsim.RRN([10.0, 20.0] * b2.Hz).frequencies, [10.0, 20.0])
    np.testing.assert_allclose(rrnsim.RRN([0.01 * pq.kHz, 20 * pq.Hz]).frequencies, [10.0, 20.0])
    with pytest.raises(ValueError, match=r"frequencies must be in units of .*Hz.*got \[10.\] ms"):
        rrnsim.RRN([10.0] * b2.ms)
    with pytest.raises(ValueError, match="fs must be in units of .*Hz.*got 1. kV"):
        rrnsim.RRN([10.0], fs=1000 * b2.volt)
    with pytest.raises(ValueError, match="frequencies mixes units"):
        rrnsim.RRN([1 * pq.s, 2 * pq.Hz])
    with pytest.raises(TypeError, match="frequencies mixes plain numbers and quantities"):
        rrnsim.RRN([10.0, 20 * pq.Hz])
    with pytest.raises(ValueError, match=whole("frequencies must be in units of Hz (or "
                                               "convertible), got units s")):
        rrnsim.RRN([5 * pq.s, 10 * pq.s])
    with pytest.raises(ValueError, match=whole("frequencies is ragged: its rows differ in length")):
        rrnsim.RRN([[5 * pq.Hz], [5 * pq.Hz, 6 * pq.Hz]])
    with pytest.raises(TypeError, match=whole("X must be plain numbers (the drive is "
                                              "dimensionless), got units mV")):
        rrnsim.RRN([10.0]).run([[1 * pq.mV, 2 * pq.mV]])   # nested: no unit dropped
    for drive, units in ((np.ones((1, 3)) * b2.mV, "units V"), (np.ones((1, 3)) * pq.mV, "units mV")):
        with pytest.raises(TypeError, match=f"X must be plain numbers .*got {units}"):
            rrnsim.RRN([10.0]).run(drive)


def test_sampling_rate_as_a_quantity_is_converted():
    assert rrnsim.RRN([10.0], fs=1 * pq.kHz).fs == 1000.0
    with pytest.raises(TypeError, match="noise must be a plain number"):
        rrnsim.RRN([10.0], noise=0.1 * pq.Hz)


def test_bad_summary_and_count_arguments_are_named(golden):
    with pytest.raises(ValueError, match="products must be at least 0, got -1"):
        golden.summaries(np.zeros((1, 5)), products=-1)
    with pytest.raises(TypeError, match="n_windows must be an integer, got 2.5"):
        golden.summaries(np.zeros((1, 5)), n_windows=2.5)
    with pytest.raises(ValueError, match="n_classes must be at least 2, got -3"):
        golden.n_parameters(-3)
    with pytest.raises(ValueError, match="resonance must be True or False, got 'no'"):
        golden.summaries(np.zeros((1, 5)), resonance="no")


def test_overflowing_states_are_an_error_naming_the_input(golden):
    with pytest.raises(FloatingPointError, match="overflowed .* input reaches 1e\\+300"):
        golden.features(np.full((1, 3), 1e300))


def test_the_brian2_engine_takes_no_duration(golden):
    with pytest.raises(TypeError, match=whole("the Brian2 engine runs for the input's length, "
                                              "X.shape[1]/fs; give no duration")):
        golden.run(np.zeros((1, 10)), engine="brian2", duration=0.01)


def test_unknown_engine(golden):
    message = "engine must be 'discrete' or 'brian2', got 'nest'"
    with pytest.raises(ValueError, match=whole(message)):
        golden.run(np.zeros((1, 3)), engine="nest")
