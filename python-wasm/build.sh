#!/usr/bin/env bash
# Builds fuelbench's interpreter: CPython for wasm32-wasi, linked as a reactor
# around reactor.c, plus its standard library, from Debian packages only.
#
#   python-wasm/build.sh [--install-deps] [--print-dir]
#
# Output: $FUELBENCH_CACHE/python-wasm/<python_wasm_sha256>/{python.wasm,lib/}
# (FUELBENCH_CACHE defaults to ~/.cache/fuelbench), the folder the fuelbench
# binary looks in. Every input and output is checked against pins.toml; a build
# whose inputs are unchanged is not redone. The Wizer snapshot is taken later,
# by the fuelbench binary itself, because it bakes in the runner that ships
# with the binary.
#
# --install-deps  apt-get install the toolchain when something is missing
# --print-dir     print only the output folder (for scripts)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pins="$here/pins.toml"
cache=${FUELBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fuelbench}

install_deps=0
print_dir=0
for arg in "$@"; do
  case "$arg" in
    --install-deps) install_deps=1 ;;
    --print-dir) print_dir=1 ;;
    *) echo "build.sh: unknown argument '$arg' (expected --install-deps or --print-dir)" >&2; exit 2 ;;
  esac
done

say() { [ "$print_dir" = 1 ] || echo "python-wasm: $*" >&2; }
die() { echo "python-wasm: error: $*" >&2; exit 1; }
pin() {
  local value
  value=$(sed -n "s/^$1 *= *\"\(.*\)\"\$/\1/p" "$pins")
  [ -n "$value" ] || die "pins.toml has no value for '$1'"
  printf '%s' "$value"
}
tree_sha256() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1); }

want_wasm=$(pin python_wasm_sha256)
want_stdlib=$(pin stdlib_sha256)
out="$cache/python-wasm/$want_wasm"

# Everything that decides the output, hashed: when this matches what an
# earlier build recorded next to its verified output, there is nothing to do.
inputs_sha256() {
  cat "$pins" "$here/reactor.c" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}
inputs=$(inputs_sha256)

# Builds happen in one fixed folder (see below), so the lock lives beside it,
# not in a cache that another user or CI run may name differently. It is
# taken before the up-to-date check: a second build waits, then finds the
# first one's output.
root=/tmp/fuelbench-python-wasm
exec 9>"$root.lock"
flock 9

if [ -f "$out/inputs.sha256" ] && [ "$(cat "$out/inputs.sha256")" = "$inputs" ]; then
  [ "$print_dir" = 1 ] && echo "$out"
  say "up to date: $out"
  exit 0
fi

# --- toolchain -----------------------------------------------------------
read -r -a apt_packages <<<"$(pin apt_packages)"
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$install_deps" = 1 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
  else
    die "missing Debian packages: ${missing[*]}
  install them with: apt-get install ${missing[*]}
  (or run this script with --install-deps)"
  fi
fi
check_version() {
  local have
  have=$(dpkg-query -W -f='${Version}' "$1")
  [ "$have" = "$2" ] || die "$1 is version $have, pins.toml expects $2; the output hashes would differ.
  If the new version is intended, update clang_version / wasi_libc_version and the output hashes in pins.toml."
}
check_version clang-16 "$(pin clang_version)"
check_version wasi-libc "$(pin wasi_libc_version)"
# The build python freezes the startup modules into the interpreter, so its
# version is an input: Debian's own, never whatever python3.11 is first on
# PATH (a pyenv shim, say, whose version differs from machine to machine).
build_python=/usr/bin/python3.11
[ -x "$build_python" ] || die "CPython's cross build needs Debian's python3.11 (apt-get install python3.11)"
build_python_version=$("$build_python" -c 'import sys; print(sys.version)')

