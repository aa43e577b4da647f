"""``python -m balancing allocate`` in a real subprocess, on the shipped examples and on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import balancing

EXAMPLES = sorted((Path(balancing.__file__).parent / "examples").glob("*.json"))


def run_cli(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "balancing", *arguments], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_there_are_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_examples_allocate(example):
    finished = run_cli("allocate", str(example))
    assert finished.returncode == 0, finished.stderr
    output = json.loads(finished.stdout)
    assert set(output) >= {"setpoints", "mode", "reasons", "reason_text", "headroom_a"}
    scenario = json.loads(example.read_text())
    assert set(output["setpoints"]) == {c["id"] for c in scenario["chargers"]}
    assert output["mode"] == ("fallback" if scenario["grid"] is None else "normal")


def test_the_house_example_gives_the_documented_answer():
    output = json.loads(run_cli("allocate", str(EXAMPLES[0])).stdout)
    assert output["setpoints"] == {"garage-left": 15.0, "garage-right": 16.0, "carport": 0.0}
    assert output["reasons"] == {"garage-left": "limited_by_phase_L1", "garage-right": "at_max", "carport": "inactive"}
    assert output["headroom_a"] == [0.0, 3.5, 18.0]


def test_reads_standard_input():
    scenario = {
        "limits": {"max_current_per_phase_a": 32, "fallback_power_w": 0},
        "grid": None,
        "chargers": [{"id": "a", "max_current_a": 16}],
    }
    finished = run_cli("allocate", "-", stdin=json.dumps(scenario))
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["reasons"] == {"a": "fallback_zero"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"limits": {"max_current_per_phase_a": 32}, "chargers": [{"id": "a", "max_current_a": 16, "phase_rotation": "L1L3L2"}]}',
            "chargers[0].phase_rotation",
        ),
        (
            '{"limits": {"max_current_per_phase_a": NaN}, "chargers": []}',
            "limits.max_current_per_phase_a: must be a finite number",
        ),
        (
            '{"limits": {"max_current_per_phase_a": 32}, "chargers": [{"id": "a", "max_current_a": 16}, {"id": "a", "max_current_a": 16}]}',
            "chargers[1].id: duplicate id",
        ),
        ("{not json", "not valid JSON"),
    ],
)
def test_invalid_input_exits_2_naming_the_problem(text, message):
    finished = run_cli("allocate", "-", stdin=text)
    assert finished.returncode == 2
    assert message in finished.stderr
    assert finished.stdout == ""


def test_a_missing_file_exits_2(tmp_path):
    finished = run_cli("allocate", str(tmp_path / "absent.json"))
    assert finished.returncode == 2
    assert "cannot read" in finished.stderr
