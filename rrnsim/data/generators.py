"""Spike-train generators simulated with Brian2, returned as ``neo`` Blocks of trials.

.. autosummary::

    modulated_poisson
    paper_task
    bands_task
    modulated_poisson_group
    bin_block
    save_nix
    load_nix

A generator draws its trials' parameters with a numpy Generator, then simulates all trials in
one Brian2 run: one ``PoissonGroup`` with one neuron per spike train and a per-neuron rate::

    rates = rate*(1 + depth*sin(2*pi*frequency*t + phase))      (rate, frequency in Hz)

(``frequency = 0`` and ``phase = 0``: the constant rate). The group runs at ``dt = 1/fs``, so
spikes land on the sample grid ``n/fs`` (s), at most one per train and sample, drawn with
probability ``rates(n/fs) * dt`` (the Bernoulli process of :func:`rrnsim.data.spike_task`).
With rrnsim's causal binning (:func:`rrnsim.engines.brian.bin_spike_times`, spikes in
``((n-1)/fs, n/fs]`` count in sample n) a spike at ``n/fs`` counts in sample n.

The returned ``neo.Block`` holds one ``neo.Segment`` per trial with its ``neo.SpikeTrain`` (s)
(or several, a population, with ``n_trains``), ``t_start = 0`` and ``t_stop = duration``.

Segment annotations:

- ``label`` (int): the trial's class;
- ``band`` (str): rhythm band of the modulation frequency (:func:`rrnsim.rhythms.band_of`),
  ``''`` for a constant-rate trial (and for a frequency outside the bands, 1-200 Hz);
- ``frequency`` (float, Hz): the modulation frequency; ABSENT for constant-rate trials;
- ``phase`` (float, rad): the modulation phase at the trial start; absent for constant trials;
- ``rate`` (float, Hz) and ``depth`` (float): mean rate and modulation depth;
- ``seed`` (int): the seed of the call that generated the trial;
- ``trial`` (int): the trial's index in the block (NIX files do not keep ``Segment.index``).

Block annotations: ``task`` (the generator's name), ``fs`` (Hz), ``duration`` (s),
``class_names`` (list of str, ``class_names[label]`` names class ``label``), ``n_trains`` and
``seed``.

:func:`bin_block` turns a Block back into arrays for an :class:`rrnsim.RRN`;
:func:`save_nix` and :func:`load_nix` store Blocks in NIX files through ``neo.io.NixIO``.
"""
import numbers
from pathlib import Path

from .._brian2 import brian2 as b2
import neo
import numpy as np
import quantities as pq

from ..engines.brian import bin_spike_times
from ..io import atomic_path
from ..rhythms import BANDS, TASK_BANDS, band_of, task_bands
from ..validation import (count, frequency_range, in_unit, modulation_frequency, n_bins, number,
                          positive)

__all__ = ["modulated_poisson", "paper_task", "bands_task", "modulated_poisson_group",
           "bin_block", "save_nix", "load_nix", "RATE_EXPRESSION", "TASK_BANDS"]

#: The per-neuron rate of the generators' ``PoissonGroup`` (Brian2 expression, Hz).
RATE_EXPRESSION = "rate*(1 + depth*sin(2*pi*frequency*t + phase))"

# Fixed names: Brian2 puts object names into its generated code, so fixed names let the
# (Cython) code compile once and come from the cache ever after.
_GROUP_NAME = "rrnsim_generator"
_CLOCK_NAME = "rrnsim_generator_clock"
_MONITOR_NAME = "rrnsim_generator_spikes"
_MAX_SEED = 2 ** 63  # annotations are stored as int64 in NIX files
_LIST_ANNOTATIONS = ("class_names",)  # NixIO reads a one-element list back as its element


# --- validation ----------------------------------------------------------------------------------



