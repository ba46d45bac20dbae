"""Oscillator maths shared by both engines: one damped oscillator node, its exact AR(2) form.

A node is the damped harmonic oscillator ``dx/dt = v``, ``dv/dt = -2*beta*v - omega0**2*x``
with ``omega0**2 = omega_d**2 + beta**2`` and ``omega_d = 2*pi*f``. Sampled at ``fs`` it is the
AR(2) recursion ``x[n] = w1*x[n-1] + w2*x[n-2] + drive[n]`` with ``w1 = 2*r*cos(theta)``,
``w2 = -r**2``, ``theta = 2*pi*f/fs``, ``r = exp(-beta/fs)``; a drive of ``d`` at step n is a
velocity kick of ``d * kick_gain`` at time ``n/fs`` (see DESIGN.md). The functions take and
return plain float arrays (:func:`stability_violations` returns strings): frequencies in Hz,
rates in Hz (1/s), times in seconds.
"""
import numpy as np

from .validation import positive

__all__ = [
    "ar2_coefficients", "node_parameters", "damping_rate", "angular_frequencies",
    "kick_gain", "paper_constants", "ar2_power_spectrum", "stability_violations",
]


def ar2_coefficients(frequency_hz, radius, fs_hz):
    """AR(2) weights of nodes at ``frequency_hz`` (Hz) with pole radius ``radius``.

    Returns ``(w1, w2)``, arrays broadcast from the inputs.
    """
    theta = 2.0 * np.pi * np.asarray(frequency_hz, dtype=float) / fs_hz
    radius = np.asarray(radius, dtype=float)
    return 2.0 * radius * np.cos(theta), -(radius ** 2) * np.ones_like(theta)


def node_parameters(w1, w2, fs_hz):
    """Inverse of :func:`ar2_coefficients`: ``(frequency_hz, radius)`` of AR(2) weights.

    Requires complex poles (``w1**2 + 4*w2 < 0``), which every stable layout node has.
    """
    w1, w2 = np.asarray(w1, dtype=float), np.asarray(w2, dtype=float)
    real = ~(w1 ** 2 + 4.0 * w2 < 0)    # real poles (or NaN): no oscillation to describe
    if real.any():
        w1_bad, w2_bad = np.broadcast_arrays(w1, w2)
        raise ValueError(f"AR(2) weights w1={w1_bad[real].flat[0]}, w2={w2_bad[real].flat[0]} "
                         "have real poles (w1**2 + 4*w2 >= 0): not an oscillator node")
    radius = np.sqrt(-w2)
    theta = np.arccos(np.clip(w1 / (2.0 * radius), -1.0, 1.0))   # clip: rounding only
    return theta * fs_hz / (2.0 * np.pi), radius


def damping_rate(radius, fs_hz):
    """Damping rate ``beta`` (1/s) of pole radius ``radius``: ``r = exp(-beta/fs)``."""
    return -np.log(np.asarray(radius, dtype=float)) * fs_hz


def angular_frequencies(frequency_hz, radius, fs_hz):
    """``(omega_d, omega0)`` in rad/s: damped and natural angular frequency of each node."""
    omega_d = 2.0 * np.pi * np.asarray(frequency_hz, dtype=float)
    beta = damping_rate(radius, fs_hz)
    return omega_d, np.sqrt(omega_d ** 2 + beta ** 2)


def kick_gain(frequency_hz, radius, fs_hz):
    """Velocity kick (1/s per unit drive) that makes the continuous oscillator match the AR(2).

    A kick of ``drive * kick_gain`` to ``v`` at time ``n/fs`` adds ``drive`` to ``x`` at
    ``(n+1)/fs``: ``kick_gain = omega_d / (r * sin(theta))``.
    """
    frequency_hz = np.asarray(frequency_hz, dtype=float)
    radius = np.asarray(radius, dtype=float)
    theta = 2.0 * np.pi * frequency_hz / fs_hz
    return 2.0 * np.pi * frequency_hz / (radius * np.sin(theta))


def paper_constants(w1, w2, fs_hz):
    """The paper's per-node ``(omega_p, beta_p)`` (rad/s, 1/s) that define its amplitude feature.

    ``omega_p = sqrt((w1 + w2 - 1) / (w2*dt**2))``, ``beta_p = -(w1 + 2*w2) / (2*w2*dt)``:
    a backward-Euler reading of the recursion. ``A**2 = x**2 + ((v + beta_p*x)/omega_p)**2``.
    """
    w1, w2 = np.asarray(w1, dtype=float), np.asarray(w2, dtype=float)
    dt = 1.0 / fs_hz
    return np.sqrt((w1 + w2 - 1.0) / (w2 * dt ** 2)), -(w1 + 2.0 * w2) / (2.0 * w2 * dt)


