#!/usr/bin/env bash
# Installs the Debian 12 packages Edgewise needs to build, run and test, when any is missing.
# Idempotent and silent when everything is already there; runs apt-get update only when it has
# something to install. Needs root (or sudo).
set -euo pipefail

# Why each package is here (what the CMake configuration or the tests look for):
packages=(
  cmake ninja-build g++                  # toolchain; CMake >= 3.24, C++23 (GCC 12)
  qt6-base-dev qt6-base-dev-tools        # Qt6 Core/Gui/Widgets/Concurrent/Test/PrintSupport; moc, uic, rcc
  qt6-tools-dev qt6-tools-dev-tools      # Qt6LinguistTools CMake package (qt_add_translations)
  qt6-l10n-tools                         # lrelease/lupdate that qt_add_translations runs
  qt6-svg-dev                            # Qt6::Svg (icons, graph export); libqt6svg6-dev is only a virtual name for it
  libqcustomplot-dev                     # QCustomPlotQt6 (profiler charts)
  libonnx-dev libprotobuf-dev protobuf-compiler   # ONNX import/export (find_package ONNX, Protobuf)
  libflatbuffers-dev flatbuffers-compiler flatbuffers-compiler-dev  # TFLite (FlatBuffers config + flatc targets)
  libeigen3-dev                          # Eigen 3.4 (IR and CPU kernels)
  libjpeg62-turbo-dev libpng-dev         # JPEG / PNG decoding of calibration and evaluation images (core/optimize/dataset)
  xvfb xauth                             # xvfb-run: the GUI and GUI tests on machines without a display
  python3-onnx python3-numpy             # the peer check of `edgewise-cli inspect` against python's onnx
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# node and npm run ONNX Runtime (npm onnxruntime-node) for the peer checks and
# bench/run-vs-ort.sh. Checked as commands: a Node.js from another source (which bundles npm and
# conflicts with Debian's npm package) serves as well.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: run as root (or install sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