def _rate_parameters(rate_hz, depth, frequency_hz, phase, fs, rate_name="rate_hz"):
    """Validate per-neuron parameters (broadcast to one shape; quantities in Hz, dimensionless
    and rad); return float arrays."""
    values = (in_unit(rate_name, rate_hz, pq.Hz), in_unit("depth", depth, pq.dimensionless),
              in_unit("frequency_hz", frequency_hz, pq.Hz), in_unit("phase", phase, pq.rad))
    arrays = [np.atleast_1d(np.asarray(v, dtype=float)) for v in values]
    try:
        rate_hz, depth, frequency_hz, phase = np.broadcast_arrays(*arrays)
    except ValueError:
        raise ValueError(f"rate_hz, depth, frequency_hz and phase must broadcast to one shape; got "
                         f"shapes {[a.shape for a in arrays]}") from None
    if rate_hz.ndim != 1:
        raise ValueError(f"rate parameters must be scalars or 1-d (one per neuron); got shape "
                         f"{rate_hz.shape}")
    for name, values in ((rate_name, rate_hz), ("depth", depth), ("frequency_hz", frequency_hz),
                         ("phase", phase)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name} must be finite, got {values[~np.isfinite(values)][0]}")
    nyquist = fs / 2
    checks = (
        (rate_name, rate_hz, rate_hz < 0, "a non-negative rate (Hz)"),
        ("depth", depth, (depth < 0) | (depth > 1), "a modulation depth in [0, 1]"),
        ("frequency_hz", frequency_hz, (frequency_hz < 0) | (frequency_hz >= nyquist),
         f"a frequency in [0, fs/2) = [0, {nyquist:g}) Hz (0: constant rate)"),
    )
    for name, values, bad, need in checks:
        if bad.any():
            raise ValueError(f"{name} must be {need}, got {values[bad][0]}")
    peak = rate_hz * (1 + depth) / fs
    if (peak > 1).any():
        k = int(np.argmax(peak))
        raise ValueError(f"{rate_name}={rate_hz[k]} Hz with depth={depth[k]} peaks at "
                         f"{rate_hz[k] * (1 + depth[k])} Hz, above one spike per sample at "
                         f"fs={fs} Hz (rate_hz*(1 + depth)/fs = {peak[k]} > 1)")
    return rate_hz.copy(), depth.copy(), frequency_hz.copy(), phase.copy()


def _seed(seed):
    """The call's seed as an int in [0, 2**63) (drawn when None or a Generator)."""
    if seed is None:
        return int(np.random.default_rng().integers(_MAX_SEED))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(_MAX_SEED))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None, an int or a numpy Generator, got {seed!r}")
    if not 0 <= seed < _MAX_SEED:
        raise ValueError(f"seed must be in [0, 2**63) (it is stored as an annotation), got {seed}")
    return int(seed)


def _streams(seed):
    """A numpy Generator for the trial parameters and an int seed for Brian2, from one seed."""
    parameters, spikes = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(parameters), int(spikes.generate_state(1)[0])


def _balanced_labels(rng, n_trials, n_classes):
    """Labels 0..n_classes-1, shuffled; class c gets ``floor(n(c+1)/C) - floor(nc/C)`` trials:
    counts differ by at most one, the extra trials spread over the classes (with two classes
    the extra one is class 1's, as in :func:`rrnsim.data.spike_task`)."""
    edges = (n_trials * np.arange(n_classes + 1)) // n_classes
    return rng.permutation(np.repeat(np.arange(n_classes, dtype=np.int64), np.diff(edges)))


