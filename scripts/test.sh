#!/usr/bin/env bash
# Runs every test, both tiers (tests/README.md), setting up whatever is
# missing first. Tests run in the release profile, built once by
# `scripts/setup.sh --tests` with these same arguments. Ends with one line
# totalling every test binary: `N passed, M failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh --tests
# The external tests drive the real llama-server, model and Chromium it
# installs; a failed set-up stops here.
external=$(scripts/setup-external.sh)
while read -r what path; do
  case "$what" in
    server) export FUELBENCH_LLAMA_SERVER="$path" ;;
    model) export FUELBENCH_MODEL="$path" ;;
  esac
done <<< "$external"
cargo fmt --all -- --check
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --lib --bins --tests: every unit and integration test; there are no doc tests.
status=0
cargo test --release --locked --workspace --lib --bins --tests \
  --features fuelbench/external-tests "$@" 2>&1 | tee "$log" || status=$?
# One build: the binary's own build must find everything the tests' build
# made (Cargo.toml's feature alignment); a crate compiled again here means
# a dependency's features drifted, and every fresh machine pays twice.
if ! build=$(cargo build --release --locked --bin fuelbench --features fuelbench/external-tests 2>&1); then
  echo "$build" >&2
  status=1
fi
rebuilt=$(sed -n 's/^ *Compiling //p' <<< "$build")
if [ -n "$rebuilt" ]; then
  echo "test: the binary's build compiled again what the tests' build had made:" >&2
  echo "$rebuilt" >&2
  status=1
fi
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i - 1); if ($(i) ~ /^failed/) f += $(i - 1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
