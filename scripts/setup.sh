#!/usr/bin/env bash
# The core set-up: makes this checkout ready to run fuelbench and its core
# tests. The toolchain and the pinned interpreter (python-wasm/build.sh,
# cached in ~/.cache/fuelbench), the release build, HumanEval, and the
# interpreter's snapshot. Each step is skipped when its inputs are
# unchanged, so running it again costs a few seconds. The programs only
# the external tests need (llama-server, a model, Chromium) are
# scripts/setup-external.sh's.
#
#   scripts/setup.sh [--quiet] [--tests]
#
# --tests builds the binary and every test at once, with the same arguments
# scripts/test.sh then tests with, so the test run compiles nothing again:
# a build of the binary alone resolves its dependencies' features without
# the tests' own dependencies, and cargo would build wasmtime and its
# neighbours a second time for the tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quiet=0 tests=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --tests) tests=1 ;;
    *) echo "setup: unknown option $arg (give --quiet, --tests)" >&2; exit 2 ;;
  esac
done
log() { [ "$quiet" = 1 ] || echo "setup: $*" >&2; }

# Quiet means: say nothing unless something fails.
if [ "$quiet" = 1 ]; then
  output=$(python-wasm/build.sh --install-deps 2>&1) || { echo "$output" >&2; exit 1; }
else
  python-wasm/build.sh --install-deps >&2
fi
if [ "$tests" = 1 ]; then
  log "building fuelbench and its tests (release; the first build compiles wasmtime, about 10 minutes on 2 cores)"
  cargo test --release --locked --quiet --workspace --lib --bins --tests \
    --features fuelbench/external-tests --no-run >&2
else
  log "building fuelbench (release; the first build compiles wasmtime, about 6 minutes on 2 cores)"
  cargo build --release --locked --quiet --bin fuelbench >&2
fi
target=${CARGO_TARGET_DIR:-target}
log "fetching the HumanEval suite"
scripts/fetch-humaneval.sh >/dev/null
log "preparing the interpreter snapshot"
"$target/release/fuelbench" sandbox prepare >/dev/null
