"""Tests of rrnsim.plots on synthetic inputs: what is drawn, and errors that name bad values."""
import neo
import numpy as np
import pytest
import quantities as pq

from rrnsim.plots import (plot_class_profiles, plot_confusion, plot_psd, plot_raster, plot_spectra,
                          plot_traces)


def one_trial_block(populations):
    """One segment; train ``k`` (population from ``populations``) spikes once, at ``k`` ms."""
    segment = neo.Segment(label=0)
    for k, population in enumerate(populations):
        annotations = {} if population is None else {"population": population}
        segment.spiketrains.append(neo.SpikeTrain([k * 1e-3] * pq.s, t_stop=10.0 * pq.s,
                                                  **annotations))
    block = neo.Block(name="synthetic")
    block.segments.append(segment)
    return block


def drawn_trains(fig):
    """Indices of the trains drawn in a raster of :func:`one_trial_block`, by row."""
    lines = sorted(fig.axes[0].lines, key=lambda line: line.get_ydata()[0])
    return np.array([int(round(line.get_xdata()[0] * 1e3)) for line in lines])


def test_raster_subsamples_every_population():
    # a PING-sized trial: 400 E trains, then 100 I trains
    drawn = drawn_trains(plot_raster(one_trial_block(["E"] * 400 + ["I"] * 100), max_trains=200))
    assert drawn.size == 200 and np.all(np.diff(drawn) > 0)
    assert np.sum(drawn < 400) == 160 and np.sum(drawn >= 400) == 40
    assert drawn[0] < 5 and drawn[159] > 395 and drawn[160] < 405 and drawn[-1] > 495
    # a population too small for its share keeps one row
    drawn = drawn_trains(plot_raster(one_trial_block(["E"] * 1000 + ["I"] * 2), max_trains=50))
    assert np.sum(drawn < 1000) == 50 and np.sum(drawn >= 1000) == 1
    # unannotated trains are spread evenly too; few trains are all drawn
    drawn = drawn_trains(plot_raster(one_trial_block([None] * 500), max_trains=100))
    np.testing.assert_array_equal(drawn, np.arange(2, 500, 5))
    assert drawn_trains(plot_raster(one_trial_block([None] * 30))).tolist() == list(range(30))
    with pytest.raises(ValueError, match="max_trains must be at least 1, got 0"):
        plot_raster(one_trial_block([None] * 3), max_trains=0)


def test_raster_names_labels_beyond_the_class_names_by_number():
    block = one_trial_block([None] * 3)
    block.segments.append(one_trial_block([None] * 3).segments[0])
    block.annotations["class_names"] = ["constant"]     # a name for label 0 only
    block.segments[1].annotations["label"] = 1
    fig = plot_raster(block)
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["constant", "1"]


def test_raster_colours_each_class_and_population_and_lists_them_in_order():
    block = neo.Block(class_names=["delta", "theta", "alpha"])
    for label in (2, 0, 1, "x", "y"):      # classes drawn out of order, and string labels
        segment = neo.Segment(label=label)
        segment.spiketrains.append(neo.SpikeTrain([0.01], units="s", t_stop=0.1))
        block.segments.append(segment)
    ax = plot_raster(block).axes[0]
    legend = ax.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["delta", "theta", "alpha", "x",
                                                                "y"]
    assert len({line.get_color() for line in ax.lines}) == 5
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1   # beside the axes
    ping = plot_raster(one_trial_block(["E"] * 400 + ["I"] * 100), max_trains=200).axes[0]
    assert [text.get_text() for text in ping.get_legend().get_texts()] == ["E", "I"]
    assert ping.get_ylabel() == "neuron (200 of 500 shown)"


def test_traces_draw_every_node_for_the_seconds_asked():
    states = np.random.default_rng(0).normal(size=(2, 100, 3))
    fig = plot_traces(states, 1000.0, [40.0, 4.0, 12.0], sample=1, seconds=0.05)
    assert [line.get_xdata().size for line in fig.axes[0].lines] == [50, 50, 50]
    assert [label.get_text() for label in fig.axes[0].get_yticklabels()][0].startswith("4 Hz")


@pytest.mark.parametrize("frequencies, seconds, match", [
    ([10.0], None, r"one value \(Hz\) per node of states \(2 nodes\), got \[10.0\]"),
    ([10.0, 20.0, 30.0], None, r"\(2 nodes\), got \[10.0, 20.0, 30.0\]"),
    ([10.0, 20.0], 0.0001, r"seconds=0.0001 shows no sample at fs=1000 Hz"),
    ([10.0, 20.0], -1.0, r"seconds must be a finite positive number, got -1.0"),
])
def test_traces_bad_arguments_are_named(frequencies, seconds, match):
    with pytest.raises(ValueError, match=match):
        plot_traces(np.zeros((1, 100, 2)), 1000.0, frequencies, seconds=seconds)


