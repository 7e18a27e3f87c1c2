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
    postgres) export FUELBENCH_POSTGRES_BIN="$path" ;;
    haproxy) export FUELBENCH_HAPROXY="$path" ;;
  esac
done <<< "$external"
cargo fmt --all -- --check
log=$(mktemp)
emulated=$(mktemp -d)
pids=()
stop_emulators() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$log" "$emulated"
}
trap stop_emulators EXIT

# The store's tests against real bucket servers on loopback: moto's S3 and
# Azurite's Blob service, each on a free port, each with a bucket made
# here, stopped by their PIDs when the tests end.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {
  for _ in $(seq 150); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.2
  done
  echo "test: $2 did not answer at $1; its log:" >&2
  cat "$emulated/$2.log" >&2
  exit 1
}
while read -r what path; do
  case "$what" in
    moto) moto=$path ;;
    azurite) azurite=$path ;;
  esac
done <<< "$(scripts/setup-emulators.sh)"
s3_port=$(free_port)
"$moto" -H 127.0.0.1 -p "$s3_port" > "$emulated/moto.log" 2>&1 &
pids+=($!)
blob_port=$(free_port)
"$azurite" --blobHost 127.0.0.1 --blobPort "$blob_port" --location "$emulated/azurite" \
  --skipApiVersionCheck --loose > "$emulated/azurite.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$s3_port/" moto
wait_for "http://127.0.0.1:$blob_port/" azurite
curl -sf -X PUT -o /dev/null "http://127.0.0.1:$s3_port/fuelbench-test"
python3 scripts/emulators/container.py "http://127.0.0.1:$blob_port" fuelbench-test
export AWS_ACCESS_KEY_ID=fuelbench AWS_SECRET_ACCESS_KEY=fuelbench AWS_REGION=us-east-1
export AWS_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ALLOW_HTTP=true
export AZURE_STORAGE_USE_EMULATOR=true AZURITE_BLOB_STORAGE_URL="http://127.0.0.1:$blob_port"
export FUELBENCH_TEST_S3=s3://fuelbench-test FUELBENCH_TEST_AZURE=az://fuelbench-test
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
