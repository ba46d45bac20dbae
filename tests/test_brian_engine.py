"""The Brian2 engine against the exact discrete engine (DESIGN.md: they must agree)."""
import re

import brian2 as b2
from brian2.devices import reinit_devices, reset_device
import numpy as np
import pytest
import quantities as pq

import rrnsim
from conftest import BOUND, random_w_res, relative_error
from rrnsim import oscillator
from rrnsim.engines.brian import BrianRRN, bin_spike_times

SUBSTEPS = 20  # integration steps per sample interval


def test_engines_agree_on_golden_gated_network(golden):
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=0), coupling="gated")
    X = np.random.default_rng(1).random((4, 300))
    error = relative_error(net.run(X, engine="brian2").x, net.run(X).x)
    print(f"\nengine agreement, golden gated, batch 4 x 300 steps: max |brian2 - discrete| = "
          f"{error:.2e} of the RMS (bound {BOUND:g})")
    assert error < BOUND


@pytest.mark.parametrize("coupling", ["phase", "none"])
def test_engines_agree_other_couplings_with_noise(golden, coupling):
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=2), coupling=coupling,
                     noise=0.2, seed=5, w_in=np.linspace(0.5, 1.5, 11))
    X = np.random.default_rng(3).random((2, 150))
    error = relative_error(net.run(X, engine="brian2").x, net.run(X).x)
    print(f"\nengine agreement, {coupling} with noise: {error:.2e} of the RMS")
    assert error < BOUND


def spike_source(engine, ticks):
    """A SpikeGeneratorGroup on the oscillators' clock: neuron ``i`` fires at the integration
    steps ``ticks[i]`` (times ``ticks[i]*dt``)."""
    indices = np.concatenate([np.full(len(t), i) for i, t in enumerate(ticks)])
    times = np.concatenate(ticks) * engine.oscillators.clock.dt
    return b2.SpikeGeneratorGroup(len(ticks), indices, times, clock=engine.oscillators.clock)


def test_spikes_between_sample_times_count_in_the_next_sample(golden):
    """Gated coupling: spikes on and between sample times drive the Brian2 network; the discrete
    engine gets the counts binned as the Brian2 engine sums them (``((n-1)/fs, n/fs]`` in u[n])."""
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=4), coupling="gated")
    n_samples, n_steps, fs = 3, 200, net.fs
    rng = np.random.default_rng(6)
    on_samples = np.arange(0, n_steps, 10) * SUBSTEPS
    ticks = [np.union1d(np.flatnonzero(rng.random((n_steps - 1) * SUBSTEPS + 1) < 0.005), on_samples)
             for _ in range(n_samples)]
    engine = BrianRRN(net, n_samples, n_steps, substeps=SUBSTEPS)
    engine.network.add(source := spike_source(engine, ticks))
    engine.connect_spikes(source, sample=np.arange(n_samples))
    counts = np.stack([bin_spike_times(t / (fs * SUBSTEPS), fs, n_steps) for t in ticks])
    error = relative_error(engine.run(), net.run(counts).x)
    print(f"\nspike-driven agreement (gated): {error:.2e} of the RMS")
    assert error < BOUND


def test_spike_source_on_the_sample_clock_matches_binned_counts(golden):
    """A source at dt = 1/fs (a common Brian2 set-up; Brian2 warns of the dt mismatch) delivers
    its spikes at the sample times: the discrete engine gets the same counts."""
    net = rrnsim.RRN(golden.frequencies, coupling="none")
    n_samples, n_steps, fs = 2, 200, net.fs
    rng = np.random.default_rng(7)
    steps = [np.flatnonzero(rng.random(n_steps) < 0.1) for _ in range(n_samples)]
    indices = np.concatenate([np.full(len(s), i) for i, s in enumerate(steps)])
    times = np.concatenate(steps) / fs
    source = b2.SpikeGeneratorGroup(n_samples, indices, times * b2.second, dt=b2.second / fs)
    engine = BrianRRN(net, n_samples, n_steps)
    engine.network.add(source)
    engine.connect_spikes(source, sample=np.arange(n_samples))
    counts = np.stack([bin_spike_times(times[indices == i], fs, n_steps) for i in range(n_samples)])
    error = relative_error(engine.run(), net.run(counts).x)
    print(f"\nspike source at dt = 1/fs: {error:.2e} of the RMS")
    assert error < BOUND


