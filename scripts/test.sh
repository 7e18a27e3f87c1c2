#!/usr/bin/env bash
# Runs every test, setting up whatever is missing first. Tests run in the
# release profile: the binary, the benches and the tests share one build.
# Ends with one line totalling every test binary: `N passed, M failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
# The end-to-end test runs the real llama-server and model setup installed.
while read -r what path; do
  case "$what" in
    server) export FUELBENCH_LLAMA_SERVER="$path" ;;
    model) export FUELBENCH_MODEL="$path" ;;
  esac
done < <(scripts/setup-llama.sh --quiet)
cargo fmt --all -- --check
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --lib --bins --tests: every unit and integration test; there are no doc tests.
status=0
cargo test --release --locked --workspace --lib --bins --tests "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i - 1); if ($(i) ~ /^failed/) f += $(i - 1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
