"""A PING network: excitatory and inhibitory spiking neurons whose gamma rhythm emerges.

PING (pyramidal-interneuron network gamma; Whittington et al. 2000, Börgers & Kopell 2003,
Brunel & Wang 2003): tonically driven excitatory (E) cells fire, excite the inhibitory (I)
cells through fast AMPA-like synapses, and the I cells' volley silences the E cells through
GABA-like synapses until the inhibition has decayed enough for the drive to win again. The
period is set by that recovery, so the rhythm slows when inhibition decays more slowly
(larger ``tau_inh_decay``) and quickens with a stronger drive.

The model, as Brian2 equations (every cell a leaky integrate-and-fire neuron)::

    dv/dt = (E_L - v + g_ampa*(E_ampa - v) + g_gaba*(E_gaba - v) + drive_cell)/tau_m
            + sigma*sqrt(2/tau_m)*xi
    g_ampa = a_d - a_r,   da_d/dt = -a_d/tau_ampa_decay,   da_r/dt = -a_r/tau_ampa_rise
    g_gaba = b_d - b_r,   db_d/dt = -b_d/tau_inh_decay,    db_r/dt = -b_r/tau_inh_rise

Conductances are relative to the leak conductance (dimensionless); each presynaptic spike adds
``w`` to both ``a_d`` and ``a_r`` (or ``b_d`` and ``b_r``) times the factor that makes the peak
of the bi-exponential ``w``. The drive is a depolarisation (mV): alone, it would hold ``v`` at
``E_L + drive_cell``; the white-noise term makes ``v`` fluctuate with standard deviation
``sigma`` (mV) around it. E cells are driven above threshold (``drive``), I cells below it
(``drive_inh``), so the I cells fire only when excited by the E cells.

Connections are random (each pair independently, probability ``p``); the weight of every
synapse of a pathway is its total peak conductance divided by the expected number of inputs.
All synapses act in the same time step as the spike (no conduction delay); the rise times
(0.5 ms) provide the lag.

With the defaults the network is in the sparse-firing regime of Brunel & Wang (2003): the
population rhythm is near 42 Hz while an E cell fires at about 11 Hz and an I cell at about
17 Hz, each skipping most cycles. Measured (4 trials of 1 s after a 0.2 s transient, seed 2024,
Welch peak / autocorrelation estimate): ``tau_inh_decay`` 5, 8, 12 ms -> 50/51, 42/42,
36/37.5 Hz; ``drive`` 40 mV -> 48/49 Hz. At weak drive (about 22 mV and below) the rhythm is
less regular and the Welch peak sits 5-13% below the autocorrelation estimate.

Randomness: one ``numpy.random.Generator`` (from ``seed``; drawn and annotated when None)
draws the connectivity, the initial voltages and the seed given to ``brian2.seed`` for the noise,
so the same seed gives the same spikes. ``brian2.seed`` re-seeds numpy's legacy global generator
(Brian2 draws its random numbers from it in runtime mode); the caller's global state is restored
after the run.

Several trials are simulated in one Brian2 run: trial ``k`` is the block of cells
``k*n_exc ... (k+1)*n_exc - 1`` of the E group (and likewise for I), connected only within the
block, with its own connectivity, initial state and noise: independent copies of the network.
(Trial 0 of a batch is not the same as a single-trial run with the same seed: the random
numbers are drawn for all trials together.)
"""
from .._brian2 import brian2 as b2
import neo
import numpy as np
import quantities as pq
import scipy.stats

from ..validation import check_finite, count, float_array, hertz, in_unit, n_bins, positive
from .generators import _run_seeded, _seed

__all__ = ["ping_network", "autocorrelation_frequency", "population_rate", "PING_DEFAULTS"]

