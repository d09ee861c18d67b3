#!/usr/bin/env node
// Reference outputs from the real TensorFlow Lite interpreter for the TFLite peer tests: runs
// MODEL (.tflite) once on the given inputs and writes every output as DIR/<output name>.npy (or
// .pb, ONNX TensorProto), plus DIR/outputs.json listing {name, file, type, dims} in the model's
// output order. Same conventions as ort_run.mjs ('/' and '\' in names become '_' in file names).
//
// The interpreter is TFLite's own C++ runtime (builtin kernels + the XNNPACK delegate, as on
// device) compiled to WebAssembly by Google and shipped in the npm package
// @tensorflow/tfjs-tflite (wasm/tflite_web_api_cc*.{js,wasm}, the "TFLite Web API"). Its
// Emscripten loader runs under Node as it is once it is handed the .wasm bytes, so this script
// uses it directly (TFLiteWebModelRunner) and needs neither tfjs-core nor the browser wrapper.
// The single-threaded builds are used: the threaded ones need browser Workers.
//
// Usage: node tests/peer/tflite_run.mjs MODEL --output-dir DIR [--input NAME=FILE]...
//          [--input-dir TEST_DATA_SET_DIR] [--output-format npy|pb] [--seed S]
//          [--no-simd] [--tflite-dir DIR]
// Inputs are .npy or TensorProto .pb files whose element type and element count match the
// TFLite input (shape [1,N] and [N] are the same buffer to TFLite, so only the count is checked);
// inputs not given are seeded random data (same generator as ort_run.mjs and `edgewise-cli run`).
// --tflite-dir is the folder bench/setup-tflite-peer.sh installs into (default bench/.tflite-peer).
// Inputs of a type the Web API cannot address (int64, string, ...) are left unfed when no operator
// reads them (e.g. silero-vad's `sr` once its If is folded away), else the run stops with exit 4.
// Exit codes: 0 ok, 1 TFLite rejected or failed on the model, 2 usage, 4 the model reads an input
// the Web API cannot feed, 77 the package is not installed (CTest SKIP_RETURN_CODE; run
// bench/setup-tflite-peer.sh).
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inputsFromDir } from "../../bench/ort/run_ort.mjs";
import { encodeNpy, encodeTensorProto, makeRng, randomTensor, readTensorFile } from "../../bench/ort/tensor_io.mjs";

function usage(msg) {
  if (msg) console.error(`tflite_run: ${msg}`);
  console.error("usage: tflite_run.mjs MODEL --output-dir DIR [--input NAME=FILE]... [--input-dir DIR] [--output-format npy|pb] [--seed S] [--no-simd] [--tflite-dir DIR]");
  process.exit(2);
}

function outputFileName(name, ext) {
  const safe = name.replace(/[/\\]/g, "_");
  return (safe === "" || safe === "." || safe === ".." ? `_${safe}` : safe) + "." + ext;
}

const here = dirname(fileURLToPath(import.meta.url));
const o = { model: null, outDir: null, inputs: {}, inputDir: null, format: "npy", seed: 1, simd: true,
            tfliteDir: resolve(here, "../../bench/.tflite-peer") };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
  const a = argv[i];
  const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
  if (a === "--output-dir") o.outDir = val();
  else if (a === "--input") {
    const s = val(), k = s.indexOf("=");
    if (k <= 0) usage(`expected NAME=FILE, got ${s}`);
    o.inputs[s.slice(0, k)] = s.slice(k + 1);
  } else if (a === "--input-dir") o.inputDir = val();
  else if (a === "--output-format") { o.format = val(); if (!["pb", "npy"].includes(o.format)) usage("--output-format is pb or npy"); }
  else if (a === "--seed") { o.seed = Number(val()); if (!Number.isInteger(o.seed) || o.seed < 0) usage("bad --seed"); }
  else if (a === "--no-simd") o.simd = false;
  else if (a === "--tflite-dir") o.tfliteDir = resolve(val());
  else if (a.startsWith("-")) usage(`unknown option ${a}`);
  else if (o.model) usage(`unexpected argument ${a}`);
  else o.model = a;
}
if (!o.model || !o.outDir) usage("MODEL and --output-dir are required");

const wasmDir = join(o.tfliteDir, "node_modules/@tensorflow/tfjs-tflite/wasm");
const variant = o.simd ? "tflite_web_api_cc_simd" : "tflite_web_api_cc";
if (!existsSync(join(wasmDir, `${variant}.js`)) || !existsSync(join(wasmDir, `${variant}.wasm`))) {
  console.log(`[ew-skip] @tensorflow/tfjs-tflite not installed in ${o.tfliteDir} (run bench/setup-tflite-peer.sh)`);
  process.exit(77);
}

// TFLite Web API type names -> the typed arrays tensor_io.mjs uses for the same ONNX type names.
const TFLITE_TYPES = new Set(["float32", "float64", "int8", "uint8", "int16", "int32", "uint32", "bool"]);

/// Copies `t` (a tensor_io record) into the interpreter's input buffer after checking its type and
/// size: a silent reinterpretation would make every later comparison meaningless.
function feed(info, t, source) {
  const want = info.dataType;
  if (!TFLITE_TYPES.has(want)) throw new Error(`input ${info.name}: the TFLite Web API cannot feed ${want} tensors`);
  if (t.type !== want && !(want === "bool" && t.type === "uint8"))
    throw new Error(`input ${info.name}: ${source} holds ${t.type}, the model wants ${want}`);
  const dst = info.data();
  if (dst.length !== t.data.length)
    throw new Error(`input ${info.name}: ${source} has ${t.data.length} elements [${t.dims}], the model wants ${dst.length} [${info.shape}]`);
  dst.set(t.data);
}

