#!/usr/bin/env bash
# The external set-up: the programs from outside the repository that the
# external tests drive. Debian's Chromium and its WebDriver for the web UI,
# Debian's Postgres for the shared state (each test starts a private
# cluster of its own; the system's is never started or touched), Debian's
# haproxy in front of several replicas (each test starts its own, on
# loopback; the system's service is never started), and a
# real llama-server with a small real model (scripts/setup-llama.sh;
# the first time builds llama.cpp, 10-20 minutes on 2 cores). Prints the
# `server PATH` and `model PATH` lines of scripts/setup-llama.sh, and
# `postgres DIR`, the folder of Postgres's server programs, and
# `haproxy PATH`.
#
#   scripts/setup-external.sh [--quiet]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
log() { [ "$quiet" = 1 ] || echo "setup-external: $*" >&2; }

# Chromium and its driver come from one source version, so they always
# speak the same protocol.
packages=()
for pkg in chromium chromium-driver postgresql-15 postgresql-client-15 haproxy; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || packages+=("$pkg")
done
if [ ${#packages[@]} -gt 0 ]; then
  log "installing ${packages[*]} (the web UI's and the shared state's tests drive them)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # The package would make and start a system cluster; the tests want none.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/fuelbench.conf
  # Nor should haproxy's package start a system service: a policy that
  # refuses every start, for the length of the install only.
  policy=/usr/sbin/policy-rc.d
  saved=""
  if [ -e "$policy" ]; then
    saved=$(mktemp)
    cp -p "$policy" "$saved"
  fi
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  status=0
  apt-get install -y -qq "${packages[@]}" >&2 || status=$?
  if [ -n "$saved" ]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
  [ "$status" = 0 ] || exit "$status"
fi
echo "postgres /usr/lib/postgresql/15/bin"
echo "haproxy $(command -v haproxy)"
log "installing llama-server and the model (the first time builds llama.cpp: 10-20 minutes on 2 cores)"
if [ "$quiet" = 1 ]; then
  scripts/setup-llama.sh --install-deps --quiet
else
  scripts/setup-llama.sh --install-deps
fi
