import numpy as np
import pytest
import scipy.signal
from scipy.integrate import solve_ivp

from rrnsim import RRN, oscillator


def test_coefficients_round_trip():
    f, r, fs = np.array([2.0, 13.7, 245.9]), np.array([0.99999, 0.99, 0.9]), 1000.0
    w1, w2 = oscillator.ar2_coefficients(f, r, fs)
    f2, r2 = oscillator.node_parameters(w1, w2, fs)
    np.testing.assert_allclose(f2, f, rtol=1e-12)
    np.testing.assert_allclose(r2, r, rtol=1e-12)
    np.testing.assert_allclose(np.exp(-oscillator.damping_rate(r, fs) / fs), r, rtol=1e-12)


def test_node_parameters_refuse_real_poles():
    with pytest.raises(ValueError, match="w1=1.9, w2=-0.8 have real poles"):
        oscillator.node_parameters(1.9, -0.8, 1000.0)


def test_kick_gain_makes_continuous_oscillator_match_recursion():
    """A kick of drive*gain at n/fs adds drive to x at (n+1)/fs, and the free motion after it
    follows the AR(2) impulse response r**j * sin((j+1)*theta)/sin(theta)."""
    f, r, fs = 40.0, 0.98, 1000.0
    beta = oscillator.damping_rate(r, fs)
    _, omega0 = oscillator.angular_frequencies(f, r, fs)
    gain = oscillator.kick_gain(f, r, fs)
    rhs = lambda t, s: [s[1], -2 * beta * s[1] - omega0 ** 2 * s[0]]  # noqa: E731
    t_eval = np.arange(1, 30) / fs
    sol = solve_ivp(rhs, (0, t_eval[-1]), [0.0, gain], t_eval=t_eval, rtol=1e-12, atol=1e-14)
    theta = 2 * np.pi * f / fs
    j = np.arange(len(t_eval))
    expected = r ** j * np.sin((j + 1) * theta) / np.sin(theta)
    np.testing.assert_allclose(sol.y[0], expected, rtol=1e-8, atol=1e-10)


def test_paper_constants_match_definition():
    w1, w2 = oscillator.ar2_coefficients(np.array([5.0, 50.0]), 0.999, 1000.0)
    omega_p, beta_p = oscillator.paper_constants(w1, w2, 1000.0)
    dt = 1e-3
    np.testing.assert_allclose(omega_p ** 2, (w1 + w2 - 1) / (w2 * dt ** 2))
    np.testing.assert_allclose(beta_p, -(w1 + 2 * w2) / (2 * w2 * dt))
    assert np.all(omega_p > 0)


def test_analytic_spectrum_matches_impulse_response():
    """Parseval: the PSD integrates to the variance of x under unit white drive."""
    f, r, fs = np.array([10.0, 100.0]), np.array([0.95, 0.9]), 1000.0
    freqs = np.linspace(0, fs / 2, 200001)
    psd = oscillator.ar2_power_spectrum(freqs, f, r, fs)
    theta = 2 * np.pi * f / fs
    j = np.arange(5000)[:, None]
    h = r ** j * np.sin((j + 1) * theta) / np.sin(theta)
    np.testing.assert_allclose(np.trapezoid(psd, freqs, axis=0), (h ** 2).sum(0), rtol=1e-4)


