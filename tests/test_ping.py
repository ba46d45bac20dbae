"""Tests of rrnsim.data.ping: the PING network's emergent gamma rhythm and its two estimates.

Run with ``pytest -s tests/test_ping.py`` to see the table of settings, spectral peaks and
autocorrelation estimates.
"""
import brian2 as b2
import neo
import numpy as np
import pytest
import quantities as pq
import scipy.signal

from conftest import whole
from rrnsim.data import bin_block, load_nix, save_nix
from rrnsim.data.ping import (PING_DEFAULTS, autocorrelation_frequency, ping_network,
                              population_rate)
from rrnsim.spectral import peak_frequency, power_spectrum

FS = 1000.0          # Hz, population-rate sampling
DURATION = 1.2       # s per trial
TRANSIENT = 0.2      # s dropped from the start (initial conditions)
N_TRIALS = 4         # batched in one Brian2 run; spectra and autocorrelations averaged
SEED = 2024


def rhythm(**kwargs):
    """Run the network; return (spectral peak Hz, prominence dB, autocorrelation Hz, E rate Hz)."""
    block = ping_network(duration=DURATION, n_trials=N_TRIALS, seed=SEED, fs=FS, **kwargs)
    rates = np.array([seg.analogsignals[0].magnitude[:, 0] for seg in block.segments])
    rates = rates[:, int(TRANSIENT * FS):]                                   # (trial, time)
    freqs, psd = power_spectrum(rates[:, :, None], fs=FS, frequency_resolution=2.0)
    peak, prominence = peak_frequency(freqs, psd[:, 0], fmin=10.0, fmax=200.0)
    ac = autocorrelation_frequency(rates, FS)
    return float(peak), float(prominence), float(ac), float(rates.mean())


def print_table(title, name, rows):
    print(f"\n{title}")
    print(f"{name:>18} | spectral peak (Hz) | prominence (dB) | autocorr. (Hz) | diff "
          f"| E rate (Hz)")
    for value, (peak, prom, ac, rate) in rows:
        print(f"{value:>18} | {peak:18.1f} | {prom:15.1f} | {ac:14.2f} | "
              f"{abs(peak - ac) / ac:4.1%} | {rate:11.1f}")


def check_gamma(rows):
    for value, (peak, prominence, ac, _) in rows:
        assert 30.0 <= peak <= 80.0, f"{value}: spectral peak {peak} Hz outside 30-80 Hz"
        assert 30.0 <= ac <= 80.0, f"{value}: autocorrelation frequency {ac} Hz outside 30-80 Hz"
        assert abs(peak - ac) <= 0.1 * ac, f"{value}: spectral {peak} vs autocorrelation {ac} Hz"
        assert prominence > 10.0, f"{value}: gamma peak only {prominence:.1f} dB prominent"


@pytest.fixture(scope="module")
def by_tau():
    return [(tau, rhythm(tau_inh_decay=tau)) for tau in (5.0, 8.0, 12.0)]


def test_gamma_slows_with_inhibitory_decay(by_tau):
    print_table(f"PING gamma vs tau_inh_decay (drive 25 mV, {N_TRIALS} trials x "
                f"{DURATION - TRANSIENT:g} s, seed {SEED})", "tau_inh_decay (ms)", by_tau)
    check_gamma(by_tau)
    peaks = [row[1][0] for row in by_tau]
    acs = [row[1][2] for row in by_tau]
    assert peaks[0] > peaks[1] > peaks[2], f"spectral peaks {peaks} do not fall with tau"
    assert acs[0] > acs[1] > acs[2], f"autocorrelation frequencies {acs} do not fall with tau"


def test_gamma_quickens_with_drive(by_tau):
    # 25 mV is the default drive: the tau_inh_decay = 8 ms run above
    rows = [(25.0, dict(by_tau)[8.0]), (40.0, rhythm(drive=40.0))]
    print_table("PING gamma vs drive (tau_inh_decay 8 ms)", "drive (mV)", rows)
    check_gamma(rows)
    assert rows[0][1][2] < rows[1][1][2], "the rhythm does not quicken with the drive"


def spike_times(block):
    return [np.asarray(train.rescale(pq.s).magnitude) for seg in block.segments
            for train in seg.spiketrains]


def test_same_seed_same_spikes():
    a = ping_network(duration=0.3, n_trials=2, seed=7)
    other = ping_network(duration=0.3, n_trials=2, seed=8)
    # same values given as Brian2 quantities
    b = ping_network(duration=0.3 * b2.second, n_trials=2, seed=7, tau_inh_decay=8 * b2.ms,
                     drive=25 * b2.mV)
    assert sum(t.size for t in spike_times(a)) > 0
    assert all(np.array_equal(x, y) for x, y in zip(spike_times(a), spike_times(b)))
    assert not all(np.array_equal(x, y) for x, y in zip(spike_times(a), spike_times(other)))
    # the batched trials are independent copies, not replicas
    first, second = a.segments
    assert not np.array_equal(first.analogsignals[0].magnitude, second.analogsignals[0].magnitude)


