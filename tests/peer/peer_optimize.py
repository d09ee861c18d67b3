#!/usr/bin/python3
"""Peer check of `edgewise-cli optimize`: the default pipeline's output is standard ONNX.

For every real model under MODELS/onnx (and the torchvision architectures there) this runs
`edgewise-cli optimize MODEL -o OUT --report R.json`, then checks
  - python3-onnx's onnx.checker accepts OUT (full check) whenever it accepts the original (the
    Debian module is onnx 1.12: files newer than it knows are reported, not failed);
  - ONNX Runtime (onnxruntime-node, installed by bench/setup-ort.sh) loads and runs OUT, and its
    outputs on the same seeded random inputs equal its outputs on the original (relative to each
    output's largest magnitude, tolerance 1e-4: ORT applies its own fusions to both);
  - the node count did not grow.
Exit codes: 0 all passed, 1 a failure, 77 skipped (no models, no onnx module, or no ORT).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--ort-run", required=True, help="tests/peer/ort_run.mjs")
    ap.add_argument("--ort-dir", default=None)
    ap.add_argument("--tolerance", type=float, default=1e-4)
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
    failures = []
    checked = ort_checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, m in enumerate(models):
            name = os.path.relpath(m, root)
            out = os.path.join(tmp, f"opt{k}.onnx")
            rep = os.path.join(tmp, f"opt{k}.json")
            p = subprocess.run([a.cli, "--quiet", "optimize", m, "-o", out, "--report", rep],
                               capture_output=True, text=True, timeout=900)
            if p.returncode != 0:
                failures.append(f"{name}: optimize exited {p.returncode}: {p.stderr.strip()[-400:]}")
                continue
            report = json.load(open(rep))
            if report["after"]["nodes"] > report["before"]["nodes"]:
                failures.append(f"{name}: node count grew {report['before']['nodes']} -> {report['after']['nodes']}")
            note = f"{report['before']['nodes']} -> {report['after']['nodes']} nodes"
            # onnx.checker on the original first: only a file it accepts is a fair test.
            try:
                onnx.checker.check_model(onnx.load(m), full_check=True)
                original_ok = True
            except Exception as e:  # noqa: BLE001 - any checker complaint
                original_ok = False
                note += f"; checker rejects the original too ({str(e).splitlines()[0][:80]})"
            if original_ok:
                try:
                    onnx.checker.check_model(onnx.load(out), full_check=True)
                    checked += 1
                except Exception as e:  # noqa: BLE001
                    failures.append(f"{name}: onnx.checker rejects the optimized model: {str(e)[:400]}")
            # ONNX Runtime on both.
            # The model's own test inputs where there are some (random data does not suit every
            # model: sample rates, sequence lengths), seeded random ones otherwise.
            data = None
            for cand in (m[:-len(".onnx")] + ".test_data_set_0", os.path.join(os.path.dirname(m), "test_data_set_0")):
                if os.path.isdir(cand):
                    data = cand
                    break
            outs = []
            for which, path in (("orig", m), ("opt", out)):
                d = os.path.join(tmp, f"{which}{k}")
                cmd = ["node", a.ort_run, path, "--output-dir", d, "--output-format", "npy", "--seed", "1"]
                if a.ort_dir:
                    cmd += ["--ort-dir", a.ort_dir]
                if data:
                    cmd += ["--input-dir", data]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                if r.returncode == SKIP:
                    print(f"[ew-skip] ONNX Runtime not installed (bash bench/setup-ort.sh): {r.stdout.strip()}")
                    return SKIP
                outs.append((r, d))
            (ro, do), (rp, dp) = outs
            if ro.returncode != 0:
                note += f"; ORT cannot run the original ({ro.stderr.strip()[-120:]})"
            elif rp.returncode != 0:
                failures.append(f"{name}: ONNX Runtime cannot run the optimized model: {rp.stderr.strip()[-400:]}")
            else:
                mo = json.load(open(os.path.join(do, "outputs.json")))
                mp = json.load(open(os.path.join(dp, "outputs.json")))
                if [x["name"] for x in mo] != [x["name"] for x in mp]:
                    failures.append(f"{name}: output names changed")
                    continue
                worst = 0.0
                for x, y in zip(mo, mp):
                    u = np.load(os.path.join(do, x["file"]))
                    v = np.load(os.path.join(dp, y["file"]))
                    if u.shape != v.shape or u.dtype != v.dtype:
                        failures.append(f"{name}: output {x['name']} changed shape/type")
                        continue
                    if u.dtype.kind in "fc":
                        scale = float(np.nanmax(np.abs(u))) if u.size else 0.0
                        diff = float(np.nanmax(np.abs(u.astype(np.float64) - v))) if u.size else 0.0
                        rel = diff / (scale if scale > 0 else 1.0)
                    else:
                        rel = 0.0 if np.array_equal(u, v) else float("inf")
                    worst = max(worst, rel)
                if worst > a.tolerance:
                    failures.append(f"{name}: ONNX Runtime outputs differ after optimize (relative {worst:.3g})")
                else:
                    ort_checked += 1
                note += f"; ORT outputs agree (relative {worst:.2g})"
            print(f"{name}: {note}", flush=True)
    for f in failures:
        print("FAIL " + f)
    print(f"{len(models)} models: {checked} pass onnx.checker, {ort_checked} agree in ONNX Runtime, "
          f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
