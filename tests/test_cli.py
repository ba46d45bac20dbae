"""The command line, end to end on small inputs."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rrnsim import IdealObserver, RRNClassifier, cli, plots, spectral
from rrnsim.cli import build_parser, main
from rrnsim.data import spike_task
from rrnsim.io import load_arrays
from rrnsim.rhythms import band_of

COMMANDS = ["models", "simulate", "train", "evaluate", "generate", "spectrum", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: rrnsim " + command in capsys.readouterr().out


def test_help_shows_every_default_and_what_the_demo_does(capsys):
    commands = build_parser()._subparsers._group_actions[0].choices
    for name, command in commands.items():
        for action in command._actions:
            if action.default not in (None, False, "==SUPPRESS=="):
                assert "(default: %(default)s)" in action.help, (name, action.option_strings)
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for shown in ("(default: spikes)", "(default: 1 with power features", "(default: 0.01)",
                  "SCALE times --lr (default: 0.1)"):
        assert shown in help_text
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for part in ("train the golden RRN", "10,000 new trains", "Bayes-optimal", "NIX"):
        assert part in help_text


def test_parser_knows_every_command():
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)


def test_models_reports_the_papers_parameter_counts(capsys):
    assert main(["models"]) == 0
    rows = {line.split()[0]: line.split()[1:3] for line in capsys.readouterr().out.splitlines()
            if line and line.split()[0] in ("golden", "binary", "e", "linear")}
    assert rows == {"golden": ["11", "252"], "binary": ["7", "136"], "e": ["5", "90"],
                    "linear": ["11", "252"]}


def test_simulate_writes_states_and_figures(tmp_path, capsys):
    assert main(["simulate", "--engine", "discrete", "--duration", "1", "--out", str(tmp_path),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    for name in ("states.npz", "traces.png", "spectra.png"):
        assert (tmp_path / name).stat().st_size > 0 and name in out
    with np.load(tmp_path / "states.npz", allow_pickle=False) as data:
        assert data["x"].shape == (1, 1000, 11)
    assert main(["spectrum", str(tmp_path / "states.npz"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"peak_hz", "band", "band_power"}
    # the spectrum of the node states: every node's Welch PSD (2 Hz, the default resolution),
    # summed over the nodes; its peak above 1 Hz, and the band powers summed over the nodes
    arrays, meta = load_arrays(tmp_path / "states.npz")
    freqs, psd = spectral.power_spectrum(arrays["x"], fs=meta["fs_hz"], frequency_resolution=2.0)
    assert psd.shape[1] == 11
    peak, _ = spectral.peak_frequency(freqs, psd.sum(axis=1), fmin=1.0)
    assert summary["peak_hz"] == float(peak)
    assert summary["band"] == band_of(float(peak))
    per_node = spectral.band_power(freqs, psd)
    assert set(summary["band_power"]) == set(per_node)
    for band, powers in per_node.items():
        assert summary["band_power"][band] == pytest.approx(float(powers.sum()), rel=1e-9), band
    assert main(["spectrum", str(tmp_path / "states.npz"), "--out", str(tmp_path / "psd")]) == 0
    assert f"wrote {tmp_path / 'psd.png'}" in capsys.readouterr().out.splitlines()
    assert (tmp_path / "psd.png").exists()


def test_train_then_evaluate_spike_task(tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.npz"
    assert main(["train", "--task", "spikes", "--trials", "200", "--epochs", "2", "--out",
                 str(model), "--quiet", "--model", "e", "--recurrent-lr-scale", "0.5",
                 "--readout-alpha", "3"]) == 0
    trained = RRNClassifier.load(model)
    assert trained.recurrent_lr_scale == 0.5 and trained.readout_alpha == 3.0
    plotted, plot_confusion = [], plots.plot_confusion

    def recording(confusion, class_names, title=None):
        plotted.append((np.array(confusion), list(class_names), title))
        return plot_confusion(confusion, class_names, title)
    monkeypatch.setattr(plots, "plot_confusion", recording)
    assert main(["evaluate", str(model), "--task", "spikes", "--trials", "400"]) == 0
    out = capsys.readouterr().out
    # the test set evaluate documents: --trials trains of the spike task from the test stream
    # of --seed (default 0), a stream the training trains never come from
    test = spike_task(400, seed=np.random.default_rng([0, 1]))
    accuracy = trained.score(test.X, test.y)
    assert f"accuracy on 400 spikes test samples: {accuracy:.4f}" in out.splitlines()
    ideal = IdealObserver.paper_task().score(test.X, test.y)
    assert f"the Bayes-optimal observer on the same samples: {ideal:.4f} " in out
    # the confusion matrix it draws: true class in rows, predicted in columns
    predicted = trained.predict(test.X)
    expected = [[np.sum((test.y == true) & (predicted == guess)) for guess in (0, 1)]
                for true in (0, 1)]
    [(confusion, names, title)] = plotted
    np.testing.assert_array_equal(confusion, expected)
    assert names == ["constant", "modulated"] and title == f"spikes: accuracy {accuracy:.3f}"
    assert (tmp_path / "m" / "confusion.png").exists()
    assert (tmp_path / "m" / "class_profile.png").exists()


def test_train_and_evaluate_on_trials_files_that_generate_writes(tmp_path, capsys, monkeypatch):
    """--data for the spike task reads generate's trials (binned .npz, or NIX); the trials must
    be sampled at the model's rate."""
    from rrnsim.io import save_arrays
    train, test = spike_task(120, seed=1), spike_task(60, seed=2)
    for name, data in (("train.npz", train), ("test.npz", test)):
        save_arrays(tmp_path / name, {"X": data.X, "y": data.y},
                    {"task": "paper", "fs_hz": 1000.0, "class_names": ["constant", "modulated"]})
    model = tmp_path / "m.npz"
    assert main(["train", "--data", str(tmp_path / "train.npz"), "--model", "e", "--epochs", "1",
                 "--out", str(model), "--quiet"]) == 0
    assert "on 120 spikes samples" in capsys.readouterr().out
    titles, plot_confusion = [], plots.plot_confusion
    monkeypatch.setattr(plots, "plot_confusion", lambda confusion, names, title: (
        titles.append(title), plot_confusion(confusion, names, title))[1])
    assert main(["evaluate", str(model), "--data", str(tmp_path / "test.npz")]) == 0
    out = capsys.readouterr().out
    accuracy = RRNClassifier.load(model).score(test.X, test.y)
    assert f"accuracy on 60 spikes test samples: {accuracy:.4f}" in out.splitlines()
    assert titles == [f"test.npz: accuracy {accuracy:.3f}"]    # named by its data file
    assert "Bayes-optimal" not in out   # the observer is only known for the generated task
    spec = tmp_path / "f500.toml"
    spec.write_text('name = "f500"\nfs_hz = 500.0\n[frequencies]\nlayout = "e"\n')
    assert main(["train", "--data", str(tmp_path / "train.npz"), "--model", str(spec),
                 "--epochs", "1", "--out", str(tmp_path / "m5.npz"), "--quiet"]) == 2
    assert (f"'{tmp_path / 'train.npz'}' is sampled at 1000 Hz but the model runs at 500 Hz"
            in capsys.readouterr().err)
    assert main(["evaluate", str(model), "--data", str(tmp_path / "none.npz")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["evaluate", str(model), "--data", str(tmp_path / "test.npz"),
                 "--trials", "61"]) == 2
    assert f"--trials 61: '{tmp_path / 'test.npz'}' holds 60 trials" in capsys.readouterr().err
    longer = spike_task(20, seed=3, duration=0.2)
    save_arrays(tmp_path / "long.npz", {"X": longer.X, "y": longer.y}, {"fs_hz": 1000.0})
    assert main(["evaluate", str(model), "--data", str(tmp_path / "long.npz")]) == 0
    assert ("rrnsim: note: the trials have 200 samples, the model was trained on 100"
            in capsys.readouterr().err)


def test_nix_trials_are_binned_at_the_models_rate(tmp_path, capsys):
    path = tmp_path / "trials.nix"
    assert main(["generate", "--task", "paper", "--trials", "4", "--out", str(path),
                 "--quiet"]) == 0
    X, y, names = cli.load_task("spikes", "test", data=path, fs=500.0)
    assert X.shape == (4, 50) and names == ["constant", "modulated"]   # 100 ms at 500 Hz
    X_1k, _, _ = cli.load_task("spikes", "test", data=path)
    # the same spikes in causal bins: ((m-1)/fs, m/fs] at 500 Hz holds 1 kHz samples 2m-1, 2m
    np.testing.assert_array_equal(X[:, 0], X_1k[:, 0])
    np.testing.assert_array_equal(X[:, 1:], X_1k[:, 1:99:2] + X_1k[:, 2:99:2])


def test_the_generated_spike_task_is_sampled_at_the_models_rate(tmp_path):
    spec = tmp_path / "f500.toml"
    spec.write_text('name = "f500"\nfs_hz = 500.0\n[frequencies]\nlayout = "e"\n')
    X, _, _ = cli.load_task("spikes", "train", trials=10, seed=0, fs=500.0)
    assert X.shape == (10, 50)      # 100 ms at 500 Hz
    assert main(["train", "--model", str(spec), "--trials", "40", "--epochs", "1",
                 "--out", str(tmp_path / "m.npz"), "--quiet"]) == 0
    assert RRNClassifier.load(tmp_path / "m.npz").network_.fs == 500.0


def test_generate_nix_and_spectrum_json(tmp_path, capsys):
    path = tmp_path / "trials.nix"
    assert main(["generate", "--task", "paper", "--trials", "6", "--seed", "3", "--out",
                 str(path)]) == 0
    assert path.exists() and (tmp_path / "trials.raster.png").exists()
    assert "writing trials.nix" in capsys.readouterr().err    # the NIX writing's progress bar
    assert main(["generate", "--trials", "2", "--out", str(tmp_path / "quiet.nix"),
                 "--quiet"]) == 0
    assert "writing" not in capsys.readouterr().err
    assert main(["spectrum", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["peak_hz"] > 0 and set(summary["band_power"]) >= {"delta", "gamma"}


def test_generate_npz_is_binned_and_has_the_spectrum_of_the_nix_file(tmp_path, capsys):
    summaries = {}
    for name in ("binned.NPZ", "block.nix"):  # any case of the extension
        path = tmp_path / name
        assert main(["generate", "--task", "paper", "--trials", "4", "--seed", "1", "--out",
                     str(path)]) == 0
        capsys.readouterr()
        assert main(["spectrum", str(path), "--json"]) == 0
        summaries[path.suffix] = json.loads(capsys.readouterr().out)
    with np.load(tmp_path / "binned.NPZ", allow_pickle=False) as data:
        assert data["X"].shape == (4, 100) and set(data["y"]) <= {0, 1}
    # the same trials: binned by rrnsim (causal bins) or by Elephant, the same rate spectrum
    npz, nix = summaries[".NPZ"], summaries[".nix"]
    assert npz["peak_hz"] == nix["peak_hz"]
    for band, power in nix["band_power"].items():
        assert npz["band_power"][band] == pytest.approx(power, rel=0.05), band


def test_spectrum_names_an_npz_without_states_or_trials(tmp_path, capsys):
    from rrnsim.io import save_arrays
    path = save_arrays(tmp_path / "other.npz", {"w": np.ones(3)})
    assert main(["spectrum", str(path)]) == 2
    err = capsys.readouterr().err
    assert "other.npz" in err and "neither node states" in err


@pytest.mark.parametrize("out, file_format, expected", [
    ("t.nix", None, ("t.nix", "nix")), ("t.H5", None, ("t.H5", "nix")),
    ("t.npz", None, ("t.npz", "npz")), ("t.NPZ", "npz", ("t.NPZ", "npz")),
    ("t", None, ("t.nix", "nix")), ("t", "npz", ("t.npz", "npz")),
    (None, None, ("trials.nix", "nix")), (None, "npz", ("trials.npz", "npz")),
])
def test_trials_path_takes_the_format_from_the_extension(out, file_format, expected):
    from rrnsim.cli import _trials_path
    path, chosen = _trials_path(out, file_format)
    assert (str(path), chosen) == expected


@pytest.mark.parametrize("out, extra, named", [
    ("new/z.txt", [], "'.txt'"),
    ("new/z.nix", ["--format", "npz"], "contradicts"),
    ("new/", [], "not a file name"),
    ("new/trials.", [], "not a file name"),
    ("new/.npz", [], "not a file name"),
])
def test_generate_refuses_an_output_it_cannot_name_before_any_work(out, extra, named, tmp_path,
                                                                   monkeypatch, capsys):
    import rrnsim.data

    def no_simulation(*args, **kwargs):
        raise AssertionError("generate simulated before refusing its output")
    monkeypatch.setattr(rrnsim.data, "paper_task", no_simulation)
    out = str(tmp_path / out) + ("/" if out.endswith("/") else "")
    assert main(["generate", "--trials", "2", "--out", out] + extra) == 2
    assert named in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # not even the folder


def test_generate_refuses_an_existing_folder(tmp_path, capsys, monkeypatch):
    assert main(["generate", "--trials", "2", "--out", str(tmp_path)]) == 2
    assert "not a file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "trials.nix").mkdir()   # the default output's name, taken by a folder
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--trials", "2"]) == 2
    assert "'trials.nix': it is a folder" in capsys.readouterr().err
    (tmp_path / "trials.nix").rmdir()
    (tmp_path / "trials").mkdir()       # a folder named as the default's stem is no obstacle
    from rrnsim.cli import _trials_path
    assert _trials_path() == (Path("trials.nix"), "nix")


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.npz")]) == 2
    assert "missing.npz" in capsys.readouterr().err
    assert main(["simulate", "--model", "platinum", "--out", str(tmp_path)]) == 2
    assert "'platinum'" in capsys.readouterr().err
    assert main(["train", "--task", "smnist", "--out", str(tmp_path / "m.npz")]) == 2
    assert "--data" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def test_spike_train_and_test_sets_never_share_trains():
    from rrnsim.cli import load_task
    for seed in (0, 1, 7):
        X_train, _, _ = load_task("spikes", "train", trials=200, seed=seed)
        X_test, _, _ = load_task("spikes", "test", trials=200, seed=seed)
        assert not any((X_test == row).all(axis=1).any() for row in X_train if row.sum() > 3)


def test_simulate_multichannel_input_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "input.npy"
    np.save(path, np.random.default_rng(0).standard_normal((2, 3000, 3)))
    drawn = {}
    plot_spectra = plots.plot_spectra
    def recording(*args, **kwargs):
        drawn.update(kwargs)
        return plot_spectra(*args, **kwargs)
    monkeypatch.setattr(plots, "plot_spectra", recording)
    assert main(["simulate", "--engine", "discrete", "--input", str(path), "--out",
                 str(tmp_path / "out"), "--quiet"]) == 0
    with np.load(tmp_path / "out" / "states.npz", allow_pickle=False) as data:
        assert data["x"].shape == (2, 3000, 11)
    # each node is driven by the sum of the 3 unit-variance channels: the analytic curve's scale
    assert drawn["input_variance"] == pytest.approx(3.0, rel=0.05)


@pytest.mark.parametrize("flags, message", [
    (["--duration", "0.001"], "--duration 0.001 s is shorter than two samples"),
    (["--resolution", "600"], "--resolution 600.0 Hz is above Nyquist (500 Hz)"),
    (["--out", "taken"], "'taken' is a file; simulate writes a folder"),
])
def test_simulate_refuses_before_simulating(flags, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("kept")
    def no_run(*args, **kwargs):
        raise AssertionError("simulated before refusing")
    monkeypatch.setattr(cli.RRN, "run", no_run)
    assert main(["simulate", "--engine", "discrete", "--out", "out"] + flags) == 2  # last wins
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (tmp_path / "taken").read_text() == "kept"


def test_simulate_refuses_an_input_that_looks_transposed_and_says_when_it_coarsens(tmp_path,
                                                                                   capsys):
    path = tmp_path / "u.npy"
    np.save(path, np.zeros((1000, 1)))     # a column: 1000 trials of one sample
    assert main(["simulate", "--engine", "discrete", "--input", str(path), "--out",
                 str(tmp_path / "out"), "--quiet"]) == 2
    assert (f"input file '{path}' has shape (1000, 1): 1 time sample(s); the layout is (batch, "
            "time[, channels]), so it may be transposed" in capsys.readouterr().err)
    assert not (tmp_path / "out").exists()
    np.save(path, np.random.default_rng(0).random((1, 8, 20)))   # runs, with a warning
    assert main(["simulate", "--engine", "discrete", "--input", str(path), "--out",
                 str(tmp_path / "out"), "--quiet"]) == 0
    assert (f"input file '{path}' has shape (1, 8, 20): 8 time samples of 20 channels"
            in capsys.readouterr().err)
    assert main(["simulate", "--engine", "discrete", "--duration", "1", "--resolution", "0.1",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert ("--resolution 0.1 Hz is finer than a 1 s run resolves: using 1 Hz"
            in capsys.readouterr().out)
    np.save(path, np.random.default_rng(0).random((500, 2)))   # 2 trials of 500, transposed
    assert main(["simulate", "--engine", "discrete", "--input", str(path), "--out",
                 str(tmp_path / "out"), "--quiet"]) == 0
    assert (f"input file '{path}' holds 500 trials of 2 samples; the layout is (batch, "
            "time[, channels]). Is it transposed?" in capsys.readouterr().err)


def test_spectrum_out_folder_gets_the_figure_inside(tmp_path, capsys):
    assert main(["simulate", "--engine", "discrete", "--duration", "1", "--out",
                 str(tmp_path / "sim"), "--quiet"]) == 0
    (tmp_path / "figures").mkdir()
    assert main(["spectrum", str(tmp_path / "sim" / "states.npz"), "--out",
                 str(tmp_path / "figures")]) == 0
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["states.psd.png"]
    # a folder named with a trailing slash is made, and the figure goes inside it
    assert main(["spectrum", str(tmp_path / "sim" / "states.npz"), "--out",
                 str(tmp_path / "new") + "/"]) == 0
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["states.psd.png"]


def test_spectrum_json_band_is_null_for_a_peak_outside_the_bands(tmp_path, capsys):
    spec = tmp_path / "fast.toml"
    spec.write_text('name = "fast"\n[frequencies]\nhz = [300.0]\n')   # above 200 Hz
    assert main(["simulate", "--model", str(spec), "--engine", "discrete", "--duration", "2",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["spectrum", str(tmp_path / "out" / "states.npz"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["band"] is None and abs(summary["peak_hz"] - 300) < 5


def test_outputs_that_cannot_be_written_say_why(tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.npz").write_bytes(b"keep")
    assert main(["train", "--model", "e", "--trials", "40", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "folder")]) == 2
    assert f"cannot write '{tmp_path / 'folder'}': it is a folder" in capsys.readouterr().err
    assert main(["train", "--model", "e", "--trials", "40", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "file.npz" / "m.npz")]) == 2
    assert (f"cannot write '{tmp_path / 'file.npz' / 'm.npz'}': '{tmp_path / 'file.npz'}' is a "
            "file, not a folder" in capsys.readouterr().err)
    assert (tmp_path / "file.npz").read_bytes() == b"keep"


def test_spectrum_json_is_strict_json_when_a_band_is_above_nyquist(tmp_path, capsys):
    spec = tmp_path / "slow.toml"
    spec.write_text('name = "slow"\nfs_hz = 300.0\n[frequencies]\nhz = [6.0, 20.0, 40.0]\n')
    assert main(["simulate", "--model", str(spec), "--engine", "discrete", "--duration", "4",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["spectrum", str(tmp_path / "out" / "states.npz"), "--json"]) == 0

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    summary = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert summary["band_power"]["high gamma"] is None      # 100-200 Hz, above 150 Hz
    assert summary["band_power"]["theta"] > 0


def test_train_refuses_feature_flags_the_power_features_ignore(tmp_path, capsys):
    out = tmp_path / "m.npz"
    for flags in (["--products", "2"], ["--windows", "3"]):
        assert main(["train", "--model", "e", "--features", "power", "--trials", "40",
                     "--epochs", "1", "--out", str(out), "--quiet"] + flags) == 2
        assert f"{flags[0]} only apply to the other feature sets" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("content, message", [(None, "cannot read input file"),
                                              (b"not an array", "cannot read input file"),
                                              ("npz without X", "has no array 'X'")])
def test_simulate_bad_input_file_is_an_error_line(tmp_path, capsys, content, message):
    path = tmp_path / "input.npz"
    if content == "npz without X":
        np.savez(path, u=np.zeros((1, 10)))
    elif content is not None:
        path.write_bytes(content)
    assert main(["simulate", "--engine", "discrete", "--input", str(path), "--out",
                 str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rrnsim: error:") and message in err and "input.npz" in err
    assert not (tmp_path / "out").exists()


def test_evaluate_refuses_labels_the_model_never_saw(tmp_path, capsys):
    from rrnsim import RRNClassifier
    X = np.random.default_rng(0).random((40, 100))
    model = RRNClassifier(spec="e", epochs=1, verbose=False).fit(X, np.arange(40) % 2 + 5)
    model.save(tmp_path / "m.npz")
    assert main(["evaluate", str(tmp_path / "m.npz"), "--task", "spikes", "--trials", "50"]) == 2
    assert "never saw" in capsys.readouterr().err


FINITE, NON_NEGATIVE = "must be finite, got", "must be a finite non-negative number, got"
AT_LEAST_1, HERTZ = "must be at least 1, got", "must be a positive, finite number in Hz, got"


@pytest.mark.parametrize("argv, flag, message", [
    (["simulate", "--duration", "inf"], "--duration", f"{FINITE} inf"),
    (["simulate", "--input-std", "-1"], "--input-std", f"{NON_NEGATIVE} -1.0"),
    (["simulate", "--w-res-scale", "-1"], "--w-res-scale", f"{NON_NEGATIVE} -1.0"),
    (["simulate", "--resolution", "-3"], "--resolution", f"{HERTZ} -3.0"),
    (["simulate", "--batch", "0"], "--batch", f"{AT_LEAST_1} 0"),
    (["simulate", "--seed", "-1"], "--seed", "must be at least 0, got -1"),
    (["train", "--weight-decay", "nan"], "--weight-decay", f"{FINITE} nan"),
    (["train", "--weight-decay", "-0.1"], "--weight-decay", f"{NON_NEGATIVE} -0.1"),
    (["train", "--lr", "inf"], "--lr", f"{FINITE} inf"),
    (["train", "--trials", "-59800"], "--trials", f"{AT_LEAST_1} -59800"),
    (["train", "--validation-fraction", "1"], "--validation-fraction",
     "must be in [0, 1), got 1.0"),
    (["evaluate", "model.npz", "--trials", "-9900"], "--trials", f"{AT_LEAST_1} -9900"),
    (["evaluate", "model.npz", "--trials", "0"], "--trials", f"{AT_LEAST_1} 0"),
    (["generate", "--trials", "0"], "--trials", f"{AT_LEAST_1} 0"),
    (["spectrum", "states.npz", "--resolution", "0"], "--resolution", f"{HERTZ} 0.0"),
    (["demo", "--duration", "inf"], "--duration", f"{FINITE} inf"),
    (["models", "--classes", "1"], "--classes", "must be at least 2, got 1"),
])
def test_bad_numbers_are_one_line_errors_naming_the_flag(argv, flag, message, tmp_path,
                                                        monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"rrnsim {argv[0]}: error: argument {flag}: value {message}"
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_uncaught_errors_are_not_blamed_on_brian2(tmp_path):
    """Importing brian2 installs an excepthook that calls any uncaught error a Brian 2 bug;
    rrnsim's modules that import brian2 keep the caller's hook. (A user's script, run outside
    the source tree: the installed package.) ``import rrnsim`` alone does not load Brian2."""
    code = ("import sys; hook = sys.excepthook; import rrnsim; assert 'brian2' not in sys.modules; "
            "from rrnsim.data import paper_task; import rrnsim.engines.brian; "
            "assert 'brian2' in sys.modules and sys.excepthook is hook; "
            "rrnsim.RRN.from_spec('goldn')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 1
    assert "unknown spec 'goldn'" in run.stderr and "Brian 2" not in run.stderr


def test_help_does_not_load_elephant_or_matplotlib(tmp_path):
    """``rrnsim --help`` and ``rrnsim models`` answer without the second that Elephant and
    matplotlib take to import: the commands that need them import them."""
    code = ("import sys; from rrnsim.cli import main; main(['models']); "
            "assert not {'elephant', 'matplotlib', 'brian2'} & set(sys.modules), "
            "sorted({'elephant', 'matplotlib', 'brian2'} & set(sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "golden" in run.stdout


def test_evaluate_refuses_a_model_of_another_task(tmp_path, capsys):
    from rrnsim import RRNClassifier
    X = np.random.default_rng(0).random((40, 100))
    model = RRNClassifier(spec="e", epochs=1, verbose=False).fit(X, np.arange(40) % 10)
    model.save(tmp_path / "digits.npz")
    assert main(["evaluate", str(tmp_path / "digits.npz"), "--trials", "50"]) == 2
    assert "trained on a different task" in capsys.readouterr().err
    assert not (tmp_path / "digits").exists()


def test_evaluate_figures_never_collide_with_the_model_file(tmp_path, capsys, monkeypatch):
    model = tmp_path / "mymodel"  # no extension
    assert main(["train", "--trials", "100", "--epochs", "1", "--out", str(model), "--quiet",
                 "--model", "e"]) == 0
    assert main(["evaluate", str(model), "--trials", "100"]) == 0
    assert (tmp_path / "mymodel_figures" / "confusion.png").exists() and model.is_file()
    capsys.readouterr()
    from rrnsim.classifier import RRNClassifier

    def predict(self, X):
        raise AssertionError("predicted before checking the figure folder")
    monkeypatch.setattr(RRNClassifier, "predict", predict)
    (tmp_path / "taken").write_text("")
    assert main(["evaluate", str(model), "--trials", "100", "--out", str(tmp_path / "taken")]) == 2
    assert "taken" in capsys.readouterr().err


def test_demo_tests_on_its_seed_and_scores_the_observer_once(tmp_path, capsys, monkeypatch):
    simulate, load_task, generate = cli.simulate, cli.load_task, cli.generate
    score = cli.IdealObserver.score
    loaded, scored = [], []

    def small_task(task, split, data=None, trials=None, seed=None, fs=1000.0):
        loaded.append((split, seed))
        return load_task(task, split, data, 100, seed, fs)

    def counted_score(self, X, y):
        scored.append(len(y))
        return score(self, X, y)
    # a smaller, faster demo: the discrete engine, 100 trains per split, 2 generated trials
    monkeypatch.setattr(cli, "simulate", lambda model, engine, *args, **options: simulate(
        model, "discrete", *args, **options))
    monkeypatch.setattr(cli, "load_task", small_task)
    monkeypatch.setattr(cli, "generate", lambda task, trials, *args, **options: generate(
        task, 2, *args, **options))
    monkeypatch.setattr(cli.IdealObserver, "score", counted_score)
    assert main(["demo", "--duration", "0.2", "--seed", "5", "--quiet", "--out",
                 str(tmp_path)]) == 0
    assert loaded == [("train", 5), ("test", 5)] and scored == [100]
    captured = capsys.readouterr()
    out = captured.out
    assert "writing" not in captured.err and "%|" not in captured.err   # --quiet: no bars
    assert out.count("Bayes-optimal observer") == 1 and "(this run, seed 5)" in out
    assert (tmp_path / "spike_model" / "confusion.png").exists()


@pytest.mark.parametrize("quiet", [False, True])
def test_generate_closes_the_ping_progress_bar_when_the_run_fails(quiet, tmp_path, capsys,
                                                                  monkeypatch):
    import rrnsim.data
    from tqdm import tqdm
    reports = []

    def failing_ping(n_trials, seed, report):
        reports.append(report)
        if report is not None:
            report(0.0, 0.5, 0.0, 1.0)
        raise ValueError("simulated failure")
    monkeypatch.setattr(rrnsim.data, "ping_network", failing_ping)
    argv = ["generate", "--task", "ping", "--trials", "1", "--out", str(tmp_path / "p.nix")]
    open_bars = set(tqdm._instances)
    assert main(argv + ["--quiet"] * quiet) == 2
    assert "rrnsim: error: simulated failure" in capsys.readouterr().err
    assert (reports[0] is None) == quiet
    assert set(tqdm._instances) <= open_bars    # closed, not left under the error line


def test_generate_refuses_a_folder_where_the_raster_goes(tmp_path, capsys):
    (tmp_path / "t.raster.png").mkdir()
    assert main(["generate", "--trials", "2", "--out", str(tmp_path / "t.nix")]) == 2
    assert "t.raster.png': it is a folder" in capsys.readouterr().err
    assert not (tmp_path / "t.nix").exists()


def test_generate_ping_as_binned_counts(tmp_path, capsys):
    """A PING run bins like the labelled tasks: E and I spikes pooled per 1 ms sample."""
    out = tmp_path / "ping.npz"
    assert main(["generate", "--task", "ping", "--trials", "1", "--out", str(out)]) == 0
    arrays, meta = load_arrays(out)
    assert arrays["X"].shape == (1, 1000) and arrays["y"].tolist() == [0]
    assert meta["class_names"] == ["ping"] and arrays["X"].sum() > 1000  # E-I spikes at gamma
