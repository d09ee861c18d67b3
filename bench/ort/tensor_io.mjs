// Tensor files for the ONNX Runtime peer scripts: ONNX TensorProto (.pb) and NumPy (.npy), read
// into / written from plain {name, type, dims, data} records whose `type` and typed-array `data`
// are what onnxruntime-node's Tensor takes (int64 as BigInt64Array, bool as Uint8Array, ...).
//
// The TensorProto codec is hand-written: the message is flat (a dozen scalar/packed fields), so
// about 150 lines of wire-format code beat pulling protobufjs plus a copy of onnx.proto into a
// folder that must also work offline. Unknown fields are skipped; external data is rejected.
import { readFileSync } from "node:fs";

// ONNX TensorProto.DataType <-> onnxruntime-node type names and storage.
const ONNX_TYPES = {
  1: { type: "float32", Array: Float32Array },
  2: { type: "uint8", Array: Uint8Array },
  3: { type: "int8", Array: Int8Array },
  4: { type: "uint16", Array: Uint16Array },
  5: { type: "int16", Array: Int16Array },
  6: { type: "int32", Array: Int32Array },
  7: { type: "int64", Array: BigInt64Array },
  8: { type: "string", Array: Array },
  9: { type: "bool", Array: Uint8Array },
  10: { type: "float16", Array: Uint16Array },
  11: { type: "float64", Array: Float64Array },
  12: { type: "uint32", Array: Uint32Array },
  13: { type: "uint64", Array: BigUint64Array },
};
const TYPE_TO_ONNX = Object.fromEntries(Object.entries(ONNX_TYPES).map(([k, v]) => [v.type, Number(k)]));

export function typedArrayFor(type, n) {
  const code = TYPE_TO_ONNX[type];
  if (code === undefined) throw new Error(`unsupported tensor type ${type}`);
  return new ONNX_TYPES[code].Array(n);
}

function elementCount(dims) {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`bad dimension ${d}`);
    n *= d;
    if (n > 2 ** 40) throw new Error(`dimensions [${dims}] too large`);
  }
  return n;
}

// ---- protobuf wire format ----
class Reader {
  constructor(buf, file) { this.buf = buf; this.pos = 0; this.file = file; }
  fail(msg) { throw new Error(`${this.file}: malformed TensorProto: ${msg} at byte ${this.pos}`); }
  varint() { // as BigInt: int64/uint64 fields need all 64 bits
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result & 0xffffffffffffffffn;
      shift += 7n;
      if (shift > 63n) this.fail("varint too long");
    }
  }
  bytes() {
    const len = Number(this.varint());
    if (len > this.buf.length - this.pos) this.fail("length past end of file");
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else this.fail(`unsupported wire type ${wire}`);
    if (this.pos > this.buf.length) this.fail("field past end of file");
  }
}

const toInt64 = (u) => BigInt.asIntN(64, u);

// Reads a repeated numeric field that may be packed (wire 2) or not.
function readRepeated(r, wire, kind, out) {
  const one = (rr) => {
    if (kind === "varint") return rr.varint();
    const n = kind === "f32" ? 4 : 8;
    if (rr.pos + n > rr.buf.length) rr.fail("truncated fixed field");
    const dv = new DataView(rr.buf.buffer, rr.buf.byteOffset + rr.pos, n);
    rr.pos += n;
    return kind === "f32" ? dv.getFloat32(0, true) : dv.getFloat64(0, true);
  };
  if (wire === 2) {
    const sub = new Reader(r.bytes(), r.file);
    while (sub.pos < sub.buf.length) out.push(one(sub));
  } else {
    out.push(one(r));
  }
}

export function decodeTensorProto(buf, file = "<buffer>") {
  const r = new Reader(buf, file);
  const dims = [], floats = [], int32s = [], int64s = [], doubles = [], uint64s = [], strings = [];
  let dataType = 0, name = "", raw = null, external = false;
  while (r.pos < buf.length) {
    const key = Number(r.varint());
    const field = key >>> 3, wire = key & 7;
    switch (field) {
      case 1: { const t = []; readRepeated(r, wire, "varint", t); dims.push(...t.map((v) => Number(toInt64(v)))); break; }
      case 2: dataType = Number(r.varint()); break;
      case 4: readRepeated(r, wire, "f32", floats); break;
      case 5: readRepeated(r, wire, "varint", int32s); break;
      case 6: strings.push(Buffer.from(r.bytes()).toString("utf8")); break;
      case 7: readRepeated(r, wire, "varint", int64s); break;
      case 8: name = Buffer.from(r.bytes()).toString("utf8"); break;
      case 9: raw = r.bytes(); break;
      case 10: readRepeated(r, wire, "f64", doubles); break;
      case 11: readRepeated(r, wire, "varint", uint64s); break;
      case 13: external = true; r.skip(wire); break;
      case 14: { const loc = Number(r.varint()); if (loc === 1) external = true; break; }
      default: r.skip(wire);
    }
  }
  if (external) throw new Error(`${file}: TensorProto with external data is not supported`);
  const info = ONNX_TYPES[dataType];
  if (!info) throw new Error(`${file}: unsupported TensorProto data_type ${dataType}`);
  const n = elementCount(dims);
  let data;
  if (info.type === "string") {
    data = strings;
  } else if (raw) {
    const width = info.Array.BYTES_PER_ELEMENT;
    if (raw.length !== n * width)
      throw new Error(`${file}: raw_data has ${raw.length} bytes, dims [${dims}] of ${info.type} need ${n * width}`);
    data = new info.Array(n);
    new Uint8Array(data.buffer).set(raw); // copy: alignment, and host is little-endian like ONNX
  } else {
    const src = { float32: floats, float64: doubles, int64: int64s, uint64: uint64s, uint32: uint64s }[info.type] ?? int32s;
    if (src.length !== n) throw new Error(`${file}: ${src.length} values, dims [${dims}] need ${n}`);
    data = new info.Array(n);
    for (let i = 0; i < n; ++i) {
      const v = src[i];
      if (info.type === "int64") data[i] = toInt64(v);
      else if (info.type === "uint64") data[i] = v;
      else if (typeof v === "bigint") data[i] = Number(BigInt.asIntN(32, v)); // int32_data holds sign-extended varints
      else data[i] = v;
    }
  }
  return { name, type: info.type, dims, data };
}

