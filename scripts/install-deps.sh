#!/usr/bin/env bash
# Installs everything Cairn needs to build, test and benchmark, from Debian's
# archive only. Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential g++ cmake ninja-build pkg-config \
  libgtest-dev libgmock-dev \
  libsqlite3-dev nlohmann-json3-dev libcli11-dev libre2-dev \
  libsimdjson-dev libsodium-dev \
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libssl-dev \
  libcpp-httplib-dev \
  clang-format dpkg-dev file \
  >/dev/null
# The server's end-to-end tests run the official KurrentDB Node clients
# (installed from npm by tests/server/run-node-tests.sh, pinned in its lock
# file): Node.js and npm from Debian when the machine has none.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "install-deps: ok"
