"""Spectral analysis (rrnsim.spectral): known answers, the golden network against its analytic
spectrum, and bad inputs. All data are made here; run with ``pytest -s`` to see the figures."""

import re

import brian2 as b2
import neo
import numpy as np
import pytest
import quantities as pq
from elephant.conversion import BinnedSpikeTrain

import rrnsim
from rrnsim import spectral
from rrnsim.oscillator import ar2_power_spectrum

FS = 1000.0  # Hz


def sinusoid(freq_hz, seconds=4.0, amplitude=1.0, noise=0.1, seed=0):
    """A sinusoid (Hz) plus a little white noise, sampled at FS."""
    t = np.arange(int(seconds * FS)) / FS
    rng = np.random.default_rng(seed)
    return amplitude * np.sin(2 * np.pi * freq_hz * t) + noise * rng.standard_normal(t.size)


# --- the golden network against its analytic spectrum ------------------------------------------
def test_golden_network_peaks_within_one_bin_single_run():
    """The issue's criterion, literally: one 20 s white-noise run of the golden network (radius
    0.99); each node's Welch peak within one bin of its frequency (nodes up to 100 Hz) and its log
    spectrum correlated >= 0.9 with the analytic one over 1-200 Hz. Bins are 2 Hz: at radius 0.99
    the low nodes' resonances are wider than their frequency (the 2 Hz node peaks at 1.2 Hz), so
    finer bins place the damped peak, not f (the test below checks those at 0.25 Hz)."""
    net = rrnsim.RRN.from_spec("golden", radius=0.99)
    drive = np.random.default_rng(0).standard_normal((1, int(20 * net.fs)))
    freqs, psd = spectral.power_spectrum(net.run(drive).x, fs=net.fs, frequency_resolution=2.0)
    f, p = freqs.magnitude, psd.magnitude
    bin_hz = f[1] - f[0]
    peak = spectral.peak_frequency(freqs, psd)[0].magnitude
    analytic = ar2_power_spectrum(f, net.frequencies, net.radius, net.fs)
    band = (f >= 1) & (f <= 200)
    corr = np.array([np.corrcoef(np.log(p[band, i]), np.log(analytic[band, i]))[0, 1]
                     for i in range(net.n_nodes)])
    up_to_100 = net.frequencies <= 100
    error_bins = np.abs(peak - net.frequencies)[up_to_100] / bin_hz
    print(f"\ngolden, radius 0.99, one 20 s run, {bin_hz:g} Hz bins: max |peak - f| = "
          f"{error_bins.max():.2f} bins (nodes <= 100 Hz); min log-spectrum correlation "
          f"{corr.min():.3f}")
    assert np.all(error_bins <= 1.0), error_bins
    assert corr.min() >= 0.9, corr


