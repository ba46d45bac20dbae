"""Tests of rrnsim.data.generators: Brian2 spike generators returning neo Blocks."""
import brian2 as b2
import neo
import numpy as np
import pytest
import quantities as pq

import rrnsim
from conftest import BOUND, random_w_res, relative_error, whole
from rrnsim.data import spike_task
from rrnsim.data.generators import (TASK_BANDS, bands_task, bin_block, load_nix,
                                    modulated_poisson, modulated_poisson_group, paper_task,
                                    save_nix)
from rrnsim.data.tasks import spike_task_rate
from rrnsim.engines.brian import BrianRRN, bin_spike_times
from rrnsim.spectral import peak_frequency, power_spectrum


def spike_times(block):
    """All spike times (s) of a block, per segment and train."""
    return [[train.rescale(pq.s).magnitude for train in seg.spiketrains] for seg in block.segments]


def assert_same_block(a, b):
    assert a.annotations == b.annotations
    assert len(a.segments) == len(b.segments)
    for sa, sb in zip(a.segments, b.segments):
        assert sa.name == sb.name
        assert sa.annotations == sb.annotations
        assert len(sa.spiketrains) == len(sb.spiketrains)
        for ta, tb in zip(sa.spiketrains, sb.spiketrains):
            assert ta.units == tb.units == pq.s
            assert ta.t_start == tb.t_start and ta.t_stop == tb.t_stop
            assert ta.sampling_rate == tb.sampling_rate and ta.annotations == tb.annotations
            np.testing.assert_array_equal(ta.magnitude, tb.magnitude)


# ---------------------------------------------------------------------------------------------
# Block structure and annotations
# ---------------------------------------------------------------------------------------------

def test_paper_task_block_structure():
    block = paper_task(9, seed=1)
    assert block.annotations == {"task": "paper_task", "fs": 1000.0, "duration": 0.1,
                                 "class_names": ["constant", "modulated"], "n_trains": 1,
                                 "seed": 1}
    labels = [seg.annotations["label"] for seg in block.segments]
    assert sorted(labels) == [0] * 4 + [1] * 5  # balanced as spike_task: the extra one is label 1
    for seg in block.segments:
        (train,) = seg.spiketrains
        assert train.units == pq.s and train.t_start == 0 * pq.s and train.t_stop == 0.1 * pq.s
        assert train.sampling_rate == 1000 * pq.Hz   # the spikes lie on the 1/fs grid
        assert seg.annotations["seed"] == 1
        if seg.annotations["label"] == 0:
            assert "frequency" not in seg.annotations and seg.annotations["band"] == ""
        else:
            f = seg.annotations["frequency"]
            assert 10 <= f <= 50 and seg.annotations["band"] == rrnsim.band_of(f)
            assert seg.annotations["phase"] == 0.0
        # spikes on the sample grid, never past the last sample
        steps = train.magnitude * 1000
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
        assert np.all(train.magnitude <= 0.099 + 1e-12)
    X, y = bin_block(block)
    assert X.shape == (9, 100) and X.dtype == np.float64 and y.dtype == np.int64
    assert set(np.unique(X)) <= {0.0, 1.0}
    np.testing.assert_array_equal(X.sum(1), [len(seg.spiketrains[0]) for seg in block.segments])
    np.testing.assert_array_equal(y, labels)


def test_bands_task_classes_frequencies_and_phases():
    block = bands_task(12, seed=4, duration=0.2, n_trains=2, fs=500.0)
    assert block.annotations["class_names"] == list(TASK_BANDS)
    assert {float(train.sampling_rate) for seg in block.segments for train in seg.spiketrains} \
        == {500.0}   # the trains' grid: the block's fs
    assert block.annotations["task"] == "bands_task" and block.annotations["n_trains"] == 2
    labels = np.array([seg.annotations["label"] for seg in block.segments])
    assert np.bincount(labels).tolist() == [2, 2, 3, 2, 3]
    for seg in block.segments:
        band = TASK_BANDS[seg.annotations["label"]]
        low, high = rrnsim.BANDS[band]
        assert seg.annotations["band"] == band and low <= seg.annotations["frequency"] < high
        assert 0 <= seg.annotations["phase"] < 2 * np.pi
        assert seg.annotations["rate"] == 30.0 and seg.annotations["depth"] == 1.0
        assert len(seg.spiketrains) == 2
    X, y = bin_block(block)
    np.testing.assert_array_equal(X.sum(1), [sum(len(t) for t in seg.spiketrains)
                                             for seg in block.segments])
    np.testing.assert_array_equal(y, labels)


