"""The analysis scripts' shared pieces (``analysis/_common.py``) and spike_study's trials."""
import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))
from _common import int_at_least  # noqa: E402
import spike_study  # noqa: E402


def test_count_arguments_take_their_minimum_and_refuse_below_it():
    at_least_two = int_at_least(2)
    assert at_least_two("2") == 2
    with pytest.raises(argparse.ArgumentTypeError, match="must be an integer >= 2, got 1"):
        at_least_two("1")
    with pytest.raises(SystemExit):     # argparse: a usage error before any work
        spike_study.main(["--train", "1"])


@pytest.mark.parametrize("task, duration", [("paper", 0.1), ("bands", 1.0)])
def test_spike_study_samples_the_trials_at_the_networks_rate(task, duration):
    X, y = spike_study.task_data(task, 5, seed=0, fs=500.0)
    assert X.shape == (5, int(duration * 500)) and y.shape == (5,)