/// Indices of the tensors that an operator of the main subgraph reads or that are graph outputs,
/// from a minimal FlatBuffers walk of the .tflite (Model.subgraphs[0].operators[*].inputs and
/// SubGraph.outputs; control-flow ops pass main-subgraph tensors as their own inputs). Used only
/// to prove that an input the Web API cannot address (int64, ...) is dead and may stay unfed.
function tensorsRead(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (p) => { if (p < 0 || p + 4 > bytes.length) throw new Error("malformed .tflite (offset past the end)"); return dv.getUint32(p, true); };
  const field = (table, id) => { // absolute position of field `id`, or -1 when absent
    const vt = table - dv.getInt32(table, true);
    const vlen = dv.getUint16(vt, true);
    const off = 4 + 2 * id < vlen ? dv.getUint16(vt + 4 + 2 * id, true) : 0;
    return off ? table + off : -1;
  };
  const ref = (p) => p + u32(p);
  const vector = (p) => { const v = ref(p); return { n: u32(v), at: (i) => v + 4 + 4 * i }; };
  const root = ref(0);
  const subgraphs = field(root, 2);
  if (subgraphs < 0) throw new Error("malformed .tflite (no subgraphs)");
  const sg = ref(vector(subgraphs).at(0));
  const read = new Set();
  const ints = (p) => { if (p < 0) return; const v = vector(p); for (let i = 0; i < v.n; ++i) read.add(dv.getInt32(v.at(i), true)); };
  ints(field(sg, 2));
  const ops = field(sg, 3);
  if (ops >= 0) { const v = vector(ops); for (let i = 0; i < v.n; ++i) ints(field(ref(v.at(i)), 1)); }
  return read;
}

function dimsOf(info) {
  return info.shape === "" ? [] : info.shape.split(",").map(Number);
}

let runner, module;
try {
  const require = createRequire(import.meta.url);
  const factory = require(join(wasmDir, `${variant}.js`));
  module = await factory({
    wasmBinary: readFileSync(join(wasmDir, `${variant}.wasm`)),
    locateFile: (p) => join(wasmDir, p),
    print: (s) => console.error(s),
    // The runtime logs "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on every load.
    printErr: (s) => { if (!s.startsWith("INFO:")) console.error(s); },
  });
} catch (e) {
  console.error(`tflite_run: cannot start the TFLite WebAssembly runtime from ${wasmDir}: ${e.message ?? e}`);
  process.exit(1);
}

try {
  const bytes = readFileSync(o.model);
  const ptr = module._malloc(bytes.length); // kept for the runner's lifetime: TFLite does not copy the model
  module.HEAPU8.set(bytes, ptr);
  const created = module.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, bytes.length,
    { numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1024 });
  if (!created.ok()) throw new Error(`TFLite rejects the model: ${created.errorMessage()}`);
  runner = created.value();
  const list = (v) => { const a = []; for (let i = 0; i < v.size(); ++i) a.push(v.get(i)); v.delete(); return a; };
  const inputs = list(runner.GetInputs());
  const names = inputs.map((t) => t.name);
  const files = { ...(o.inputDir ? inputsFromDir(o.inputDir, names) : {}), ...o.inputs };
  for (const k of Object.keys(files))
    if (!names.includes(k)) throw new Error(`--input ${k}: the model has no input named ${k} (inputs: ${names.join(", ")})`);
  const rng = makeRng(o.seed);
  let read = null;
  for (const info of inputs) {
    if (!TFLITE_TYPES.has(info.dataType)) {
      read ??= tensorsRead(bytes);
      if (read.has(info.id)) {
        console.error(`tflite_run: ${o.model}: input ${info.name} is read by the model but the TFLite Web API cannot feed ${info.dataType} tensors`);
        process.exit(4);
      }
      console.error(`tflite_run: input ${info.name} (${info.dataType}) is read by no operator: left unfed`);
      continue;
    }
    if (files[info.name]) feed(info, readTensorFile(files[info.name]), files[info.name]);
    else feed(info, randomTensor(info.dataType, dimsOf(info), rng), "random data");
  }
  if (!runner.Infer()) throw new Error("TFLite Invoke() failed (see the runtime's message above)");
  mkdirSync(o.outDir, { recursive: true });
  const manifest = [];
  for (const info of list(runner.GetOutputs())) {
    // data() is a view into the WebAssembly heap: copy it before anything else can grow the heap.
    const data = info.data().slice();
    const rec = { name: info.name, type: info.dataType, dims: dimsOf(info), data };
    const file = outputFileName(info.name, o.format);
    const out = o.format === "pb" ? encodeTensorProto(rec) : encodeNpy(rec);
    const tmp = join(o.outDir, `.${file}.tmp`);
    writeFileSync(tmp, out);
    renameSync(tmp, join(o.outDir, file));
    manifest.push({ name: info.name, file, type: rec.type, dims: rec.dims });
  }
  writeFileSync(join(o.outDir, "outputs.json"), JSON.stringify(manifest, null, 1) + "\n");
} catch (e) {
  console.error(`tflite_run: ${o.model}: ${e.message ?? e}`);
  process.exit(1);
}
