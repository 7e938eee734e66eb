#!/usr/bin/env bash
# Checks Cairn as an installable package (issue 16): builds the
# package-check preset (the package preset's Release, shared libraries, no
# tests, but compiled without optimisation: this checks what is installed
# and how, and -O2 would double the check's build time), installs it into a temporary
# prefix and builds, against that prefix alone, an out-of-tree program (with
# find_package(cairn) and with pkg-config) and examples/, and runs them; the
# same program with Cairn as an add_subdirectory (libraries only);
# then builds the .deb packages with CPack, installs them with apt, builds
# the program against the system install, runs it and `cairn --version`,
# and removes the packages again. Part of scripts/test.sh
# (CAIRN_SKIP_PACKAGE=1 leaves it out).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

cmake --preset package-check >/dev/null
cmake --build --preset package-check -j"$(nproc)"
work=$(mktemp -d)
installed_pkgs=()
cleanup() {
  if [ "${#installed_pkgs[@]}" -gt 0 ]; then
    $SUDO apt-get purge -y -qq "${installed_pkgs[@]}" >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package-check: $*" >&2; exit 1; }

version=$(build/package-check/cli/cairn --version | sed 's/^cairn //')
expected="cairn ${version}: 2 events, last Deposited at revision 1, category count 2, admin yes"

# 1. A temporary prefix: CMake and pkg-config consumers, and examples/.
prefix="$work/prefix"
cmake --install build/package-check --prefix "$prefix" >/dev/null
core=$(find "$prefix" -name 'libcairn_core.so' | head -1)
[ -n "$core" ] || fail "no libcairn_core.so under $prefix"
libdir=$(dirname "$core")
export LD_LIBRARY_PATH="$libdir"
cmake -S tests/package -B "$work/hello" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/hello" >/dev/null
out=$("$work/hello/hello" "$work/store-cmake")
[ "$out" = "$expected" ] || fail "CMake consumer printed '$out', expected '$expected'"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
g++ -std=c++20 tests/package/hello.cc -o "$work/hello-pc" $(pkg-config --cflags --libs cairn)
out=$("$work/hello-pc" "$work/store-pc")
[ "$out" = "$expected" ] || fail "pkg-config consumer printed '$out', expected '$expected'"
cmake -S examples -B "$work/examples" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/examples" -j"$(nproc)" >/dev/null
"$work/examples/order/order-demo" "$work/order" >/dev/null || fail "order-demo failed"
unset LD_LIBRARY_PATH PKG_CONFIG_PATH
# The installed programs find their libraries by themselves (RPATH).
"$prefix/bin/cairn" --db "$work/store-cmake" count --category account | grep -qx '{"count":2,"category":"account"}' \
  || fail "the installed cairn did not count the program's events"
echo "package-check: prefix install ok (CMake, pkg-config, examples)"

# 2. add_subdirectory: the libraries only, nothing of Cairn's own build.
cmake -S tests/package/subdir -B "$work/subdir" -G Ninja -DCAIRN_SOURCE_DIR="$PWD" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG >/dev/null
targets=$(ninja -C "$work/subdir" -t targets all)
for t in cairn_unit_tests cairn-bench 'cairn:' bank; do
  if grep -q "^$t" <<<"$targets"; then fail "add_subdirectory configured '$t'"; fi
done
cmake --build "$work/subdir" -j"$(nproc)" >/dev/null
out=$("$work/subdir/hello" "$work/store-subdir")
[ "$out" = "$expected" ] || fail "add_subdirectory consumer printed '$out'"
echo "package-check: add_subdirectory ok (libraries only)"

# 3. Debian packages, installed with apt.
rm -f build/package-check/*.deb
(cd build/package-check && cpack -G DEB >/dev/null)
debs=(build/package-check/*.deb)
[ "${#debs[@]}" -eq 3 ] || fail "expected 3 .deb files, got: ${debs[*]}"
for deb in "${debs[@]}"; do echo "package-check: built $(basename "$deb")"; done
for deb in "${debs[@]}"; do
  pkg=$(dpkg-deb -f "$deb" Package)
  if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ]; then
    fail "$pkg is installed already: remove it first (this check installs and purges its own)"
  fi
  installed_pkgs+=("$pkg")
done
$SUDO apt-get install -y -qq "${debs[@]/#/./}" >/dev/null
cmake -S tests/package -B "$work/hello-system" -G Ninja >/dev/null
cmake --build "$work/hello-system" >/dev/null
out=$("$work/hello-system/hello" "$work/store-system")
[ "$out" = "$expected" ] || fail "program on the system install printed '$out'"
[ "$(/usr/bin/cairn --version)" = "cairn $version" ] || fail "/usr/bin/cairn --version"
echo "package-check: .deb packages install and work (apt; purged on exit)"
