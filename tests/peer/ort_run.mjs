#!/usr/bin/env node
// Reference outputs from ONNX Runtime for the peer tests: runs MODEL once on the given inputs and
// writes every output as DIR/<output name>.pb (ONNX TensorProto, raw_data) or .npy, plus
// DIR/outputs.json listing {name, file, type, dims} in the model's output order.
// '/' and '\' in output names become '_' in file names (the manifest keeps the real name).
//
// Usage: node tests/peer/ort_run.mjs MODEL --output-dir DIR [--input NAME=FILE]...
//          [--input-dir TEST_DATA_SET_DIR] [--output-format pb|npy] [--threads N] [--seed S]
//          [--dim SYMBOL=V]... [--ort-dir DIR]
// Inputs not given are seeded random data (same generator as bench/ort/run_ort.mjs).
// Exit codes: 0 ok, 1 ORT failed on the model, 2 usage, 77 onnxruntime-node not installed
// (CTest SKIP_RETURN_CODE; run bench/setup-ort.sh).
import { mkdirSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { loadOrt, makeFeeds, sessionOptions, inputsFromDir } from "../../bench/ort/run_ort.mjs";
import { encodeTensorProto, encodeNpy } from "../../bench/ort/tensor_io.mjs";

function usage(msg) {
  if (msg) console.error(`ort_run: ${msg}`);
  console.error("usage: ort_run.mjs MODEL --output-dir DIR [--input NAME=FILE]... [--input-dir DIR] [--output-format pb|npy] [--threads N] [--seed S] [--dim SYMBOL=V]... [--ort-dir DIR]");
  process.exit(2);
}

export function outputFileName(name, ext) {
  const safe = name.replace(/[/\\]/g, "_");
  return (safe === "" || safe === "." || safe === ".." ? `_${safe}` : safe) + "." + ext;
}

const o = { model: null, outDir: null, inputs: {}, inputDir: null, format: "pb", threads: 1, seed: 1, dims: {}, ortDir: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
  const a = argv[i];
  const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
  const kv = (s) => { const k = s.indexOf("="); if (k <= 0) usage(`expected NAME=VALUE, got ${s}`); return [s.slice(0, k), s.slice(k + 1)]; };
  if (a === "--output-dir") o.outDir = val();
  else if (a === "--input") { const [k, v] = kv(val()); o.inputs[k] = v; }
  else if (a === "--input-dir") o.inputDir = val();
  else if (a === "--output-format") { o.format = val(); if (!["pb", "npy"].includes(o.format)) usage("--output-format is pb or npy"); }
  else if (a === "--threads") { o.threads = Number(val()); if (!Number.isInteger(o.threads) || o.threads < 1) usage("bad --threads"); }
  else if (a === "--seed") { o.seed = Number(val()); if (!Number.isInteger(o.seed) || o.seed < 0) usage("bad --seed"); }
  else if (a === "--dim") { const [k, v] = kv(val()); o.dims[k] = Number(v); }
  else if (a === "--ort-dir") o.ortDir = val();
  else if (a.startsWith("-")) usage(`unknown option ${a}`);
  else if (o.model) usage(`unexpected argument ${a}`);
  else o.model = a;
}
if (!o.model || !o.outDir) usage("MODEL and --output-dir are required");

let ort;
try {
  ({ ort } = loadOrt(o.ortDir));
} catch (e) {
  console.log(`[ew-skip] ${e.message}`);
  process.exit(77);
}
try {
  const session = await ort.InferenceSession.create(o.model, sessionOptions(o.threads));
  const files = { ...(o.inputDir ? inputsFromDir(o.inputDir, session.inputNames) : {}), ...o.inputs };
  const { feeds } = makeFeeds(ort, session, files, o.dims, o.seed);
  const results = await session.run(feeds);
  mkdirSync(o.outDir, { recursive: true });
  const manifest = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const rec = { name, type: t.type, dims: [...t.dims], data: t.data };
    const file = outputFileName(name, o.format);
    const bytes = o.format === "pb" ? encodeTensorProto(rec) : encodeNpy(rec);
    const tmp = join(o.outDir, `.${file}.tmp`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, join(o.outDir, file));
    manifest.push({ name, file, type: t.type, dims: rec.dims });
  }
  writeFileSync(join(o.outDir, "outputs.json"), JSON.stringify(manifest, null, 1) + "\n");
} catch (e) {
  console.error(`ort_run: ${o.model}: ${e.message ?? e}`);
  process.exit(1);
}