def test_block_layout():
    block = ping_network(n_exc=40, n_inh=10, duration=0.25, n_trials=3, seed=1,
                         tau_inh_decay=6.0, drive=30.0)
    assert isinstance(block, neo.Block) and len(block.segments) == 3
    for k, seg in enumerate(block.segments):
        assert seg.annotations["label"] == 0 and seg.annotations["band"] == "gamma"
        assert seg.annotations["seed"] == 1 and seg.annotations["trial"] == k
        assert seg.annotations["tau_inh_decay_ms"] == 6.0 and seg.annotations["drive_mv"] == 30.0
        pops = [train.annotations["population"] for train in seg.spiketrains]
        assert pops == ["E"] * 40 + ["I"] * 10
        for train in seg.spiketrains:
            assert train.t_start == 0 * pq.s and train.t_stop == 0.25 * pq.s
            assert train.sampling_rate == 10 * pq.kHz    # dt 0.1 ms
        rate = seg.analogsignals[0]
        assert rate.name == "E rate" and rate.units == pq.Hz and rate.shape == (250, 1)
        assert rate.sampling_rate == 1000.0 * pq.Hz
        # the rate is the E spikes in 1-ms bins, per cell, in Hz
        e_times = np.concatenate([t.magnitude for t in seg.spiketrains[:40]])
        counts = np.histogram(e_times, bins=np.arange(251) / 1000.0)[0]
        np.testing.assert_allclose(rate.magnitude[:, 0], counts * 1000.0 / 40)
        assert seg.analogsignals[1].name == "I rate"


def same_spikes(a, b):
    return all(np.array_equal(x, y) for x, y in zip(spike_times(a), spike_times(b), strict=True))


def small(**kwargs):
    """A short, small PING run (about a second with compiled code)."""
    return ping_network(**{"n_exc": 20, "n_inh": 5, "duration": 0.1, **kwargs})


def test_seed_none_is_drawn_recorded_and_saved_to_nix(tmp_path):
    block = small(seed=None, n_trials=2)
    seed = block.annotations["seed"]
    assert isinstance(seed, int) and all(seg.annotations["seed"] == seed for seg in block.segments)
    assert same_spikes(small(seed=seed, n_trials=2), block)
    loaded = load_nix(save_nix(block, tmp_path / "ping.nix"))
    assert loaded.annotations == block.annotations
    for seg, back in zip(block.segments, loaded.segments):
        assert back.annotations == seg.annotations
    assert same_spikes(loaded, block)


def test_numpy_global_random_state_is_restored():
    before = np.random.get_state()
    small(seed=5)
    after = np.random.get_state()
    assert after[0] == before[0] and after[2:] == before[2:]
    np.testing.assert_array_equal(after[1], before[1])


def test_block_has_generator_annotations_and_bins():
    block = small(seed=3, n_trials=2)
    assert block.annotations["fs"] == block.annotations["fs_hz"] == 1000.0
    assert block.annotations["duration"] == 0.1 and block.annotations["task"] == "ping"
    assert block.annotations["class_names"] == ["ping"] and block.annotations["n_trains"] == 25
    X, y = bin_block(block)
    assert X.shape == (2, 100) and y.tolist() == [0, 0]
    for counts, seg in zip(X, block.segments):
        times = np.concatenate([t.magnitude for t in seg.spiketrains])
        assert counts.sum() == np.sum(times <= 0.099 + 1e-9) > 0  # the last ms is after sample 99


DT = PING_DEFAULTS["dt"]     # Brian2 writes it as "100. us"


