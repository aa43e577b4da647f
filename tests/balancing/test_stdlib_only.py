"""``balancing`` imports nothing outside the standard library (the gateway runs it without Django)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
before = set(sys.modules)
import balancing, balancing.__main__
added = sorted(set(sys.modules) - before)
print(json.dumps(added))
"""


def test_balancing_imports_only_the_standard_library():
    finished = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    added = json.loads(finished.stdout)
    outside = [name for name in added if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "balancing"]
    assert outside == []
