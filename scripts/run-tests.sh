#!/usr/bin/env bash
# Sets up, builds and runs every test with CTest (headless: QT_QPA_PLATFORM=offscreen).
# Extra arguments go to ctest, e.g. `bash scripts/run-tests.sh -L unit` or `-R cli`.
# Exits non-zero when a test fails; the last line is CTest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# The peer tests compare with ONNX Runtime (npm onnxruntime-node in bench/.ort); without it they
# report SKIP, so a failed install does not stop the run.
bash bench/setup-ort.sh --quiet >/dev/null || echo "run-tests: ONNX Runtime not installed; peer tests will be skipped" >&2
# Same for the TFLite interpreter peer (npm @tensorflow/tfjs-tflite in bench/.tflite-peer).
bash bench/setup-tflite-peer.sh --quiet >/dev/null || echo "run-tests: TFLite peer not installed; peer_tflite_interpreter will be skipped" >&2
export QT_QPA_PLATFORM=offscreen
log=build/ctest.log
rc=0
(cd build && ctest --output-on-failure -j"$(nproc)" "$@") 2>&1 | tee "$log" || rc=$?
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)
[[ -n "$summary" ]] || summary="ctest did not report a summary (exit status $rc)"
echo
echo "$summary"
exit "$rc"