def test_modulated_poisson_annotations():
    constant = modulated_poisson(3, 20.0, seed=2, label=1)
    assert constant.annotations["class_names"] == ["", "constant"]
    for seg in constant.segments:
        assert seg.annotations["label"] == 1 and seg.annotations["band"] == ""
        assert "frequency" not in seg.annotations and "phase" not in seg.annotations
    modulated = modulated_poisson(4, 20.0, depth=0.5, frequency_hz=(30, 40), phase="uniform",
                                  seed=2, class_name="thirties")
    assert modulated.annotations["class_names"] == ["thirties"]
    for seg in modulated.segments:
        assert 30 <= seg.annotations["frequency"] <= 40
        assert seg.annotations["band"] == "gamma" and seg.annotations["depth"] == 0.5


def test_constant_rate_ignores_the_phase():
    """frequency_hz=None is a constant rate_hz whatever the phase (not rate*(1 + sin(phase))):
    100 Hz over 20 x 1 s gives Binomial(20000, 0.1) spikes, 2000 +- 42."""
    block = modulated_poisson(20, 100.0, phase=1.5, duration=1.0, seed=11)
    n = sum(len(train) for seg in block.segments for train in seg.spiketrains)
    assert abs(n - 2000) < 5 * np.sqrt(20000 * 0.1 * 0.9)


# ---------------------------------------------------------------------------------------------
# NIX files
# ---------------------------------------------------------------------------------------------

def test_nix_round_trip_keeps_spikes_annotations_units(tmp_path):
    path = tmp_path / "trials.nix"
    first = modulated_poisson(2, 0.0, seed=3)  # empty trains
    assert all(len(seg.spiketrains[0]) == 0 for seg in first.segments)
    save_nix(first, path)
    block = paper_task(6, seed=5, n_trains=2, fs=2000.0)  # constant (band '', no frequency)
    assert block.segments[0].spiketrains[0].sampling_rate == 2000 * pq.Hz   # and modulated
    before = {k: dict(seg.annotations) for k, seg in enumerate(block.segments)}
    assert save_nix(block, path) == path  # overwrites the existing file
    loaded = load_nix(path)
    assert_same_block(loaded, block)
    assert [seg.annotations["trial"] for seg in loaded.segments] == list(range(6))  # the order
    assert {k: dict(seg.annotations) for k, seg in enumerate(block.segments)} == before
    assert "nix_name" not in block.annotations  # save_nix leaves the block as it was
    assert all(type(v) is type(block.annotations[k]) for k, v in loaded.annotations.items())
    assert [p.name for p in tmp_path.iterdir()] == ["trials.nix"]  # no temporary file left
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.stat().st_mode == plain.stat().st_mode  # as open() creates it, not 0600
    plain.unlink()
    X0, y0 = bin_block(block)
    X1, y1 = bin_block(loaded)
    np.testing.assert_array_equal(X0, X1)
    np.testing.assert_array_equal(y0, y1)
    # the empty trains survive too
    save_nix(first, path)
    assert_same_block(load_nix(path), first)


def test_load_nix_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.nix"):
        load_nix(tmp_path / "missing.nix")
    junk = tmp_path / "junk.nix"
    junk.write_bytes(b"not a nix file")
    with pytest.raises(ValueError, match="junk.nix"):
        load_nix(junk)
    with pytest.raises(ValueError, match="does not exist"):
        save_nix(paper_task(2, seed=0), tmp_path / "no" / "such.nix")


# ---------------------------------------------------------------------------------------------
# Same process as rrnsim.data.spike_task
# ---------------------------------------------------------------------------------------------

def process_statistics(X, y, fs, f_range, rate=100.0):
    """Constant-trial rate, modulated-trial rate and the class-1 PSTH against the expected rate
    (Bernoulli per bin with p = expected rate / fs): mean squared z-score over bins."""
    t = np.arange(X.shape[1]) / fs
    low, high = f_range
    # expected class-1 rate: spike_task_rate averaged over the uniform frequency prior
    expected = spike_task_rate(t, np.linspace(low, high, 4001), rate).mean(0)
    p = expected / fs
    const, mod = X[y == 0], X[y == 1]
    n0, n1 = len(const), len(mod)
    rate0 = const.mean() * fs
    se0 = np.sqrt(rate / fs * (1 - rate / fs) / const.size) * fs
    rate1 = mod.mean() * fs
    se1 = np.sqrt(np.mean(p * (1 - p)) / mod.size) * fs  # conservative
    psth = mod.mean(0)
    live = p > 1e-9
    z = (psth[live] - p[live]) / np.sqrt(p[live] * (1 - p[live]) / n1)
    flat = (psth - rate / fs) / np.sqrt(rate / fs * (1 - rate / fs) / n1)
    return dict(n=(n0, n1), rate0=rate0, z0=(rate0 - rate) / se0, rate1=rate1,
                z1=(rate1 - expected.mean()) / se1, chi2=np.mean(z ** 2),
                chi2_flat=np.mean(flat ** 2), dead_spikes=psth[~live].sum())


