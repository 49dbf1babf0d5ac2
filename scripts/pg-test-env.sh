# shellcheck shell=bash
# Start the machine's PostgreSQL and export the connection string the tests use.
#
#   source scripts/pg-test-env.sh        # then: dotnet test tests/Entourage.Tests
#
# Idempotent: safe to source repeatedly, and when PostgreSQL is already running.
# Installs the Debian `postgresql` package if it is missing (needs root), starts the
# highest-version cluster (creating one if none exists), ensures the role `entourage`
# (password `entourage`, LOGIN CREATEDB) and the database `entourage_test`, verifies
# password auth over TCP on 127.0.0.1, then exports:
#
#   ENTOURAGE_TEST_POSTGRES  Npgsql connection string (tests create per-test databases from it)
#   ENTOURAGE_PG_PORT        the port the cluster listens on
#
# Knobs (optional env):
#   ENTOURAGE_PG_FAST=0      don't switch the test cluster to fsync=off / synchronous_commit=off
#
# When sourced, it never exits your shell: failure returns non-zero from the source.
# It can also be executed directly (bash scripts/pg-test-env.sh) to just start PG.

_entourage_pg_log() { echo "[pg-test-env] $*" >&2; }

# Run a command as the postgres OS user, from a directory it can read.
_entourage_pg_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    elif [ "$(id -un)" = postgres ]; then
        (cd / && "$@")
    else
        (cd / && sudo -n -u postgres -- "$@")
    fi
}

_entourage_pg_install() {
    if command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        _entourage_pg_log "PostgreSQL is not installed and we are not root: run 'apt-get install -y postgresql' as root"
        return 1
    fi
    _entourage_pg_log "installing postgresql (apt-get)..."
    local log=/tmp/entourage-apt-postgresql.log
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >"$log" 2>&1 </dev/null; then
        tail -n 30 "$log" >&2
        _entourage_pg_log "apt-get install postgresql failed (log: $log)"
        return 1
    fi
}

# Prints "VERSION NAME PORT STATUS" of the cluster to use (prefers one already online,
# then the highest version). Prints nothing if there is no cluster.
_entourage_pg_pick_cluster() {
    pg_lsclusters -h 2>/dev/null |
        awk '{ print (($4 ~ /^online/) ? 0 : 1), $1, $2, $3, $4 }' |
        sort -k1,1n -k2,2Vr | head -n 1 | cut -d' ' -f2-
}

entourage_pg_start() {
    _entourage_pg_install || return 1

    local cluster ver name port status
    cluster=$(_entourage_pg_pick_cluster)
    if [ -z "$cluster" ]; then
        ver=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
            awk -F/ '{ print $5 }' | sort -V | tail -n 1)
        if [ -z "$ver" ]; then
            _entourage_pg_log "no PostgreSQL version found under /usr/lib/postgresql"
            return 1
        fi
        _entourage_pg_log "no cluster exists: creating $ver/main"
        if [ "$(id -u)" -eq 0 ]; then
            pg_createcluster "$ver" main >/dev/null || return 1
        else
            sudo -n pg_createcluster "$ver" main >/dev/null || return 1
        fi
        cluster=$(_entourage_pg_pick_cluster)
    fi
    read -r ver name port status <<<"$cluster"

    if [ "$status" != online ]; then
        # /var/run/postgresql lives on tmpfs and may be gone after a reboot.
        if [ "$(id -u)" -eq 0 ]; then
            install -d -o postgres -g postgres -m 2775 /var/run/postgresql
        fi
        _entourage_pg_log "starting cluster $ver/$name on port $port"
        local out rc
        if [ "$(id -u)" -eq 0 ] || [ "$(id -un)" = postgres ]; then
            out=$(pg_ctlcluster "$ver" "$name" start 2>&1); rc=$?
        else
            out=$(sudo -n pg_ctlcluster "$ver" "$name" start 2>&1); rc=$?
        fi
        # rc 2 = "already running" (raced with someone else): fine.
        if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
            echo "$out" >&2
            tail -n 20 "/var/log/postgresql/postgresql-$ver-$name.log" >&2 2>/dev/null
            _entourage_pg_log "pg_ctlcluster $ver $name start failed (rc=$rc)"
            return 1
        fi
    fi

    local _
    for _ in $(seq 1 60); do
        if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
        sleep 1
    done
    if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
        _entourage_pg_log "PostgreSQL $ver/$name did not become ready on 127.0.0.1:$port"
        tail -n 20 "/var/log/postgresql/postgresql-$ver-$name.log" >&2 2>/dev/null
        return 1
    fi

    local psql_admin=(psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres)

    # Role + database (idempotent). Password is always (re)set so auth is known-good.
    if ! _entourage_pg_as_postgres "${psql_admin[@]}" >/dev/null <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'entourage') THEN
    CREATE ROLE entourage LOGIN CREATEDB PASSWORD 'entourage';
  ELSE
    ALTER ROLE entourage LOGIN CREATEDB PASSWORD 'entourage';
  END IF;
