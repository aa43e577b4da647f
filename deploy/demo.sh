#!/usr/bin/env bash
# Installs FuseGuard and runs it on the embedded default: SQLite, in-process
# tasks, a seeded demo organisation, no services to install.
source "$(dirname "$0")/bootstrap.sh"
cd "$FUSEGUARD_ROOT"

ensure_python
ensure_venv
install_project "server"

ADDRESS="${FUSEGUARD_DEMO_ADDRESS:-127.0.0.1:8000}"
exec "$VENV/bin/python" manage.py demo --address "$ADDRESS"
