#!/usr/bin/env bash
# Installs everything the tests need and runs the whole test suite.
# Extra arguments go to pytest, e.g. `bash tests/run.sh tests/balancing -x`.
source "$(dirname "$0")/../deploy/bootstrap.sh"
cd "$FUSEGUARD_ROOT"

ensure_python
ensure_test_services
ensure_venv
install_project "server,test"

say "running the test suite"
exec "$VENV/bin/python" -m pytest "$@"