def test_golden_network_welch_spectrum_matches_analytic_ar2_spectrum():
    """White noise drives the golden layout (radius 0.99) for 20 s at 1 kHz.

    At radius 0.99 each node's damping is beta = -ln(0.99)*1000 = 10.05 /s, so its resonance
    is about beta/pi = 3.2 Hz wide (half power), 13 bins of 0.25 Hz, and its PSD peaks below the
    configured (damped) frequency f, at sqrt(f**2 - (beta/2pi)**2) in continuous time: 1.20 Hz
    for the 2 Hz node, 2.81 Hz for 3.24 Hz. So the peak is compared with the analytic spectrum's
    own peak, and "found" means inside the node's half-power band (the analytic PSD at the
    measured peak is within 3 dB of its maximum). A batch of 16 runs tames the Welch variance:
    with one run the argmax scatters by up to ~8 bins over that 13-bin-wide top, and the flat
    245.9-Hz node's log-spectrum correlation over 1-200 Hz stays near 0.87 whatever the seed.
    """
    net = rrnsim.RRN.from_spec("golden", radius=0.99)
    rng = np.random.default_rng(2506)
    drive = rng.standard_normal((16, int(20 * net.fs)))
    freqs, psd = spectral.power_spectrum(net.run(drive).x, fs=net.fs, frequency_resolution=0.25)
    f, p = freqs.magnitude, psd.magnitude
    bin_hz = f[1] - f[0]
    assert bin_hz == pytest.approx(0.25)
    analytic = ar2_power_spectrum(f, net.frequencies, net.radius, net.fs)

    peak, prominence = spectral.peak_frequency(freqs, psd)
    analytic_peak, _ = spectral.peak_frequency(freqs, analytic)
    peak, analytic_peak = peak.magnitude, analytic_peak.magnitude
    k = np.arange(net.n_nodes)
    drop_db = 10 * np.log10(analytic.max(axis=0) / analytic[np.searchsorted(f, peak), k])
    band = (f >= 1) & (f <= 200)
    corr = np.array([np.corrcoef(np.log(p[band, i]), np.log(analytic[band, i]))[0, 1] for i in k])
    level = np.median(p[band] / analytic[band])  # Welch density vs 2/fs/|A|**2: same scaling

    print(f"\ngolden, radius 0.99, 16 x 20 s at 1 kHz, Welch bins {bin_hz} Hz")
    print("  f (Hz)  analytic peak  Welch peak  err vs f (bins)  err vs analytic (bins)  "
          "drop (dB)  prominence (dB)  log-corr")
    for i in k:
        print(f"{net.frequencies[i]:8.2f} {analytic_peak[i]:14.2f} {peak[i]:11.2f} "
              f"{(peak[i] - net.frequencies[i]) / bin_hz:16.1f} "
              f"{(peak[i] - analytic_peak[i]) / bin_hz:22.1f} {drop_db[i]:10.2f} "
              f"{prominence[i]:16.1f} {corr[i]:9.4f}")
    up_to_100 = net.frequencies <= 100
    print(f"max |peak - f| (<=100 Hz): {np.abs(peak - net.frequencies)[up_to_100].max():.2f} Hz; "
          f"max |peak - analytic peak|: {np.abs(peak - analytic_peak)[up_to_100].max():.2f} Hz; "
          f"max drop {drop_db[up_to_100].max():.2f} dB; min log-corr {corr.min():.4f}; "
          f"median Welch/analytic {level:.3f}")

    # (a) each node's peak (up to 100 Hz) lies in its resonance: the analytic PSD there is within
    #     3 dB of its maximum; the analytic peak itself is within a bin of f from 8.47 Hz up
    assert np.all(drop_db[up_to_100] <= 3.0), drop_db
    above_shift = up_to_100 & (net.frequencies > 8)
    assert np.all(np.abs(analytic_peak - net.frequencies)[above_shift] <= bin_hz)
    # (b) each node's log spectrum follows the analytic one over 1-200 Hz
    assert corr.min() >= 0.9, corr
    assert 0.9 < level < 1.1


# --- known answers ------------------------------------------------------------------------------
def test_sinusoid_peak_welch_and_multitaper_agree():
    x = sinusoid(12.0)
    f_w, p_w = spectral.power_spectrum(x, fs=FS, frequency_resolution=0.5)
    f_m, p_m = spectral.power_spectrum(x, fs=FS, method="multitaper", frequency_resolution=1.0)
    peak_w, prom_w = spectral.peak_frequency(f_w, p_w)
    peak_m, prom_m = spectral.peak_frequency(f_m, p_m)
    assert peak_w.units == pq.Hz and p_w.units == pq.dimensionless / pq.Hz
    assert abs(peak_w.magnitude - 12.0) <= 0.5
    assert abs(peak_m.magnitude - 12.0) <= f_m[1].magnitude  # multitaper bins are 1/4 s apart
    assert abs(peak_w.magnitude - peak_m.magnitude) <= 0.5
    assert prom_w > 20 and prom_m > 20


@pytest.mark.parametrize("n_time", [1000, 999])
def test_white_noise_is_flat_up_to_nyquist_in_both_methods(n_time):
    """One-sided PSD of unit white noise: 2/fs in every bin but DC and, for an even length, the
    Nyquist bin, which holds 1/fs (Elephant's multitaper doubles it; rrnsim does not)."""
    x = np.random.default_rng(1).standard_normal((200, n_time, 1))
    for method, options in (("welch", {"frequency_resolution": 10.0}), ("multitaper", {})):
        freqs, psd = spectral.power_spectrum(x, fs=FS, method=method, **options)
        psd = psd.magnitude[:, 0]
        assert abs(psd[5:-5].mean() * FS / 2 - 1) < 0.02, method
        nyquist = 1 if freqs[-1].magnitude == FS / 2 else 2
        assert abs(psd[-1] * FS / nyquist - 1) < 0.1, (method, psd[-1] * FS)


