#!/usr/bin/env node
// Times one ONNX model with ONNX Runtime (onnxruntime-node, CPU execution provider) the way
// `edgewise-cli bench` times ours, and prints one JSON object. Run bench/setup-ort.sh first.
//
// Usage: node bench/ort/run_ort.mjs MODEL [--threads N] [--warmup W] [--runs R]
//          [--input NAME=FILE.pb|FILE.npy]... [--input-dir TEST_DATA_SET_DIR] [--dim SYMBOL=V]...
//          [--seed S] [--ort-dir DIR]
// Session: intra-op threads N, inter-op 1, sequential execution, graphOptimizationLevel "all",
// ORT's defaults otherwise (memory arena and intra-op spinning on). Inputs not given by file
// are seeded random data of the model's input shape, symbolic or unknown dims = 1 unless --dim
// names them. Timings are wall-clock around each awaited session.run(); percentiles are
// nearest-rank over the timed runs; peak_memory_bytes is the process's max RSS (includes node
// itself, about 45 MiB).
import { createRequire } from "node:module";
import { dirname, join, resolve, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync, readdirSync } from "node:fs";
import { readTensorFile, randomTensor, makeRng } from "./tensor_io.mjs";

const here = dirname(fileURLToPath(import.meta.url));

export function loadOrt(ortDir) {
  const dir = resolve(ortDir ?? process.env.EW_ORT_DIR ?? join(here, "..", ".ort"));
  if (!existsSync(join(dir, "node_modules", "onnxruntime-node")))
    throw new Error(`onnxruntime-node not installed in ${dir} (run bench/setup-ort.sh)`);
  const require = createRequire(join(dir, "package.json"));
  return { ort: require("onnxruntime-node"), version: require("onnxruntime-node/package.json").version };
}

function usage(msg) {
  if (msg) console.error(`run_ort: ${msg}`);
  console.error("usage: run_ort.mjs MODEL [--threads N] [--warmup W] [--runs R] [--input NAME=FILE]... [--input-dir DIR] [--dim SYMBOL=V]... [--seed S] [--ort-dir DIR]");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { threads: 1, warmup: 5, runs: 20, inputs: {}, dims: {}, seed: 1, model: null, ortDir: null, inputDir: null };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    const kv = (s) => { const k = s.indexOf("="); if (k <= 0) usage(`expected NAME=VALUE, got ${s}`); return [s.slice(0, k), s.slice(k + 1)]; };
    const int = (s, min) => { const n = Number(s); if (!Number.isInteger(n) || n < min) usage(`${a}: bad number ${s}`); return n; };
    if (a === "--threads") o.threads = int(val(), 1);
    else if (a === "--warmup") o.warmup = int(val(), 0);
    else if (a === "--runs") o.runs = int(val(), 1);
    else if (a === "--seed") o.seed = int(val(), 0);
    else if (a === "--ort-dir") o.ortDir = val();
    else if (a === "--input-dir") o.inputDir = val();
    else if (a === "--input") { const [k, v] = kv(val()); o.inputs[k] = v; }
    else if (a === "--dim") { const [k, v] = kv(val()); o.dims[k] = int(v, 0); }
    else if (a === "--json") { /* always JSON; accepted for symmetry with edgewise-cli bench */ }
    else if (a === "-h" || a === "--help") usage();
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else if (o.model) usage(`unexpected argument ${a}`);
    else o.model = a;
  }
  if (!o.model) usage("no model given");
  return o;
}

/// NAME -> FILE for an ONNX test_data_set folder: input_<i>.pb files, named by their TensorProto
/// name, or by the model's i-th input where the name is empty.
export function inputsFromDir(dir, inputNames) {
  const files = {};
  const list = readdirSync(dir).filter((f) => /^input_\d+\.pb$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
  list.forEach((f, i) => {
    const path = join(dir, f);
    const name = readTensorFile(path).name || inputNames[i];
    if (!name) throw new Error(`${path}: unnamed and the model has only ${inputNames.length} inputs`);
    files[name] = path;
  });
  return files;
}

/// Feeds for every model input: files where given, seeded random data otherwise.
export function makeFeeds(ort, session, files, dimOverrides, seed) {
  const rng = makeRng(seed);
  const feeds = {}, described = [];
  const meta = session.inputMetadata ?? session.inputNames.map((name) => ({ name }));
  for (const m of meta) {
    let t;
    if (files[m.name]) {
      t = readTensorFile(files[m.name]);
    } else {
      if (!m.isTensor || !m.type || !m.shape) throw new Error(`input ${m.name}: no tensor type in the model; pass --input ${m.name}=FILE`);
      const dims = m.shape.map((d) => (typeof d === "number" && d >= 0 ? d : dimOverrides[d] ?? 1));
      t = randomTensor(m.type, dims, rng);
    }
    feeds[m.name] = new ort.Tensor(t.type, t.data, t.dims);
    described.push({ name: m.name, type: t.type, dims: t.dims, source: files[m.name] ? basename(files[m.name]) : "random" });
  }
  for (const k of Object.keys(files))
    if (!session.inputNames.includes(k)) throw new Error(`--input ${k}: the model has no input named ${k} (inputs: ${session.inputNames.join(", ")})`);
  return { feeds, described };
}

export function sessionOptions(threads) {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential",
           graphOptimizationLevel: "all", logSeverityLevel: 3 };
}

const ms = (t0, t1) => Number(t1 - t0) / 1e6;
const round = (x) => Math.round(x * 1000) / 1000;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { ort, version } = loadOrt(o.ortDir);
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(o.model, sessionOptions(o.threads));
  const t1 = process.hrtime.bigint();
  const files = { ...(o.inputDir ? inputsFromDir(o.inputDir, session.inputNames) : {}), ...o.inputs };
  const { feeds, described } = makeFeeds(ort, session, files, o.dims, o.seed);
  let a = process.hrtime.bigint();
  await session.run(feeds);
  const firstRun = ms(a, process.hrtime.bigint());
  for (let i = 0; i < o.warmup; ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < o.runs; ++i) {
    a = process.hrtime.bigint();
    await session.run(feeds);
    times.push(ms(a, process.hrtime.bigint()));
  }
  const sorted = [...times].sort((x, y) => x - y);
  const pct = (p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  const result = {
    runtime: "onnxruntime-node", ort_version: version, model: o.model, threads: o.threads,
    warmup: o.warmup, runs: o.runs,
    init_ms: round(ms(t0, t1)), first_run_ms: round(firstRun),
    min_ms: round(sorted[0]), mean_ms: round(times.reduce((s, x) => s + x, 0) / times.length),
    median_ms: round(pct(0.5)), p90_ms: round(pct(0.9)), p99_ms: round(pct(0.99)),
    max_ms: round(sorted[sorted.length - 1]),
    peak_memory_bytes: process.resourceUsage().maxRSS * 1024,
    inputs: described,
    times_ms: times.map(round),
  };
  await session.release?.();
  console.log(JSON.stringify(result));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`run_ort: ${e.message ?? e}`); process.exit(1); });
}
