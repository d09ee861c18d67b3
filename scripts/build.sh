#!/usr/bin/env bash
# Configures (Release, Ninja) into build/ and builds everything. Extra arguments go to the CMake
# configure step, e.g. `bash scripts/build.sh -DEW_MODELS_DIR=/data/models -DEW_BUILD_GUI=OFF`.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >build-configure.log 2>&1 || {
  cat build-configure.log >&2
  echo "build: CMake configuration failed (log above; did scripts/setup.sh run?)" >&2
  exit 1
}
rm -f build-configure.log
cmake --build build -j"$(nproc)"