def test_spike_times_off_the_source_grid_are_binned_as_brian2_replays_them(golden):
    """Brian2's SpikeGeneratorGroup moves each spike down to the start of its time step, so a
    spike just after a sample time acts at that sample; ``source_dt`` bins the times the same
    way, and the engines agree again (exact times put those spikes one sample later)."""
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=12), coupling="gated")
    n_steps, fs = 100, net.fs
    engine = BrianRRN(net, 1, n_steps, substeps=SUBSTEPS)
    dt = engine.oscillators.clock.dt
    # 30 spikes 3 ms apart, each 0-1 sample interval after a sample time: 1 in 20 land in the
    # integration step that starts at the sample time
    times = (np.arange(1, 31) * 3 + np.random.default_rng(13).random(30)) / fs
    times[:3] = np.array([3, 6, 9]) / fs + 0.5 * float(dt)    # make sure some do
    source = b2.SpikeGeneratorGroup(1, np.zeros(30, dtype=int), times * b2.second,
                                    clock=engine.oscillators.clock)
    engine.network.add(source)
    engine.connect_spikes(source, sample=0)
    brian = engine.run()
    replayed = bin_spike_times(times, fs, n_steps, source_dt=dt)
    exact = bin_spike_times(times, fs, n_steps)
    assert replayed.sum() == exact.sum() == 30 and np.flatnonzero(replayed != exact).size >= 6
    assert relative_error(brian, net.run(replayed[None]).x) < BOUND
    assert relative_error(brian, net.run(exact[None]).x) > 100 * BOUND


def test_spikes_kick_the_oscillators_at_their_own_times(golden):
    """Coupling "none": each spike kicks ``v`` by ``W_in*gain`` at its own time, so ``x`` is the
    sum of damped sines ``exp(-beta*tau)*sin(omega_d*tau)/omega_d`` from the spike times (a kick
    one integration step early or late is off by about 5e-3 of the RMS)."""
    net = rrnsim.RRN(golden.frequencies, coupling="none", w_in=np.linspace(0.5, 1.5, 11)[:, None])
    n_steps, fs = 100, net.fs
    ticks = np.array([0, 5 * SUBSTEPS, 5 * SUBSTEPS + 7, 23 * SUBSTEPS + 13])
    engine = BrianRRN(net, 1, n_steps, substeps=SUBSTEPS)
    engine.network.add(source := spike_source(engine, [ticks]))
    engine.connect_spikes(source, sample=0)
    tau = (np.arange(1, n_steps + 1)[:, None] - ticks / SUBSTEPS)[..., None] / fs  # (time, spike, 1)
    omega_d = 2 * np.pi * net.frequencies
    kick = net.w_in[:, 0] * oscillator.kick_gain(net.frequencies, net.radius, fs)
    expected = (kick * np.exp(-net.beta * tau) * np.sin(omega_d * tau) / omega_d * (tau > 0)).sum(1)
    error = relative_error(engine.run()[0], expected)
    print(f"\nspike kicks against the damped-sine responses: {error:.2e} of the RMS")
    assert error < BOUND


def two_channel_network(golden, coupling):
    """The golden frequencies with two input channels of clearly different weights."""
    w_in = np.stack([np.linspace(0.5, 1.5, 11), np.linspace(-1.0, 2.0, 11)[::-1]], axis=1)
    return rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=10), coupling=coupling,
                      w_in=w_in)


def test_engines_agree_on_two_input_channels(golden):
    """Analog input of two channels: each node is driven by W_in @ u[n] over both channels, in
    Brian2 as in the discrete engine (channel 1 alone moves the states well past the bound)."""
    net = two_channel_network(golden, "gated")
    rng = np.random.default_rng(11)
    X = np.stack([rng.random((2, 150)), rng.standard_normal((2, 150))], axis=2)
    discrete = net.run(X).x
    error = relative_error(net.run(X, engine="brian2").x, discrete)
    print(f"\nengine agreement, two input channels: {error:.2e} of the RMS")
    assert error < BOUND
    only_channel_0 = X * [1.0, 0.0]
    assert relative_error(net.run(only_channel_0).x, discrete) > 100 * BOUND