@pytest.mark.parametrize("f_range", [(25.0, 25.0), (10.0, 50.0)])
def test_paper_task_is_the_spike_task_process(f_range):
    n, fs = 800, 1000.0
    task = spike_task(n, seed=11, f_range=f_range)
    stats = {"spike_task": process_statistics(task.X, task.y, fs, f_range),
             "paper_task": process_statistics(*bin_block(paper_task(n, seed=11, f_range=f_range)),
                                              fs, f_range)}
    print(f"\nf_range {f_range} Hz, {n} trials:")
    for name, s in stats.items():
        print(f"  {name}: constant {s['rate0']:.1f} Hz (z {s['z0']:+.2f}), modulated "
              f"{s['rate1']:.1f} Hz (z {s['z1']:+.2f}), class-1 PSTH vs expected rate: "
              f"mean z^2 = {s['chi2']:.2f} (vs flat 100 Hz: {s['chi2_flat']:.1f})")
    for s in stats.values():
        assert s["n"] == (400, 400)
        assert abs(s["z0"]) < 4 and abs(s["z1"]) < 4
        assert 0.5 < s["chi2"] < 1.7  # PSTH follows the expected rate (100 bins: 1 +- 0.14)
        assert s["chi2_flat"] > 2  # ... and the check can tell a wrong rate
        assert s["dead_spikes"] == 0  # no spikes where the rate is zero


# ---------------------------------------------------------------------------------------------
# Spectrum
# ---------------------------------------------------------------------------------------------

def test_modulated_train_spectrum_peaks_at_modulation_frequency():
    block = modulated_poisson(4, 100.0, depth=1.0, frequency_hz=40.0, phase="uniform",
                              duration=2.0, seed=8)
    X, _ = bin_block(block)
    freqs, psd = power_spectrum(X[:, :, None], fs=1000.0, frequency_resolution=1.0)
    peak, prominence = peak_frequency(freqs, psd, fmin=2.0)
    print(f"\n40 Hz modulated trains (4 x 2 s): spectral peak {float(peak[0]):.1f} Hz, "
          f"prominence {prominence[0]:.1f} dB")
    assert abs(float(peak[0]) - 40.0) <= 1.0
    assert prominence[0] > 10


# ---------------------------------------------------------------------------------------------
# Driving the Brian2 engine
# ---------------------------------------------------------------------------------------------