# --- Brian2 --------------------------------------------------------------------------------------
def modulated_poisson_group(rate_hz, depth=1.0, frequency_hz=0.0, phase=0.0, fs=1000.0,
                            name="modulated_poisson*", clock=None):
    """A Brian2 ``PoissonGroup`` with a sinusoidally modulated rate per neuron.

    One neuron per entry of the (broadcast) parameters, each with its own constants ``rate``
    (Hz), ``depth``, ``frequency`` (Hz) and ``phase`` (rad), readable and settable like any
    Brian2 group variable (``group.frequency``), and the rate :data:`RATE_EXPRESSION`::

        rates = rate*(1 + depth*sin(2*pi*frequency*t + phase))

    ``frequency = 0`` gives the constant rate ``rate*(1 + depth*sin(phase))``. The group runs at
    ``dt = 1/fs``: a neuron spikes at sample time ``n/fs`` with probability ``rates(n/fs)/fs``.
    Add it to a ``brian2.Network`` (e.g. ``BrianRRN.network``) and connect it like any spike
    source (:meth:`rrnsim.engines.brian.BrianRRN.connect_spikes`); ``brian2.seed`` seeds it.

    Parameters
    ----------
    rate_hz : float or array_like
        Mean rate (Hz) per neuron, >= 0.
    depth : float or array_like
        Modulation depth, in [0, 1]; ``rate_hz * (1 + depth) / fs`` must not exceed 1.
    frequency_hz : float or array_like
        Modulation frequency (Hz), in [0, fs/2).
    phase : float or array_like
        Phase (rad) of the modulation at ``t = 0``.
    fs : float
        Sampling rate (Hz) of the group's clock.
    name : str
        Brian2 name of the group. Brian2 compiles code per object name: a fixed name (no ``*``)
        reuses the compiled code across runs.
    clock : brian2.Clock, optional
        The group's clock (its ``dt`` must be ``1/fs``); default a new clock at ``dt = 1/fs``.

    Returns
    -------
    brian2.PoissonGroup
    """
    fs = positive("fs", fs, unit=pq.Hz)
    rate_hz, depth, frequency_hz, phase = _rate_parameters(rate_hz, depth, frequency_hz, phase, fs)
    if clock is None:
        clock = b2.Clock(dt=b2.second / fs, name="modulated_poisson_clock*")
    elif not np.isclose(float(clock.dt_), 1.0 / fs, rtol=1e-9, atol=0):
        raise ValueError(f"clock dt = {clock.dt} is not 1/fs = {1.0 / fs} s")
    n = rate_hz.size
    group = b2.PoissonGroup(n, rates=RATE_EXPRESSION, clock=clock, name=name)
    # Per-neuron constants of the rate expression (added before the first run compiles it).
    group.variables.add_array("rate", size=n, dimensions=b2.Hz.dim, constant=True)
    group.variables.add_array("depth", size=n, constant=True)
    group.variables.add_array("frequency", size=n, dimensions=b2.Hz.dim, constant=True)
    group.variables.add_array("phase", size=n, constant=True)
    group.rate = rate_hz * b2.Hz
    group.depth = depth
    group.frequency = frequency_hz * b2.Hz
    group.phase = phase
    return group


def _run_seeded(network, duration, brian_seed, report=None):
    """Run a Brian2 ``network`` for ``duration`` after ``brian2.seed(brian_seed)`` (``report``:
    as ``brian2.Network.run``'s); numpy's global random state is the caller's again afterwards.

    brian2.seed reseeds numpy's global (legacy) RNG, from which the runtime device draws. Not
    device.get/set_random_state: with the Cython target its saved buffer pointer dangles once
    the run refills the buffer, and restoring it crashes a later run (double free)."""
    saved = np.random.get_state()
    try:
        b2.seed(brian_seed)
        network.run(duration, namespace={}, report=report)
    finally:
        np.random.set_state(saved)
        device = b2.get_device()
        for index in ("rand_buffer_index", "randn_buffer_index"):  # refill from that state
            if hasattr(device, index):
                getattr(device, index)[:] = 0


def _simulate(rate_hz, depth, frequency_hz, phase, duration, fs, brian_seed):
    """Spike times (s) of every neuron in one Brian2 run: a list of sorted float arrays, each on
    the grid ``n/fs``. numpy's global random state is the caller's again afterwards."""
    n_steps = n_bins(duration, fs)
    clock = b2.Clock(dt=b2.second / fs, name=_CLOCK_NAME)
    group = modulated_poisson_group(rate_hz, depth, frequency_hz, phase, fs, name=_GROUP_NAME,
                                    clock=clock)
    monitor = b2.SpikeMonitor(group, name=_MONITOR_NAME)
    _run_seeded(b2.Network(group, monitor), n_steps * clock.dt, brian_seed)
    neuron = np.asarray(monitor.i[:], dtype=np.int64)
    steps = np.rint(np.asarray(monitor.t_[:]) * fs).astype(np.int64)
    order = np.argsort(neuron, kind="stable")  # the monitor records in time order
    neuron, steps = neuron[order], steps[order]
    bounds = np.searchsorted(neuron, np.arange(rate_hz.size + 1))
    return [steps[a:b] / fs for a, b in zip(bounds[:-1], bounds[1:])]


