#!/usr/bin/env bash
# Makes this checkout ready to run: the toolchain and the pinned interpreter
# (python-wasm/build.sh, cached in ~/.cache/fuelbench), the release binary,
# the interpreter's snapshot and compiled code, Chromium for the web UI's
# tests, and a real llama-server with a small model (scripts/setup-llama.sh). Each step is skipped when its inputs
# are unchanged, so running it again costs a few seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
log() { [ "$quiet" = 1 ] || echo "setup: $*" >&2; }

# Quiet means: say nothing unless something fails.
if [ "$quiet" = 1 ]; then
  output=$(python-wasm/build.sh --install-deps 2>&1) || { echo "$output" >&2; exit 1; }
else
  python-wasm/build.sh --install-deps >&2
fi
log "building fuelbench (release; the first build compiles wasmtime, about 5 minutes on 2 cores)"
cargo build --release --locked --quiet --bin fuelbench >&2
target=${CARGO_TARGET_DIR:-target}
log "fetching the HumanEval suite"
scripts/fetch-humaneval.sh >/dev/null
log "preparing the interpreter snapshot"
"$target/release/fuelbench" sandbox prepare >/dev/null
# The web UI's tests drive Debian's Chromium through its WebDriver; the two
# packages come from one source version, so they always speak the same
# protocol.
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
  scripts/setup-llama.sh --install-deps --quiet >/dev/null
else
  scripts/setup-llama.sh --install-deps >/dev/null
fi
