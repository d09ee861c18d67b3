#!/usr/bin/env bash
# Builds bench_import and runs it on the largest .onnx file in the shared models folder
# ($EW_MODELS_DIR, default ../shared/models next to the repository). Extra arguments go to
# bench_import (e.g. -n 50). Results belong in bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
models=${EW_MODELS_DIR:-../shared/models}
[[ -d "$models" ]] || { echo "run-import: models folder not found: $models (set EW_MODELS_DIR)" >&2; exit 1; }
largest=$(find "$models" -name '*.onnx' -type f -printf '%s\t%p\n' | sort -n | tail -n 1 | cut -f2-)
[[ -n "$largest" ]] || { echo "run-import: no .onnx files under $models" >&2; exit 1; }
build=${EW_BUILD_DIR:-build}
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target bench_import >/dev/null
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
"$build/bin/bench_import" "$largest" "$@"
