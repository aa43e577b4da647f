"""The gateway side (balancing, meters, gateways) imports and runs without Django."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter where any attempt to import Django fails, then
# imports every module of the three gateway-side packages.
PROBE = r"""
import importlib, pkgutil, sys

class NoDjango:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django.") or name.startswith("rest_framework"):
            raise ImportError(f"gateway-side code imported {name}")
        return None

sys.meta_path.insert(0, NoDjango())
imported = []
for package_name in ("balancing", "meters", "gateways"):
    package = importlib.import_module(package_name)
    imported.append(package_name)
    for module in pkgutil.walk_packages(package.__path__, package_name + "."):
        if module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
        imported.append(module.name)
assert "django" not in sys.modules
print(len(imported))
"""


def test_balancing_meters_and_gateways_import_without_django():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 3