def test_analytic_spectrum_counts_dc_and_nyquist_once_like_welch():
    """scipy's (and Elephant's) one-sided Welch PSD doubles every bin but 0 Hz and fs/2: the
    analytic PSD on the rfft bins of n samples sums to var(x) * n/fs, and matches a long Welch
    estimate (no detrending) at 0 Hz and fs/2 as well as inside."""
    f, r, fs, n = np.array([10.0, 400.0]), np.array([0.95, 0.8]), 1000.0, 1000
    freqs = np.fft.rfftfreq(n, 1 / fs)
    psd = oscillator.ar2_power_spectrum(freqs, f, r, fs)
    theta = 2 * np.pi * f / fs
    j = np.arange(5000)[:, None]
    variance = ((r ** j * np.sin((j + 1) * theta) / np.sin(theta)) ** 2).sum(0)
    np.testing.assert_allclose(psd.sum(0) * fs / n, variance, rtol=1e-9)
    w1, w2 = oscillator.ar2_coefficients(f, r, fs)
    drive = np.random.default_rng(0).standard_normal(400_000)
    x = np.stack([scipy.signal.lfilter([1.0], [1.0, -a, -b], drive) for a, b in zip(w1, w2)])
    welch_freqs, welch = scipy.signal.welch(x, fs=fs, nperseg=n, detrend=False)
    ratio = welch.T / oscillator.ar2_power_spectrum(welch_freqs, f, r, fs)
    assert welch_freqs[0] == 0 and welch_freqs[-1] == fs / 2
    np.testing.assert_allclose(ratio[[0, 1, -2, -1]], 1.0, rtol=0.15)


def test_bin_means_show_a_resonance_narrower_than_a_bin_wherever_it_lies():
    """Golden nodes (r = 0.99999: half-widths near 0.002 Hz) on 0.5 Hz bins: the bin means sum
    to the steady-state variance of x (closed form) for every node; the values at the bin
    centres miss it by up to 100x either way, depending on where the centres fall."""
    net = RRN.from_spec("golden")
    fs, n = net.fs, 2000
    freqs = np.fft.rfftfreq(n, 1 / fs)
    w1, w2 = oscillator.ar2_coefficients(net.frequencies, net.radius, fs)
    variance = (1 - w2) / ((1 + w2) * ((1 - w2) ** 2 - w1 ** 2))
    means = oscillator.ar2_power_spectrum(freqs, net.frequencies, net.radius, fs,
                                          bin_width_hz=fs / n)
    np.testing.assert_allclose(means.sum(0) * fs / n, variance, rtol=1e-3)
    centres = oscillator.ar2_power_spectrum(freqs, net.frequencies, net.radius, fs)
    assert np.abs(np.log10(centres.sum(0) * fs / n / variance)).max() > 1

    # the exact bin means against a 20,000-point midpoint rule, in wide and narrow bins
    for r, width in ((0.99, 0.5), (0.99999, 0.5), (0.99999, 1e-3)):
        f = np.array([1.3, 4.9, 5.0, 40.02, 300.0, 499.0])
        sub = (np.arange(20_000) + 0.5) / 20_000 - 0.5
        brute = np.stack([oscillator.ar2_power_spectrum(fi + sub * width, [5.0, 40.0], [r] * 2,
                                                        fs).mean(0) for fi in f])
        np.testing.assert_allclose(oscillator.ar2_power_spectrum(
            f, [5.0, 40.0], [r] * 2, fs, bin_width_hz=width), brute, rtol=1e-4)
    # and a resonance far sharper than any grid (half-width 2e-8 Hz) still sums to its variance
    r = np.array([1 - 1e-10])
    w1, w2 = oscillator.ar2_coefficients(np.array([5.0]), r, fs)
    sharp = oscillator.ar2_power_spectrum(freqs, [5.0], r, fs, bin_width_hz=fs / n)
    np.testing.assert_allclose(sharp.sum(0) * fs / n,
                               (1 - w2) / ((1 + w2) * ((1 - w2) ** 2 - w1 ** 2)), rtol=1e-6)


def test_stability_violations_name_the_problem():
    reasons = oscillator.stability_violations([10.0, 600.0, 300.0, 20.0], [0.9, 0.9, 0.9, 1.0],
                                              1000.0, require_positive_w1=True)
    assert reasons[0] == ""
    assert "600 Hz" in reasons[1] and "Nyquist" in reasons[1]
    assert "300 Hz" in reasons[2] and "w1" in reasons[2]
    assert "radius 1.0" in reasons[3]