def _generate(task, labels, class_names, rate_hz, depth, frequency_hz, phase, duration, fs, seed,
              brian_seed, n_trains):
    """Simulate the trials (per-trial parameters; frequency 0: constant) and build the Block."""
    n_trials = labels.size
    per_train = lambda values: np.repeat(values, n_trains)  # noqa: E731
    # Constant-rate trials run with frequency 0 and phase 0: the rate is exactly rate_hz.
    phase = np.where(frequency_hz > 0, phase, 0.0)
    times = _simulate(per_train(rate_hz), per_train(depth), per_train(frequency_hz),
                      per_train(phase), duration, fs, brian_seed)
    block = neo.Block(name=task, task=task, fs=float(fs), duration=float(duration),
                      class_names=[str(c) for c in class_names], n_trains=int(n_trains),
                      seed=int(seed))
    for k in range(n_trials):
        segment = neo.Segment(name=f"trial {k}", index=k, trial=k, label=int(labels[k]),
                              band="", rate=float(rate_hz[k]), depth=float(depth[k]),
                              seed=int(seed))
        if frequency_hz[k] > 0:
            segment.annotations.update(band=band_of(float(frequency_hz[k])),
                                       frequency=float(frequency_hz[k]), phase=float(phase[k]))
        for j in range(n_trains):
            train_name = f"trial {k}" if n_trains == 1 else f"trial {k} train {j}"
            train = neo.SpikeTrain(times[k * n_trains + j], units=pq.s, t_start=0.0 * pq.s,
                                   t_stop=duration * pq.s, sampling_rate=fs * pq.Hz,
                                   name=train_name)
            segment.spiketrains.append(train)
            train.segment = segment
        block.segments.append(segment)
        segment.block = block
    return block


# --- generators ----------------------------------------------------------------------------------
def modulated_poisson(n_trials, rate_hz, depth=1.0, frequency_hz=None, phase=0.0, duration=0.1,
                      fs=1000.0, seed=None, label=0, class_name=None, n_trains=1):
    """Poisson spike trains with a constant or sinusoidally modulated rate, one class.

    Steps:

    1. seed: one integer (drawn when ``seed`` is None) from which a numpy Generator (trial
       parameters) and Brian2's seed (spikes) are derived;
    2. per trial, draw the modulation frequency (if ``frequency_hz`` is a range) and then the
       phase (if ``phase='uniform'``);
    3. simulate all trials at once: one ``PoissonGroup`` (:func:`modulated_poisson_group`) of
       ``n_trials * n_trains`` neurons at ``dt = 1/fs`` with rate
       ``rate_hz * (1 + depth*sin(2*pi*f*t + phase))`` (``rate_hz`` when ``frequency_hz`` is
       None), run for ``duration``;
    4. one ``neo.Segment`` per trial with its ``n_trains`` spike trains (s), annotated.

    Parameters
    ----------
    n_trials : int
        Number of trials, >= 1.
    rate_hz : float
        Mean rate (Hz), >= 0.
    depth : float
        Modulation depth in [0, 1].
    frequency_hz : None, float or (float, float)
        Modulation frequency (Hz) in (0, fs/2): None is a constant rate; a pair ``(low, high)``
        draws it uniformly per trial (``low == high`` fixes it).
    phase : float or 'uniform'
        Phase (rad) at the trial start, or ``'uniform'`` on [0, 2*pi) per trial. Ignored for a
        constant rate.
    duration : float
        Trial length (s); ``duration * fs`` must be a whole number of samples.
    fs : float
        Sampling rate (Hz): spikes fall on the grid ``n/fs``.
    seed : int, numpy.random.Generator or None
        Same seed, same Block. An int in [0, 2**63); a Generator gives (and advances by) one
        draw; None draws a fresh seed. The seed used is annotated.
    label : int
        Class label of every trial (>= 0).
    class_name : str, optional
        Name of that class (``class_names[label]`` in the block annotations); default
        ``'constant'`` or ``'modulated'``.
    n_trains : int
        Spike trains per trial (a population sharing the rate, independent spikes).

    Returns
    -------
    neo.Block
        ``n_trials`` segments; annotations as described in :mod:`rrnsim.data.generators`.

    Raises
    ------
    ValueError or TypeError
        An argument out of range or of the wrong type, naming the value.
    """
    n_trials = count("n_trials", n_trials)
    n_trains = count("n_trains", n_trains)
    label = count("label", label, minimum=0)
    fs = positive("fs", fs, unit=pq.Hz)
    duration = positive("duration", duration, unit=pq.s)
    n_bins(duration, fs)
    rate_hz = number("rate_hz", rate_hz, unit=pq.Hz)
    depth = number("depth", depth)
    _rate_parameters(rate_hz, depth, 0.0, 0.0, fs)
    if frequency_hz is not None and np.ndim(frequency_hz) != 0:
        low, high = frequency_range("frequency_hz", frequency_hz, fs)
    elif frequency_hz is not None:
        low = high = modulation_frequency("frequency_hz", frequency_hz, fs)
    if isinstance(phase, str):
        if phase != "uniform":
            raise ValueError(f"phase must be a number (rad) or 'uniform', got {phase!r}")
    else:
        phase = number("phase", phase)
    seed = _seed(seed)
    rng, brian_seed = _streams(seed)

    if frequency_hz is None:
        frequencies = np.zeros(n_trials)
    else:
        frequencies = rng.uniform(low, high, n_trials) if low < high else np.full(n_trials, low)
    if isinstance(phase, str) and frequency_hz is not None:
        phases = rng.uniform(0.0, 2 * np.pi, n_trials)
    else:
        phases = np.full(n_trials, 0.0 if isinstance(phase, str) else phase)
    if class_name is None:
        class_name = "constant" if frequency_hz is None else "modulated"
    class_names = [""] * label + [str(class_name)]
    return _generate("modulated_poisson", np.full(n_trials, label), class_names,
                     np.full(n_trials, rate_hz), np.full(n_trials, depth), frequencies, phases,
                     duration, fs, seed, brian_seed, n_trains)


