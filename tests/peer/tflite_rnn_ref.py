#!/usr/bin/env python3
"""Independent numpy reference for TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF, checked against
edgewise-cli run.

For each model: flatc --json decodes the .tflite with our schema; every LSTM/SVDF operator's input
and output become extra subgraph outputs (nameless tensors get names), optionally the variable
state tensors get seeded random initial buffers (TFLite initialises a variable tensor from its
buffer), and flatc -b writes the model back. edgewise-cli runs it on seeded random inputs; this
script recomputes each recurrent operator from the input tensor the runtime actually fed it,
step by step as TFLite documents it, and compares with the runtime's output of that operator:
float within 1e-5 relative (+1e-6 absolute), integer within 1 LSB (and it reports how many differ).

Semantics (written from TFLite's lstm_eval.cc / tflite-micro's lstm_eval.h and svdf_common.cc):
  LSTM float: i = sigmoid(Wi x + Ri h + bi), f = sigmoid(Wf x + Rf h + bf), g = act(Wc x + Rc h + bc),
    c = clip(f*c + i*g, cell_clip), o = sigmoid(Wo x + Ro h + bo), h = o * act(c); per batch entry,
    over time (time_major picks the axis order).
  LSTM int8x8->16 (tflite-micro): each gate = sat16(rq(Wx.(x-zx) + b, sx*sw/2^-12) + rq(R.(h-zh), sh*sr/2^-12)),
    sigmoid/tanh through the 256-entry LUT (Q3.12 -> Q0.15), c = sat16(rq(f*c, 2^-15) + rq(i*g, 2^-30/sc)),
    clipped to cell_clip/sc, h = clamp8(zh + rq(tanh(c)*o, 2^-30/sh)).
  SVDF: state shifted left by one, the newest slot of each filter = weights_feature . x (integer:
    rq(., sx*swf/ss) + zs, clamped to the state type), per filter sum over memory of
    weights_time * state, rank-reduced, + bias, activation (integer: rq(., ss*swt/sy) + zy, clamp to int8).
rq = TFLite's MultiplyByQuantizedMultiplier (QuantizeMultiplier + SaturatingRoundingDoublingHighMul +
RoundingDivideByPOT), written here from its documented definition with Python integers.

Usage: tflite_rnn_ref.py --cli BIN/edgewise-cli --schema core/ir/tflite/tflite_schema.fbs MODEL...
Exit 0 = all agree, 1 = mismatch or failure, 77 = skipped (flatc or numpy missing).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("[ew-skip] numpy is not installed")
    sys.exit(77)

F32 = np.float32

# ------------------------------------------------------------------------------------------------
# TFLite fixed point, from its definitions.


def quantize_multiplier(d):
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    fixed = int(round_half_away(q * (1 << 31)))
    if fixed == (1 << 31):
        fixed //= 2
        shift += 1
    if shift < -31:
        shift, fixed = 0, 0
    return fixed, shift


def round_half_away(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def srdhm(a, b):
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else (1 - (1 << 30))
    v = ab + nudge
    # C++ integer division truncates toward zero.
    q = abs(v) // (1 << 31)
    return q if v >= 0 else -q


def rdbpot(x, e):
    mask = (1 << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if remainder > threshold else 0)


def wrap32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= (1 << 31) else v


def mbqm(x, qm):
    m, shift = qm
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rdbpot(srdhm(wrap32(x << left), m), right)


def f32(v):
    return float(F32(v))


def _build_sigmoid_lut():
    """sigmoid(i / 24), i = 0..255, in 0.16 fixed point, as TFLite's int16 Logistic/Tanh use it:
    each sample lowered by half the linear-interpolation error at the middle of its interval,
    rounded to nearest; the last entry is the saturated 65535."""
    s = lambda i: 65536.0 / (1.0 + math.exp(-i / 24.0))
    t = []
    for i in range(255):
        v = s(i)
        t.append(min(65535, int(round(v - ((v + s(i + 1)) / 2 - s(i + 0.5)) / 2))))
    t.append(65535)
    return t


SIGMOID_TABLE = _build_sigmoid_lut()
# Published entries (where plain rounding of the sample would be one off, and the ends).
for _i, _v in {0: 32768, 4: 35493, 8: 38180, 12: 40794, 25: 48443, 128: 65221, 254: 65534, 255: 65535}.items():
    assert SIGMOID_TABLE[_i] == _v, f"sigmoid table entry {_i}: {SIGMOID_TABLE[_i]} != {_v}"


def sigmoid_lut():
    return SIGMOID_TABLE


def sigmoid16(x):
    t = sigmoid_lut()
    v = x * 3
    a = abs(v)
    uh = a >> 9
    if uh >= 255:
        r = 0x7FFF << 10
    else:
        r = (t[uh] << 9) + (a & 0x1FF) * (t[uh + 1] - t[uh])
    r = r + (1 << 9) if v >= 0 else (1 << 25) - r + (1 << 9) - 1
    return r >> 10


def tanh16(x, power):
    t = sigmoid_lut()
    shift, mult = 15 + power - 3, 0
    if shift < 0:
        shift, mult = -shift, 3
    if mult == 0:
        mult, shift = 3 << shift, 0
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    v = (x * mult + rnd) >> shift
    a = abs(v)
    uh = a >> 8
    if uh >= 255:
        r = 0xFFFF << 8
    else:
        r = (t[uh] << 8) + (a & 0xFF) * (t[uh + 1] - t[uh])
    r = r - (1 << 23) + (1 << 7) if v >= 0 else -r + (1 << 23) + (1 << 7) - 1
    r >>= 8
    return r - 65536 if r >= 32768 else r


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


# ------------------------------------------------------------------------------------------------
# Model access.

DT = {"FLOAT32": np.float32, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "UINT8": np.uint8, "INT64": np.int64}


class Model:
    def __init__(self, js):
        self.js = js
        self.sg = js["subgraphs"][0]
        self.T = self.sg["tensors"]

    def ttype(self, i):
        return self.T[i].get("type", "FLOAT32")

    def quant(self, i):
        q = self.T[i].get("quantization", {})
        s = q.get("scale", [])
        if len(s) != 1:
            return None
        return F32(s[0]), int(q.get("zero_point", [0])[0])

    def const(self, i):
        if i < 0:
            return None
        t = self.T[i]
        data = self.js["buffers"][t.get("buffer", 0)].get("data")
        if not data:
            return None
        return np.frombuffer(bytes(data), dtype=DT[self.ttype(i)]).reshape(t.get("shape", []))

    def opname(self, op):
        return self.js["operator_codes"][op.get("opcode_index", 0)].get("builtin_code")


ACT = {
    "NONE": lambda v: v,
    "RELU": lambda v: np.maximum(v, F32(0)),
    "RELU6": lambda v: np.clip(v, F32(0), F32(6)),
    "RELU_N1_TO_1": lambda v: np.clip(v, F32(-1), F32(1)),
    "TANH": lambda v: np.tanh(v).astype(F32),
}


def sigmoid(v):
    return (F32(1) / (F32(1) + np.exp(-v))).astype(F32)


def lstm_float(m, op, x, h0, c0):
    o = op.get("builtin_options", {})
    act = ACT[o.get("fused_activation_function", "NONE")]
    clip = F32(o.get("cell_clip", 0.0))
    tm = o.get("time_major", False)
    ins = op["inputs"] + [-1] * (24 - len(op["inputs"]))
    W = [m.const(ins[k]) for k in range(24)]
    for k in (9, 10, 11, 16, 17, 20, 21, 22, 23):
        if W[k] is not None:
            raise SystemExit("reference: peepholes/projection/layer norm are not in the reference (tensor %d)" % k)
    cifg = W[1] is None
    if not tm:
        x = x.transpose(1, 0, 2)  # [T, B, I]
    T, B, _ = x.shape
    h = h0.reshape(B, -1).astype(F32).copy()
    c = c0.reshape(B, -1).astype(F32).copy()
    ys = []
    for t in range(T):
        xt = x[t].astype(F32)

        def gate(k, fn):
            return fn(W[12 + k] + xt @ W[1 + k].T + h @ W[5 + k].T)

        f = gate(1, sigmoid)
        i = (F32(1) - f) if cifg else gate(0, sigmoid)
        g = gate(2, act)
        c = (f * c + i * g).astype(F32)
        if clip > 0:
            c = np.clip(c, -clip, clip)
        og = gate(3, sigmoid)
        h = (og * act(c)).astype(F32)
        ys.append(h)
    y = np.stack(ys)
    return y if tm else y.transpose(1, 0, 2)


def lstm_int(m, op, x, h0, c0):
    o = op.get("builtin_options", {})
    if o.get("fused_activation_function") != "TANH":
        raise SystemExit("reference: integer LSTM needs TANH")
    tm = o.get("time_major", False)
    ins = op["inputs"] + [-1] * (24 - len(op["inputs"]))
    W = [m.const(ins[k]) for k in range(24)]
    sx, zx = m.quant(ins[0])
    sh, zh = m.quant(ins[18])
    sc, _ = m.quant(ins[19])
    power = round(math.log2(float(sc)))
    clipq = int(clamp(float(o.get("cell_clip", 0.0)) / float(sc), -32768, 32767)) if o.get("cell_clip", 0.0) > 0 else 0
    gs = F32(2.0 ** -12)
    gin, grec = [], []
    for k in range(4):
        gin.append((quantize_multiplier(float(F32(sx * m.quant(ins[1 + k])[0])) / float(gs)), m.quant(ins[1 + k])[1]))
        grec.append((quantize_multiplier(float(F32(sh * m.quant(ins[5 + k])[0])) / float(gs)), m.quant(ins[5 + k])[1]))
    q15 = 2.0 ** -15
    mf = quantize_multiplier(q15 * float(sc) / float(sc))
    mi = quantize_multiplier(q15 * q15 / float(sc))
    mo = quantize_multiplier(q15 * q15 / float(sh))
    if not tm:
        x = x.transpose(1, 0, 2)
    T, B, I = x.shape
    C = W[2].shape[0]
    y = np.zeros((T, B, C), np.int8)
    for b in range(B):
        h = [int(v) for v in h0.reshape(B, -1)[b]]
        c = [int(v) for v in c0.reshape(B, -1)[b]]
        for t in range(T):
            xt = [int(v) for v in x[t, b]]

            def gate(k, fn):
                (mw, zw), (mr, zr) = gin[k], grec[k]
                Wk, Rk, bk = W[1 + k].astype(np.int64), W[5 + k].astype(np.int64), W[12 + k]
                out = []
                for r in range(C):
                    acc = int(((Wk[r] - zw) * (np.array(xt) - zx)).sum()) + int(bk[r])
                    a = clamp(mbqm(acc, mw), -32768, 32767)
                    racc = int(((Rk[r] - zr) * (np.array(h) - zh)).sum())
                    bb = clamp(mbqm(racc, mr), -32768, 32767)
                    out.append(fn(clamp(a + bb, -32768, 32767)))
                return out

            f = gate(1, sigmoid16)
            i = gate(0, sigmoid16)
            g = gate(2, lambda v: tanh16(v, -12))
            for r in range(C):
                v = clamp(clamp(mbqm(f[r] * c[r], mf), -32768, 32767) + clamp(mbqm(i[r] * g[r], mi), -32768, 32767), -32768, 32767)
                if clipq:
                    v = clamp(v, -clipq, clipq)
                c[r] = v
            og = gate(3, sigmoid16)
            h = [clamp(zh + mbqm(tanh16(c[r], power) * og[r], mo), -128, 127) for r in range(C)]
            y[t, b] = h
    return y if tm else y.transpose(1, 0, 2)


def svdf(m, op, x, s0, out_idx):
    o = op.get("builtin_options", {})
    rank = o.get("rank", 0)
    ins = op["inputs"]
    wf, wt = m.const(ins[1]), m.const(ins[2])
    bias = m.const(ins[3]) if len(ins) > 3 and ins[3] >= 0 else None
    F, M = wt.shape
    B = x.shape[0]
    U = F // rank
    state = s0.reshape(B, F, M).copy()
    flat = state.reshape(-1)
    flat[:-1] = flat[1:].copy()  # the whole buffer shifts left by one
    state = flat.reshape(B, F, M)
    if m.ttype(ins[0]) == "FLOAT32":
        state[:, :, M - 1] = x.astype(F32) @ wf.T
        sc = (state * wt[None]).sum(axis=2, dtype=F32)
        out = sc.reshape(B, U, rank).sum(axis=2, dtype=F32) + (bias if bias is not None else F32(0))
        return ACT[o.get("fused_activation_function", "NONE")](out.astype(F32))
    sx, zx = m.quant(ins[0])
    swf, _ = m.quant(ins[1])
    swt, _ = m.quant(ins[2])
    ss, zs = m.quant(ins[4])
    sy, zy = m.quant(out_idx)
    m1 = quantize_multiplier(float(F32(F32(sx * swf) / ss)))
    m2 = quantize_multiplier(float(F32(F32(ss * swt) / sy)))
    info = np.iinfo(state.dtype)
    st = state.astype(np.int64)
    for b in range(B):
        for f in range(F):
            d = int((wf[f].astype(np.int64) * (x[b].astype(np.int64) - zx)).sum())
            st[b, f, M - 1] = clamp(mbqm(d, m1) + zs, int(info.min), int(info.max))
    y = np.zeros((B, U), np.int8)
    for b in range(B):
        sc = [int((wt[f].astype(np.int64) * (st[b, f] - zs)).sum()) for f in range(F)]
        for u in range(U):
            acc = (int(bias[u]) if bias is not None else 0) + sum(sc[u * rank + r] for r in range(rank))
            y[b, u] = clamp(mbqm(acc, m2) + zy, -128, 127)
    return y


# ------------------------------------------------------------------------------------------------


def safe(name):
    return name.replace("/", "_").replace("\\", "_")


def random_of(rng, dtype, shape):
    if dtype == "FLOAT32":
        return rng.uniform(-1, 1, shape).astype(F32)
    info = np.iinfo(DT[dtype])
    return rng.integers(int(info.min), int(info.max) + 1, shape).astype(DT[dtype])


def check_model(args, path, random_state, seed, tmp):
    base = os.path.splitext(os.path.basename(path))[0] + ("_state" if random_state else "")
    subprocess.run([args.flatc, "--json", "--strict-json", "--raw-binary", "-o", tmp, args.schema, "--", path], check=True)
    js = json.load(open(os.path.join(tmp, os.path.splitext(os.path.basename(path))[0] + ".json")))
    m = Model(js)
    rng = np.random.default_rng(seed)
    for k, t in enumerate(m.T):
        if not t.get("name"):
            t["name"] = "t%d" % k
    ops = [op for op in m.sg["operators"] if m.opname(op) in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF")]
    if not ops:
        print("%s: no LSTM/SVDF operators" % base)
        return False
    state_vals = {}
    for op in ops:
        states = [op["inputs"][18], op["inputs"][19]] if m.opname(op) != "SVDF" else [op["inputs"][4]]
        for s in states:
            t = m.T[s]
            if random_state:
                v = random_of(rng, m.ttype(s), t["shape"])
                if m.ttype(s) == "FLOAT32":
                    v = (v * F32(0.5)).astype(F32)
                js["buffers"].append({"data": list(v.tobytes())})
                t["buffer"] = len(js["buffers"]) - 1
            else:
                v = m.const(s)
                if v is None:
                    v = np.zeros(t["shape"], DT[m.ttype(s)])
            state_vals[s] = v
    # Each operator's input (unless it is a graph input: the fed array is used) and output.
    extra = []
    for op in ops:
        extra += [k for k in (op["inputs"][0], op["outputs"][0]) if k not in m.sg["inputs"]]
    m.sg["outputs"] = list(dict.fromkeys(m.sg["outputs"] + extra))
    mj = os.path.join(tmp, base + ".json")
    json.dump(js, open(mj, "w"))
    subprocess.run([args.flatc, "-b", "-o", tmp, args.schema, mj], check=True)
    model_path = os.path.join(tmp, base + ".tflite")
    cmd = [args.cli, "run", model_path, "--output-dir", os.path.join(tmp, base + "_out"), "--threads", "1"]
    fed = {}
    for i in m.sg["inputs"]:
        v = random_of(rng, m.ttype(i), m.T[i]["shape"])
        fed[i] = v
        f = os.path.join(tmp, "%s_in%d.npy" % (base, i))
        np.save(f, v)
        cmd += ["--input", "%s=%s" % (m.T[i]["name"], f)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("%s: edgewise-cli run failed (%d):\n%s" % (base, r.returncode, r.stderr))
        return False
    outs = dict(fed)
    for k in extra:
        f = os.path.join(tmp, base + "_out", safe(m.T[k]["name"]) + ".npy")
        if not os.path.exists(f):
            print("%s: the runtime wrote no %s (it wrote %s)" % (base, f, sorted(os.listdir(os.path.dirname(f)))))
            return False
        outs[k] = np.load(f)
    ok = True
    for n, op in enumerate(ops):
        x = outs[op["inputs"][0]]
        got = outs[op["outputs"][0]]
        if m.opname(op) == "SVDF":
            want = svdf(m, op, x, state_vals[op["inputs"][4]], op["outputs"][0])
        elif m.ttype(op["inputs"][0]) == "FLOAT32":
            want = lstm_float(m, op, x, state_vals[op["inputs"][18]], state_vals[op["inputs"][19]])
        else:
            want = lstm_int(m, op, x, state_vals[op["inputs"][18]], state_vals[op["inputs"][19]])
        label = "%s op %d %s" % (base, n, m.opname(op))
        if got.shape != want.shape:
            print("%s: shape %s, reference %s" % (label, got.shape, want.shape))
            ok = False
            continue
        if want.dtype == F32:
            err = np.abs(got.astype(np.float64) - want) / (np.abs(want) + 1e-6 / 1e-5)
            worst = float(np.max(np.abs(got.astype(np.float64) - want) - 1e-5 * np.abs(want)))
            good = bool(np.all(np.abs(got.astype(np.float64) - want) <= 1e-5 * np.abs(want) + 1e-6))
            print("%s: float, %d values, max abs diff %.3g, max rel %.3g -> %s" % (
                label, want.size, float(np.max(np.abs(got - want))), float(np.max(err)), "ok" if good else "MISMATCH"))
        else:
            d = np.abs(got.astype(np.int64) - want.astype(np.int64))
            good = bool(d.max() <= 1)
            print("%s: %s, %d values, %d differ (max %d LSB), output range [%d, %d] -> %s" % (
                label, want.dtype, want.size, int((d > 0).sum()), int(d.max()), int(want.min()), int(want.max()),
                "ok" if good else "MISMATCH"))
        ok &= good
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--flatc", default=shutil.which("flatc") or "")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    if not args.flatc:
        print("[ew-skip] flatc not found")
        sys.exit(77)
    models = [p for p in args.models if os.path.exists(p)]
    if not models:
        print("[ew-skip] none of the models exist")
        sys.exit(77)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for p in models:
            for rs in (False, True):
                ok &= check_model(args, p, rs, args.seed, tmp)
    print("all agree" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
