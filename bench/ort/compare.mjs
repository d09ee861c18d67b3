#!/usr/bin/env node
// The side-by-side loop behind bench/run-vs-ort.sh: for every model and thread count, runs
// `edgewise-cli bench MODEL --threads T --json` and bench/ort/run_ort.mjs in separate processes,
// alternating which goes first round by round, then prints
//   model | threads | ours ms | ORT ms | ratio | our GFLOP/s | % of peak | ORT GFLOP/s
// and writes everything as JSON. ms = median of the per-round medians; ratio = ours / ORT
// (< 1 means we are faster); GFLOP/s = 2 * MACs / median; % of peak = our GFLOP/s against
// bench_fma_peak's per-core FP32 FMA peak times the thread count.
//
// Options (run-vs-ort.sh passes them through):
//   --cli PATH          edgewise-cli (default build/bin/edgewise-cli)
//   --fma-json JSON     bench_fma_peak --json output (the peak column is empty without it)
//   --models-dir DIR    default ../shared/models
//   --model PATH        only these models (repeatable; default: the list below)
//   --threads "1 2"     thread counts
//   --rounds K          alternations per model and thread count (default 3)
//   --warmup W --runs R passed to both runtimes (default 5 / 30)
//   --json-out FILE     where to write the JSON (default: stdout only)
//   --int8              ours runs QDQ patterns as fused integer kernels (bench --int8); ORT always
//                       fuses QDQ at its default optimization level. For QDQ files, e.g. the ones
//                       bench_int8 --write-qdq or edgewise-cli quantize writes.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join, dirname, basename, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readTensorFile } from "./tensor_io.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");

// Default models: the two torchvision architectures and the real models (ort-testdata holds
// single-op conformance graphs, not worth timing).
const DEFAULT_MODELS = [
  "onnx/torchvision-arch/mobilenet_v2.onnx",
  "onnx/torchvision-arch/resnet18.onnx",
  "onnx/blazeface/face_detection_front_128x128_barracuda.onnx",
  "onnx/digits-cnn/digits_cnn.onnx",
  "onnx/openwakeword/melspectrogram.onnx",
  "onnx/openwakeword/embedding_model.onnx",
  "onnx/openwakeword/alexa_v0.1.onnx",
  "onnx/openwakeword/hey_jarvis_v0.1.onnx",
  "onnx/paddleocr/ch_PP-OCRv4_det_infer.onnx",
  "onnx/paddleocr/ch_ppocr_mobile_v2.0_cls_infer.onnx",
  "onnx/silero-vad/silero_vad_16k_op15.onnx",
];

function parseArgs(argv) {
  const o = { cli: join(repo, "build/bin/edgewise-cli"), fmaJson: null, modelsDir: resolve(repo, "../shared/models"),
              models: [], threads: [1, 2], rounds: 3, warmup: 5, runs: 30, jsonOut: null, int8: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i], v = () => argv[++i];
    if (a === "--cli") o.cli = v();
    else if (a === "--fma-json") o.fmaJson = v();
    else if (a === "--models-dir") o.modelsDir = v();
    else if (a === "--model") o.models.push(v());
    else if (a === "--threads") o.threads = v().split(/[ ,]+/).filter(Boolean).map(Number);
    else if (a === "--rounds") o.rounds = Number(v());
    else if (a === "--warmup") o.warmup = Number(v());
    else if (a === "--runs") o.runs = Number(v());
    else if (a === "--json-out") o.jsonOut = v();
    else if (a === "--int8") o.int8 = true;
    else { console.error(`compare: unknown option ${a}`); process.exit(2); }
  }
  if (!o.models.length) o.models = DEFAULT_MODELS.map((m) => join(o.modelsDir, m)).filter(existsSync);
  return o;
}

/// NAME=FILE pairs from the model's ONNX test_data_set_0 (MODEL.test_data_set_0/ or a
/// test_data_set_0/ beside it), or [] when there is none.
function testInputs(model) {
  for (const dir of [model.replace(/\.onnx$/, ".test_data_set_0"), join(dirname(model), "test_data_set_0")]) {
    if (!existsSync(dir)) continue;
    return readdirSync(dir).filter((f) => /^input_\d+\.pb$/.test(f)).sort()
      .map((f) => `${readTensorFile(join(dir, f)).name}=${join(dir, f)}`);
  }
  return [];
}

function runJson(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ") || `exit ${r.status}` };
  // One JSON document (pretty or not), or JSON as the last line after other output.
  const text = r.stdout.trim();
  for (const candidate of [text, text.split("\n").pop()]) {
    try { return JSON.parse(candidate); } catch { /* next */ }
  }
  return { error: `unparsable output: ${text.slice(-200)}` };
}

/// What the installed edgewise-cli can do: bench at all, and bench with --input files.
function probeCli(cli) {
  if (!existsSync(cli)) return { bench: false, why: `${cli} not found (build edgewise-cli)` };
  const h = spawnSync(cli, ["bench", "--help"], { encoding: "utf8" });
  if (h.status !== 0) return { bench: false, why: `${relative(process.cwd(), cli)} has no 'bench' subcommand yet` };
  return { bench: true, input: /--input\b/.test(h.stdout) };
}

function modelMacs(cli, model) {
  if (!existsSync(cli)) return null;
  const r = runJson(cli, ["inspect", model, "--json", "-q"]);
  return r.error ? null : { macs: r.macs, exact: r.macs_exact };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : null; };
const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));

