#!/usr/bin/env bash
# How long PostgreSQL takes to answer the first statement after it has waited idle as long as
# a login's Argon2id verification (14 ms), against the same statement sent right after
# another. No Keydesk and no Argon2 here: what this shows is the machine's (and its
# hypervisor's) price for waking an idle server, which a PostgreSQL login pays at least once
# after its verdict (see the README's "Throughput, measured").
#
#   bench/postgres_idle_wake.sh            # the local server, 127.0.0.1:5432
#   PGHOST=/var/run/postgresql bench/postgres_idle_wake.sh
set -euo pipefail

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
# As a login's outcome commits: without waiting for the disk.
export PGOPTIONS="-c synchronous_commit=off"
database="keydesk_idle_wake_$$"
rounds="${ROUNDS:-300}"
scratch="$(mktemp -d)"
trap 'dropdb --if-exists "$database" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT

createdb "$database"
psql -q -d "$database" -c "CREATE TABLE probe (id int PRIMARY KEY, n int); INSERT INTO probe VALUES (1, 0);"
printf '\\sleep 14 ms\nUPDATE probe SET n = 0 WHERE id = 1;\nUPDATE probe SET n = 1 WHERE id = 1;\n' >"$scratch/idle.sql"
printf 'UPDATE probe SET n = 0 WHERE id = 1;\nUPDATE probe SET n = 1 WHERE id = 1;\n' >"$scratch/busy.sql"

# pgbench -r prints each statement's mean latency; the first UPDATE line is the one after the wait.
latencies() { pgbench -n -r -t "$rounds" -f "$1" "$database" | grep -F 'UPDATE probe' | awk '{print $1}' | paste -sd' '; }
for turn in 1 2; do
    read -r after_idle second <<<"$(latencies "$scratch/idle.sql")"
    read -r back_to_back _ <<<"$(latencies "$scratch/busy.sql")"
    echo "run $turn: first statement after 14 ms idle ${after_idle} ms, the next ${second} ms;" \
        "back to back ${back_to_back} ms (means of $rounds)"
done
