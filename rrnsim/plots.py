"""Figures (matplotlib, no pyplot state): node traces, spectra with rhythm bands shaded.

Each ``plot_*`` function returns a ``matplotlib.figure.Figure``; save it with
``fig.savefig(path)``. :func:`shade_bands` draws on an axes you pass and returns None.
Plots read states, spectra and models; they never change them.
"""
import numpy as np
import quantities as pq
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .oscillator import ar2_power_spectrum
from .rhythms import BANDS, band_of
from .spectral import validate_spectrum
from .validation import count, positive

__all__ = ["plot_traces", "plot_spectra", "shade_bands", "plot_confusion", "plot_class_profiles",
           "plot_raster", "plot_psd"]

_BAND_COLOURS = ["#f2e6ff", "#e6f0ff", "#e6fff0", "#fffbe6", "#ffeee6", "#f5f5f5"]
_BAND_SYMBOLS = {"delta": "δ", "theta": "θ", "alpha": "α", "beta": "β", "gamma": "γ",
                 "high gamma": "high γ"}


def shade_bands(ax, label=True):
    """Shade the rhythm bands on ``ax``'s frequency (Hz) x-axis, names on top; returns None."""
    for (name, (low, high)), colour in zip(BANDS.items(), _BAND_COLOURS):
        ax.axvspan(low, high, color=colour, zorder=0)
        if label:
            ax.text(np.sqrt(low * high), 1.0, _BAND_SYMBOLS.get(name, name),
                    transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=7, color="0.35")


def _node_label(f):
    band = band_of(f)
    return f"{f:.3g} Hz" + (f" ({band})" if band else "")


def _spectrum(freqs_hz, psd, n_columns=None):
    """Positive frequencies (Hz), the PSD's rows there as (F, n) floats, and the PSD's units as a
    label ('' for plain arrays), checked as :func:`rrnsim.spectral.validate_spectrum` does, with
    ``n_columns`` columns when given."""
    f, p, units, _ = validate_spectrum(freqs_hz, psd)
    if n_columns is not None and p.shape[1] != n_columns:
        raise ValueError(f"psd must have one column per node ({n_columns}), got shape {p.shape}")
    dimensionless = units.dimensionality == pq.dimensionless.dimensionality
    keep = f > 0
    if not (p[keep] > 0).any():
        raise ValueError("psd has no positive value to draw on a log axis (all zero?)")
    return f[keep], p[keep], "" if dimensionless else units.dimensionality.unicode