function main() {
  const o = parseArgs(process.argv.slice(2));
  const fma = o.fmaJson ? JSON.parse(o.fmaJson) : null;
  const perCore = fma?.per_core_gflops ?? null;
  const cli = probeCli(o.cli);
  if (!cli.bench) console.error(`run-vs-ort: OURS NOT MEASURED: ${cli.why}; printing the ONNX Runtime column only.`);
  else if (!cli.input) console.error("run-vs-ort: edgewise-cli bench takes no --input; both runtimes get seeded random inputs (symbolic dims = 1), not the models' test data.");

  const rows = [];
  for (const model of o.models) {
    // Same inputs on both sides: the test data set when ours can take it (or is not measured).
    const files = cli.bench && !cli.input ? [] : testInputs(model);
    const ortArgs = [join(here, "run_ort.mjs"), model, "--warmup", String(o.warmup), "--runs", String(o.runs),
                     ...files.flatMap((f) => ["--input", f])];
    const ourArgs = ["bench", model, "--warmup", String(o.warmup), "--runs", String(o.runs), "--json",
                     ...(o.int8 ? ["--int8"] : []), ...files.flatMap((f) => ["--input", f])];
    const inspected = modelMacs(o.cli, model);
    for (const t of o.threads) {
      const ort = [], ours = [];
      for (let r = 0; r < o.rounds; ++r) {
        const doOrt = () => ort.push(runJson(process.execPath, [...ortArgs, "--threads", String(t)]));
        const doOurs = () => cli.bench && ours.push(runJson(o.cli, [...ourArgs, "--threads", String(t)]));
        if (r % 2 === 0) { doOrt(); doOurs(); } else { doOurs(); doOrt(); }
      }
      const ok = (xs) => xs.filter((x) => !x.error);
      const err = (xs) => xs.find((x) => x.error)?.error ?? null;
      const ortMs = median(ok(ort).map((x) => x.median_ms));
      const ourMs = median(ok(ours).map((x) => x.median_ms));
      // MACs: our profiler's per-node count for the shapes actually run, else the static
      // count from inspect when it is exact (all shapes known).
      const profiled = ok(ours).find((x) => Array.isArray(x.ops) && x.ops.length);
      const macs = profiled ? profiled.ops.reduce((s, op) => s + (op.macs ?? 0), 0)
                            : inspected?.exact ? inspected.macs : null;
      const gflops = (ms) => (macs && ms ? (2 * macs) / (ms * 1e6) : null);
      const row = {
        model: relative(o.modelsDir, model), threads: t, rounds: o.rounds, warmup: o.warmup, runs: o.runs, int8: o.int8,
        inputs: files.length ? "test_data_set_0" : "random",
        ours_ms: ourMs, ort_ms: ortMs, ratio: ourMs && ortMs ? ourMs / ortMs : null,
        macs, our_gflops: gflops(ourMs), ort_gflops: gflops(ortMs),
        peak_gflops: perCore ? perCore * t : null,
        percent_of_peak: gflops(ourMs) && perCore ? (100 * gflops(ourMs)) / (perCore * t) : null,
        ort_percent_of_peak: gflops(ortMs) && perCore ? (100 * gflops(ortMs)) / (perCore * t) : null,
        ort_min_ms: ok(ort).length ? Math.min(...ok(ort).map((x) => x.min_ms)) : null,
        ours_min_ms: ok(ours).length ? Math.min(...ok(ours).map((x) => x.min_ms)) : null,
        ort_error: ok(ort).length ? null : err(ort), ours_error: cli.bench ? (ok(ours).length ? null : err(ours)) : cli.why,
        ort_rounds: ort, ours_rounds: ours,
      };
      rows.push(row);
      console.error(`run-vs-ort: ${row.model} T=${t}: ours ${fmt(ourMs)} ms, ORT ${fmt(ortMs)} ms`);
    }
  }

  const head = ["model", "threads", "ours ms", "ORT ms", "ratio", "our GFLOP/s", "% of peak", "ORT GFLOP/s", "ORT % of peak"];
  const body = rows.map((r) => [r.model.replace(/^onnx\//, ""), String(r.threads), r.ours_error && !r.ours_ms ? "n/a" : fmt(r.ours_ms, 3),
    r.ort_error ? "error" : fmt(r.ort_ms, 3), fmt(r.ratio, 2), fmt(r.our_gflops, 1), fmt(r.percent_of_peak, 1),
    fmt(r.ort_gflops, 1), fmt(r.ort_percent_of_peak, 1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => "| " + cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  console.log(line(head));
  console.log("|" + widths.map((w, i) => (i < 1 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const b of body) console.log(line(b));
  for (const r of rows) {
    if (r.ort_error) console.log(`ORT error on ${r.model} T=${r.threads}: ${r.ort_error}`);
    if (r.ours_error && cli.bench) console.log(`our error on ${r.model} T=${r.threads}: ${r.ours_error}`);
  }
  if (!cli.bench) console.log(`ours: not measured (${cli.why})`);
  if (perCore) console.log(`FMA peak: ${fmt(perCore, 1)} GFLOP/s per core (FP32, AVX2 FMA, bench_fma_peak), ${fmt(fma.all_core_gflops, 1)} all ${fma.threads} cores`);

  const ortVersion = rows.flatMap((r) => r.ort_rounds).find((x) => x.ort_version)?.ort_version ?? null;
  const out = { date: new Date().toISOString(), cpu: fma?.cpu ?? null, fma_peak: fma, ort_version: ortVersion,
                ours_available: cli.bench, ours_note: cli.bench ? null : cli.why, rows };
  const text = JSON.stringify(out, null, 1);
  if (o.jsonOut) { writeFileSync(o.jsonOut, text + "\n"); console.log(`JSON: ${o.jsonOut}`); }
  else console.log(text);
}

main();
