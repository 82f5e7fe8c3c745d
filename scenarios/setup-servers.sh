#!/usr/bin/env bash
# Installs the database servers the hanging scenarios talk to (redis-server, PostgreSQL) from
# Debian's packages. Idempotent: packages already present are left alone. Needs root (or sudo).
# Servers are only installed here, never started: scenarios/capture.py starts private instances
# on free 127.0.0.1 ports in temporary directories and stops them when it is done.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "setup-servers.sh: must run as root (or with sudo available)" >&2
        exit 2
    fi
fi

have_redis() { command -v redis-server >/dev/null 2>&1; }
have_postgres() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null 2>&1
}

want=()
have_redis || want+=(redis-server)
have_postgres || want+=(postgresql)
# ss (iproute2) and runuser (util-linux) are used by capture.py.
command -v ss >/dev/null 2>&1 || want+=(iproute2)
command -v runuser >/dev/null 2>&1 || want+=(util-linux)

if [ "${#want[@]}" -eq 0 ]; then
    echo "setup-servers.sh: redis-server and PostgreSQL already installed"
else
    echo "setup-servers.sh: installing ${want[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # Debian's postgresql package starts a cluster through its service scripts where systemd or
    # policy-rc.d allow it; capture.py never uses that cluster, so a failure to start it is harmless.
    $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
fi

# The packaged services are not needed (capture.py runs its own instances); stop them if the
# package scripts started them, so they do not hold the default ports or use memory.
if command -v service >/dev/null 2>&1; then
    $SUDO service redis-server stop >/dev/null 2>&1 || true
    $SUDO service postgresql stop >/dev/null 2>&1 || true
fi

have_redis || { echo "setup-servers.sh: redis-server still missing after install" >&2; exit 1; }
have_postgres || { echo "setup-servers.sh: PostgreSQL (initdb, pg_ctl) still missing after install" >&2; exit 1; }
id postgres >/dev/null 2>&1 || echo "setup-servers.sh: warning: no 'postgres' system user; capture.py runs initdb as the current user when not root"
echo "setup-servers.sh: $(redis-server --version | head -n1)"
echo "setup-servers.sh: ok"