def plot_traces(states, fs, frequencies, sample=0, seconds=None, title=None):
    """Node traces of one sample, stacked by frequency (lowest at the bottom), each scaled to
    its own range.

    states : (batch, time, node) array; fs : Hz; frequencies : (node,) Hz, one per node;
    sample : which sample (batch index) to draw;
    seconds : show the first ``seconds`` s only (all by default), at least one sample (1/fs s).
    """
    states = np.asarray(states)
    if states.ndim != 3 or states.shape[1] == 0:
        raise ValueError(f"states must have shape (batch, time, node) with time >= 1, got shape "
                         f"{states.shape}")
    if not np.isfinite(states[sample]).all():
        raise ValueError(f"states of sample {sample} hold values that are not finite")
    if np.shape(frequencies) != states.shape[2:]:
        raise ValueError(f"frequencies must give one value (Hz) per node of states "
                         f"({states.shape[2]} nodes), got {np.ravel(frequencies).tolist()}")
    fs = positive("fs", fs)
    x = states[sample]
    n_show = x.shape[0]
    if seconds is not None:
        n_show = min(n_show, int(round(positive("seconds", seconds) * fs)))
        if n_show < 1:
            raise ValueError(f"seconds={seconds} shows no sample at fs={fs:g} Hz; give at least "
                             f"1/fs = {1 / fs:g} s")
    t = np.arange(1, n_show + 1) / fs
    order = np.argsort(frequencies)
    fig = Figure(figsize=(9, 0.55 * len(order) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    for row, k in enumerate(order):
        trace = x[:n_show, k]
        scale = np.abs(trace).max() or 1.0
        ax.plot(t, row + 0.45 * trace / scale, lw=0.7, color=f"C{row % 10}")
    ax.set_yticks(range(len(order)), [_node_label(frequencies[k]) for k in order], fontsize=8)
    ax.set_xlabel("time (s)")
    ax.set_xlim(t[0], t[-1])
    ax.set_title(f"{title or 'node states x'} (each trace scaled to its own range)")
    return fig


def plot_spectra(freqs_hz, psd, frequencies, radius, fs, input_variance=1.0, title=None):
    """Each node's measured PSD (solid) over its analytic AR(2) PSD (dashed), bands shaded.

    The analytic PSD is the steady state's, as the mean over each frequency bin (its resonance
    is often narrower than a bin: :func:`rrnsim.oscillator.ar2_power_spectrum`). A run shorter
    than a node's time constant ``1/beta`` (100 s at r = 0.99999 and 1 kHz) has not reached its
    steady state: its measured peak lies below the analytic one.

    freqs_hz : (F,) Hz; psd : (F, node) in units**2/Hz (a quantity's units label the axis);
    frequencies : (node,) Hz; radius : (node,) pole radii (dimensionless); fs : sampling rate
    (Hz); input_variance : variance of the white drive, scaling the analytic spectrum.
    """
    n = len(frequencies)
    f, p, units = _spectrum(freqs_hz, psd, n_columns=n)
    analytic = input_variance * ar2_power_spectrum(f, frequencies, radius, fs,
                                                   bin_width_hz=f[1] - f[0] if f.size > 1 else None)
    cols = 4 if n > 6 else 3
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(3.2 * cols, 2.4 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    for k, ax in enumerate(axes):
        if k >= n:
            ax.set_axis_off()
            continue
        shade_bands(ax, label=k < cols)
        ax.loglog(f, p[:, k], lw=0.9, color="C0", label="measured (Welch)")
        ax.loglog(f, analytic[:, k], lw=1.0, ls="--", color="k",
                  label="analytic AR(2), steady state")
        ax.axvline(frequencies[k], color="C3", lw=0.6, alpha=0.6)
        ax.set_title(_node_label(frequencies[k]), fontsize=9, pad=12 if k < cols else 4)
        ax.set_xlim(max(f[0], 0.5), fs / 2)
        if k % cols == 0:
            ax.set_ylabel(f"PSD ({units or '1/Hz'})")
        if k >= n - cols:   # the lowest panel of its column: its frequency axis is labelled
            ax.set_xlabel("frequency (Hz)")
            ax.tick_params(labelbottom=True)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title or "node spectra: measured over analytic")
    return fig


def plot_confusion(confusion, class_names, title=None):
    """Confusion matrix (true rows, predicted columns), counts annotated, row-normalised colour."""
    confusion = np.asarray(confusion)
    n = len(class_names)
    if confusion.shape != (n, n):
        raise ValueError(f"confusion must have shape ({n}, {n}), one row and column per class "
                         f"name, got {confusion.shape}")
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(max(4.5, 1.6 + 0.6 * n), max(3.6, 1.4 + 0.5 * n)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.6 else "black")
    long_names = n > 4 or max(len(str(name)) for name in class_names) > 8
    ax.set_xticks(range(n), class_names, rotation=45 if long_names else 0,
                  ha="right" if long_names else "center")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, label="share of true class")
    ax.set_title(title or "confusion matrix")
    return fig


def plot_class_profiles(frequencies, profiles, class_names, ylabel="mean A² (log scale)",
                        title=None, resonance=None, resonance_label="resonance with the input"):
    """The paper's class response profile: mean feature per class against node frequency.

    frequencies : (K,) Hz; profiles : (classes, K). ``resonance``: optionally (2, classes, K),
    the class means of the resonance features (``RRNClassifier.summaries``'s ``centred_x`` and
    ``centred_q``, or ``resonance_x`` and ``resonance_q``), drawn in a second panel (in phase
    solid, quadrature dashed; symmetric log scale, as they change sign), with the y label
    ``resonance_label``.
    """
    frequencies, profiles = np.asarray(frequencies), np.asarray(profiles)
    if profiles.shape != (len(class_names), frequencies.size):
        raise ValueError(f"profiles must have shape {(len(class_names), frequencies.size)} "
                         f"(classes, nodes), got {profiles.shape}")
    panels = 1 if resonance is None else 2
    fig = Figure(figsize=(7, 4 if panels == 1 else 6.5), layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    order = np.argsort(frequencies)
    colours = [f"C{c % 10}" for c in range(len(class_names))]
    for c, name in enumerate(class_names):
        axes[0].plot(frequencies[order], profiles[c, order], "o-", ms=4, lw=1.2, color=colours[c],
                     label=str(name))
    axes[0].set_yscale("log")
    axes[0].set_ylabel(ylabel)
    if resonance is not None:
        resonance = np.asarray(resonance)
        if resonance.shape != (2,) + profiles.shape:
            raise ValueError(f"resonance must have shape {(2,) + profiles.shape} (in phase and "
                             f"quadrature, classes, nodes), got {resonance.shape}")
        for c in range(len(class_names)):
            for part, style in ((0, "o-"), (1, "s--")):
                axes[1].plot(frequencies[order], resonance[part, c, order], style, ms=3, lw=1.0,
                             color=colours[c])
        finite = np.abs(resonance[np.isfinite(resonance)])    # a class absent from the data: NaN
        axes[1].set_yscale("symlog", linthresh=max(finite.max(initial=0.0) * 1e-3, 1e-12),
                           linscale=2)   # room for the labels at 0 and +-linthresh
        axes[1].axhline(0.0, color="0.5", lw=0.6)
        axes[1].set_ylabel(f"{resonance_label}\n(in phase —, quadrature - -)")
    for ax in axes:
        shade_bands(ax, label=ax is axes[0])
        ax.set_xscale("log")
    axes[-1].set_xlabel("node frequency (Hz)")
    axes[0].legend(fontsize=8, title="class", ncols=2 if len(class_names) > 5 else 1)
    axes[0].set_title(title or "class response profile", pad=14)
    return fig


def _spread(n, k):
    """``min(n, k)`` indices spread evenly over ``range(n)``, increasing."""
    return np.arange(n) if k >= n else ((np.arange(k) + 0.5) * n / k).astype(int)


def _raster_trains(trains, max_trains):
    """``trains``, or about ``max_trains`` of them (in order) spread evenly over each population
    (the trains' ``population`` annotation; unannotated trains are one): a share proportional to
    its size, at least one train."""
    if len(trains) <= max_trains:
        return list(trains)
    populations = {}
    for index, train in enumerate(trains):
        populations.setdefault(train.annotations.get("population"), []).append(index)
    keep = []
    for members in populations.values():
        share = max(1, round(max_trains * len(members) / len(trains)))
        keep.extend(np.asarray(members)[_spread(len(members), share)])
    return [trains[i] for i in sorted(keep)]


def plot_raster(block, max_trials=40, max_trains=200, title=None):
    """Spike raster of a ``neo.Block``: one row per train, trials stacked and coloured by class
    (the legend, beside the axes, in class order).

    For blocks of one long trial (a network such as PING) the rows are its neurons, coloured
    by their ``population`` annotation when they have one. Shows the
    first ``max_trials`` trials; a trial of more than ``max_trains`` trains shows about
    ``max_trains`` of them, spread evenly over each population (the trains' ``population``
    annotation, e.g. PING's 'E' and 'I'), each keeping a share proportional to its size and at
    least one row, so every population shows.
    """
    max_trials = count("max_trials", max_trials)
    max_trains = count("max_trains", max_trains)
    segments = block.segments[:max_trials]
    names = block.annotations.get("class_names")
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    trains_per_trial = max(len(segment.spiketrains) for segment in segments) if segments else 0
    # one trial of a network: colour by population (PING's E and I); else by the trial's class
    by_population = len(segments) == 1 and any(
        "population" in train.annotations for train in segments[0].spiketrains)

    def key(segment, train):
        if by_population:
            return str(train.annotations.get("population", ""))
        label = segment.annotations.get("label", 0)
        named = names and isinstance(label, (int, np.integer)) and 0 <= label < len(names)
        return (0, int(label), names[label]) if named else (1, str(label), str(label))
    keys = sorted({key(segment, train) for segment in segments for train in segment.spiketrains})
    colours = {k: f"C{i % 10}" for i, k in enumerate(keys)}   # in class (or population) order
    row, drawn = 0, {}
    for segment in segments:
        if row and trains_per_trial > 1:
            ax.axhline(row - 0.5, lw=0.4, color="0.7")   # trial boundary
        for train in _raster_trains(segment.spiketrains, max_trains):
            k = key(segment, train)
            times = train.rescale("s").magnitude
            drawn[k] = ax.plot(times, np.full(times.size, row), "|", ms=3, color=colours[k])[0]
            row += 1
    ax.set_xlabel("time (s)")
    if len(segments) == 1:
        shown = f" ({row} of {trains_per_trial} shown)" if row < trains_per_trial else ""
        ax.set_ylabel("neuron" + shown)
    else:
        ax.set_ylabel("trial" if trains_per_trial == 1 else "train (trials stacked, lines between)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(-1, row)
    if len(drawn) > 1:   # beside the axes, where it hides no spike, in class order
        order = [k for k in keys if k in drawn]
        ax.legend([drawn[k] for k in order], [k if by_population else k[2] for k in order],
                  fontsize=8, markerscale=3, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  title="population" if by_population else "class")
    ax.set_title(title or block.name or "spike raster")
    return fig


def plot_psd(freqs_hz, psd, labels=None, title=None, ylabel="PSD"):
    """Power spectra on log axes with the rhythm bands shaded; freqs_hz (F,) in Hz (or a quantity),
    psd (F,) or (F, n), one label per column (shown up to 12; more than 10 spectra are coloured
    along the viridis map, in column order); a quantity's units are added to ``ylabel``."""
    f, p, units = _spectrum(freqs_hz, psd)
    if labels is not None and len(labels) != p.shape[1]:
        raise ValueError(f"labels must name each of the {p.shape[1]} spectra, got {len(labels)}")
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    shade_bands(ax)
    # beyond matplotlib's 10 colours, a sequential colour map in column order
    colours = ([f"C{i}" for i in range(p.shape[1])] if p.shape[1] <= 10
               else colormaps["viridis"](np.linspace(0, 0.95, p.shape[1])))
    for i in range(p.shape[1]):
        ax.loglog(f, p[:, i], lw=0.9, color=colours[i],
                  label=None if labels is None else labels[i])
    ax.set_xlim(f[0], f[-1])   # bands outside the spectrum are not shaded as if measured
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"{ylabel} ({units})" if units else ylabel)
    if labels is not None and len(labels) <= 12:
        ax.legend(fontsize=7, ncols=2)
    ax.set_title(title or "power spectrum", pad=14)
    return fig
