#!/usr/bin/env bash
# Runs every test, setting up whatever is missing first. Tests run in the
# release profile: the binary, the benches and the tests share one build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo test --release --locked --workspace "$@"