def test_multitaper_removes_the_mean_like_welch():
    """A constant-rate Poisson count (mean 50, no rhythm) has a flat spectrum: multitaper band
    powers agree with Welch's and no peak sits in the delta band (Elephant's multitaper alone
    keeps the mean, which leaks into ~1000x the delta power and a 1 Hz peak everywhere). A
    sinusoid plus an offset still peaks at the sinusoid, and an offset changes nothing."""
    counts = np.random.default_rng(0).poisson(50, (4000, 4)).astype(float)  # 4 s, 4 channels
    welch = spectral.band_power(*spectral.power_spectrum(counts, fs=FS, frequency_resolution=2.0))
    freqs, psd = spectral.power_spectrum(counts, fs=FS, method="multitaper")
    multitaper = spectral.band_power(freqs, psd)
    for name in ("delta", "theta", "alpha", "beta"):
        np.testing.assert_allclose(multitaper[name].magnitude, welch[name].magnitude, rtol=0.5,
                                   err_msg=name)
    assert np.all(spectral.peak_frequency(freqs, psd)[0].magnitude > 4.0)
    x = sinusoid(12.0)
    _, plain = spectral.power_spectrum(x, fs=FS, method="multitaper")
    freqs, offset = spectral.power_spectrum(x + 50.0, fs=FS, method="multitaper")
    np.testing.assert_allclose(offset.magnitude, plain.magnitude, atol=1e-9)
    assert abs(spectral.peak_frequency(freqs, offset)[0].magnitude - 12.0) <= freqs[1].magnitude


def test_peak_frequency_search_range_and_edge_prominence():
    x = sinusoid(12.0) + sinusoid(40.0, amplitude=0.5, noise=0.0)
    freqs, psd = spectral.power_spectrum(x, fs=FS, frequency_resolution=0.5)
    assert spectral.peak_frequency(freqs, psd, fmin=30, fmax=50)[0].magnitude == pytest.approx(40)
    assert spectral.peak_frequency(freqs, psd, fmin=0, fmax=20)[0].magnitude == pytest.approx(12)
    # a range whose maximum sits on the flank of the 12 Hz peak finds no local maximum
    assert spectral.peak_frequency(freqs, psd, fmin=12.5 * pq.Hz, fmax=14)[1] == 0.0


def test_band_power_of_a_sinusoid_lands_in_its_band():
    amplitude = 2.0  # mV: power amplitude**2/2 = 2 mV**2
    signal = neo.AnalogSignal(sinusoid(10.0, amplitude=amplitude, noise=0.01)[:, None],
                              units="mV", sampling_rate=FS * pq.Hz)
    powers = spectral.band_power(*spectral.power_spectrum(signal, frequency_resolution=0.5))
    assert list(powers) == list(rrnsim.BANDS)
    alpha = powers["alpha"]
    assert alpha.units == pq.mV ** 2 / pq.Hz * pq.Hz
    assert alpha.magnitude[0] == pytest.approx(amplitude ** 2 / 2, rel=0.05)
    for name, power in powers.items():
        if name != "alpha":
            assert power.magnitude[0] < 0.01 * alpha.magnitude[0], name


def test_band_power_of_a_flat_spectrum_on_coarse_bins_is_level_times_width():
    freqs = np.arange(0, 500, 4.5)  # bins coarser than the alpha band's 5 Hz
    powers = spectral.band_power(freqs * pq.Hz, np.full((freqs.size, 2), 2.0) * pq.mV ** 2 / pq.Hz)
    for name, (low, high) in rrnsim.BANDS.items():
        np.testing.assert_allclose(powers[name].magnitude, 2.0 * (high - low))
    # adjacent bands add up to the power from 1 to 200 Hz, here of a sloped spectrum
    slope = 1.0 / (1.0 + freqs)
    fine = np.linspace(1, 200, 200_001)
    total = sum(power.magnitude for power in spectral.band_power(freqs, slope).values())
    assert total == pytest.approx(np.trapezoid(np.interp(fine, freqs, slope), fine), rel=1e-6)


def test_band_power_is_nan_for_a_band_beyond_nyquist():
    freqs, psd = spectral.power_spectrum(sinusoid(10.0), fs=300.0, frequency_resolution=1.0)
    powers = spectral.band_power(freqs, psd)  # Nyquist 150 Hz: high gamma is only half covered
    assert np.isnan(powers["high gamma"].magnitude) and np.isfinite(powers["gamma"].magnitude)


