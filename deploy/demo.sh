#!/usr/bin/env bash
# Installs FuseGuard and runs it on the embedded default: SQLite, in-process
# tasks, a seeded demo organisation, no services to install.
source "$(dirname "$0")/bootstrap.sh"
cd "$FUSEGUARD_ROOT"

ensure_python
ensure_venv
install_project "server"

say "preparing the database (SQLite in var/)"
"$VENV/bin/python" manage.py migrate --no-input -v 0
"$VENV/bin/python" manage.py seed_demo

ADDRESS="${FUSEGUARD_DEMO_ADDRESS:-127.0.0.1:8000}"
say "serving the admin at http://$ADDRESS/admin/ (Ctrl-C stops)"
exec "$VENV/bin/python" manage.py runserver --noreload "$ADDRESS"