def test_class_profiles_draw_the_resonance_panel_when_given():
    frequencies = np.array([20.0, 5.0, 80.0])
    profiles = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]])
    assert len(plot_class_profiles(frequencies, profiles, ["a", "b"]).axes) == 1
    resonance = np.array([[[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]], [[0.1, 0.2, 0.3], [0.0, -0.1, 0.2]]])
    fig = plot_class_profiles(frequencies, profiles, ["a", "b"], resonance=resonance)
    top, bottom = fig.axes
    assert len(top.lines) == 2 and len(bottom.lines) == 2 * 2 + 1   # 2 classes x (x, q), zero line
    # drawn in frequency order: class b's quadrature, the node at 5 Hz first
    np.testing.assert_array_equal(bottom.lines[3].get_xdata(), [5.0, 20.0, 80.0])
    np.testing.assert_array_equal(bottom.lines[3].get_ydata(), [-0.1, 0.0, 0.2])
    resonance[:, 1] = np.nan     # a class without test samples: drawn for the other class
    bottom = plot_class_profiles(frequencies, profiles, ["a", "b"], resonance=resonance).axes[1]
    assert bottom.get_yscale() == "symlog" and 0 < bottom.yaxis.get_transform().linthresh < 1
    with pytest.raises(ValueError, match=r"resonance must have shape \(2, 2, 3\)"):
        plot_class_profiles(frequencies, profiles, ["a", "b"], resonance=resonance[0])
    with pytest.raises(ValueError, match=r"profiles must have shape \(3, 3\)"):
        plot_class_profiles(frequencies, profiles, ["a", "b", "c"])


def test_raster_of_trials_with_several_trains_labels_trains_and_marks_trials():
    block = one_trial_block([None] * 3)
    block.segments.append(one_trial_block([None] * 3).segments[0])
    ax = plot_raster(block).axes[0]
    assert ax.get_ylabel().startswith("train") and len(ax.lines) == 6 + 1   # 6 trains, 1 boundary
    assert all(float(tick).is_integer() for tick in ax.get_yticks())


def test_spectrum_plots_read_units_and_check_shapes():
    freqs = np.array([0.0, 0.01, 0.02, 0.03]) * pq.kHz
    psd = np.arange(1.0, 9.0).reshape(4, 2) * pq.mV ** 2 / pq.Hz
    ax = plot_psd(freqs, psd, labels=["a", "b"]).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [10.0, 20.0, 30.0])   # 0 Hz dropped
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [4.0, 6.0, 8.0])
    assert ax.get_ylabel() == "PSD (mV²/Hz)"
    fig = plot_spectra(freqs, psd, [10.0, 20.0], [0.99, 0.99], 1000.0)
    assert fig.axes[0].get_ylabel() == "PSD (mV²/Hz)"
    with pytest.raises(ValueError, match=r"psd must have shape \(4,\) or \(4, node\) to match freqs; got shape \(2, 4\)"):
        plot_psd(freqs, psd.T)
    with pytest.raises(ValueError, match=r"one column per node \(3\), got shape \(4, 2\)"):
        plot_spectra(freqs, psd, [10.0, 20.0, 30.0], [0.99] * 3, 1000.0)
    with pytest.raises(ValueError, match="labels must name each of the 2 spectra, got 1"):
        plot_psd(freqs, psd, labels=["a"])
    with pytest.raises(ValueError, match="freqs must be in Hz, got units ms"):
        plot_psd(np.arange(4.0) * pq.ms, psd)


def test_figures_refuse_what_they_cannot_draw_and_keep_to_their_data():
    freqs = np.array([10.0, 20.0, 30.0])
    with pytest.raises(ValueError, match="psd has no positive value to draw on a log axis"):
        plot_psd(freqs, np.zeros(3))
    with pytest.raises(ValueError, match=r"confusion must have shape \(2, 2\), one row and "
                                         r"column per class name, got \(3, 3\)"):
        plot_confusion(np.eye(3, dtype=int), ["a", "b"])
    states = np.ones((1, 5, 2))
    states[0, 2, 1] = np.nan
    with pytest.raises(ValueError, match="states of sample 0 hold values that are not finite"):
        plot_traces(states, 1000.0, [5.0, 10.0])
    ax = plot_psd(freqs, np.ones((3, 12))).axes[0]
    assert ax.get_xlim() == (10.0, 30.0)           # no shaded band beyond the data
    assert len({tuple(line.get_color()) for line in ax.lines}) == 12   # no colour reused


def test_each_columns_lowest_spectrum_panel_shows_its_frequencies():
    """7 nodes on 4 columns: the last panel of the first row's fourth column has no panel
    below it, so its frequency ticks are labelled too."""
    freqs = np.linspace(0, 500, 1001)
    frequencies = np.array([2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0])
    fig = plot_spectra(freqs, np.ones((1001, 7)), frequencies, [0.99] * 7, 1000.0)
    labelled = [k for k, ax in enumerate(fig.axes[:7])
                if any(label.get_visible() for label in ax.get_xticklabels())]
    assert labelled == [3, 4, 5, 6]
