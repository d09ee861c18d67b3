#!/usr/bin/python3
"""Peer check of `edgewise-cli quantize`: our QDQ exports run in ONNX Runtime, which agrees with us.

For every float model under MODELS/onnx (files that already hold QuantizeLinear/DequantizeLinear,
QLinear*, *Integer or DynamicQuantizeLinear ops are not float models and are skipped) and each
scheme in --schemes (default int8, w8 and w4), this runs
  edgewise-cli quantize MODEL -o Q --calib DATA --scheme S --report R.json
where DATA is the model's test_data_set_0 folder when it has one, else random:4. Then both
`edgewise-cli run Q` and ONNX Runtime (tests/peer/ort_run.mjs) run Q on the same inputs (the
test set's, else the shared seeded random generator) and their outputs are compared.

The measure ("within one quantization step at the output"): ONNX Runtime runs Q at graph
optimization level basic (tests/peer/ort_run_qdq.mjs), where it computes QuantizeLinear /
DequantizeLinear as ONNX defines them, like our runtime; an output produced by a DequantizeLinear
with scale s must then agree within 2 steps, 90% of its elements within one (see
MIN_WITHIN_ONE_STEP); an output left in float must agree to 2% of its magnitude on all but 1%
of its elements. ORT at level all (its integer kernels, what users get by default) must run Q
too; its distance in steps is printed, not checked: with uint8 activations and int8 weights it
moves some models by many steps (digits-cnn 28, blazeface 245) while level basic agrees with us
to one step - most likely the int16 saturation of u8s8 kernels that ORT's quantization docs
address with reduce_range. A model the quantizer refuses with a clear message (an opset it
cannot raise) is listed, not failed; a crash or an unclear refusal fails.
w8 / w4 (weight-only: int8 / int4 weights in blocks, DequantizeLinear-21 with block_size, float
activations): both runtimes compute the same float weights, so every float output must agree to
float round-off, within WEIGHT_ONLY_REL of the output's magnitude.
Exit codes: 0 all passed, 1 a failure, 77 skipped (no models, no numpy/onnx, or no ORT).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77
# At level basic ORT and we compute the same QDQ arithmetic, but float sums in a different order:
# a value on a rounding boundary may land one step apart in one layer and move the output by one
# more step in the next (mnist: 1 of 10 logits 2 steps apart). Hence at most 2 steps, and at least
# 90% of the elements within one.
FLOAT_REL = 0.02       # float outputs: an element "differs" beyond 2% of the output's magnitude
FLOAT_MAX_FRACTION = 0.01  # ... and at most 1% of the elements may (steep float ops after QDQ,
                           # e.g. PaddleOCR's DB head, amplify a one-step difference)
MIN_WITHIN_ONE_STEP = 0.9
# Weight-only exports hold no activation quantization: only the order of float sums differs.
WEIGHT_ONLY_REL = 1e-4
WEIGHT_ONLY_SCHEMES = {"w8", "w4"}
MAX_STEPS = 2
NOT_FLOAT_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger",
                 "ConvInteger", "DynamicQuantizeLinear"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--ort-run", required=True, help="tests/peer/ort_run.mjs")
    ap.add_argument("--ort-run-qdq", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_run_qdq.mjs"))
    ap.add_argument("--ort-dir", default=None)
    ap.add_argument("--schemes", default="int8,w8,w4")
    a = ap.parse_args()
    root = os.path.join(a.models, "onnx")
    if not os.path.isdir(root):
        print(f"[ew-skip] models folder not found: {root}")
        return SKIP
    try:
        import numpy as np
        import onnx
        from onnx import numpy_helper
    except ImportError as e:
        print(f"[ew-skip] python3-onnx/numpy missing: {e}")
        return SKIP

    models = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".onnx"))
    failures, refused = [], []
    agreed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, m in enumerate(models):
            name = os.path.relpath(m, root)
            ops = {n.op_type for n in onnx.load(m, load_external_data=False).graph.node}
            if ops & NOT_FLOAT_OPS:
                print(f"{name}: not a float model ({', '.join(sorted(ops & NOT_FLOAT_OPS))}), skipped")
                continue
            data = None
            for cand in (m[:-len(".onnx")] + ".test_data_set_0", os.path.join(os.path.dirname(m), "test_data_set_0")):
                if os.path.isdir(cand):
                    data = cand
                    break
            for scheme in a.schemes.split(","):
                tag = f"{name} [{scheme}]"
                q = os.path.join(tmp, f"q{k}_{scheme}.onnx")
                rep = os.path.join(tmp, f"q{k}_{scheme}.json")
                p = subprocess.run([a.cli, "--quiet", "quantize", m, "-o", q, "--calib", data or "random:4",
                                    "--scheme", scheme, "--report", rep], capture_output=True, text=True, timeout=900)
                if p.returncode != 0:
                    msg = p.stderr.strip()
                    if p.returncode == 1 and "opset" in msg:
                        refused.append(f"{tag}: {msg[-300:]}")
                        print(f"{tag}: refused: {msg[-200:]}")
                    else:
                        failures.append(f"{tag}: quantize exited {p.returncode}: {msg[-400:]}")
                    continue
                report = json.load(open(rep))
                scales = {r["tensor"]: r["scale"] for r in report["ranges"]}
                # Ours.
                ours = os.path.join(tmp, f"ours{k}_{scheme}")
                cmd = [a.cli, "--quiet", "run", q, "--output-dir", ours, "--seed", "1"]
                if data:
                    for f in sorted(f for f in os.listdir(data) if f.startswith("input_")):
                        cmd += ["--input", os.path.join(data, f)]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                if r.returncode != 0:
                    failures.append(f"{tag}: our runtime cannot run the quantized model: {r.stderr.strip()[-400:]}")
                    continue
                # ONNX Runtime: as users run it (all optimizations: its integer kernels), which
                # must succeed, and at level basic (QDQ kept: ONNX semantics), which is compared.
                theirs_all = os.path.join(tmp, f"ortall{k}_{scheme}")
                cmd = ["node", a.ort_run, q, "--output-dir", theirs_all, "--output-format", "npy", "--seed", "1"]
                if a.ort_dir:
                    cmd += ["--ort-dir", a.ort_dir]
                if data:
                    cmd += ["--input-dir", data]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                if r.returncode == SKIP:
                    print(f"[ew-skip] ONNX Runtime not installed (bash bench/setup-ort.sh): {r.stdout.strip()}")
                    return SKIP
                if r.returncode != 0:
                    failures.append(f"{tag}: ONNX Runtime cannot run our quantized model: {r.stderr.strip()[-400:]}")
                    continue
                theirs = os.path.join(tmp, f"ort{k}_{scheme}")
                cmd = ["node", a.ort_run_qdq, q, "--output-dir", theirs, "--level", "basic", "--seed", "1"]
                if a.ort_dir:
                    cmd += ["--ort-dir", a.ort_dir]
                if data:
                    cmd += ["--input-dir", data]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                if r.returncode != 0:
                    failures.append(f"{tag}: ONNX Runtime (level basic) cannot run our model: {r.stderr.strip()[-400:]}")
                    continue
                manifest = json.load(open(os.path.join(theirs, "outputs.json")))
                notes, ok = [], True
                for out in manifest:
                    u = np.load(os.path.join(theirs, out["file"]))
                    v = np.load(os.path.join(ours, out["file"]))
                    if u.shape != v.shape or u.dtype != v.dtype:
                        failures.append(f"{tag}: output {out['name']}: ORT {u.dtype}{u.shape} vs ours {v.dtype}{v.shape}")
                        ok = False
                        continue
                    if u.dtype.kind not in "fc":
                        if not np.array_equal(u, v):
                            failures.append(f"{tag}: integer output {out['name']} differs")
                            ok = False
                        continue
                    diff = float(np.nanmax(np.abs(u.astype(np.float64) - v))) if u.size else 0.0
                    w = np.load(os.path.join(theirs_all, out["file"]))
                    diff_all = float(np.nanmax(np.abs(w.astype(np.float64) - v))) if w.size and w.shape == v.shape else float("nan")
                    if out["name"] in scales and diff_all > 0:
                        notes.append(f"(ORT integer kernels: max {diff_all / scales[out['name']]:.1f} steps)")
                    if scheme in WEIGHT_ONLY_SCHEMES:
                        mag = float(np.nanmax(np.abs(u))) if u.size else 0.0
                        mag = mag if mag > 0 else 1.0
                        rel = diff / mag
                        notes.append(f"{out['name']}: weight-only, max |ORT - ours| {rel:.2g} of its magnitude")
                        if not rel <= WEIGHT_ONLY_REL:
                            failures.append(f"{tag}: float output {out['name']} differs by {rel:.3g} of its "
                                            f"magnitude (weight-only: at most {WEIGHT_ONLY_REL:g})")
                            ok = False
                    elif out["name"] in scales:
                        step = scales[out["name"]]
                        steps = np.abs(u.astype(np.float64) - v) / step
                        within = float(np.mean(steps <= 1.0001)) if u.size else 1.0
                        notes.append(f"{out['name']}: max {diff / step:.2f} step(s), {within:.1%} within one")
                        if within < MIN_WITHIN_ONE_STEP or diff > step * MAX_STEPS + 1e-6:
                            failures.append(f"{tag}: output {out['name']} differs by {diff / step:.2f} steps "
                                            f"(step {step:.4g}), {within:.1%} of elements within one step")
                            ok = False
                    else:
                        mag = float(np.nanmax(np.abs(u))) if u.size else 0.0
                        mag = mag if mag > 0 else 1.0
                        rel = diff / mag
                        frac = float(np.mean(np.abs(u.astype(np.float64) - v) > FLOAT_REL * mag)) if u.size else 0.0
                        notes.append(f"{out['name']}: float, max relative {rel:.2g}, {frac:.2%} beyond {FLOAT_REL:.0%}")
                        if frac > FLOAT_MAX_FRACTION:
                            failures.append(f"{tag}: float output {out['name']}: {frac:.2%} of elements differ by "
                                            f"more than {FLOAT_REL:.0%} of its magnitude (max {rel:.3g})")
                            ok = False
                agreed += ok
                print(f"{tag}: {len(report['quantized_nodes'])} nodes quantized, sqnr {report['sqnr_db']} dB; "
                      f"ORT vs ours: {'; '.join(notes)}", flush=True)
    for f in failures:
        print("FAIL " + f)
    print(f"{agreed} quantized model(s) agree between ONNX Runtime and Edgewise, {len(refused)} refused, "
          f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