# --- sources -------------------------------------------------------------
# A private apt state holds a deb-src entry derived from the system's own
# sources, so no host name is written here and the system's lists stay as
# they are. Only the main suite: the security suite serves no .dsc.
orig=$(pin cpython_orig)
src_dir="$cache/sources"
mkdir -p "$src_dir"
if [ ! -f "$src_dir/$orig" ] || [ "$(sha256sum <"$src_dir/$orig" | cut -d' ' -f1)" != "$(pin cpython_orig_sha256)" ]; then
  system_sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$system_sources" ] || die "no $system_sources to derive a deb-src entry from"
  apt_state="$cache/apt-src"
  rm -rf "$apt_state"
  mkdir -p "$apt_state/sources.list.d" "$apt_state/lists/partial"
  awk 'BEGIN { RS = ""; ORS = "\n\n" } /Types: deb/ && !/security/' "$system_sources" \
    | sed -e 's/^Types: deb$/Types: deb-src/' -e 's/^Suites: \([^ ]*\).*/Suites: \1/' \
    >"$apt_state/sources.list.d/fuelbench-src.sources"
  apt_opts=(-o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_state/sources.list.d"
            -o "Dir::State::Lists=$apt_state/lists")
  say "fetching $(pin debian_source_package) source"
  apt-get "${apt_opts[@]}" update -qq >&2
  (cd "$src_dir" && apt-get "${apt_opts[@]}" source --download-only -qq "$(pin debian_source_package)" >&2 2>/dev/null)
  [ -f "$src_dir/$orig" ] || die "apt-get source did not produce $orig"
fi
have_orig=$(sha256sum <"$src_dir/$orig" | cut -d' ' -f1)
[ "$have_orig" = "$(pin cpython_orig_sha256)" ] \
  || die "$orig has sha256 $have_orig, pins.toml expects $(pin cpython_orig_sha256)"

# --- build ---------------------------------------------------------------
# $root is fixed: configure records paths (of the compiler wrappers, the
# build python) in the installed _sysconfigdata, and they must not depend on
# who builds or where their cache is. The CPython tree is kept there after a
# build, stamped with what decides it (everything but reactor.c), so a change
# to reactor.c only relinks: seconds instead of minutes.
cpython_key=$( { for key in cpython_orig_sha256 cflags configure_args clang_version wasi_libc_version; do
                   pin "$key"; echo; done; echo "$build_python_version"; sed -n '/^# --- build/,/^# --- reactor/p' "${BASH_SOURCE[0]}"; } \
               | sha256sum | cut -d' ' -f1)
cflags="$(pin cflags) -ffile-prefix-map=$root=/fuelbench"
build="$root/src/builddir/wasi"
if [ -f "$root/cpython.stamp" ] && [ "$(cat "$root/cpython.stamp")" = "$cpython_key" ]; then
  say "reusing the CPython build in $root"
else
rm -rf "$root"
mkdir -p "$root/tools" "$root/src"
say "building CPython $(pin cpython_version) for wasm32-wasi in $root (about 5 minutes on 2 cores)"
tar -xzf "$src_dir/$orig" -C "$root/src" --strip-components=1
ln -s "$build_python" "$root/tools/python3.11"
cat >"$root/tools/clang" <<'EOF'
#!/bin/sh
exec clang-16 --target=wasm32-wasi "$@"
EOF
cat >"$root/tools/clang-cpp" <<'EOF'
#!/bin/sh
exec clang-cpp-16 --target=wasm32-wasi "$@"
EOF
ln -s "$(command -v wasm-ld-16)" "$root/tools/wasm-ld"
ln -s "$(command -v llvm-ar-16)" "$root/tools/llvm-ar"
ln -s "$(command -v llvm-ranlib-16)" "$root/tools/llvm-ranlib"
chmod +x "$root/tools/clang" "$root/tools/clang-cpp"

