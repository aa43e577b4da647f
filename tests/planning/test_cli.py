"""``python -m planning FILE``: a table on stdout, the full result as JSON with ``--out``, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from planning import PlanResult
from planning.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "planning" / "examples" / "four_more_chargers.json"


def test_the_example_prints_a_table_and_writes_the_result(tmp_path, capsys):
    out = tmp_path / "result.json"
    assert main([str(EXAMPLE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sessions complete by departure" in printed
    assert "without load management" in printed
    assert "new-1" in printed
    result = PlanResult.from_dict(json.loads(out.read_text()))
    assert result.network.sessions == len(result.sessions) > 0
    assert result.network.over_limit_minutes == 0


def test_a_bigger_fuse_is_one_flag(capsys):
    assert main([str(EXAMPLE), "--max-current-a", "63", "--sessions"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("fuse 63/63/63 A per phase")
    assert "2026-11-0" in printed  # one line per session


def test_invalid_input_exits_2_naming_the_field(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"limits": {"max_current_per_phase_a": 35}, "chargers": [], "load": {"start": "x"}}))
    assert main([str(bad)]) == 2
    assert capsys.readouterr().err.startswith("error: load.house_current_a: is required")
    assert main([str(tmp_path / "missing.json")]) == 2
    bad.write_text("{")
    assert main([str(bad)]) == 2


def test_it_runs_as_a_module():
    finished = subprocess.run(
        [sys.executable, "-m", "planning", str(EXAMPLE)], capture_output=True, text=True, timeout=120, cwd=ROOT, check=True
    )
    assert "kWh/session" in finished.stdout


PROBE = """
import json, sys
before = set(sys.modules)
import planning, planning.__main__
added = sorted(set(sys.modules) - before)
print(json.dumps(added))
"""


def test_planning_imports_only_balancing_and_the_standard_library():
    finished = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True, cwd=ROOT)
    outside = [
        name for name in json.loads(finished.stdout) if name.split(".")[0] not in (*sys.stdlib_module_names, "balancing", "planning")
    ]
    assert outside == []
