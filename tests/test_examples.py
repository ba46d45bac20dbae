"""The examples run as a new user would run them, and say what they promise."""
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name, expected", [
    ("brian2_spike_input.py", "Brian2 vs discrete"),
    ("spike_task.py", "Bayes-optimal observer"),
    ("ping_gamma.py", "autocorrelation"),
])
def test_example_runs(name, expected, capsys):
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert expected in capsys.readouterr().out
