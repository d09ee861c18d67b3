#!/usr/bin/env bash
# Sets up, builds and runs Edgewise on the bundled sample model.
# - With a display (and not CI): opens the GUI on resources/samples/digits_cnn.onnx.
# - Headless or CI=true: runs the same pipeline through the CLI (inspect the sample, convert it to
#   build/sample-out/, inspect the result and check it matches, run both on Edgewise's runtime with
#   the same seeded input and check the outputs are identical, optimize it (default pipeline,
#   outputs verified), benchmark the original with a per-op profile and the optimized copy)
#   and prints the results. Headless
#   but not CI, with xvfb-run available, it then also opens the GUI under Xvfb and saves a
#   screenshot to build/sample-out/edgewise-gui.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh

sample=resources/samples/digits_cnn.onnx
cli=build/bin/edgewise-cli
gui=build/bin/edgewise
ci=${CI:-false}

if [[ "$ci" != "true" && ( -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ) && -x "$gui" ]]; then
  exec "$gui" "$sample"
fi

echo "== edgewise-cli inspect $sample"
"$cli" inspect "$sample"
echo
echo "== edgewise-cli inspect --json resources/samples/mnist.onnx"
"$cli" inspect --json resources/samples/mnist.onnx
echo
mkdir -p build/sample-out
out=build/sample-out/digits_cnn.onnx
echo "== edgewise-cli convert $sample -o $out"
"$cli" convert "$sample" -o "$out"
# The conversion must describe the same model (paths and file sizes aside).
strip() { grep -v -e '"path"' -e '"file_bytes"'; }
if diff <("$cli" inspect --json "$sample" | strip) <("$cli" inspect --json "$out" | strip) >/dev/null; then
  echo "round trip: $out inspects identically to $sample"
else
  echo "round trip: $out differs from $sample:" >&2
  diff <("$cli" inspect --json "$sample" | strip) <("$cli" inspect --json "$out" | strip) >&2 || true
  exit 1
fi

echo
echo "== edgewise-cli run (the sample and its converted copy, same seeded input)"
"$cli" run "$sample" --output-dir build/sample-out/run-original
"$cli" run "$out" --output-dir build/sample-out/run-converted 2>/dev/null
if cmp -s build/sample-out/run-original/logits.npy build/sample-out/run-converted/logits.npy; then
  echo "outputs: identical (build/sample-out/run-*/logits.npy)"
else
  echo "outputs of the converted model differ from the original" >&2
  exit 1
fi
echo
opt=build/sample-out/digits_cnn.optimized.onnx
echo "== edgewise-cli optimize $sample -o $opt --verify --report build/sample-out/optimize.json"
"$cli" optimize "$sample" -o "$opt" --verify --report build/sample-out/optimize.json
echo
echo "== edgewise-cli bench $sample --runs 50 --profile"
"$cli" bench "$sample" --runs 50 --profile
echo
echo "== edgewise-cli bench $opt --runs 50"
"$cli" bench "$opt" --runs 50

if [[ "$ci" != "true" && -x "$gui" ]] && command -v xvfb-run >/dev/null; then
  shot=build/sample-out/edgewise-gui.png
  echo
  echo "== no display: opening the GUI under Xvfb and saving a screenshot"
  if timeout 120 xvfb-run -a "$gui" --screenshot "$shot" "$sample"; then
    echo "GUI screenshot: $shot (set DISPLAY to use the GUI interactively)"
  else
    echo "the GUI did not start cleanly under Xvfb" >&2
    exit 1
  fi
fi
