# shellcheck shell=bash
# Sourced by scripts/test. ensure_postgres makes sure a PostgreSQL server
# answers on 127.0.0.1:5432 with trust auth for user postgres, installing and
# starting Debian's package on a fresh machine. Tests create their own
# databases from KEYDESK_TEST_POSTGRES_URL, so one server is all they need.

# shellcheck source=scripts/lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

KEYDESK_PG_HOST=127.0.0.1
KEYDESK_PG_PORT=5432

_keydesk_pg_ready() {
    pg_isready -q -h "$KEYDESK_PG_HOST" -p "$KEYDESK_PG_PORT" 2>/dev/null
}

# Trust auth on the socket and on 127.0.0.1, listening on 127.0.0.1 only.
# Idempotent: lines are added only when missing, at the top because
# pg_hba.conf is first-match.
_keydesk_pg_configure() {
    local dir="/etc/postgresql/$1/main" line
    for line in 'host all all 127.0.0.1/32 trust' 'local all all trust'; do
        grep -qxF "$line" "$dir/pg_hba.conf" ||
            sed -i "1i $line" "$dir/pg_hba.conf"
    done
    mkdir -p "$dir/conf.d"   # Debian's postgresql.conf includes conf.d/
    printf "listen_addresses = '%s'\nport = %s\n" \
        "$KEYDESK_PG_HOST" "$KEYDESK_PG_PORT" > "$dir/conf.d/50-keydesk.conf"
}

ensure_postgres() {
    export KEYDESK_TEST_POSTGRES_URL="postgres://postgres@$KEYDESK_PG_HOST:$KEYDESK_PG_PORT/postgres"

    if ! _keydesk_pg_ready; then
        local ver
        # "|| true": under the caller's pipefail a missing dir must not abort.
        ver=$(ls /etc/postgresql 2>/dev/null | head -1 || true)
        if [ -z "$ver" ]; then
            echo "keydesk: installing PostgreSQL (Debian package)..." >&2
            keydesk_apt_install postgresql || return 1
            ver=$(ls /etc/postgresql 2>/dev/null | head -1 || true)
            if [ -z "$ver" ]; then
                # Package was already installed but had no cluster.
                ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
                pg_createcluster "$ver" main >/dev/null || return 1
            fi
        fi
        _keydesk_pg_configure "$ver"
        # --skip-systemctl-redirect: there is no systemd in containers/CI.
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start || {
            echo "keydesk: could not start PostgreSQL $ver/main" >&2
            return 1
        }
        local i
        for i in $(seq 1 30); do
            _keydesk_pg_ready && break
            sleep 1
        done
        if ! _keydesk_pg_ready; then
            echo "keydesk: PostgreSQL $ver/main did not answer on $KEYDESK_PG_HOST:$KEYDESK_PG_PORT within 30s" >&2
            return 1
        fi
    fi

    # A running server that wants a password would fail every test in a
    # confusing way: say so here instead (-w: never prompt).
    if ! PGPASSWORD= psql -w -q -At -h "$KEYDESK_PG_HOST" -p "$KEYDESK_PG_PORT" \
            -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
        echo "keydesk: PostgreSQL on $KEYDESK_PG_HOST:$KEYDESK_PG_PORT does not let user postgres in with trust auth" >&2
        return 1
    fi
}

# The local cluster's version, for the fault tests' stop/start/restart below.
_keydesk_pg_cluster() {
    local ver
    ver=$(ls /etc/postgresql 2>/dev/null | head -1)
    [ -n "$ver" ] || { echo "keydesk: no PostgreSQL cluster here" >&2; return 1; }
    echo "$ver"
}

# stop_postgres / start_postgres / restart_postgres: the local cluster down (every
# connection cut), back up, or both, for the fault tests (tests/faults.rs); start and
# restart return once it answers again.
stop_postgres() {
    local ver
    ver=$(_keydesk_pg_cluster) || return 1
    pg_ctlcluster --skip-systemctl-redirect "$ver" main stop -m fast
}

start_postgres() {
    local ver _
    ver=$(_keydesk_pg_cluster) || return 1
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || return 1
    for _ in $(seq 1 30); do
        _keydesk_pg_ready && return 0
        sleep 1
    done
    echo "keydesk: PostgreSQL did not come back within 30s" >&2
    return 1
}

restart_postgres() {
    stop_postgres && start_postgres
}

# crash_postgres: the cluster stopped as a crash stops it (immediate: no checkpoint, and
# commits not yet flushed are lost), then started again; returns once it answers.
crash_postgres() {
    local ver
    ver=$(_keydesk_pg_cluster) || return 1
    pg_ctlcluster --skip-systemctl-redirect "$ver" main stop -m immediate && start_postgres
}