configure_args=$(pin configure_args)
# __DATE__ and __TIME__ end up in sys.version; pin them.
export SOURCE_DATE_EPOCH=1675209600
mkdir -p "$build"
(
  cd "$build"
  export PATH="$root/tools:$PATH" CC="$root/tools/clang" CPP="$root/tools/clang-cpp"
  export LDSHARED="$root/tools/wasm-ld" AR="$root/tools/llvm-ar" RANLIB="$root/tools/llvm-ranlib"
  export CFLAGS="$cflags" PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR=/nonexistent
  # shellcheck disable=SC2086 # configure_args is a list of arguments
  CONFIG_SITE=../../Tools/wasm/config.site-wasm32-wasi ../../configure -C -q \
    --host=wasm32-unknown-wasi --build="$(../../config.guess)" \
    --with-build-python="$root/tools/python3.11" --disable-test-modules $configure_args >"$root/configure.log" 2>&1 \
    || { tail -30 "$root/configure.log" >&2; die "configure failed (log: $root/configure.log)"; }
  # clang 16 makes int-conversion an error; wasi-libc's CLOCK_* are pointers.
  make -j"$(nproc)" CFLAGS_NODIST=-Wno-int-conversion >"$root/make.log" 2>&1 \
    || { tail -30 "$root/make.log" >&2; die "make failed (log: $root/make.log)"; }
  make install DESTDIR="$root/install" >"$root/install.log" 2>&1 \
    || { tail -30 "$root/install.log" >&2; die "make install failed (log: $root/install.log)"; }
)
echo "$cpython_key" >"$root/cpython.stamp"
fi

# --- reactor -------------------------------------------------------------

# The reactor: libpython and the static modules around reactor.c. MODLIBS,
# LIBS and the stack flags come from CPython's own Makefile: a C stack placed
# first in memory, so an overflow traps instead of corrupting the heap. Its
# 512 KiB is why CPython lowers the recursion limit to 600 on WASI; the
# reactor sets CPython's usual 1000, so the stack is raised to match
# (`stack_bytes`; the later -z flag wins).
# CPython's OPT has -g; the DWARF would triple the module for nothing.
printf 'print-%%:\n\t@echo $($*)\n' >"$root/print.mk"
make_var() { make -s -C "$build" -f Makefile -f "$root/print.mk" "print-$1"; }
read -r -a modlibs <<<"$(make_var MODLIBS)"
read -r -a libs <<<"$(make_var LIBS)"
read -r -a ldflags <<<"$(make_var PY_LDFLAGS_NODIST)"
[[ " ${ldflags[*]} " == *"--stack-first"* ]] \
  || die "CPython's Makefile no longer sets --stack-first (PY_LDFLAGS_NODIST='${ldflags[*]}')"
(
  cd "$build"
  # shellcheck disable=SC2086 # cflags is a list of flags
  clang-16 --target=wasm32-wasi $cflags -mexec-model=reactor \
    -I. -I../../Include "$here/reactor.c" -o "$root/python.wasm" \
    "${ldflags[@]}" -Wl,-z,stack-size="$(pin stack_bytes)" -Wl,--strip-debug libpython3.11.a "${modlibs[@]}" "${libs[@]}" -lm
) || die "linking the reactor failed"

# The standard library, less what a sandboxed program cannot use and what
# would make the tree differ between builds (bytecode caches).
stdlib="$root/install/usr/local/lib"
rm -rf "$stdlib/python3.11/"{ensurepip,idlelib,tkinter,turtledemo,lib2to3,config-3.11-wasm32-wasi} \
       "$stdlib/pkgconfig" "$stdlib/libpython3.11.a"
find "$stdlib" -name __pycache__ -type d -prune -exec rm -rf {} +

have_wasm=$(sha256sum <"$root/python.wasm" | cut -d' ' -f1)
have_stdlib=$(tree_sha256 "$stdlib")
if [ "$have_wasm" != "$want_wasm" ] || [ "$have_stdlib" != "$want_stdlib" ]; then
  die "the build's outputs differ from pins.toml:
  python_wasm_sha256 = \"$have_wasm\"   (pinned: $want_wasm)
  stdlib_sha256 = \"$have_stdlib\"   (pinned: $want_stdlib)
  If you changed an input on purpose, put these lines in python-wasm/pins.toml.
  Otherwise the toolchain differs from the pinned one: compare 'dpkg -l clang-16 wasi-libc'."
fi

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp "$root/python.wasm" "$out.tmp/python.wasm"
cp -a "$stdlib" "$out.tmp/lib"
echo "$inputs" >"$out.tmp/inputs.sha256"
rm -rf "$out"
mv "$out.tmp" "$out"
say "built $out"
[ "$print_dir" = 1 ] && echo "$out"
exit 0