def test_shapes_batch_average_and_axis():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2000, 4))  # (batch, time, node)
    freqs, psd = spectral.power_spectrum(x, fs=FS, frequency_resolution=2.0)
    assert psd.shape == (freqs.size, 4)
    per_trial = [spectral.power_spectrum(trial, fs=FS, frequency_resolution=2.0)[1] for trial in x]
    np.testing.assert_allclose(psd.magnitude, np.mean([p.magnitude for p in per_trial], axis=0))
    one = spectral.power_spectrum(x[0, :, 0], fs=FS, frequency_resolution=2.0)[1]
    assert one.shape == (freqs.size,)
    transposed = spectral.power_spectrum(x[0].T, fs=FS, frequency_resolution=2.0, axis=1)[1]
    np.testing.assert_allclose(transposed.magnitude, per_trial[0].magnitude)
    # a sampling interval (time quantity) is read as 1/fs
    same = spectral.power_spectrum(x[0], fs=1 * pq.ms, frequency_resolution=2.0)[1]
    np.testing.assert_allclose(same.magnitude, per_trial[0].magnitude)


@pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")  # Elephant's
def test_binned_spike_trains_show_their_modulation():
    rng = np.random.default_rng(2)
    seconds, dt = 20.0, 1e-3
    t = np.arange(int(seconds / dt)) * dt
    rate = 40.0 * (1 + 0.9 * np.sin(2 * np.pi * 20.0 * t))  # Hz, modulated at 20 Hz
    trains = [neo.SpikeTrain((t[rng.random(t.size) < rate * dt] + dt / 2) * pq.s,  # mid-bin
                             t_stop=seconds * pq.s)
              for _ in range(5)]
    binned = BinnedSpikeTrain(trains, bin_size=1 * pq.ms)
    freqs, psd = spectral.power_spectrum(binned, frequency_resolution=0.5)
    assert psd.shape == (freqs.size, 5) and freqs[-1] == 500 * pq.Hz
    peaks, prominence = spectral.peak_frequency(freqs, psd, fmin=2)
    np.testing.assert_allclose(peaks.magnitude, 20.0)
    assert np.all(prominence > 10)


def test_coherence_with_a_delayed_copy():
    rng = np.random.default_rng(3)
    delay = 5  # samples = 5 ms
    x = rng.standard_normal(20_000 + delay)
    a, b = x[delay:], x[:-delay] + 0.1 * rng.standard_normal(20_000)  # b is a, 5 ms later
    freqs, coh, lag = spectral.coherence(a, b, fs=FS, frequency_resolution=1.0)
    f = freqs.magnitude
    band = (f >= 1) & (f <= 200)
    assert coh[band].mean() > 0.95 and coh.shape == f.shape and lag.units == pq.rad
    np.testing.assert_allclose(lag.magnitude[(f >= 5) & (f <= 50)],
                               -2 * np.pi * f[(f >= 5) & (f <= 50)] * delay / FS, atol=0.1)
    _, noise_coh, _ = spectral.coherence(a, rng.standard_normal(20_000), fs=FS,
                                         frequency_resolution=1.0)
    assert noise_coh[band].mean() < 0.1


def _spectra_with_and_without_a_40hz_bump():
    freqs = np.arange(0, 200.25, 0.25)
    base = 1.0 / (1 + (freqs / 10) ** 2)[:, None] * np.ones((1, 2))  # two nodes, smooth
    bumped = base.copy()
    bumped[:, 1] += 0.5 * np.exp(-0.5 * ((freqs - 40) / 1.5) ** 2)  # node 1: +9.8 dB at 40 Hz
    return freqs * pq.Hz, bumped, base


def test_emergent_rhythms_finds_an_added_peak():
    freqs, coupled, uncoupled = _spectra_with_and_without_a_40hz_bump()
    rhythms = spectral.emergent_rhythms(freqs, coupled, uncoupled, threshold_db=3.0)
    assert len(rhythms) == 1
    (rhythm,) = rhythms
    assert rhythm["node"] == 1 and rhythm["band"] == "gamma"
    assert rhythm["frequency_hz"] == pytest.approx(40.0)
    assert rhythm["excess_db"] == pytest.approx(10 * np.log10(1 + 0.5 / coupled[160, 0]))
    assert spectral.emergent_rhythms(freqs, coupled, uncoupled, fmax=30) == []
    assert spectral.emergent_rhythms(freqs, coupled, uncoupled, threshold_db=15) == []