END
$$;
SELECT 'CREATE DATABASE entourage_test OWNER entourage'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'entourage_test') \gexec
SQL
    then
        _entourage_pg_log "failed to create role/database"
        return 1
    fi

    # Per-test databases that an interrupted earlier run left behind. Their names carry the test process's pid
    # (ent_t_<pid>_<random>): only those whose process is gone are dropped. "Nobody connected" is not enough: a
    # test that SIGKILLs its server has no connection to its database until the restart, and a database dropped
    # in that gap came back empty (the server creates a missing database), so the test saw "team not found".
    local db pid
    while read -r db; do
        [ -n "$db" ] || continue
        pid=${db#ent_t_}; pid=${pid%%_*}
        case "$pid" in
            ''|*[!0-9]*) continue ;; # an old-style name: its owner is unknown, leave it
        esac
        [ -d "/proc/$pid" ] && continue
        _entourage_pg_as_postgres "${psql_admin[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
            || _entourage_pg_log "could not drop leftover test database $db"
    done < <(_entourage_pg_as_postgres "${psql_admin[@]}" -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'ent\_t\_%'")

    # Throwaway test cluster: trade durability for speed (CREATE DATABASE per test is
    # much faster without fsync). All three settings are reloadable without restart.
    if [ "${ENTOURAGE_PG_FAST:-1}" = 1 ]; then
        _entourage_pg_as_postgres "${psql_admin[@]}" >/dev/null <<'SQL' || _entourage_pg_log "warning: could not apply fast settings"
ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET full_page_writes = off;
SELECT pg_reload_conf();
SQL
    fi

    # Verify password auth over TCP; if pg_hba does not allow it, add scram lines and reload.
    if ! PGPASSWORD=entourage PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p "$port" -U entourage -d entourage_test -tAc 'select 1' >/dev/null 2>&1 </dev/null; then
        local hba
        hba=$(_entourage_pg_as_postgres psql -X -tA -p "$port" -d postgres -c 'show hba_file' 2>/dev/null)
        if [ -n "$hba" ] && [ "$(id -u)" -eq 0 ]; then
            _entourage_pg_log "password auth over TCP failed: adding scram-sha-256 lines for localhost to $hba"
            local tmp
            tmp=$(mktemp)
            {
                echo "# added by Entourage scripts/pg-test-env.sh"
                echo "host    all    entourage    127.0.0.1/32    scram-sha-256"
                echo "host    all    entourage    ::1/128         scram-sha-256"
                cat "$hba"
            } >"$tmp" && cat "$tmp" >"$hba"
            rm -f "$tmp"
            _entourage_pg_as_postgres psql -X -q -p "$port" -d postgres -c 'select pg_reload_conf()' >/dev/null
            sleep 1
        fi
        if ! PGPASSWORD=entourage PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p "$port" -U entourage -d entourage_test -tAc 'select 1' </dev/null >/dev/null; then
            _entourage_pg_log "cannot connect as entourage@127.0.0.1:$port/entourage_test with a password"
            return 1
        fi
    fi

    export ENTOURAGE_PG_PORT="$port"
    export ENTOURAGE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=entourage;Password=entourage;Database=entourage_test"
    _entourage_pg_log "PostgreSQL $ver/$name ready: ENTOURAGE_TEST_POSTGRES=$ENTOURAGE_TEST_POSTGRES"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Executed, not sourced.
    entourage_pg_start || exit 1
    echo "export ENTOURAGE_TEST_POSTGRES=\"$ENTOURAGE_TEST_POSTGRES\""
else
    entourage_pg_start
fi
