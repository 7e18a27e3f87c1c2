#!/usr/bin/env bash
# Makes this checkout ready to run: the toolchain and the pinned interpreter
# (python-wasm/build.sh, cached in ~/.cache/fuelbench), the release binary,
# the interpreter's snapshot and compiled code, and a real llama-server with a
# small model (scripts/setup-llama.sh). Each step is skipped when its inputs
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
log "installing llama-server and the model (the first time builds llama.cpp: 10-20 minutes on 2 cores)"
if [ "$quiet" = 1 ]; then
  scripts/setup-llama.sh --install-deps --quiet >/dev/null
else
  scripts/setup-llama.sh --install-deps >/dev/null
fi