def ar2_power_spectrum(freqs_hz, frequency_hz, radius, fs_hz, bin_width_hz=None):
    """Analytic (steady-state) power spectrum of each node driven by unit-variance white drive.

    Returns shape ``(len(freqs_hz), K)``: the one-sided PSD (units**2/Hz) of ``x`` when
    ``drive[n]`` is white noise of variance 1, i.e. ``2/fs / |1 - w1 z^-1 - w2 z^-2|**2``, but
    ``1/fs / |...|**2`` at 0 Hz and at Nyquist (fs/2): like scipy's and Elephant's one-sided
    Welch bins, which double every bin but those two.

    ``bin_width_hz``: the mean over each bin ``[f - w/2, f + w/2]`` instead of the value at
    ``f``. A resonance narrower than a bin (r close to 1: half-width ``beta/(2*pi)`` Hz) then
    shows its power, which a spectral estimate with such bins measures, wherever the bin lies;
    on the ``rfftfreq`` bins of n samples (width fs/n) it sums to the variance of ``x`` times
    n/fs. At the bin centres alone the peak depends on how close a centre falls to it.
    """
    w1, w2 = map(np.atleast_1d, ar2_coefficients(frequency_hz, radius, fs_hz))
    cycles = np.asarray(freqs_hz, dtype=float)[:, None] / fs_hz  # cycles per sample
    sides = np.where(np.isclose(cycles, 0.0, rtol=0, atol=1e-12)
                     | np.isclose(cycles, 0.5, rtol=0, atol=1e-12), 1.0, 2.0)
    if bin_width_hz is None:
        z = np.exp(-2j * np.pi * cycles)
        gain = 1.0 / np.abs(1.0 - w1 * z - w2 * z ** 2) ** 2
    else:
        width = 2 * np.pi * positive("bin_width_hz", bin_width_hz) / fs_hz   # rad per sample
        gain = np.stack([_bin_mean_gain(2 * np.pi * cycles[:, 0], width, w1[k], w2[k])
                         for k in range(w1.size)], axis=1)
    return sides / fs_hz * gain


def _bin_mean_gain(omega, width, w1, w2):
    """Mean of ``1/|1 - w1 e^(-iw) - w2 e^(-2iw)|**2`` over ``[omega - width/2, omega + width/2]``
    (rad per sample; omega (F,)), exactly.

    The gain is the spectrum of the autocovariance ``g(k) = a p**k + conj(a p**k)`` (k >= 0) of
    the AR(2) process with unit-variance drive, p = r*exp(i*theta) its pole:
    ``g(0) + 2 Re sum_k>=1 (a p**k + conj(a) conj(p)**k) e^(-iwk)``, whose terms integrate to
    ``-i ln(e^(iw) - q) - w`` (q = p, conj(p)). The logarithm's increments are summed over
    sub-intervals that each see less than half a turn around q.

    In a bin narrower than 4 half-widths of the resonance (about 1 - r rad) the terms cancel
    to a few digits; there the gain is smooth, and a 64-point midpoint rule takes over."""
    p = (w1 + np.emath.sqrt(w1 ** 2 + 4 * w2)) / 2
    if width < 4 * (1 - abs(p)):
        points = omega[:, None] + width * ((np.arange(64) + 0.5) / 64 - 0.5)
        z = np.exp(-1j * points)
        return (1.0 / np.abs(1.0 - w1 * z - w2 * z ** 2) ** 2).mean(axis=1)
    gamma0 = (1 - w2) / ((1 + w2) * ((1 - w2) ** 2 - w1 ** 2))
    gamma1 = w1 * gamma0 / (1 - w2)
    a = (gamma1 - gamma0 * np.conj(p)) / (p - np.conj(p))
    # an arc of the unit circle subtends more than half a turn at q only when q lies within
    # (1 - cos(arc/2)) of it: keep each arc's sagitta below the pole's distance 1 - r
    n_arcs = int(np.ceil(width / np.sqrt(2 * (1 - abs(p))))) + 1
    edges = omega[:, None] + width * (np.arange(n_arcs + 1) / n_arcs - 0.5)
    mean = gamma0
    for q, c in ((p, a), (np.conj(p), np.conj(a))):
        points = np.exp(1j * edges) - q
        log_increment = np.log(points[:, 1:] / points[:, :-1]).sum(axis=1)
        mean = mean + 2 * np.real(c * (-1j * log_increment - width)) / width
    return mean


def stability_violations(frequency_hz, radius, fs_hz, require_positive_w1=False):
    """Reasons each node is unstable, one string per node ('' where it is fine).

    A node must have ``0 < f < fs/2`` (below Nyquist) and ``0 < r < 1`` (both AR(2) roots inside
    the unit circle; r = 0 has no oscillator left); with ``require_positive_w1`` (the paper's layouts) also ``w1 > 0``,
    i.e. ``f < fs/4``.
    """
    frequency_hz = np.atleast_1d(np.asarray(frequency_hz, dtype=float))
    radius = np.broadcast_to(np.asarray(radius, dtype=float), frequency_hz.shape)
    reasons = []
    for f, r in zip(frequency_hz, radius):
        if not np.isfinite(f) or f <= 0:
            reasons.append(f"frequency {f} Hz is not a finite positive number")
        elif f >= fs_hz / 2:
            reasons.append(f"frequency {f:g} Hz is at or above Nyquist ({fs_hz / 2:g} Hz)")
        elif not (0 < r < 1):
            reasons.append(f"radius {r} of {f:g} Hz is not in (0, 1): its poles must lie inside "
                           "the unit circle, away from 0")
        elif require_positive_w1 and 4 * f >= fs_hz:   # w1 = 2r cos(2 pi f/fs) <= 0
            reasons.append(f"frequency {f:g} Hz gives w1 <= 0 (at or above fs/4 = {fs_hz / 4:g} Hz)")
        else:
            reasons.append("")
    return reasons