def paper_task(n_trials, seed=None, duration=0.1, fs=1000.0, rate=100.0, f_range=(10.0, 50.0),
               n_trains=1):
    """The paper's spike-train task as a neo Block: constant vs sinusoidally modulated trains.

    The same process as :func:`rrnsim.data.spike_task` (same arguments; not the same random
    numbers), simulated with Brian2:

    1. labels: ``n_trials // 2`` zeros (``'constant'``) and the rest ones (``'modulated'``),
       shuffled;
    2. one modulation frequency per label-1 trial, uniform in ``f_range`` (Hz);
    3. spikes: a ``PoissonGroup`` at ``dt = 1/fs`` with rate ``rate`` (label 0) or
       ``rate * (1 + sin(2*pi*f*t))`` (label 1, phase zero at the trial start; this is
       :func:`rrnsim.data.tasks.spike_task_rate`): a spike at ``n/fs`` with probability
       ``rate(n/fs)/fs``.

    ``bin_block(paper_task(...))`` gives arrays distributed as ``spike_task(...).X, .y``.

    Parameters
    ----------
    n_trials : int
        Number of trials, >= 1 (2 or more for both classes).
    seed : int, numpy.random.Generator or None
        As for :func:`modulated_poisson`.
    duration : float
        Trial length (s). Default 0.1 (100 ms).
    fs : float
        Sampling rate (Hz). Default 1000.
    rate : float
        Mean rate (Hz) of the constant trains and baseline of the modulated ones. Default 100.
    f_range : (float, float)
        Range (Hz) of the modulation frequency, ``0 < low <= high < fs/2``. Default (10, 50).
    n_trains : int
        Spike trains per trial (independent, same rate). Default 1, as in the paper.

    Returns
    -------
    neo.Block
        Block annotations ``task='paper_task'``, ``class_names=['constant', 'modulated']``.
    """
    n_trials = count("n_trials", n_trials)
    n_trains = count("n_trains", n_trains)
    fs = positive("fs", fs, unit=pq.Hz)
    duration = positive("duration", duration, unit=pq.s)
    n_bins(duration, fs)
    rate = number("rate", rate, unit=pq.Hz)
    _rate_parameters(rate, 1.0, 0.0, 0.0, fs, rate_name="rate")
    low, high = frequency_range("f_range", f_range, fs)
    seed = _seed(seed)
    rng, brian_seed = _streams(seed)

    labels = _balanced_labels(rng, n_trials, 2)
    frequencies = np.zeros(n_trials)
    frequencies[labels == 1] = rng.uniform(low, high, int((labels == 1).sum()))
    return _generate("paper_task", labels, ["constant", "modulated"], np.full(n_trials, rate),
                     np.ones(n_trials), frequencies, np.zeros(n_trials), duration, fs, seed,
                     brian_seed, n_trains)