// ---- encoding ----
function varintBytes(v) { // v: BigInt, encoded as uint64
  let u = BigInt.asUintN(64, BigInt(v));
  const out = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u) b |= 0x80;
    out.push(b);
  } while (u);
  return out;
}
const keyBytes = (field, wire) => varintBytes((field << 3) | wire);

/// Encodes {name, type, dims, data} as a TensorProto with raw_data (strings in string_data).
export function encodeTensorProto({ name, type, dims, data }) {
  const code = TYPE_TO_ONNX[type];
  if (code === undefined) throw new Error(`unsupported tensor type ${type}`);
  const parts = [];
  for (const d of dims) parts.push(Buffer.from([...keyBytes(1, 0), ...varintBytes(d)]));
  parts.push(Buffer.from([...keyBytes(2, 0), ...varintBytes(code)]));
  const lenField = (field, bytes) => {
    parts.push(Buffer.from([...keyBytes(field, 2), ...varintBytes(bytes.length)]));
    parts.push(Buffer.from(bytes));
  };
  if (name) lenField(8, Buffer.from(name, "utf8"));
  if (type === "string") for (const s of data) lenField(6, Buffer.from(s, "utf8"));
  else lenField(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return Buffer.concat(parts);
}

// ---- NumPy .npy ----
const NPY_TYPES = {
  "<f4": "float32", "<f8": "float64", "<f2": "float16", "|i1": "int8", "|u1": "uint8",
  "<i2": "int16", "<u2": "uint16", "<i4": "int32", "<u4": "uint32", "<i8": "int64",
  "<u8": "uint64", "|b1": "bool",
};
const TYPE_TO_NPY = Object.fromEntries(Object.entries(NPY_TYPES).map(([k, v]) => [v, k]));

export function decodeNpy(buf, file = "<buffer>") {
  if (buf.length < 10 || buf.subarray(0, 6).toString("latin1") !== "\x93NUMPY")
    throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + hlen > buf.length) throw new Error(`${file}: .npy header past end of file`);
  const header = buf.subarray(start, start + hlen).toString(major === 3 ? "utf8" : "latin1");
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined) throw new Error(`${file}: bad .npy header ${header.trim()}`);
  if (fortran === "True") throw new Error(`${file}: fortran_order .npy files are not supported`);
  const type = NPY_TYPES[descr.replace(/^=/, "<")];
  if (!type) throw new Error(`${file}: unsupported .npy dtype ${descr}`);
  const dims = shape.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  const n = elementCount(dims);
  const data = typedArrayFor(type, n);
  const bytes = n * data.BYTES_PER_ELEMENT, off = start + hlen;
  if (buf.length - off < bytes) throw new Error(`${file}: .npy data truncated`);
  new Uint8Array(data.buffer).set(buf.subarray(off, off + bytes));
  return { name: "", type, dims, data };
}

export function encodeNpy({ type, dims, data }) {
  const descr = TYPE_TO_NPY[type];
  if (!descr) throw new Error(`cannot write ${type} as .npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const pre = Buffer.alloc(10);
  Buffer.from("\x93NUMPY", "latin1").copy(pre);
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/// Reads a .pb (TensorProto) or .npy file by content (NumPy magic) rather than by extension.
export function readTensorFile(file) {
  const buf = readFileSync(file);
  if (buf.length >= 6 && buf.subarray(0, 6).toString("latin1") === "\x93NUMPY") return decodeNpy(buf, file);
  return decodeTensorProto(buf, file);
}

// ---- seeded random inputs ----
/// xorshift32 -> [0,1); fixed seed so every run (and both runtimes) see the same data.
export function makeRng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/// Random tensor for a model input: floats uniform in [-1,1), integers in [0,8), bools 0/1.
export function randomTensor(type, dims, rng) {
  const n = elementCount(dims);
  const data = typedArrayFor(type, n);
  for (let i = 0; i < n; ++i) {
    const u = rng();
    if (type === "float32" || type === "float64") data[i] = 2 * u - 1;
    else if (type === "float16") data[i] = 0x3c00 ^ ((u * 1024) | 0); // 1.0 .. 2.0 region
    else if (type === "int64") data[i] = BigInt((u * 8) | 0);
    else if (type === "uint64") data[i] = BigInt((u * 8) | 0);
    else if (type === "bool") data[i] = u < 0.5 ? 0 : 1;
    else if (type === "string") data[i] = "";
    else data[i] = (u * 8) | 0;
  }
  return { name: "", type, dims, data };
}