@pytest.mark.parametrize("coupling", ["gated", "none"])
def test_spikes_drive_the_channel_they_are_connected_to(golden, coupling):
    """Two spike sources per sample, one on each input channel (``connect_spikes(channel=)``):
    each spike drives the nodes through its own channel's column of W_in."""
    net = two_channel_network(golden, coupling)
    n_samples, n_steps, fs = 2, 150, net.fs
    rng = np.random.default_rng(12)
    steps = [np.flatnonzero(rng.random(n_steps) < 0.08) for _ in range(2 * n_samples)]
    engine = BrianRRN(net, n_samples, n_steps, substeps=SUBSTEPS)
    engine.network.add(source := spike_source(engine, [s * SUBSTEPS for s in steps]))
    neurons = np.arange(2 * n_samples)          # neuron 2*s + c: sample s, channel c
    engine.connect_spikes(source, sample=neurons // 2, channel=neurons % 2)
    counts = np.zeros((n_samples, n_steps, 2))
    for j, s in enumerate(steps):
        counts[j // 2, :, j % 2] = bin_spike_times(s / fs, fs, n_steps)
    error = relative_error(engine.run(), net.run(counts).x)
    print(f"\nspike input on two channels ({coupling}): {error:.2e} of the RMS")
    assert counts[..., 1].sum() > 10
    assert error < BOUND


def test_spike_binning_is_causal():
    counts = bin_spike_times([0.0, 0.0004, 0.001, 0.0015], 1000.0, 3)
    np.testing.assert_array_equal(counts, [1, 2, 1])
    with pytest.raises(ValueError, match="0.0035"):
        bin_spike_times([0.0035], 1000.0, 3)
    np.testing.assert_array_equal(bin_spike_times([0.0, 0.4, 1.0, 1.5] * pq.ms, 1 * pq.kHz, 3),
                                  counts)
    # a replaying source at 0.1 ms moves 1.05 ms down to 1.0 ms (sample 1) and 1.49 ms to 1.4
    np.testing.assert_array_equal(bin_spike_times([1.05, 1.49] * pq.ms, 1000.0, 3), [0, 0, 2])
    np.testing.assert_array_equal(
        bin_spike_times([1.05, 1.49] * pq.ms, 1000.0, 3, source_dt=0.1 * b2.ms), [0, 1, 1])
    # on the source's grid a spike stays put, though 2.1 ms / 0.1 ms is just under 21 in floats
    np.testing.assert_array_equal(bin_spike_times([0.0021], 1000.0, 5, source_dt=1e-4),
                                  [0, 0, 0, 1, 0])
    for bad, message in (((0.5, 0.0, 3), "fs must be a finite positive number, got 0.0"),
                         (([np.nan], 1000.0, 3), "spike times must be finite, got nan"),
                         (([0.001], 1000.0, 2.5), "n_steps must be an integer, got 2.5")):
        with pytest.raises((TypeError, ValueError), match=re.escape(message)):
            bin_spike_times(*bad)


@pytest.mark.parametrize("options, message", [
    ({"substeps": 2.5}, "substeps must be an integer, got 2.5"),
    ({"n_steps": 10.7}, "n_steps must be an integer, got 10.7"),
    ({"n_samples": 0}, "n_samples must be at least 1, got 0"),
    ({"n_steps": 10.5 * b2.ms}, r"got duration=0.0105 s, fs=1000.0 Hz, i.e. 10.5 samples"),
    ({"n_steps": 5 * b2.mV}, "n_steps must be in units of s .or convertible., got 5. mV"),
])
def test_engine_sizes_must_be_whole_numbers(golden, options, message):
    """substeps=2.5 used to integrate at 0.4 ms with samples every 1 ms: kicks between steps."""
    sizes = {"n_samples": 1, "n_steps": 10, **options}
    with pytest.raises((TypeError, ValueError), match=message):
        BrianRRN(golden, **sizes)


def test_spike_sources_need_integer_sample_indices(golden):
    engine = BrianRRN(golden, n_samples=2, n_steps=10)
    source = b2.SpikeGeneratorGroup(2, [0], [1] * b2.ms)
    with pytest.raises(ValueError, match="sample must hold integer indices, got dtype float64"):
        engine.connect_spikes(source, sample=[0.0, 1.7])
    with pytest.raises(ValueError, match="channel must hold integer indices, got dtype float64"):
        engine.connect_spikes(source, sample=[0, 1], channel=1.7)
    with pytest.raises(ValueError, match=re.escape(
            "sample and channel must be one value or one per neuron of the source (3), got "
            "shapes (2,) and ()")):
        engine.connect_spikes(b2.SpikeGeneratorGroup(3, [0], [1] * b2.ms), sample=[0, 1])


def test_a_standalone_device_is_refused_when_the_engine_is_built(golden):
    b2.set_device("cpp_standalone", build_on_run=False)
    try:
        with pytest.raises(RuntimeError, match="runtime device; the current device is "
                                               "CPPStandaloneDevice"):
            BrianRRN(golden, n_samples=1, n_steps=10)
    finally:
        reset_device()
        reinit_devices()


def test_the_run_length_may_be_a_brian2_duration(golden):
    assert BrianRRN(golden, n_samples=1, n_steps=20 * b2.ms).n_steps == 20


def test_brian_objects_are_exposed_and_extendable(golden):
    engine = BrianRRN(golden, n_samples=2, n_steps=10, inputs=np.ones((2, 10, 1)))
    assert len(engine.oscillators) == 22
    extra = b2.StateMonitor(engine.oscillators, "v", record=[0])
    engine.network.add(extra)
    engine.run()
    assert extra.v.shape[1] == 200  # substeps * steps


def test_two_engines_share_one_network(golden):
    """Each engine's objects have unique names and their own namespace: two networks (different
    couplings, inputs, noise and lengths) run in one brian2.Network, each as it runs alone."""
    gated = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=8), coupling="gated")
    noisy = rrnsim.RRN(golden.frequencies, coupling="none", noise=0.2, seed=3)
    rng = np.random.default_rng(9)
    X_gated, X_noisy = rng.random((2, 40)), rng.random((3, 60))
    a = BrianRRN(gated, 2, 40, inputs=X_gated, substeps=SUBSTEPS)
    b = BrianRRN(noisy, 3, 60, inputs=X_noisy, substeps=SUBSTEPS)
    together = b2.Network(a.network.objects, b.network.objects)
    together.run(60 * a.sample_clock.dt, namespace={})
    assert relative_error(a.states(), gated.run(X_gated).x) < BOUND   # ran on past its 40 steps
    assert relative_error(b.states(), noisy.run(X_noisy).x) < BOUND
    with pytest.raises(RuntimeError, match="has run already"):
        a.run()


