#!/usr/bin/env bash
# `fuelbench bench cluster` on a private Postgres cluster of its own: made
# by initdb (as the `postgres` user when run as root) in a temporary
# folder, listening on 127.0.0.1 only, stopped by its postmaster's PID and
# removed when the bench ends. Needs scripts/setup-external.sh (Postgres,
# haproxy) and the release binary; prints the bench's JSON.
#
#   scripts/bench-cluster.sh [ARGS FOR fuelbench bench cluster...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${FUELBENCH_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
fuelbench=${FUELBENCH:-${CARGO_TARGET_DIR:-target}/release/fuelbench}
[ -x "$bin/initdb" ] || { echo "bench-cluster: no initdb in $bin; run scripts/setup-external.sh" >&2; exit 2; }
[ -x "$fuelbench" ] || { echo "bench-cluster: no $fuelbench; build it with cargo build --release" >&2; exit 2; }

dir=$(mktemp -d)
as_postgres=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir"
  as_postgres=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
}
trap stop EXIT
"${as_postgres[@]}" "$bin/initdb" -A trust -U postgres --no-sync -D "$dir/data" > /dev/null
"${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start > /dev/null
"$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE bench'
"$fuelbench" bench cluster --database-url "postgres://postgres@127.0.0.1:$port/bench" "$@"
