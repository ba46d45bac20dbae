"""The examples run as a new user would run them, and say what they promise."""
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, capsys):
    """Run ``examples/name`` as a script; return what it printed."""
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out


@pytest.mark.parametrize("name, expected", [
    ("spike_task.py", "Bayes-optimal observer"),
    ("ping_gamma.py", "autocorrelation"),
])
def test_example_runs(name, expected, capsys):
    assert expected in run_example(name, capsys)


def test_brian2_example_runs_and_is_reproducible(capsys):
    """Seeded: a second run prints the same spike count and engine difference."""
    first = run_example("brian2_spike_input.py", capsys)
    assert "Brian2 vs discrete" in first
    assert run_example("brian2_spike_input.py", capsys) == first