def test_an_engine_joining_a_network_that_has_run_starts_its_tables_there(golden):
    """The input and noise tables start at the engine's first sample time, not at t = 0: a
    user's Network runs 50.5 ms, then the engine's objects join it. A run that stops before the
    engine's last sample time is an error that says how far to run."""
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=10), coupling="gated",
                     noise=0.2, seed=4)
    X = np.random.default_rng(11).random((2, 40))
    warm_up = b2.Network(b2.NeuronGroup(1, "dy/dt = -y/(10*ms) : 1", method="exact"))
    warm_up.run(50.5 * b2.ms)
    engine = BrianRRN(net, 2, 40, inputs=X, substeps=SUBSTEPS)
    warm_up.add(engine.network.objects)
    warm_up.run(40 * b2.ms, namespace={})    # ends at 90.5 ms; the first sample time is 51 ms
    with pytest.raises(RuntimeError, match=re.escape(
            "the network stopped at 90.5 ms, not at the engine's last sample time 91. ms")):
        engine.states()
    warm_up.run(0.5 * b2.ms, namespace={})
    assert relative_error(engine.states(), net.run(X).x) < BOUND


def test_states_before_a_full_run_is_an_error(golden):
    engine = BrianRRN(golden, 1, 20, inputs=np.ones((1, 20)))
    with pytest.raises(RuntimeError, match="run it for n_steps/fs, with run.. or a brian2.Network "
                                           "holding network.objects .Brian2's magic run.. does "
                                           "not see the engine's objects."):
        engine.states()


def test_run_namespace_reaches_added_objects(golden):
    """Objects the user adds may use external names, given in ``run(namespace=...)``."""
    engine = BrianRRN(golden, 1, 20, inputs=np.ones((1, 20)))
    tracker = b2.NeuronGroup(1, "dy/dt = -y/tau_user : 1", method="exact")
    tracker.y = 1
    engine.network.add(tracker)
    engine.run(namespace={"tau_user": 10 * b2.ms})
    np.testing.assert_allclose(tracker.y[0], np.exp(-20 / 10), rtol=1e-3)


def test_a_sampling_rate_that_is_not_a_round_number_keeps_the_time_grids_aligned(caplog):
    """At 300 Hz, 1/(fs*substeps) did not divide 1/fs exactly in floating point, and Brian2
    warned that the input table's time grid was not aligned with the oscillators' dt."""
    net = rrnsim.RRN([5.0, 20.0, 60.0], fs=300.0, noise=0.1, seed=1)
    X = np.random.default_rng(0).random((1, 30))
    with caplog.at_level("WARNING", logger="brian2"):
        states = net.run(X, engine="brian2").x
    assert not [r for r in caplog.records if "not aligned" in r.getMessage()]
    assert relative_error(states, net.run(X).x) < BOUND