#: Fixed model constants: Brian2 quantities, and plain floats for the dimensionless probability
#: and conductances. Override any of them through ``ping_network``'s ``params`` argument (same
#: names, Brian2 quantities or plain numbers in the unit shown).
PING_DEFAULTS = {
    "E_L": -65.0 * b2.mV,          # leak reversal (rest)
    "V_th": -50.0 * b2.mV,         # spike threshold
    "V_reset": -65.0 * b2.mV,      # reset
    "E_ampa": 0.0 * b2.mV,         # AMPA reversal
    "E_gaba": -80.0 * b2.mV,       # GABA_A reversal
    "tau_m_exc": 20.0 * b2.ms,     # membrane time constants
    "tau_m_inh": 10.0 * b2.ms,
    "t_ref_exc": 2.0 * b2.ms,      # refractory periods
    "t_ref_inh": 1.0 * b2.ms,
    "tau_ampa_rise": 0.5 * b2.ms,
    "tau_ampa_decay": 2.0 * b2.ms,
    "tau_inh_rise": 0.5 * b2.ms,
    "sigma_exc": 2.0 * b2.mV,      # voltage noise (standard deviation)
    "sigma_inh": 2.0 * b2.mV,
    "p_connect": 0.2,              # connection probability, every pathway
    "g_ee": 0.02,                  # total peak conductances (relative to leak) per pathway:
    "g_ei": 2.0,                   # E->I, the sum over all inputs a cell receives
    "g_ie": 3.0,                   # I->E
    "g_ii": 0.3,                   # I->I
    "dt": 0.1 * b2.ms,             # integration time step (Euler-Maruyama)
}

_UNITS = {"E_L": b2.mV, "V_th": b2.mV, "V_reset": b2.mV, "E_ampa": b2.mV, "E_gaba": b2.mV,
          "tau_m_exc": b2.ms, "tau_m_inh": b2.ms, "t_ref_exc": b2.ms, "t_ref_inh": b2.ms,
          "tau_ampa_rise": b2.ms, "tau_ampa_decay": b2.ms, "tau_inh_rise": b2.ms,
          "sigma_exc": b2.mV, "sigma_inh": b2.mV, "dt": b2.ms,
          "p_connect": None, "g_ee": None, "g_ei": None, "g_ie": None, "g_ii": None}

_EQUATIONS = """
dv/dt = (E_L - v + g_ampa*(E_ampa - v) + g_gaba*(E_gaba - v) + drive_cell)/tau_m
        + sigma*sqrt(2/tau_m)*xi : volt (unless refractory)
g_ampa = a_d - a_r : 1
g_gaba = b_d - b_r : 1
da_d/dt = -a_d/tau_ampa_decay : 1
da_r/dt = -a_r/tau_ampa_rise : 1
db_d/dt = -b_d/tau_inh_decay : 1
db_r/dt = -b_r/tau_inh_rise : 1
drive_cell : volt (constant)
tau_m : second (constant)
sigma : volt (constant)
t_ref : second (constant)
tau_inh_decay : second (constant, shared)
tau_inh_rise : second (constant, shared)
tau_ampa_decay : second (constant, shared)
tau_ampa_rise : second (constant, shared)
"""


# --- boundary: units and validation -------------------------------------------------------------
def _quantity(value, unit, name, positive=False, nonnegative=False):
    """``value`` as a Brian2 quantity in ``unit``'s dimensions; a plain number is in ``unit``.

    ``unit`` None is dimensionless (a plain float comes back).
    """
    if isinstance(value, pq.Quantity):
        raise ValueError(f"{name} must be a Brian2 quantity or a plain number, got the "
                         f"`quantities` value {value!r}")
    if isinstance(value, b2.Quantity):
        wanted = b2.DIMENSIONLESS if unit is None else b2.get_dimensions(unit)
        if b2.get_dimensions(value) is not wanted or np.ndim(value) != 0:
            raise ValueError(f"{name} must be a scalar in units of {unit or 'one'}, "
                             f"got {value!r}")
        magnitude = float(np.asarray(value if unit is None else value / unit))
    else:
        try:
            magnitude = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number (in {unit or 'units of one'}), "
                             f"got {value!r}") from None
    if not np.isfinite(magnitude):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and magnitude <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if nonnegative and magnitude < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return magnitude if unit is None else magnitude * unit




def _peak_factor(tau_rise, tau_decay):
    """1 / max of exp(-t/tau_decay) - exp(-t/tau_rise) (both in the same unit)."""
    if np.isclose(tau_rise, tau_decay):
        raise ValueError(f"rise and decay time constants must differ, got {tau_rise} and "
                         f"{tau_decay}")
    t_peak = tau_rise * tau_decay / (tau_decay - tau_rise) * np.log(tau_decay / tau_rise)
    return 1.0 / (np.exp(-t_peak / tau_decay) - np.exp(-t_peak / tau_rise))


def _random_blocks(rng, n_pre, n_post, p, n_trials, exclude_self=False):
    """Independent Bernoulli(p) connectivity in each trial's block: (i, j) index arrays."""
    pre, post = [], []
    for k in range(n_trials):
        mask = rng.random((n_pre, n_post)) < p
        if exclude_self:
            np.fill_diagonal(mask, False)
        i, j = np.nonzero(mask)
        pre.append(i + k * n_pre)
        post.append(j + k * n_post)
    return np.concatenate(pre), np.concatenate(post)


