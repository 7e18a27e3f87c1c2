#!/usr/bin/env bash
# Runs fuelbench from this checkout, setting up whatever is missing first.
#   scripts/fuelbench.sh sandbox run examples/primes.py
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh" --quiet
target=${CARGO_TARGET_DIR:-$root/target}
export FUELBENCH_PROBLEMS=${FUELBENCH_PROBLEMS:-$root/problems}
exec "$target/release/fuelbench" "$@"
