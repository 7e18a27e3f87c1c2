#!/usr/bin/env bash
# The bucket emulators the store's tests run against: moto's S3 server
# (PyPI) and Azurite's Blob service (npm), each pinned with its hashes in
# scripts/emulators/ and installed once into the cache, keyed by those pins.
# Prints `moto PATH` and `azurite PATH` lines: the two servers' programs.
#
#   scripts/setup-emulators.sh [--quiet]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
log() { [ "$quiet" = 1 ] || echo "setup-emulators: $*" >&2; }

cache=${FUELBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fuelbench}/emulators
mkdir -p "$cache"
pins=scripts/emulators

# A folder is ready once its last step wrote `.ready`; anything less is
# an interrupted install, removed and done again.
moto=$cache/moto-$(sha256sum "$pins/requirements.txt" | cut -c1-16)
if [ ! -e "$moto/.ready" ]; then
  log "installing moto's S3 server (pinned wheels, checked by sha256)"
  rm -rf "$moto"
  python3 -m venv "$moto"
  "$moto/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    --only-binary=:all: -r "$pins/requirements.txt" >&2
  touch "$moto/.ready"
fi

azurite=$cache/azurite-$(cat "$pins/package.json" "$pins/package-lock.json" | sha256sum | cut -c1-16)
if [ ! -e "$azurite/.ready" ]; then
  log "installing Azurite (npm ci against the committed lock file and its integrity hashes)"
  command -v npm >/dev/null || {
    echo "setup-emulators: npm is missing; install Node.js and npm" >&2
    exit 1
  }
  rm -rf "$azurite"
  mkdir -p "$azurite"
  cp "$pins/package.json" "$pins/package-lock.json" "$azurite/"
  (cd "$azurite" && npm ci --silent --no-audit --no-fund --ignore-scripts >&2)
  touch "$azurite/.ready"
fi

echo "moto $moto/bin/moto_server"
echo "azurite $azurite/node_modules/.bin/azurite-blob"
