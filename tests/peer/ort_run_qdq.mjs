#!/usr/bin/env node
// ONNX Runtime outputs of a QDQ model at a chosen graph optimization level, for
// peer_quantize.py: "basic" keeps QuantizeLinear/DequantizeLinear as they are (ONNX semantics,
// what our runtime computes), "all" lets ORT rewrite QDQ groups into its integer kernels.
// Usage: node tests/peer/ort_run_qdq.mjs MODEL --output-dir DIR --level basic|all
//          [--input-dir TEST_DATA_SET_DIR] [--seed S] [--ort-dir DIR]
// Writes DIR/<output>.npy and DIR/outputs.json like ort_run.mjs. Exit codes: 0 ok, 1 ORT failed,
// 2 usage, 77 onnxruntime-node not installed.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadOrt, makeFeeds, inputsFromDir } from "../../bench/ort/run_ort.mjs";
import { encodeNpy } from "../../bench/ort/tensor_io.mjs";

const o = { model: null, outDir: null, level: "basic", inputDir: null, seed: 1, ortDir: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
  const a = argv[i];
  const val = () => { if (i + 1 >= argv.length) { console.error(`${a} needs a value`); process.exit(2); } return argv[++i]; };
  if (a === "--output-dir") o.outDir = val();
  else if (a === "--level") o.level = val();
  else if (a === "--input-dir") o.inputDir = val();
  else if (a === "--seed") o.seed = Number(val());
  else if (a === "--ort-dir") o.ortDir = val();
  else if (!o.model && !a.startsWith("-")) o.model = a;
  else { console.error(`ort_run_qdq: unexpected argument ${a}`); process.exit(2); }
}
if (!o.model || !o.outDir || !["disabled", "basic", "extended", "all"].includes(o.level)) {
  console.error("usage: ort_run_qdq.mjs MODEL --output-dir DIR --level basic|all [--input-dir DIR] [--seed S] [--ort-dir DIR]");
  process.exit(2);
}
let ort;
try {
  ({ ort } = loadOrt(o.ortDir));
} catch (e) {
  console.log(`[ew-skip] ${e.message}`);
  process.exit(77);
}
try {
  const session = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential",
    graphOptimizationLevel: o.level, logSeverityLevel: 3 });
  const files = o.inputDir ? inputsFromDir(o.inputDir, session.inputNames) : {};
  const { feeds } = makeFeeds(ort, session, files, {}, o.seed);
  const results = await session.run(feeds);
  mkdirSync(o.outDir, { recursive: true });
  const manifest = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const file = name.replace(/[/\\]/g, "_") + ".npy";
    writeFileSync(join(o.outDir, file), encodeNpy({ name, type: t.type, dims: [...t.dims], data: t.data }));
    manifest.push({ name, file, type: t.type, dims: [...t.dims] });
  }
  writeFileSync(join(o.outDir, "outputs.json"), JSON.stringify(manifest, null, 1) + "\n");
} catch (e) {
  console.error(`ort_run_qdq: ${o.model}: ${e.message ?? e}`);
  process.exit(1);
}