# --- the network ---------------------------------------------------------------------------------
def ping_network(n_exc=400, n_inh=100, duration=1.0, tau_inh_decay=8.0, drive=25.0, seed=None,
                 fs=1000.0, n_trials=1, drive_inh=10.0, params=None, report=None):
    """Simulate a PING network of leaky integrate-and-fire neurons; return spikes and rates.

    The simulation runs through the following steps:

    1. Draw, from ``numpy.random.default_rng(seed)``: each trial's random connectivity
       (E->E, E->I, I->E, I->I, probability ``p_connect``), its initial voltages (uniform between
       reset and threshold) and the seed passed to ``brian2.seed`` for the voltage noise;
    2. Build one E ``NeuronGroup`` of ``n_trials*n_exc`` cells and one I group of
       ``n_trials*n_inh`` cells (trial blocks connected only within themselves), four
       ``Synapses`` and two ``SpikeMonitor``s into an explicit ``brian2.Network``, and run it for
       ``duration`` (Euler-Maruyama, ``dt`` = 0.1 ms by default);
    3. Per trial, wrap the spikes as ``neo.SpikeTrain``s and bin them into population rates.

    Parameters
    ----------
    n_exc, n_inh : int
        Numbers of excitatory and inhibitory cells per trial (at least 1 each).
    duration : float or brian2.Quantity
        Simulated time per trial: a Brian2 time or a plain number in **s**. Positive.
    tau_inh_decay : float or brian2.Quantity
        Decay time constant of the GABA-like (I->E, I->I) conductances: a Brian2 time or a plain
        number in **ms** (default 8 ms). Larger is a slower rhythm.
    drive : float or brian2.Quantity
        Mean drive of the E cells: a Brian2 voltage or a plain number in **mV**, the
        depolarisation it would hold a cell at above rest (threshold is 15 mV above rest).
        Default 25 mV. Larger is a faster rhythm.
    seed : int, numpy.random.Generator or None
        Seed of the numpy Generator from which all randomness derives: an int in [0, 2**63);
        a Generator gives one draw; None draws a fresh seed. The seed used is annotated.
    fs : float
        Sampling rate (Hz) of the population rates: spikes are counted in bins of ``1/fs`` s.
        ``duration*fs`` must be a whole number of bins (to within 1e-6), and ``1/fs`` a whole
        number of time steps ``dt`` (so no bin is empty for want of a step).
    n_trials : int
        Independent copies of the network, simulated together in one run.
    drive_inh : float or brian2.Quantity
        Mean drive of the I cells (Brian2 voltage or **mV**), default 10 mV: below threshold.
    params : dict, optional
        Overrides of :data:`PING_DEFAULTS` (Brian2 quantities or plain numbers in the units
        given there).
    report : None, str or callable
        Progress of the Brian2 run, as ``brian2.Network.run``'s ``report`` ('text', 'stdout',
        or a function of (elapsed, completed, start, duration)); None: silent.

    Returns
    -------
    neo.Block
        One ``neo.Segment`` per trial with

        - ``spiketrains``: ``n_exc`` E trains then ``n_inh`` I trains (in s, ``t_stop`` =
          ``duration``), annotated ``population`` ('E' or 'I') and ``neuron`` (index within the
          population);
        - ``analogsignals[0]``: the E population rate (Hz), spikes of all E cells counted in
          ``1/fs`` bins divided by ``n_exc/fs`` (mean rate per cell), sample ``n`` for bin
          ``[n/fs, (n+1)/fs)``, named "E rate"; ``analogsignals[1]``: the same for the I cells;
        - annotations ``label`` (0, one class), ``band`` ('gamma'), ``seed``, ``trial``,
          ``tau_inh_decay_ms``, ``drive_mv``, ``drive_inh_mv``, ``n_exc``, ``n_inh``.

        The block is annotated with the same parameters, ``n_trials``, ``brian2_seed`` and
        ``fs_hz``, and as the generators' Blocks (:mod:`rrnsim.data.generators`): ``task``
        ('ping'), ``fs`` (Hz), ``duration`` (s), ``class_names`` (['ping']) and ``n_trains``
        (``n_exc + n_inh``). So :func:`rrnsim.data.bin_block` bins it (all E and I spikes of a
        trial pooled, causal bins ``((n-1)/fs, n/fs]``, not the rates' ``[n/fs, (n+1)/fs)``)
        and :func:`rrnsim.data.save_nix` stores it.
    """
    n_exc = count("n_exc", n_exc)
    n_inh = count("n_inh", n_inh)
    n_trials = count("n_trials", n_trials)
    duration = _quantity(duration, b2.second, "duration", positive=True)
    tau_inh_decay = _quantity(tau_inh_decay, b2.ms, "tau_inh_decay", positive=True)
    drive = _quantity(drive, b2.mV, "drive")
    drive_inh = _quantity(drive_inh, b2.mV, "drive_inh")
    fs = hertz("fs", fs)
    n_bins(float(duration / b2.second), fs)
    seed = _seed(seed)
    p = dict(PING_DEFAULTS)
    for name, value in (params or {}).items():
        if name not in PING_DEFAULTS:
            raise ValueError(f"unknown PING parameter {name!r}; known: {', '.join(PING_DEFAULTS)}")
        p[name] = value
    nonneg = {"p_connect", "g_ee", "g_ei", "g_ie", "g_ii", "sigma_exc", "sigma_inh", "t_ref_exc",
              "t_ref_inh"}
    positive = {"tau_m_exc", "tau_m_inh", "tau_ampa_rise", "tau_ampa_decay", "tau_inh_rise", "dt"}
    p = {name: _quantity(value, _UNITS[name], name, positive=name in positive,
                         nonnegative=name in nonneg) for name, value in p.items()}
    if p["p_connect"] > 1:
        raise ValueError(f"p_connect must be a probability in [0, 1], got {p['p_connect']}")
    if not p["V_reset"] < p["V_th"]:
        raise ValueError(f"V_reset {p['V_reset']} must lie below V_th {p['V_th']}")
    taus = {name: value for name, value in p.items() if name.startswith("tau_")}
    for name, tau in {**taus, "tau_inh_decay": tau_inh_decay}.items():
        if tau < p["dt"]:   # the integration would blow up (NaN) with no error of its own
            raise ValueError(f"{name} = {tau} is shorter than the time step dt = {p['dt']} (plain "
                             "numbers are in ms)")
    steps_per_bin = 1.0 / (fs * float(p["dt"] / b2.second))
    if abs(steps_per_bin - round(steps_per_bin)) > 1e-6 * steps_per_bin:
        raise ValueError(f"the rate bin 1/fs = {1 / fs:g} s (fs={fs:g} Hz) must be a whole number "
                         f"of time steps dt = {p['dt']}, got {steps_per_bin:g} steps")

    rng = np.random.default_rng(seed)
    brian_seed = int(rng.integers(2**31 - 1))
    dt = p["dt"]
    namespace = {name: p[name] for name in ("E_L", "V_th", "V_reset", "E_ampa", "E_gaba")}
    groups = {}
    for pop, n, tau_m, sigma, t_ref, cell_drive in (
            ("E", n_exc, p["tau_m_exc"], p["sigma_exc"], p["t_ref_exc"], drive),
            ("I", n_inh, p["tau_m_inh"], p["sigma_inh"], p["t_ref_inh"], drive_inh)):
        G = b2.NeuronGroup(n * n_trials, _EQUATIONS, threshold="v > V_th", reset="v = V_reset",
                           refractory="t_ref", method="euler", dt=dt, namespace=namespace,
                           name=f"ping_{pop.lower()}")
        G.tau_m, G.sigma, G.t_ref, G.drive_cell = tau_m, sigma, t_ref, cell_drive
        G.tau_inh_decay, G.tau_inh_rise = tau_inh_decay, p["tau_inh_rise"]
        G.tau_ampa_decay, G.tau_ampa_rise = p["tau_ampa_decay"], p["tau_ampa_rise"]
        groups[pop] = (G, n)
    for pop in ("E", "I"):  # initial voltages: uniform between reset and threshold
        G, n = groups[pop]
        G.v = p["V_reset"] + rng.random(n * n_trials) * (p["V_th"] - p["V_reset"])

    ampa = _peak_factor(float(p["tau_ampa_rise"] / b2.ms), float(p["tau_ampa_decay"] / b2.ms))
    gaba = _peak_factor(float(p["tau_inh_rise"] / b2.ms), float(tau_inh_decay / b2.ms))
    objects = [groups["E"][0], groups["I"][0]]
    for pre, post, total, factor, kind in (("E", "E", p["g_ee"], ampa, "a"),
                                           ("E", "I", p["g_ei"], ampa, "a"),
                                           ("I", "E", p["g_ie"], gaba, "b"),
                                           ("I", "I", p["g_ii"], gaba, "b")):
        (G_pre, n_pre), (G_post, _) = groups[pre], groups[post]
        i, j = _random_blocks(rng, n_pre, groups[post][1], float(p["p_connect"]), n_trials,
                              exclude_self=pre == post)
        expected = max(float(p["p_connect"]) * n_pre, 1.0)
        w = float(total) / expected * factor
        if w == 0 or i.size == 0:
            continue
        S = b2.Synapses(G_pre, G_post, "w : 1 (constant, shared)",
                        on_pre=f"{kind}_d_post += w\n{kind}_r_post += w", dt=dt,
                        name=f"ping_{pre}{post}".lower())
        S.connect(i=i, j=j)
        S.w = w
        objects.append(S)
    monitors = {pop: b2.SpikeMonitor(groups[pop][0], name=f"ping_spikes_{pop.lower()}")
                for pop in ("E", "I")}
    objects += list(monitors.values())
    network = b2.Network(*objects)
    _run_seeded(network, duration, brian_seed, report=report)

    t_stop = float(duration / b2.second)
    annotations = {"label": 0, "band": "gamma", "seed": seed,
                   "tau_inh_decay_ms": float(tau_inh_decay / b2.ms),
                   "drive_mv": float(drive / b2.mV), "drive_inh_mv": float(drive_inh / b2.mV),
                   "n_exc": n_exc, "n_inh": n_inh}
    block = neo.Block(name="PING network", **annotations, n_trials=n_trials,
                      brian2_seed=brian_seed, fs_hz=fs, task="ping", fs=fs, duration=t_stop,
                      class_names=["ping"], n_trains=n_exc + n_inh)
    spikes = {pop: (np.asarray(monitors[pop].i), np.asarray(monitors[pop].t / b2.second))
              for pop in ("E", "I")}
    for k in range(n_trials):
        segment = neo.Segment(name=f"trial {k}", trial=k, **annotations)
        for pop in ("E", "I"):
            n = groups[pop][1]
            index, times = spikes[pop]
            inside = (index >= k * n) & (index < (k + 1) * n)
            local, local_times = index[inside] - k * n, times[inside]
            order = np.argsort(local, kind="stable")
            local, local_times = local[order], local_times[order]
            bounds = np.searchsorted(local, np.arange(n + 1))
            for cell in range(n):
                train = neo.SpikeTrain(local_times[bounds[cell]:bounds[cell + 1]] * pq.s,
                                       t_start=0.0 * pq.s, t_stop=t_stop * pq.s,
                                       sampling_rate=pq.Hz / float(dt / b2.second),
                                       name=f"{pop}{cell}", population=pop, neuron=cell)
                segment.spiketrains.append(train)
            rate = population_rate(local_times, n, t_stop, fs)
            segment.analogsignals.append(neo.AnalogSignal(
                rate[:, None] * pq.Hz, sampling_rate=fs * pq.Hz, t_start=0.0 * pq.s,
                name=f"{pop} rate", population=pop))
        block.segments.append(segment)
    block.check_relationships()
    return block


