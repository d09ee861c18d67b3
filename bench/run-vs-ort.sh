#!/usr/bin/env bash
# Edgewise's CPU runtime against ONNX Runtime (onnxruntime-node) on the same models, the same
# thread counts and the same machine, one process per measurement, alternating which runtime
# goes first: prints
#   model | threads | ours ms | ORT ms | ratio (ours/ORT) | our GFLOP/s | % of peak | ORT GFLOP/s
# and writes the JSON to $EW_BUILD_DIR/run-vs-ort.json (run-vs-ort-int8.json with --int8).
# Results belong in bench/RESULTS.md.
#
# Usage: bench/run-vs-ort.sh [--no-build] [--threads "1 2"] [--rounds K] [--warmup W] [--runs R]
#                            [--model PATH]... [--int8]
# --int8: ours runs QDQ patterns as fused integer kernels (bench --int8), for QDQ models such as
# those bench_int8 --write-qdq DIR writes (NAME_qdq.onnx, NAME_qdq_rr.onnx).
# Environment: EW_BUILD_DIR (default build), EW_MODELS_DIR (default ../shared/models).
# Steps: bench/setup-ort.sh (npm install into bench/.ort), build bench_fma_peak and edgewise-cli,
# measure the FMA peak, then bench/ort/compare.mjs does the runs. Models get their ONNX
# test_data_set_0 inputs where they have one (both runtimes), seeded random data otherwise.
# If edgewise-cli has no `bench` subcommand yet, this says so and prints the ORT column alone.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${EW_BUILD_DIR:-build}
models=${EW_MODELS_DIR:-../shared/models}
[[ -d "$models" ]] || { echo "run-vs-ort: models folder not found: $models (set EW_MODELS_DIR)" >&2; exit 1; }

do_build=1
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) do_build=0 ;;
    --int8) args+=("$1") ;;
    --threads|--rounds|--warmup|--runs|--model) args+=("$1" "$2"); shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-vs-ort: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bash bench/setup-ort.sh --quiet >/dev/null

if [[ $do_build == 1 ]]; then
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build" --target bench_fma_peak >/dev/null
  # The CLI may be mid-change; a failed build leaves the ORT column still worth printing.
  if ! cmake --build "$build" --target edgewise-cli >/dev/null 2>"$build/run-vs-ort-build.log"; then
    echo "run-vs-ort: building edgewise-cli failed (see $build/run-vs-ort-build.log); using whatever binary exists" >&2
  fi
fi

echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
fma_json=""
if [[ -x "$build/bin/bench_fma_peak" ]]; then
  fma_json=$("$build/bin/bench_fma_peak" --json | tail -n 1) || fma_json=""
fi
if [[ -z "$fma_json" || "$fma_json" != *'"avx2_fma":true'* ]]; then
  echo "run-vs-ort: no FMA peak measured (bench_fma_peak missing or CPU without AVX2+FMA)" >&2
  fma_json=""
fi

json_out="$build/run-vs-ort.json"
[[ " ${args[*]} " == *" --int8 "* ]] && json_out="$build/run-vs-ort-int8.json"
exec node bench/ort/compare.mjs --cli "$build/bin/edgewise-cli" --models-dir "$models" \
  ${fma_json:+--fma-json "$fma_json"} --json-out "$json_out" "${args[@]}"
