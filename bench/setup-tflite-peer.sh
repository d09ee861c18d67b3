#!/usr/bin/env bash
# Installs the TensorFlow Lite peer (npm package @tensorflow/tfjs-tflite) into bench/.tflite-peer,
# a folder this script owns (gitignored). The package ships TFLite's C++ interpreter compiled to
# WebAssembly (wasm/tflite_web_api_cc*.{js,wasm}); tests/peer/tflite_run.mjs loads those files
# directly under Node, so neither its peer dependency @tensorflow/tfjs-core (--omit=peer) nor any
# install script (--ignore-scripts; it has none that matter) is needed.
# Usage: bench/setup-tflite-peer.sh [--quiet]   Prints the install folder on success.
# Environment: EW_TFLITE_PEER_VERSION pins a version (default 0.0.1-alpha.10, the one checked).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/.tflite-peer"
quiet=0
[[ "${1:-}" == "--quiet" ]] && quiet=1
log() { [[ $quiet == 1 ]] || echo "setup-tflite-peer: $*" >&2; }

command -v node >/dev/null || { echo "setup-tflite-peer: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup-tflite-peer: npm not found (apt-get install npm)" >&2; exit 1; }

pkg="@tensorflow/tfjs-tflite@${EW_TFLITE_PEER_VERSION:-0.0.1-alpha.10}"
# Instantiates the WebAssembly runtime, so a broken or partial install is noticed now rather than
# as failing peer tests.
check() {
  (cd "$dest" && node --input-type=module -e '
    import { createRequire } from "module";
    import { readFileSync } from "fs";
    const require = createRequire(process.cwd() + "/");
    const dir = process.cwd() + "/node_modules/@tensorflow/tfjs-tflite/";
    const v = require(dir + "package.json").version;
    const M = await require(dir + "wasm/tflite_web_api_cc_simd.js")({
      wasmBinary: readFileSync(dir + "wasm/tflite_web_api_cc_simd.wasm"), printErr: () => {} });
    if (typeof M.TFLiteWebModelRunner?.CreateFromBufferAndOptions !== "function") process.exit(3);
    console.log(v);') 2>&1
}

if [[ -d "$dest/node_modules/@tensorflow/tfjs-tflite" ]] && ver=$(check); then
  log "@tensorflow/tfjs-tflite $ver already installed in $dest"
  echo "$dest"
  exit 0
fi

mkdir -p "$dest"
[[ -f "$dest/package.json" ]] || echo '{"name":"edgewise-tflite-peer","private":true,"type":"module"}' >"$dest/package.json"
log "installing $pkg into $dest (npm install --ignore-scripts --omit=peer)"
if ! out=$(cd "$dest" && npm install --ignore-scripts --omit=peer --no-audit --no-fund --loglevel=error "$pkg" 2>&1); then
  echo "$out" >&2
  exit 1
fi
[[ $quiet == 1 ]] || echo "$out" >&2
if ! ver=$(check); then
  echo "setup-tflite-peer: @tensorflow/tfjs-tflite installed but its WebAssembly runtime does not load:" >&2
  echo "$ver" >&2
  exit 1
fi
log "@tensorflow/tfjs-tflite $ver ready in $dest"
echo "$dest"