def test_emergent_rhythms_finds_nothing_in_equal_or_swapped_spectra():
    freqs, coupled, uncoupled = _spectra_with_and_without_a_40hz_bump()
    assert spectral.emergent_rhythms(freqs, coupled, coupled) == []
    assert spectral.emergent_rhythms(freqs, uncoupled, coupled) == []  # the bump is the baseline's


def test_emergent_rhythms_of_a_coupled_network_both_ways():
    """Coupling adds rhythms: a 6 Hz node phase-coupled into a 40 Hz node puts a 6 Hz peak in the
    40 Hz node's spectrum that the uncoupled network lacks; two uncoupled runs show none.
    (Gated coupling tanh(x*u) multiplies by the white input, so it raises the 40 Hz resonance
    instead; the detector counts that too, as coupling adds power there.)"""
    fs, drive = 1000.0, np.random.default_rng(11).standard_normal((4, 20000))
    w_res = np.array([[0.0, 0.0], [3.0, 0.0]])  # node 0 (6 Hz) drives node 1 (40 Hz)
    coupled = rrnsim.RRN([6.0, 40.0], radius=0.99, w_res=w_res, coupling="phase").run(drive).x
    uncoupled = rrnsim.RRN([6.0, 40.0], radius=0.99).run(drive).x
    other = rrnsim.RRN([6.0, 40.0], radius=0.99).run(drive[::-1] * -1).x
    spectra = [spectral.power_spectrum(x, fs=fs, frequency_resolution=1.0) for x in
               (coupled, uncoupled, other)]
    freqs = spectra[0][0]
    found = spectral.emergent_rhythms(freqs, spectra[0][1], spectra[1][1], fmin=2, fmax=100)
    print(f"\nemergent rhythms, coupled vs uncoupled: {found}")
    assert [(r["node"], r["band"]) for r in found] == [(1, "theta")]
    assert found[0]["frequency_hz"] == pytest.approx(6.0, abs=1.0)
    assert spectral.emergent_rhythms(freqs, spectra[2][1], spectra[1][1], fmin=2, fmax=100) == []


def test_spectrum_report_rows():
    x = np.stack([sinusoid(6.0), sinusoid(20.0, seed=1)], axis=1)
    rows = spectral.spectrum_report(*spectral.power_spectrum(x, fs=FS, frequency_resolution=0.5))
    assert [row["band"] for row in rows] == ["theta", "beta"]
    assert [row["peak_hz"] for row in rows] == [6.0, 20.0]
    assert rows[0]["power_theta"] > 10 * rows[0]["power_beta"]
    assert "power_high_gamma" in rows[0]


# --- bad inputs ---------------------------------------------------------------------------------
GOOD = np.random.default_rng(4).standard_normal(2000)


@pytest.mark.parametrize("signal, kwargs, match", [
    (np.r_[GOOD[:-1], np.nan], {"fs": FS}, r"non-finite value NaN at index \(1999,\)"),
    (np.r_[np.inf, GOOD], {"fs": FS}, r"non-finite value inf at index \(0,\)"),
    (GOOD.reshape(2, 5, 2, 100), {"fs": FS}, r"got shape \(2, 5, 2, 100\)"),
    (GOOD[:1], {"fs": FS}, "at least 2 time samples"),
    (np.array(["a", "b"]), {"fs": FS}, "must be numeric"),
    (GOOD, {}, "fs .* is required"),
    (GOOD, {"fs": 0.0}, "fs must be a positive, finite number in Hz, got 0.0"),
    (GOOD, {"fs": -1000}, "got -1000"),
    (GOOD, {"fs": np.nan}, "got nan"),
    (GOOD, {"fs": 3 * pq.mV}, "fs must be a rate .* got 3.0 mV"),
    (GOOD, {"fs": FS, "axis": 2}, "axis 2 is out of range"),
    (GOOD, {"fs": FS, "method": "fft"}, "method must be one of welch, multitaper, got 'fft'"),
    (GOOD, {"fs": FS, "frequency_resolution": 0.1}, "frequency_resolution 0.1 Hz needs segments"),
    (GOOD, {"fs": FS, "frequency_resolution": -1}, "got -1"),
    (GOOD, {"fs": FS, "frequency_resolution": 2 * pq.s}, r"frequency_resolution must be in Hz"),
    (GOOD, {"fs": FS, "n_segments": 0}, "n_segments must be an integer from 1 to 1000, got 0"),
    (GOOD, {"fs": FS, "method": "multitaper", "frequency_resolution": 0.5}, "multitaper minimum"),
    (np.sin(np.arange(107.0)), {"fs": 1024, "method": "multitaper",  # 2/T, rounded down by floor
                                "frequency_resolution": 2 * 1024 / 107},
     r"frequency_resolution 19.1402 Hz leaves no taper for 0.104492 s"),
    (neo.AnalogSignal(GOOD, units="mV", sampling_rate=FS * pq.Hz), {"fs": 500},
     "fs=500 disagrees with the signal's own sampling rate 1000 Hz"),
])
def test_power_spectrum_rejects_bad_input(signal, kwargs, match):
    with pytest.raises(ValueError, match=match):
        spectral.power_spectrum(signal, **kwargs)


@pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")  # Elephant's
def test_power_spectrum_refuses_an_axis_for_signals_with_their_own_time_axis():
    analog = neo.AnalogSignal(GOOD.reshape(-1, 2), units="mV", sampling_rate=FS * pq.Hz)
    binned = BinnedSpikeTrain([neo.SpikeTrain([0.1, 0.5] * pq.s, t_stop=1 * pq.s)],
                              bin_size=1 * pq.ms)
    for signal, name in ((analog, "AnalogSignal"), (binned, "BinnedSpikeTrain")):
        with pytest.raises(ValueError, match=rf"{name} input has a fixed time axis, so leave "
                                             r"axis=None \(got axis=1\)"):
            spectral.power_spectrum(signal, axis=1)
        with pytest.raises(ValueError, match=f"{name} input has a fixed time axis"):
            spectral.coherence(signal, signal, axis=0)


def test_spectrum_functions_reject_bad_spectra():
    freqs, psd = spectral.power_spectrum(GOOD, fs=FS, frequency_resolution=2.0)
    with pytest.raises(ValueError, match=r"psd must have shape \(251,\) or \(251, node\)"):
        spectral.band_power(freqs, psd[:-1])
    with pytest.raises(ValueError, match="negative power -1.0 at index"):
        spectral.band_power(freqs, -np.ones(freqs.size))
    with pytest.raises(ValueError, match="freqs must be in Hz, got"):
        spectral.peak_frequency(freqs.magnitude * pq.mV, psd)
    with pytest.raises(ValueError, match="freqs must be a 1-d increasing array"):
        spectral.peak_frequency(freqs[::-1], psd)
    with pytest.raises(ValueError, match="no frequency bin between fmin=600 and fmax=None"):
        spectral.peak_frequency(freqs, psd, fmin=600)
    with pytest.raises(ValueError, match="psd_uncoupled has a non-finite value NaN"):
        spectral.emergent_rhythms(freqs, psd, np.full(freqs.size, np.nan))
    with pytest.raises(ValueError, match="must match in shape and units"):
        spectral.emergent_rhythms(freqs, psd, np.ones((freqs.size, 2)))
    with pytest.raises(ValueError, match="threshold_db must be a non-negative number of dB"):
        spectral.emergent_rhythms(freqs, psd, psd, threshold_db=-3)
    with pytest.raises(ValueError, match=r"same shape and sampling rate; got \(2000,\)"):
        spectral.coherence(GOOD, GOOD[:1000], fs=FS)


# --- population rates of spike-train trials ------------------------------------------------------

def two_trials():
    """A Block of two 10 ms trials with two trains each, spikes at known times (ms)."""
    block = neo.Block()
    for times in ([[0.5, 1.5], [1.2]], [[], [9.5]]):
        segment = neo.Segment()
        segment.spiketrains = [neo.SpikeTrain(t * pq.ms, t_start=0 * pq.ms, t_stop=10 * pq.ms)
                               for t in times]
        block.segments.append(segment)
    return block


def test_population_rates_count_all_trains_per_bin():
    rates = spectral.population_rates(two_trials(), bin_size=2 * pq.ms)
    assert rates.shape == (5, 2) and rates.sampling_rate == 500 * pq.Hz
    # trial 0: three spikes in [0, 2) ms; trial 1: one spike in [8, 10) ms; rate = count / 2 ms
    np.testing.assert_allclose(rates.rescale(pq.Hz).magnitude[:, 0], [1500, 0, 0, 0, 0])
    np.testing.assert_allclose(rates.rescale(pq.Hz).magnitude[:, 1], [0, 0, 0, 0, 500])