def test_brian_engine_driven_by_generator_spikes(golden):
    """A generator's spikes, recreated as a SpikeGeneratorGroup (two trains per trial, summed),
    drive the Brian2 engine as bin_block's counts drive the discrete engine."""
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=7), coupling="gated")
    n_trains = 2
    block = modulated_poisson(3, 80.0, frequency_hz=(10.0, 50.0), phase="uniform",
                              duration=0.25, seed=9, n_trains=n_trains)
    X, _ = bin_block(block)
    n_trials, n_steps = X.shape
    indices, times = [], []
    for k, seg in enumerate(block.segments):
        for j, train in enumerate(seg.spiketrains):
            indices.append(np.full(len(train), k * n_trains + j))
            times.append(train.rescale(pq.s).magnitude)
    source = b2.SpikeGeneratorGroup(n_trials * n_trains, np.concatenate(indices),
                                    np.concatenate(times) * b2.second, dt=b2.second / net.fs)
    engine = BrianRRN(net, n_samples=n_trials, n_steps=n_steps)
    engine.network.add(source)
    engine.connect_spikes(source, sample=np.arange(n_trials * n_trains) // n_trains)
    error = relative_error(engine.run(), net.run(X).x)
    print(f"\ngenerator spikes -> Brian2 engine vs bin_block -> discrete engine (gated, "
          f"{n_trials} trials x {n_trains} trains, {n_steps} steps): max |diff| = {error:.2e} "
          f"of the RMS (bound {BOUND:g})")
    assert X.sum() > 50
    assert error < BOUND


def test_poisson_group_connected_directly_to_brian_engine(golden):
    """The generators' PoissonGroup inside the engine's network: states match the discrete
    engine on the recorded spikes, binned causally."""
    net = rrnsim.RRN(golden.frequencies, w_res=random_w_res(11, 0.1, seed=8), coupling="gated")
    n_trials, n_steps = 3, 250
    group = modulated_poisson_group(100.0, depth=1.0, frequency_hz=[12.0, 25.0, 40.0],
                                    phase=[0.0, 1.0, 2.0], fs=net.fs)
    assert len(group) == n_trials
    np.testing.assert_allclose(np.asarray(group.frequency), [12.0, 25.0, 40.0])
    monitor = b2.SpikeMonitor(group)
    engine = BrianRRN(net, n_samples=n_trials, n_steps=n_steps)
    engine.network.add(group, monitor)
    engine.connect_spikes(group, sample=np.arange(n_trials))
    b2.seed(3)
    states = engine.run()
    i, t = np.asarray(monitor.i), np.asarray(monitor.t_)
    counts = np.stack([bin_spike_times(t[i == k], net.fs, n_steps) for k in range(n_trials)])
    error = relative_error(states, net.run(counts).x)
    print(f"\nPoissonGroup in the engine's network vs discrete engine on its binned spikes: "
          f"{error:.2e} of the RMS")
    assert counts.sum() > 30
    assert error < BOUND


# ---------------------------------------------------------------------------------------------
# bin_block
# ---------------------------------------------------------------------------------------------

def hand_block(trains, duration=0.005, fs=1000.0, **segment_annotations):
    block = neo.Block(fs=fs, duration=duration)
    segment = neo.Segment(label=segment_annotations.pop("label", 0), **segment_annotations)
    segment.spiketrains.extend(trains)
    block.segments.append(segment)
    return block


def test_bin_block_measures_spikes_from_each_trains_t_start():
    """A trial cut from a recording (t_start 12.3 s) bins as the same trial starting at 0."""
    at_zero = neo.SpikeTrain([0.0, 0.0004, 0.0021], units="s", t_stop=0.005)
    cut = neo.SpikeTrain([12.3, 12.3004, 12.3021], units="s", t_start=12.3, t_stop=12.305)
    np.testing.assert_array_equal(bin_block(hand_block([cut]))[0], bin_block(hand_block([at_zero]))[0])
    late = neo.SpikeTrain([12.31], units="s", t_start=12.3, t_stop=12.32)
    with pytest.raises(ValueError, match=r"0.01 s \(from t_start\).*outside the trial"):
        bin_block(hand_block([late]))


def test_bin_block_bins_as_a_replaying_source_delivers():
    """``source_dt``: spike times moved down to a Brian2 SpikeGeneratorGroup's steps first."""
    train = neo.SpikeTrain([1.02, 2.02, 2.5], units="ms", t_stop=5.0)
    np.testing.assert_array_equal(bin_block(hand_block([train]))[0], [[0, 0, 1, 2, 0]])
    np.testing.assert_array_equal(bin_block(hand_block([train]), source_dt=0.05 * pq.ms)[0],
                                  [[0, 1, 1, 1, 0]])


def test_bin_block_causal_binning_population_and_units():
    trains = [neo.SpikeTrain([0.0, 0.0004, 0.001], units="s", t_stop=0.005),
              neo.SpikeTrain([1.5, 3.0, 5.0], units="ms", t_stop=5.0),  # 5 ms: after the trial
              neo.SpikeTrain([], units="s", t_stop=0.005)]
    X, y = bin_block(hand_block(trains, label=3))
    np.testing.assert_array_equal(X, [[1, 2, 1, 1, 0]])
    np.testing.assert_array_equal(y, [3])
    X2, _ = bin_block(hand_block(trains[2:]))
    np.testing.assert_array_equal(X2, np.zeros((1, 5)))
    X3, _ = bin_block(hand_block(trains, duration=0.005, fs=2000.0), fs=2000.0)
    np.testing.assert_array_equal(X3, [[1, 1, 1, 1, 0, 0, 1, 0, 0, 0]])


def test_bin_block_rejects_bad_blocks():
    good = [neo.SpikeTrain([0.001], units="s", t_stop=0.005)]
    block = hand_block(good)
    del block.segments[0].annotations["label"]
    with pytest.raises(ValueError, match=whole("segment 0 (None) is missing the annotation "
                                               "'label'")):
        bin_block(block)
    for key, message in (("fs", "the block (pass fs, or annotate it) is missing the annotation "
                                "'fs'"),
                         ("duration", "the block is missing the annotation 'duration'")):
        block = hand_block(good)
        del block.annotations[key]
        with pytest.raises(ValueError, match=whole(message)):
            bin_block(block)
    block = hand_block(good)
    del block.annotations["fs"]
    assert bin_block(block, fs=1000.0)[0].shape == (1, 5)  # fs given instead
    outside = ("s (from t_start) in spike train 0 of segment 0 (None) is outside the trial "
               "[0, 0.005] s")
    with pytest.raises(ValueError, match=whole(f"spike time 0.0075 {outside}")):
        bin_block(hand_block([neo.SpikeTrain([0.0075], units="s", t_stop=0.01)]))
    # -0.002 s, 8 ms into a train that starts at -0.01 s
    with pytest.raises(ValueError, match=whole(f"spike time 0.008 {outside}")):
        bin_block(hand_block([neo.SpikeTrain([-0.002], units="s", t_start=-0.01, t_stop=0.005)]))
    # neo refuses non-time units at construction; a train whose units were changed afterwards
    # (e.g. by a faulty reader) still reaches bin_block
    train = neo.SpikeTrain([0.001], units="s", t_stop=0.005)
    train._dimensionality = pq.mV.dimensionality
    with pytest.raises(ValueError, match=whole("spike train 0 of segment 0 (None) has units mV, "
                                               "which are not a time")):
        bin_block(hand_block([train]))
    with pytest.raises(ValueError, match=whole("segment 0 (None) has no spike trains")):
        bin_block(hand_block([]))
    with pytest.raises(ValueError, match=whole("segment 0 (None) has a label 'a' that is not an "
                                               "integer")):
        bin_block(hand_block(good, label="a"))
    with pytest.raises(TypeError, match=whole("block must be a neo.Block, got ndarray")):
        bin_block(np.zeros((2, 3)))


# ---------------------------------------------------------------------------------------------
# Bad input and seeds
# ---------------------------------------------------------------------------------------------

NYQUIST = "is not below the Nyquist frequency fs/2 = 500.0 Hz"
KNOWN_BANDS = "'delta', 'theta', 'alpha', 'beta', 'gamma', 'high gamma'"


@pytest.mark.parametrize("call, message", [
    (lambda: modulated_poisson(2, -5.0), "rate_hz must be a non-negative rate (Hz), got -5.0"),
    (lambda: modulated_poisson(2, 10.0, depth=1.5),
     "depth must be a modulation depth in [0, 1], got 1.5"),
    (lambda: modulated_poisson(2, 10.0, depth=-0.25),
     "depth must be a modulation depth in [0, 1], got -0.25"),
    (lambda: modulated_poisson(2, 10.0, frequency_hz=500.0),
     f"frequency_hz: frequency 500.0 Hz {NYQUIST}"),
    (lambda: modulated_poisson(2, 10.0, frequency_hz=0.0),
     "frequency_hz: frequency 0.0 Hz must be positive"),
    (lambda: modulated_poisson(2, 10.0, frequency_hz=-3.0),
     "frequency_hz: frequency -3.0 Hz must be positive"),
    (lambda: modulated_poisson(2, 10.0, frequency_hz=(10.0, 612.0)),
     f"frequency_hz: frequency 612.0 Hz {NYQUIST}"),
    (lambda: modulated_poisson(0, 10.0), "n_trials must be at least 1, got 0"),
    (lambda: modulated_poisson(2, 10.0, duration=0.0),
     "duration must be a finite positive number, got 0.0 s"),
    (lambda: modulated_poisson(2, 10.0, duration=-0.5),
     "duration must be a finite positive number, got -0.5 s"),
    (lambda: modulated_poisson(2, 600.0),   # peak above one spike per sample
     "rate_hz=600.0 Hz with depth=1.0 peaks at 1200.0 Hz, above one spike per sample at "
     "fs=1000.0 Hz (rate_hz*(1 + depth)/fs = 1.2 > 1)"),
    (lambda: modulated_poisson(2, 10.0, phase="random"),
     "phase must be a number (rad) or 'uniform', got 'random'"),
    (lambda: paper_task(0), "n_trials must be at least 1, got 0"),
    (lambda: paper_task(4, rate=-7.0), "rate must be a non-negative rate (Hz), got -7.0"),
    (lambda: paper_task(4, f_range=(10.0, 500.0)), f"f_range: frequency 500.0 Hz {NYQUIST}"),
    (lambda: paper_task(4, f_range=(-1.0, 20.0)), "f_range: frequency -1.0 Hz must be positive"),
    (lambda: paper_task(4, duration=-0.1),
     "duration must be a finite positive number, got -0.1 s"),
    (lambda: bands_task(-2), "n_trials must be at least 1, got -2"),
    (lambda: bands_task(5, rate_hz=-1.0), "rate_hz must be a non-negative rate (Hz), got -1.0"),
    (lambda: bands_task(5, depth=1.25), "depth must be a modulation depth in [0, 1], got 1.25"),
    (lambda: bands_task(5, fs=150.0),
     "band 'gamma' (30.0, 100.0) Hz reaches the Nyquist frequency fs/2 = 75 Hz"),
    (lambda: bands_task(5, bands=("delta", "omega")),
     f"unknown band 'omega' in bands=('delta', 'omega'); known: {KNOWN_BANDS}"),
    (lambda: bands_task(5, duration=0.0),
     "duration must be a finite positive number, got 0.0 s"),
    (lambda: modulated_poisson_group(-2.0), "rate_hz must be a non-negative rate (Hz), got -2.0"),
    (lambda: modulated_poisson_group(10.0, frequency_hz=700.0),
     "frequency_hz must be a frequency in [0, fs/2) = [0, 500) Hz (0: constant rate), got 700.0"),
    (lambda: modulated_poisson_group([50.0, 100.0] * pq.mV),
     "rate_hz must be in units of Hz (or convertible), got units mV"),
    (lambda: modulated_poisson_group(10.0, phase=1.0 * pq.s),
     "phase must be in units of rad (or convertible), got 1.0 s"),
])
def test_bad_input_names_the_value(call, message):
    with pytest.raises(ValueError, match=whole(message)):
        call()


def test_poisson_group_reads_quantities_in_their_units():
    group = modulated_poisson_group(0.1 * pq.kHz, frequency_hz=0.04 * pq.kHz, phase=90 * pq.deg,
                                    fs=1 * pq.kHz)
    np.testing.assert_allclose([float(group.rate[0] / b2.Hz), float(group.frequency[0] / b2.Hz),
                                float(group.phase[0])], [100.0, 40.0, np.pi / 2])


def test_same_seed_same_block_different_seeds_differ():
    a = bands_task(5, seed=21, duration=0.3)
    assert_same_block(a, bands_task(5, seed=21, duration=0.3))
    b = bands_task(5, seed=22, duration=0.3)
    assert not all(np.array_equal(x[0], z[0]) for x, z in zip(spike_times(a), spike_times(b)))
    # paper_task too, and a seed drawn when None is recorded and reproduces the block
    c = paper_task(6, seed=None)
    assert_same_block(c, paper_task(6, seed=c.annotations["seed"]))
    d = paper_task(6, seed=5)
    assert_same_block(d, paper_task(6, seed=5))
    assert not all(np.array_equal(x[0], z[0])
                   for x, z in zip(spike_times(d), spike_times(paper_task(6, seed=6))))
    # a numpy Generator gives one seed draw
    e = modulated_poisson(3, 50.0, frequency_hz=20.0, seed=np.random.default_rng(1))
    f = modulated_poisson(3, 50.0, frequency_hz=20.0, seed=np.random.default_rng(1))
    assert_same_block(e, f)


def test_generators_leave_global_random_state_alone():
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    paper_task(4, seed=1)
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_save_nix_progress_bar_counts_every_train_and_writes_the_same_file(tmp_path, capsys):
    from rrnsim.data.generators import _count_written_trains
    block = paper_task(3, seed=4, n_trains=2)
    save_nix(block, tmp_path / "quiet.nix")
    assert capsys.readouterr().err == ""
    save_nix(block, tmp_path / "bar.nix", progress=True)
    assert "writing bar.nix" in capsys.readouterr().err
    assert_same_block(load_nix(tmp_path / "bar.nix"), load_nix(tmp_path / "quiet.nix"))
    with neo.io.NixIO(str(tmp_path / "counted.nix"), mode="ow") as io:
        bar = _count_written_trains(io, block, "counted.nix")
        io.write_block(block)
    assert bar.n == bar.total == 6     # 3 trials of 2 trains: every train counted once
    bar.close()
