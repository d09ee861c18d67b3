#!/usr/bin/python3
"""Peer check of the TFLite export against the real TensorFlow Lite interpreter.

The interpreter is TFLite's C++ runtime compiled to WebAssembly (npm @tensorflow/tfjs-tflite,
installed by bench/setup-tflite-peer.sh, driven by tests/peer/tflite_run.mjs).

1. Sanity of the peer: every published .tflite under MODELS/tflite with a test_data_set_0 runs in
   it and matches the set's reference outputs (made with Arm NN: float relative 1e-3 of the
   largest magnitude, integer outputs within 1); the others are only tried (accepted/rejected is
   printed, not judged: they are not ours).
2. Our exports: the float ONNX models are converted with `edgewise-cli convert` (dynamic inputs
   pinned with --input-shape), and int8 models made by `edgewise-cli quantize --calib random:8`
   are converted to full-integer TFLite. Each .tflite must load in TFLite, and TFLite's outputs
   must equal those of `edgewise-cli run` on the same file and the same inputs (the ONNX model's
   test_data_set_0 where its shapes fit, else seeded random data): float within 1e-4 of the
   output's largest magnitude, int8 within one LSB of the quantized output (the scale of the
   tensor behind the final DEQUANTIZE, read with flatc).
   silero-vad's int64 input `sr` cannot be fed through the TFLite Web API (it only addresses
   8/16/32-bit and float tensors), so the model is also converted with `sr` made a constant
   (16000, its test value; needs python3-onnx) and that file is compared; the plain export is
   still loaded by TFLite.
Exit codes: 0 all passed, 1 a failure, 77 skipped (no models, no node, or the peer not installed).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


class Skip(Exception):
    pass


def out_file(name):
    """File name `edgewise-cli run --output-dir` and tflite_run.mjs give an output."""
    safe = name.replace("/", "_").replace("\\", "_")
    return ("_" + safe if safe in ("", ".", "..") else safe) + ".npy"


def load_pb(path):
    from onnx import TensorProto, numpy_helper
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--tflite-run", required=True, help="tests/peer/tflite_run.mjs")
    ap.add_argument("--tflite-dir", default=None)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.models, "onnx")) or not os.path.isdir(os.path.join(a.models, "tflite")):
        print(f"[ew-skip] models folder not found: {a.models}")
        return SKIP
    if not shutil.which("node"):
        print("[ew-skip] node not found")
        return SKIP
    try:
        import numpy as np
    except ImportError as e:
        print(f"[ew-skip] numpy missing: {e}")
        return SKIP
    try:
        import onnx  # noqa: F401 - reading .pb test sets, the silero variant
        have_onnx = True
    except ImportError:
        have_onnx = False
    flatc = shutil.which("flatc")
    schema = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "core", "ir", "tflite", "tflite_schema.fbs")

    failures, notes = [], []
    counts = {"published": 0, "ours": 0, "int8": 0}
    tmp = tempfile.mkdtemp(prefix="peer_tflite_")

    def peer(model, outdir, inputs=None, input_dir=None):
        cmd = ["node", a.tflite_run, model, "--output-dir", outdir, "--output-format", "npy"]
        if a.tflite_dir:
            cmd += ["--tflite-dir", a.tflite_dir]
        for k, v in (inputs or {}).items():
            cmd += ["--input", f"{k}={v}"]
        if input_dir:
            cmd += ["--input-dir", input_dir]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if r.returncode == SKIP:
            raise Skip(r.stdout.strip())
        return r

    def outputs(d):
        return [(x["name"], np.load(os.path.join(d, x["file"]))) for x in json.load(open(os.path.join(d, "outputs.json")))]

    def diff(u, v, lsb=None):
        """Largest difference: in LSBs when `lsb` is given (or for integer data), else relative
        to the largest magnitude of the reference `v`."""
        if u.shape != v.shape and u.size == v.size:
            u = u.reshape(v.shape)  # [1,N] vs [N]: the same buffer
        if u.shape != v.shape:
            return float("inf")
        if u.size == 0:
            return 0.0
        d = float(np.nanmax(np.abs(u.astype(np.float64) - v.astype(np.float64))))
        if np.isnan(u.astype(np.float64)).any() != np.isnan(v.astype(np.float64)).any():
            return float("inf")
        if lsb:
            return d / lsb
        if v.dtype.kind in "iub":
            return d
        scale = float(np.nanmax(np.abs(v)))
        return d / (scale if scale > 0 else 1.0)

    try:
        # ---- 1. the peer on published files
        root = os.path.join(a.models, "tflite")
        for k, m in enumerate(sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".tflite"))):
            name = os.path.relpath(m, root)
            ref_dir = m[:-len(".tflite")] + ".test_data_set_0"
            has_ref = os.path.isdir(ref_dir) and have_onnx
            out = os.path.join(tmp, f"pub{k}")
            r = peer(m, out, input_dir=ref_dir if has_ref else None)
            if r.returncode != 0:
                msg = (r.stderr.strip().splitlines() or ["?"])[-1][:200]
                if has_ref:
                    failures.append(f"published {name}: TFLite rejects it: {msg}")
                else:
                    print(f"published {name}: TFLite rejects it (no reference set; not ours): {msg}", flush=True)
                continue
            if not has_ref:
                print(f"published {name}: TFLite accepts it (no reference set)", flush=True)
                continue
            got = outputs(out)
            refs = sorted(f for f in os.listdir(ref_dir) if f.startswith("output_") and f.endswith(".pb"))
            worst = 0.0
            for i, f in enumerate(refs):
                rn, rv = load_pb(os.path.join(ref_dir, f))
                match = [v for n, v in got if n == rn] or ([got[i][1]] if i < len(got) else [])
                if not match:
                    failures.append(f"published {name}: TFLite has no output for {f} ({rn})")
                    continue
                worst = max(worst, diff(match[0], rv))
            integer = all(v.dtype.kind in "iu" for _, v in got)
            ok = worst <= (1.0 if integer else 1e-3)
            counts["published"] += ok
            if not ok:
                failures.append(f"published {name}: TFLite differs from the reference set ({'LSB' if integer else 'relative'} {worst:.3g})")
            print(f"published {name}: TFLite matches its reference set ({'max LSB' if integer else 'relative'} {worst:.2g})", flush=True)

        # ---- 2. our exports
        onnx_root = os.path.join(a.models, "onnx")
        cases = [  # (label, onnx path, --input-shape list, quantize args or None)
            ("resnet18", "torchvision-arch/resnet18.onnx", [], None),
            ("mobilenet_v2", "torchvision-arch/mobilenet_v2.onnx", [], None),
            ("digits_cnn", "digits-cnn/digits_cnn.onnx", [], None),
            ("alexa_v0.1", "openwakeword/alexa_v0.1.onnx", [], None),
            ("hey_jarvis_v0.1", "openwakeword/hey_jarvis_v0.1.onnx", [], None),
            ("embedding_model", "openwakeword/embedding_model.onnx", [], None),
            ("melspectrogram", "openwakeword/melspectrogram.onnx", ["input=1,17280"], None),
            ("ppocr_cls", "paddleocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", ["x=1,3,48,192"], None),
            ("silero_vad", "silero-vad/silero_vad_16k_op15.onnx", ["input=1,512", "state=2,1,128"], None),
            ("digits_cnn int8 (uint8 activations)", "digits-cnn/digits_cnn.onnx", [], []),
            ("digits_cnn int8 (int8 activations)", "digits-cnn/digits_cnn.onnx", [], ["--activations", "int8"]),
            ("mobilenet_v2 int8", "torchvision-arch/mobilenet_v2.onnx", [], []),
        ]
        test_sets = {}
        if have_onnx:
            # silero-vad with `sr` a constant: everything but the int64 input, which the peer cannot feed.
            src = os.path.join(onnx_root, "silero-vad/silero_vad_16k_op15.onnx")
            model = onnx.load(src)
            sr = [i for i in model.graph.input if i.name == "sr"]
            if sr:
                model.graph.input.remove(sr[0])
                model.graph.initializer.append(onnx.numpy_helper.from_array(np.array(16000, dtype=np.int64), "sr"))
                variant = os.path.join(tmp, "silero_vad_sr16000.onnx")
                onnx.save(model, variant)
                cases.insert(9, ("silero_vad (sr=16000 constant)", variant, ["input=1,512", "state=2,1,128"], None))
                test_sets[variant] = src[:-len(".onnx")] + ".test_data_set_0"
        rng = np.random.default_rng(1)
        for k, (label, rel, shapes, qargs) in enumerate(cases):
            src = rel if os.path.isabs(rel) else os.path.join(onnx_root, rel)
            work = os.path.join(tmp, f"case{k}")
            os.makedirs(work)
            onnx_in = src
            if qargs is not None:
                onnx_in = os.path.join(work, "q.onnx")
                p = subprocess.run([a.cli, "--quiet", "quantize", src, "-o", onnx_in, "--calib", "random:8", *qargs],
                                   capture_output=True, text=True, timeout=900)
                if p.returncode != 0:
                    failures.append(f"{label}: quantize exited {p.returncode}: {p.stderr.strip()[-300:]}")
                    continue
            tfl = os.path.join(work, "m.tflite")
            cmd = [a.cli, "--quiet", "convert", onnx_in, "-o", tfl]
            for s in shapes:
                cmd += ["--input-shape", s]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if p.returncode != 0:
                failures.append(f"{label}: convert exited {p.returncode}: {p.stderr.strip()[-300:]}")
                continue
            # Inputs: the ONNX model's test set where the shapes fit, else seeded random data.
            info = json.loads(subprocess.run([a.cli, "--quiet", "inspect", tfl, "--json"], capture_output=True,
                                             text=True, timeout=300, check=True).stdout)
            test_set = test_sets.get(src, src[:-len(".onnx")] + ".test_data_set_0")
            given = {}
            if have_onnx and os.path.isdir(test_set):
                for f in sorted(os.listdir(test_set)):
                    if f.startswith("input_") and f.endswith(".pb"):
                        n, v = load_pb(os.path.join(test_set, f))
                        given[n] = v
            feeds, source = {}, "random"
            for inp in info["inputs"]:
                nm, dims = inp["name"], [d if isinstance(d, int) and d >= 0 else 1 for d in inp["shape"]]
                v = given.get(nm)
                if v is not None and list(v.shape) == dims:
                    source = "test set"
                elif inp["dtype"] in ("float32", "float"):
                    v = rng.uniform(-1, 1, dims).astype(np.float32)
                elif inp["dtype"] == "int64":
                    v = np.zeros(dims, dtype=np.int64) + (16000 if nm == "sr" else 0)
                else:
                    failures.append(f"{label}: no input generator for {nm} ({inp['dtype']})")
                    v = None
                if v is not None:
                    f = os.path.join(work, f"in{len(feeds)}.npy")
                    np.save(f, v)
                    feeds[nm] = f
            pout, oout = os.path.join(work, "tflite"), os.path.join(work, "ours")
            r = peer(tfl, pout, inputs=feeds)
            if r.returncode == 4:
                notes.append(f"{label}: TFLite loads it but the Web API cannot feed an int64 input it reads "
                             f"({r.stderr.strip().splitlines()[-1][:160]}); compared through the sr-constant variant")
                print(f"{label}: accepted by TFLite; not run (int64 input)", flush=True)
                continue
            if r.returncode != 0:
                failures.append(f"{label}: TFLite rejects our export: {r.stderr.strip()[-500:]}")
                continue
            cmd = [a.cli, "--quiet", "run", tfl, "--output-dir", oout, "--threads", "1"]
            for n, f in feeds.items():
                cmd += ["--input", f"{n}={f}"]
            o = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if o.returncode != 0:
                failures.append(f"{label}: edgewise-cli run failed: {o.stderr.strip()[-300:]}")
                continue
            lsb = {}
            if qargs is not None:
                if not flatc:
                    notes.append(f"{label}: flatc not found, int8 outputs compared at float tolerance 1e-2")
                else:
                    subprocess.run([flatc, "--json", "--strict-json", "--raw-binary", "-o", work, schema, "--", tfl],
                                   capture_output=True, check=True, timeout=300)
                    fj = json.load(open(os.path.join(work, "m.json")))
                    sg = fj["subgraphs"][0]
                    for t in sg["outputs"]:
                        for op in sg["operators"]:
                            if t in op.get("outputs", []):
                                code = fj["operator_codes"][op.get("opcode_index", 0)]
                                if code.get("builtin_code") == "DEQUANTIZE" or code.get("deprecated_builtin_code") == 6:
                                    q = sg["tensors"][op["inputs"][0]].get("quantization", {})
                                    if q.get("scale"):
                                        lsb[sg["tensors"][t]["name"]] = float(q["scale"][0])
            # ratio: the largest difference as a fraction of its limit (1 LSB, or the float tolerance).
            ratio, shown = 0.0, []
            for n, v in outputs(pout):
                f = os.path.join(oout, out_file(n))
                if not os.path.isfile(f):
                    failures.append(f"{label}: our runtime wrote no output {n}")
                    continue
                u = np.load(f)
                if qargs is not None and n in lsb:
                    d = diff(u, v, lsb[n])
                    ratio, _ = max(ratio, d / (1.0 + 1e-6)), shown.append(f"{n} {d:.2g} LSB")
                else:
                    limit = a.tolerance if qargs is None else 1e-2
                    if qargs is not None:
                        notes.append(f"{label}: output {n} has no readable LSB; compared at relative 1e-2")
                    d = diff(u, v)
                    ratio, _ = max(ratio, d / limit), shown.append(f"{n} relative {d:.2g}")
            ok = ratio <= 1.0 and len(shown) > 0
            counts["int8" if qargs is not None else "ours"] += ok
            if not ok:
                failures.append(f"{label}: TFLite and edgewise-cli run disagree ({', '.join(shown)})")
            print(f"{label}: TFLite runs our export; {'outputs agree' if ok else 'OUTPUTS DIFFER'} ({', '.join(shown)}; inputs: {source})", flush=True)
    except Skip as e:
        print(f"[ew-skip] TFLite peer not installed (bash bench/setup-tflite-peer.sh): {e}")
        return SKIP
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for n in notes:
        print("NOTE " + n)
    for f in failures:
        print("FAIL " + f)
    print(f"TFLite peer: {counts['published']} published files match their reference sets, {counts['ours']} float and "
          f"{counts['int8']} int8 exports agree with edgewise-cli run, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
