#!/usr/bin/python3
"""Peer check: `edgewise-cli inspect --json` against the Debian python3-onnx module.

For every .onnx file under the models folder (the ONNX backend node suite included) this
compares node_count and op_histogram with len(graph.node) and a Counter of op types (ops outside
the default domain keyed "domain.op", as Edgewise writes them). Files go to the CLI in batches
(`inspect --json A B C ...` prints a JSON array), several batches at a time.

Exit codes: 0 all matched, 1 a mismatch or a model Edgewise failed on, 77 skipped (no onnx
module or no models folder; CTest reports it as skipped).
"""
import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import time

SKIP = 77


def python_view(path, onnx):
    model = onnx.load(path, load_external_data=False)
    hist = collections.Counter()
    for node in model.graph.node:
        domain = node.domain if node.domain not in ("", "ai.onnx") else ""
        hist[f"{domain}.{node.op_type}" if domain else node.op_type] += 1
    return len(model.graph.node), dict(hist)


def run_batch(cli, paths):
    proc = subprocess.run([cli, "--quiet", "inspect", "--json", *paths], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=1800)
    try:
        results = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return {p: {"error": f"unparsable CLI output ({e}); exit {proc.returncode}; stderr: "
                             f"{proc.stderr.decode('utf-8', 'replace')[-500:]}"} for p in paths}
    if isinstance(results, dict):  # a batch of one prints a single object
        results = [results]
    if len(results) != len(paths):
        return {p: {"error": f"CLI returned {len(results)} results for {len(paths)} files"} for p in paths}
    return dict(zip(paths, results))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True, help="path to edgewise-cli")
    ap.add_argument("--models", required=True, help="the shared models folder")
    ap.add_argument("--jobs", type=int, default=max(os.cpu_count() or 1, 1))
    ap.add_argument("--batch", type=int, default=150)
    args = ap.parse_args()

    try:
        import onnx  # noqa: PLC0415 (optional dependency: skip without it)
    except ImportError as e:
        print(f"[ew-skip] python3-onnx is not installed ({e}); apt-get install python3-onnx")
        return SKIP
    if not os.path.isdir(args.models):
        print(f"[ew-skip] models folder not found: {args.models} (set -DEW_MODELS_DIR)")
        return SKIP
    if not os.access(args.cli, os.X_OK):
        print(f"edgewise-cli not found or not executable: {args.cli}")
        return 1

    paths = []
    for root, dirs, files in os.walk(args.models):
        dirs.sort()
        paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".onnx")]
    if not paths:
        print(f"[ew-skip] no .onnx files under {args.models}")
        return SKIP

    start = time.monotonic()
    batches = [paths[i:i + args.batch] for i in range(0, len(paths), args.batch)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_batch, args.cli, b) for b in batches]
        # Python parses while the CLI batches run.
        expected, unreadable = {}, {}
        for p in paths:
            try:
                expected[p] = python_view(p, onnx)
            except Exception as e:  # noqa: BLE001 (onnx raises assorted protobuf errors)
                unreadable[p] = str(e).splitlines()[0] if str(e) else type(e).__name__
        ours = {}
        for f in futures:
            ours.update(f.result())

    matched, mismatched, failed = 0, [], []
    for p in paths:
        if p in unreadable:
            continue
        got = ours[p]
        if "error" in got:
            failed.append((p, got["error"]))
            continue
        n, hist = expected[p]
        if got.get("node_count") == n and got.get("op_histogram") == hist:
            matched += 1
        else:
            mismatched.append((p, n, hist, got.get("node_count"), got.get("op_histogram")))

    rel = lambda p: os.path.relpath(p, args.models)  # noqa: E731
    for p, why in unreadable.items():
        print(f"skipped (python3-onnx {onnx.__version__} cannot read it): {rel(p)}: {why}")
    for p, why in failed[:50]:
        print(f"FAILED (edgewise-cli error): {rel(p)}: {why}")
    for p, n, hist, gn, ghist in mismatched[:50]:
        print(f"MISMATCH: {rel(p)}: python node_count={n} histogram={hist}; "
              f"edgewise node_count={gn} histogram={ghist}")
    compared = len(paths) - len(unreadable)
    print(f"peer_onnx_inspect: {len(paths)} .onnx files, {compared} compared, {matched} matched, "
          f"{len(mismatched)} mismatched, {len(failed)} edgewise errors, {len(unreadable)} unreadable "
          f"by python3-onnx {onnx.__version__}; {time.monotonic() - start:.1f} s")
    return 0 if not mismatched and not failed and matched > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