def bands_task(n_trials, seed=None, duration=1.0, fs=1000.0, rate_hz=30.0, depth=1.0,
               bands=TASK_BANDS, n_trains=1):
    """Which rhythm band modulates the train? One class per band of ``bands`` (default
    :data:`rrnsim.rhythms.TASK_BANDS`: delta to gamma, the bands of :data:`rrnsim.BANDS` but high
    gamma).

    1. labels: ``0 .. len(bands)-1`` in near-equal numbers (counts differ by at most one),
       shuffled; class k is ``bands[k]``;
    2. per trial, a modulation frequency uniform within its band ``[low, high)`` (Hz) and a
       phase uniform on [0, 2*pi);
    3. spikes: one ``PoissonGroup`` at ``dt = 1/fs`` with rate
       ``rate_hz * (1 + depth*sin(2*pi*f*t + phase))``.

    Parameters
    ----------
    n_trials : int
        Number of trials, >= 1 (``len(bands)`` or more for every class).
    seed : int, numpy.random.Generator or None
        As for :func:`modulated_poisson`.
    duration : float
        Trial length (s). Default 1.
    fs : float
        Sampling rate (Hz). Default 1000; every band must lie below fs/2.
    rate_hz : float
        Mean rate (Hz). Default 30.
    depth : float
        Modulation depth in [0, 1]. Default 1.
    bands : sequence of str
        Band names (keys of :data:`rrnsim.BANDS`), one class each. Default delta, theta, alpha,
        beta, gamma.
    n_trains : int
        Spike trains per trial. Default 1.

    Returns
    -------
    neo.Block
        Block annotations ``task='bands_task'``, ``class_names=list(bands)``.
    """
    n_trials = count("n_trials", n_trials)
    n_trains = count("n_trains", n_trains)
    fs = positive("fs", fs, unit=pq.Hz)
    duration = positive("duration", duration, unit=pq.s)
    n_bins(duration, fs)
    rate_hz = number("rate_hz", rate_hz, unit=pq.Hz)
    depth = number("depth", depth)
    _rate_parameters(rate_hz, depth, 0.0, 0.0, fs)
    bands = task_bands(bands, fs)
    seed = _seed(seed)
    rng, brian_seed = _streams(seed)

    labels = _balanced_labels(rng, n_trials, len(bands))
    low = np.array([BANDS[b][0] for b in bands])[labels]
    high = np.array([BANDS[b][1] for b in bands])[labels]
    frequencies = np.minimum(rng.uniform(low, high), np.nextafter(high, low))  # stay in [low, high)
    phases = rng.uniform(0.0, 2 * np.pi, n_trials)
    return _generate("bands_task", labels, list(bands), np.full(n_trials, rate_hz),
                     np.full(n_trials, depth), frequencies, phases, duration, fs, seed,
                     brian_seed, n_trains)


# --- arrays --------------------------------------------------------------------------------------
def _annotation(obj, key, where):
    try:
        return obj.annotations[key]
    except KeyError:
        raise ValueError(f"{where} is missing the annotation {key!r}") from None


