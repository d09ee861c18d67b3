#!/usr/bin/env bash
# Installs the ONNX Runtime peer (npm package onnxruntime-node) into bench/.ort, a folder this
# script owns (gitignored). --ignore-scripts: the package's postinstall only fetches optional
# CUDA/TensorRT libraries for Linux x64 GPU builds; the CPU binding (bin/napi-v*/linux/x64/
# onnxruntime_binding.node + libonnxruntime.so.*) ships inside the tarball and works without it.
# Usage: bench/setup-ort.sh [--quiet]   Prints the install folder on success.
# Environment: EW_ORT_VERSION pins a version (default: whatever `npm install` picks).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/.ort"
quiet=0
[[ "${1:-}" == "--quiet" ]] && quiet=1
log() { [[ $quiet == 1 ]] || echo "setup-ort: $*" >&2; }

command -v node >/dev/null || { echo "setup-ort: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup-ort: npm not found (apt-get install npm)" >&2; exit 1; }

pkg="onnxruntime-node${EW_ORT_VERSION:+@$EW_ORT_VERSION}"
check() {
  (cd "$dest" && node --input-type=module -e '
    import * as ort from "onnxruntime-node";
    import { createRequire } from "module";
    const require = createRequire(process.cwd() + "/");
    const v = require("onnxruntime-node/package.json").version;
    if (typeof ort.InferenceSession?.create !== "function") process.exit(3);
    console.log(v);') 2>&1
}

if [[ -d "$dest/node_modules/onnxruntime-node" ]] && ver=$(check); then
  log "onnxruntime-node $ver already installed in $dest"
  echo "$dest"
  exit 0
fi

mkdir -p "$dest"
[[ -f "$dest/package.json" ]] || echo '{"name":"edgewise-ort-peer","private":true,"type":"module"}' >"$dest/package.json"
log "installing $pkg into $dest (npm install --ignore-scripts)"
(cd "$dest" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error "$pkg" >&2)
if ! ver=$(check); then
  echo "setup-ort: onnxruntime-node installed but does not load:" >&2
  echo "$ver" >&2
  exit 1
fi
log "onnxruntime-node $ver ready in $dest"
echo "$dest"