@pytest.mark.parametrize("kwargs, message", [
    ({"n_exc": -1}, "n_exc must be at least 1, got -1"),
    ({"n_inh": 0}, "n_inh must be at least 1, got 0"),
    ({"n_trials": -2}, "n_trials must be at least 1, got -2"),
    ({"duration": 0.0}, "duration must be positive, got 0.0"),
    ({"duration": -0.5}, "duration must be positive, got -0.5"),
    ({"tau_inh_decay": -4.0}, "tau_inh_decay must be positive, got -4.0"),
    ({"tau_inh_decay": 5 * b2.mV},
     f"tau_inh_decay must be a scalar in units of ms, got {5 * b2.mV!r}"),
    ({"fs": 0.0}, "fs must be a positive, finite number in Hz, got 0.0"),
    # a rate bin of half a dt step: every other bin empty
    ({"fs": 20000.0}, "the rate bin 1/fs = 5e-05 s (fs=20000 Hz) must be a whole number of time "
                      f"steps dt = {DT}, got 0.5 steps"),
    ({"fs": 3000.0}, "the rate bin 1/fs = 0.000333333 s (fs=3000 Hz) must be a whole number of "
                     f"time steps dt = {DT}, got 3.33333 steps"),
    ({"seed": -3}, "seed must be in [0, 2**63) (it is stored as an annotation), got -3"),
    ({"params": {"g_ie": -1.0}}, "g_ie must be non-negative, got -1.0"),
    # seconds given where plain numbers mean ms: the integration would blow up silently
    ({"tau_inh_decay": 0.008}, f"tau_inh_decay = {0.008 * b2.ms} is shorter than the time step "
                               f"dt = {DT} (plain numbers are in ms)"),
    ({"params": {"tau_m_exc": 0.01}}, f"tau_m_exc = {0.01 * b2.ms} is shorter than the time step "
                                      f"dt = {DT} (plain numbers are in ms)"),
    ({"params": {"no_such": 1.0}},
     f"unknown PING parameter 'no_such'; known: {', '.join(PING_DEFAULTS)}"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=whole(message)):
        ping_network(**kwargs)


def test_rate_bins_hold_whole_steps():
    with pytest.raises(ValueError, match="dt") as error:
        small(seed=1, params={"dt": 0.3})
    assert "fs=1000" in str(error.value)
    assert small(seed=1, fs=2000.0).segments[0].analogsignals[0].shape == (200, 1)


def test_population_rate_refuses_spikes_outside_the_window():
    for outside in (0.5, 0.1, -0.0005, np.nan):
        with pytest.raises(ValueError, match=f"spike time {outside} s"):
            population_rate([0.05, outside], 1, 0.1)
    rate = population_rate([0.0, 0.0005, 0.099, 0.0999], 2, 0.1)
    assert rate.shape == (100,) and np.flatnonzero(rate).tolist() == [0, 99]
    np.testing.assert_allclose(rate[[0, 99]], [1000.0, 1000.0])
    np.testing.assert_array_equal(population_rate([0.0, 0.5, 99.0, 99.9] * pq.ms, 2, 0.1), rate)
    with pytest.raises(ValueError, match="n_cells"):
        population_rate([0.05], 0, 0.1)


def test_defaults_are_documented_quantities():
    assert PING_DEFAULTS["dt"] == 0.1 * b2.ms
    assert set(PING_DEFAULTS) >= {"g_ee", "g_ei", "g_ie", "g_ii", "sigma_exc", "sigma_inh"}


# --- the autocorrelation estimate on its own -----------------------------------------------------
@pytest.mark.parametrize("f", [33.3, 47.1, 71.9])
def test_autocorrelation_frequency_of_noisy_sines(f):
    rng = np.random.default_rng(3)
    t = np.arange(2000) / FS
    phases = rng.uniform(0, 2 * np.pi, (3, 1))
    x = np.sin(2 * np.pi * f * t + phases) + 0.3 * rng.normal(size=(3, 2000))
    assert float(autocorrelation_frequency(x, FS)) == pytest.approx(f, rel=0.01)
    # a neo.AnalogSignal (time, channel) reads its own sampling rate
    signal = neo.AnalogSignal(x.T, units="Hz", sampling_rate=FS * pq.Hz)
    assert autocorrelation_frequency(signal).units == pq.Hz
    assert float(autocorrelation_frequency(signal)) == pytest.approx(f, rel=0.01)


def test_autocorrelation_frequency_without_rhythm_is_nan():
    assert np.isnan(float(autocorrelation_frequency(np.ones(500), FS)))
    assert np.isnan(float(autocorrelation_frequency(np.exp(-np.arange(500) / 20.0), FS)))


def test_autocorrelation_frequency_finds_no_rhythm_in_noise_and_finds_a_real_one():
    """White, Poisson and red (AR(1), 0.9) noise: no rhythm in 40 draws each (the white-noise
    threshold 3/sqrt(N) found one in 11%, 20% and 98% of them); a 40 Hz rhythm of half the
    mean rate in a 100-cell Poisson population rate is found, at 40 Hz."""
    rng = np.random.default_rng(7)
    t = np.arange(1000) / FS
    noises = {"white": lambda: rng.standard_normal(1000),
              "poisson": lambda: rng.poisson(2.0, 1000).astype(float),
              "red": lambda: scipy.signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(1000))}
    for name, noise in noises.items():
        found = [float(autocorrelation_frequency(noise(), FS)) for _ in range(40)]
        assert np.isnan(found).all(), (name, found)
    rate = rng.poisson(20 * (1 + 0.5 * np.sin(2 * np.pi * 40 * t)) * 100 / FS, (4, 1000))
    assert float(autocorrelation_frequency(rate.astype(float), FS)) == pytest.approx(40, rel=0.03)


def test_autocorrelation_frequency_bad_input():
    with pytest.raises(ValueError, match=whole("fs (Hz) is required for an array rate")):
        autocorrelation_frequency(np.zeros(100))
    with pytest.raises(ValueError,
                       match=whole("rate has a non-finite value NaN at index (0, 50)")):
        autocorrelation_frequency(np.r_[np.zeros(50), np.nan, np.zeros(49)], FS)
    with pytest.raises(ValueError, match=whole("fs must be a positive, finite number in Hz, got "
                                               "-5.0")):
        autocorrelation_frequency(np.zeros(100), -5.0)


def test_ping_reports_the_progress_of_its_brian2_run():
    completed = []
    ping_network(n_exc=8, n_inh=2, duration=0.05, seed=3,
                 report=lambda elapsed, done, start, duration: completed.append(float(done)))
    assert completed and completed[-1] == 1.0