def bin_block(block, fs=None, source_dt=None):
    """Spike counts per sample and labels of a Block of trials, as :class:`rrnsim.RRN` takes them.

    1. Read ``fs`` (Hz; the argument, else the block annotation ``fs``) and the trial length
       from the block annotation ``duration`` (s); ``duration * fs`` samples per trial;
    2. for each segment (trial), pool the spike times (s, measured from each train's
       ``t_start``: a trial cut from a longer recording starts at 0) of all its spike trains (a
       population is summed) and count them with rrnsim's causal binning
       (:func:`rrnsim.engines.brian.bin_spike_times`): spikes in ``((n-1)/fs, n/fs]`` count in
       sample n, a spike at exactly ``n/fs`` in sample n;
    3. labels from the segment annotations ``label``.

    Parameters
    ----------
    block : neo.Block
        One segment per trial, each with one or more ``neo.SpikeTrain`` (any time unit); spike
        times within ``[t_start, t_start + duration]``. Empty trains are fine (zero counts).
    fs : float, optional
        Sampling rate (Hz) of the counts; default the block's ``fs`` annotation.
    source_dt : float or time quantity, optional
        The time step (s) of a Brian2 ``SpikeGeneratorGroup`` that replays the trials (each
        trial's times from its ``t_start``): Brian2 moves each spike down to the start of its
        step, and the counts follow (:func:`rrnsim.engines.brian.bin_spike_times`).

    Returns
    -------
    X : numpy.ndarray
        Counts, (n_trials, n_samples) float64, ``n_samples = duration * fs``.
    y : numpy.ndarray
        Labels, (n_trials,) int64.

    Raises
    ------
    ValueError
        A missing annotation (named), no segments or a segment without spike trains, a train
        whose units are not a time, a spike time outside ``[0, duration]`` (named).

    Notes
    -----
    Spikes in the last interval ``((n_samples-1)/fs, duration]`` would count in sample
    ``n_samples``, after the trial; they are left out, as the Brian2 engine, run for
    ``n_samples`` samples, never applies them either. The generators' spikes never fall there
    (the last is at ``(n_samples-1)/fs``).
    """
    if not isinstance(block, neo.Block):
        raise TypeError(f"block must be a neo.Block, got {type(block).__name__}")
    if fs is None:
        fs = _annotation(block, "fs", "the block (pass fs, or annotate it)")
    fs = positive("fs", fs, unit=pq.Hz)
    duration = positive("duration", _annotation(block, "duration", "the block"), unit=pq.s)
    n_samples = n_bins(duration, fs)
    if not block.segments:
        raise ValueError("the block has no segments (trials)")
    tolerance = 1e-6 / fs  # the tolerance bin_spike_times allows around the sample grid
    X = np.zeros((len(block.segments), n_samples))
    y = np.zeros(len(block.segments), dtype=np.int64)
    for k, segment in enumerate(block.segments):
        where = f"segment {k} ({segment.name!r})"
        label = _annotation(segment, "label", where)
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, numbers.Integral):
            raise ValueError(f"{where} has a label {label!r} that is not an integer")
        y[k] = label
        if not segment.spiketrains:
            raise ValueError(f"{where} has no spike trains")
        times = []
        for j, train in enumerate(segment.spiketrains):
            if train.dimensionality.simplified != pq.s.dimensionality:
                raise ValueError(f"spike train {j} of {where} has units {train.dimensionality}, "
                                 f"which are not a time")
            t = np.asarray((train.times - train.t_start).rescale(pq.s).magnitude,
                           dtype=float).ravel()
            bad = ~np.isfinite(t) | (t < -tolerance) | (t > duration + tolerance)
            if bad.any():
                raise ValueError(f"spike time {t[bad][0]:.6g} s (from t_start) in spike train {j} of "
                                 f"{where} is outside the trial [0, {duration}] s")
            times.append(t)
        X[k] = bin_spike_times(np.concatenate(times), fs, n_samples + 1,
                               source_dt)[:n_samples]
    return X, y


# --- NIX files -----------------------------------------------------------------------------------
#: The annotation that carries a spike train's sampling rate (Hz) through a NIX file.
_SAMPLING_RATE = "sampling_rate_hz"


def _objects(block):
    return [block, *block.children_recur]