def population_rate(spike_times, n_cells, duration, fs=1000.0):
    """Population rate (Hz per cell) of spike times (s) counted in ``1/fs`` bins.

    Bin ``n`` covers ``[n/fs, (n+1)/fs)``; the rate is ``count * fs / n_cells``, the mean
    firing rate of one cell. ``duration`` (s) must be a whole number of bins; returns a float
    array of ``duration*fs`` samples. A spike time outside ``[0, duration)`` has no bin: it is
    an error naming it, never counted into an edge bin.
    """
    n_cells = count("n_cells", n_cells)
    fs = hertz("fs", fs)
    duration = positive("duration", duration, unit=pq.s)
    size = n_bins(duration, fs)
    times = np.asarray(in_unit("spike_times", spike_times, pq.s), dtype=float).ravel()
    index = np.floor(times * fs + 1e-9)  # 1e-9: a spike at n/fs stays in bin n despite rounding
    outside = ~np.isfinite(index) | (index < 0) | (index >= size)
    if outside.any():
        raise ValueError(f"spike time {times[outside][0]} s is outside the window "
                         f"[0, {duration}) s of {size} bins at fs={fs:g} Hz")
    return np.bincount(index.astype(np.int64), minlength=size) * fs / n_cells


# --- analysis ------------------------------------------------------------------------------------
def autocorrelation_frequency(rate, fs=None, min_correlation=None):
    """Rhythm frequency (Hz) from the autocorrelation of a population rate.

    An estimate independent of the power spectrum:

    1. Subtract each series' mean and compute its autocorrelation (FFT, zero padded, so it is
       the linear, not circular, autocorrelation), normalised to 1 at lag 0; several series
       (rows of a (batch, time) array, channels of an ``AnalogSignal``) are averaged;
    2. Find the first side peak: after the autocorrelation has first dropped below zero (so
       the decay around lag 0 cannot pose as a peak), the first lag where it reaches its
       threshold opens the side lobe, which runs until it next drops below zero; the peak is
       the lobe's largest value. No such lag: no rhythm;
    3. Refine its lag by fitting a parabola through the peak sample and its two neighbours;
       the frequency is ``1/lag``.

    Parameters
    ----------
    rate : neo.AnalogSignal, pq.Quantity or np.ndarray
        Shape (time,) or (batch, time) for arrays (rrnsim's convention), (time, channel) for an
        ``AnalogSignal``; finite values.
    fs : float or pq.Quantity, optional
        Sampling rate (Hz). Required for arrays; read from an ``AnalogSignal`` (a differing
        ``fs`` is an error).
    min_correlation : float, optional
        Smallest normalised autocorrelation a side peak needs, at every lag. Default: a test
        that the autocorrelation at lag k is zero, with Bartlett's standard error
        ``sqrt((1 + 2*sum_{0<j<k} ac[j]**2) / N)`` (``N`` the samples of all series together,
        so correlated noise widens it) and the normal quantile of a 5% false-alarm rate
        shared (Bonferroni) over the lags searched. White, Poisson and red (AR(1), 0.9)
        noise of 1,000 samples then gave no rhythm in 200 draws each (``3/sqrt(N)``, the
        white-noise rule used before: 11%, 20% and 98%); a 40 Hz rhythm of half the rate's
        mean in a 100-cell Poisson rate was found in 96%.

    Returns
    -------
    pq.Quantity
        Frequency (Hz), a scalar; NaN Hz when the autocorrelation has no side peak of at least
        ``min_correlation`` (no rhythm: e.g. noise, or a flat or purely decaying autocorrelation).
    """
    if isinstance(rate, neo.AnalogSignal):
        own_fs = hertz("sampling_rate", rate.sampling_rate)
        if fs is not None and not np.isclose(hertz("fs", fs), own_fs):
            raise ValueError(f"fs={fs} disagrees with the signal's sampling rate {own_fs:g} Hz")
        fs, x = own_fs, np.asarray(rate.magnitude).T
    else:
        if fs is None:
            raise ValueError("fs (Hz) is required for an array rate")
        fs = hertz("fs", fs)
        x = rate
    x = float_array("rate", x, finite=False)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] < 4:
        raise ValueError(f"rate must have shape (time,) or (batch, time) with at least 4 samples, "
                         f"got shape {np.shape(rate)}")
    check_finite("rate", x)
    n = x.shape[1]
    x = x - x.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, 2 * n)[:, :n].sum(axis=0)
    if ac[0] <= 0:
        return np.nan * pq.Hz
    ac = ac / ac[0]
    below = np.flatnonzero(ac < 0)
    if below.size == 0:
        return np.nan * pq.Hz
    if min_correlation is None:
        z = scipy.stats.norm.isf(0.05 / 2 / (n - below[0]))
        bartlett = np.concatenate([[0.0, 0.0], np.cumsum(ac[1:-1] ** 2)])
        min_correlation = z * np.sqrt((1 + 2 * bartlett) / x.size)
    above = np.flatnonzero(ac[below[0]:] >= np.broadcast_to(
        np.asarray(min_correlation, dtype=float), ac.shape)[below[0]:]) + below[0]
    if above.size == 0:
        return np.nan * pq.Hz
    rise = above[0]
    after = np.flatnonzero(ac[rise:] < 0) + rise
    stop = after[0] if after.size else n
    k = rise + int(np.argmax(ac[rise:stop]))
    if k > n - 2:  # the lobe runs to the end of the data: no peak inside it
        return np.nan * pq.Hz
    y0, y1, y2 = ac[k - 1], ac[k], ac[k + 1]
    curvature = y0 - 2 * y1 + y2
    shift = 0.5 * (y0 - y2) / curvature if curvature < 0 else 0.0
    return fs / (k + float(np.clip(shift, -0.5, 0.5))) * pq.Hz