def test_population_rates_refuse_trials_over_different_times():
    block = two_trials()
    block.segments[1].spiketrains = [neo.SpikeTrain([10.5] * pq.ms, t_start=10 * pq.ms,
                                                    t_stop=20 * pq.ms)]
    with pytest.raises(ValueError, match=re.escape("trial 1 spans 0.01-0.02 s but trial 0 0-0.01 s")):
        spectral.population_rates(block, bin_size=2 * pq.ms)


@pytest.mark.parametrize("bin_size, error, match", [
    (0.002, TypeError, "bin_size must be a time quantity.*0.002"),
    (0 * pq.ms, ValueError, "bin_size must be a finite positive number, got 0.0 s"),
    (-1 * pq.ms, ValueError, "bin_size must be a finite positive number, got -0.001 s"),
    (1 * pq.Hz, ValueError, "bin_size must be in units of .*s.*1.0 Hz"),
])
def test_population_rates_bad_bin_size_is_named(bin_size, error, match):
    with pytest.raises(error, match=match):
        spectral.population_rates(two_trials(), bin_size=bin_size)


def test_brian2_signals_and_spectra_keep_their_units():
    """A Brian2 trace holds SI values (mV as 0.001 V): read bare, its power would be 1e-6 too small."""
    x = np.random.default_rng(0).normal(size=2000)
    freqs, psd = spectral.power_spectrum(x * b2.mV, fs=FS)
    reference_freqs, reference = spectral.power_spectrum(x * pq.mV, fs=FS)
    np.testing.assert_allclose(psd.rescale(pq.mV ** 2 / pq.Hz).magnitude, reference.magnitude)
    assert psd.dimensionality.string == "V**2/Hz"   # Brian2's unit names, not kg**2*m**4/...
    bands = spectral.band_power(reference_freqs.magnitude, reference.magnitude * b2.mV ** 2 / b2.Hz)
    expected = spectral.band_power(reference_freqs, reference)
    assert np.isclose(float(bands["alpha"].rescale(pq.mV ** 2).magnitude),
                      float(expected["alpha"].rescale(pq.mV ** 2).magnitude))


def test_a_runs_result_brings_its_states_and_sampling_rate():
    net = rrnsim.RRN.from_spec("golden")
    result = net.run(np.random.default_rng(0).normal(size=(2, 1000)))
    freqs, psd = spectral.power_spectrum(result)
    expected_freqs, expected = spectral.power_spectrum(result.x, fs=net.fs)
    np.testing.assert_array_equal(psd.magnitude, expected.magnitude)
    with pytest.raises(ValueError, match=re.escape("fs=500 disagrees with the run's own sampling "
                                                   "rate 1000 Hz")):
        spectral.power_spectrum(result, fs=500)
    assert repr(result) == "RunResult(2 sample(s) x 1 s x 11 nodes at 1000 Hz, discrete engine)"
    rates = spectral.population_rates(two_trials(), bin_size=2 * b2.ms)   # a Brian2 time
    assert rates.sampling_rate == 500 * pq.Hz


def test_band_power_covers_a_band_ending_exactly_at_the_last_bin():
    """A spectrum whose last bin is a band's upper edge (fs = 400 Hz: Nyquist 200 Hz, high
    gamma's top) covers that band: flat level 2 gives 2 * (200 - 100), not NaN."""
    freqs = np.linspace(0.0, 200.0, 401)
    powers = spectral.band_power(freqs, np.full(freqs.size, 2.0))
    assert powers["high gamma"].magnitude == pytest.approx(2.0 * 100.0, rel=1e-12)
    assert powers["delta"].magnitude == pytest.approx(2.0 * 3.0, rel=1e-12)


def test_emergent_rhythms_keeps_a_peak_exactly_at_the_threshold():
    """'At least threshold_db': a peak 10x (exactly 10 dB) above a flat baseline of 1 passes a
    10-dB threshold and fails one just above it."""
    freqs = np.arange(0.0, 101.0)
    uncoupled = np.ones(freqs.size)
    coupled = uncoupled.copy()
    coupled[40] = 10.0
    rhythms = spectral.emergent_rhythms(freqs, coupled, uncoupled, threshold_db=10.0)
    assert [(r["frequency_hz"], r["excess_db"]) for r in rhythms] == [(40.0, 10.0)]
    assert spectral.emergent_rhythms(freqs, coupled, uncoupled, threshold_db=10.0 + 1e-9) == []