def _plain(value):
    """Annotation values as Python scalars (NixIO reads numpy scalars)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def save_nix(block, path, progress=False):
    """Write a Block to a NIX file (``neo.io.NixIO``), atomically; return the path.

    The block is written to a temporary file next to ``path`` (NixIO mode ``'ow'``) and then
    renamed over ``path``, so an existing file is replaced whole and nothing half-written is
    left. The block is not changed (NixIO's ``nix_name`` annotations, and the
    ``sampling_rate_hz`` that carries each spike train's sampling rate, are removed again).

    Parameters
    ----------
    block : neo.Block
    path : str or os.PathLike
        Target file (``.nix``); its folder must exist.
    progress : bool
        A progress bar over the spike trains written (neo's NixIO takes about 10 ms per train:
        a 500-cell PING trial about 6 s).

    Returns
    -------
    pathlib.Path
    """
    if not isinstance(block, neo.Block):
        raise TypeError(f"block must be a neo.Block, got {type(block).__name__}")
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"cannot write {path}: folder {path.parent} does not exist")
    named = {id(obj) for obj in _objects(block) if "nix_name" in obj.annotations}
    # NixIO drops a spike train's sampling_rate: an annotation carries it, and load_nix reads it
    carried = [train for segment in block.segments for train in segment.spiketrains
               if _SAMPLING_RATE not in train.annotations]
    for train in carried:
        train.annotations[_SAMPLING_RATE] = float(train.sampling_rate.rescale(pq.Hz).magnitude)
    try:
        # 'ow' (overwrite): the default 'rw' would add to an existing file and cannot open the
        # empty temporary file.
        with atomic_path(path) as tmp, neo.io.NixIO(str(tmp), mode="ow") as io:
            bar = _count_written_trains(io, block, path.name) if progress else None
            try:
                io.write_block(block)
            finally:
                if bar is not None:
                    bar.close()
    finally:
        for obj in _objects(block):  # NixIO annotates what it writes with 'nix_name'
            if id(obj) not in named:
                obj.annotations.pop("nix_name", None)
        for train in carried:
            train.annotations.pop(_SAMPLING_RATE)
    return path


def _count_written_trains(io, block, name):
    """A tqdm bar that ``io`` (a ``neo.io.NixIO``) advances as it writes ``block``'s spike
    trains; None if this neo's NixIO has no per-train step to count.

    NixIO writes a block in one call; its per-train step, ``_write_spiketrain``, is private, so
    this wraps it on this instance only."""
    write_train = getattr(io, "_write_spiketrain", None)
    if write_train is None:
        return None
    from tqdm import tqdm
    bar = tqdm(total=sum(len(segment.spiketrains) for segment in block.segments),
               desc=f"writing {name}", unit="train", leave=False)

    def counted(*args, **kwargs):
        result = write_train(*args, **kwargs)
        bar.update()
        return result
    io._write_spiketrain = counted
    return bar


def load_nix(path):
    """Read the Block of a NIX file written by :func:`save_nix` (``neo.io.NixIO``, read-only).

    NixIO's ``nix_name`` annotations are dropped, numpy scalar annotations become Python
    scalars and a block's ``class_names`` is a list again (NixIO reads a one-element list back as
    its element), so a Block saved by :func:`save_nix` comes back with the annotations it was
    saved with, and each spike train with its ``sampling_rate`` (which NixIO does not keep:
    :func:`save_nix` writes it as an annotation).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    neo.Block

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is not a readable NIX file, or holds other than exactly one block.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NIX file at {path}")
    try:
        with neo.io.NixIO(str(path), mode="ro") as io:
            blocks = io.read_all_blocks()
    except Exception as exc:
        raise ValueError(f"cannot read {path} as a NIX file: {exc}") from exc
    if len(blocks) != 1:
        raise ValueError(f"{path} holds {len(blocks)} blocks; expected exactly one")
    block = blocks[0]
    for obj in _objects(block):
        obj.annotations.pop("nix_name", None)
        for key, value in obj.annotations.items():
            obj.annotations[key] = _plain(value)
        if isinstance(obj, neo.SpikeTrain) and _SAMPLING_RATE in obj.annotations:
            obj.sampling_rate = obj.annotations.pop(_SAMPLING_RATE) * pq.Hz
    for key in _LIST_ANNOTATIONS:
        if key in block.annotations and not isinstance(block.annotations[key], list):
            block.annotations[key] = [block.annotations[key]]
    return block
