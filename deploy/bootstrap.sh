# Shared set-up for the README's two commands; sourced, not run.
#
# Makes .venv with the project installed (the extras named by the caller),
# and, for the tests, the PostgreSQL and Redis server binaries. As root it
# installs what is missing with apt-get; otherwise it stops and says what to
# install.

set -euo pipefail

FUSEGUARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$FUSEGUARD_ROOT/.venv"
PYTHON="${PYTHON:-python3}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_install() {
    # Installs Debian packages as root; as anyone else, explains what is missing.
    if [ "$(id -u)" -ne 0 ]; then
        die "missing system packages: $*. Install them (sudo apt-get install $*) and run this again."
    fi
    command -v apt-get >/dev/null || die "missing system packages: $*, and apt-get is not available to install them"
    say "installing system packages: $*"
    if [ -z "${FUSEGUARD_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        FUSEGUARD_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

ensure_python() {
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or newer"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "FuseGuard needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)"
}

ensure_venv() {
    # Debian ships venv without ensurepip until python3-venv is installed.
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            apt_install python3-venv
            "$PYTHON" -m venv "$VENV"
        fi
    fi
}

install_project() {
    # $1: extras, e.g. "server,test". Skipped when pyproject.toml is unchanged since the last install.
    local extras="$1"
    local stamp="$VENV/.fuseguard-installed-${extras//,/-}"
    local want
    want="$(sha256sum "$FUSEGUARD_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    say "installing FuseGuard and its Python packages [$extras]"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e "$FUSEGUARD_ROOT[$extras]"
    echo "$want" >"$stamp"
}

ensure_test_services() {
    # The tests start their own PostgreSQL and Redis servers from these binaries, drive Chromium and run Caddy.
    local missing=()
    if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        missing+=(postgresql)
    fi
    command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        missing+=(postgresql)
    fi
    # The dashboard's end-to-end test drives a real headless browser (Debian's package name).
    command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
    # The scale-out tests run the shipped Caddyfile in a real Caddy (Debian's package).
    command -v caddy >/dev/null || missing+=(caddy)
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
}
