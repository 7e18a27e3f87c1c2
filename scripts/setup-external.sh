#!/usr/bin/env bash
# The external set-up: the programs from outside the repository that the
# external tests drive. Debian's Chromium and its WebDriver for the web UI,
# and a real llama-server with a small real model (scripts/setup-llama.sh;
# the first time builds llama.cpp, 10-20 minutes on 2 cores). Prints the
# `server PATH` and `model PATH` lines of scripts/setup-llama.sh.
#
#   scripts/setup-external.sh [--quiet]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
log() { [ "$quiet" = 1 ] || echo "setup-external: $*" >&2; }

# The two packages come from one source version, so they always speak the
# same protocol.
browser=()
for pkg in chromium chromium-driver; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || browser+=("$pkg")
done
if [ ${#browser[@]} -gt 0 ]; then
  log "installing ${browser[*]} (the web UI's tests drive it)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${browser[@]}" >&2
fi
log "installing llama-server and the model (the first time builds llama.cpp: 10-20 minutes on 2 cores)"
if [ "$quiet" = 1 ]; then
  scripts/setup-llama.sh --install-deps --quiet
else
  scripts/setup-llama.sh --install-deps
fi
