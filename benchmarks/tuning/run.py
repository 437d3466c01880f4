#!/usr/bin/env python3
"""Tuning benchmark: what tcl-tune reaches within a trial budget.

Runs, in one go (2 threads by default):
  1. matmul 1024^3 f32, --trials (default 1000) with the xgb cost model and
     with the random cost model: best GFLOP/s vs LibTorch mm (OpenBLAS), and
     the trials each needed to reach the random model's final best latency;
  2. the distinct ResNet-50 conv layers of examples/resnet50_bert_layers.mlir
     with --conv-trials (default 2000): per-layer tuned vs default latency,
     vs LibTorch conv2d on the same shapes (python3-torch, same threads), and
     the weighted sums.
With --reuse, existing databases in --out are kept and tcl-tune resumes from
them (a finished run then only re-measures defaults and LibTorch).
Writes out/results.json, out/results.md and out/curve.png (best latency vs
trials, when matplotlib is installed: apt-get install python3-matplotlib).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]

MATMUL = """\
func.func @matmul_1024(%a: tensor<1024x1024xf32>, %b: tensor<1024x1024xf32>) -> tensor<1024x1024xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1024x1024xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<1024x1024xf32>, tensor<1024x1024xf32>) outs(%fill : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  return %mm : tensor<1024x1024xf32>
}
"""


def resnet_convs(examples: Path) -> str:
    """The ResNet-50 conv layer functions of the bundled workload."""
    text = examples.read_text("utf-8")
    funcs = re.split(r"\n(?=func\.func @)", text)
    keep = [f.rstrip() + "\n" for f in funcs
            if re.match(r"func\.func @resnet50_\w*(conv|downsample)", f)]
    return "\n".join(keep)


CONV_RE = re.compile(
    r"linalg\.conv_2d_nhwc_hwcf \{dilations = dense<(\d+)> : tensor<2xi64>, "
    r"strides = dense<(\d+)> : tensor<2xi64>\} ins\(%\w+, %\w+ : "
    r"tensor<1x(\d+)x(\d+)x(\d+)xf32>, tensor<(\d+)x(\d+)x(\d+)x(\d+)xf32>\)")


def conv_layers(mlir: str) -> dict[str, dict[str, int]]:
    """Function name -> shape of its conv_2d_nhwc_hwcf (input pre-padded)."""
    layers = {}
    for func in re.split(r"\n(?=func\.func @)", mlir):
        name = re.match(r"func\.func @(\w+)", func)
        conv = CONV_RE.search(func)
        if name and conv:
            d, s, h, w, c, kh, kw, _, f = (int(x) for x in conv.groups())
            layers[name[1]] = {"dilation": d, "stride": s, "h": h, "w": w,
                               "c": c, "kh": kh, "kw": kw, "f": f}
    return layers


def task_keys(tcl_opt: Path, mlir: Path) -> dict[str, str]:
    """Function name -> workload key of its (single) task."""
    out = subprocess.run([str(tcl_opt), str(mlir), "--tcl-extract-tasks"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    keys = {}
    for func in re.split(r"\n\s*(?=func\.func @)", out):
        name = re.match(r"func\.func @(\w+)", func.strip())
        key = re.search(r'tcl\.task = "(\w+)"', func)
        if name and key:
            keys[name[1]] = key[1]
    return keys


def torch_conv_seconds(layer: dict[str, int], threads: int,
                       min_time: float = 0.2, min_repeats: int = 5) -> float:
    """Median latency of torch.nn.functional.conv2d on `layer` (NCHW, the
    input already padded, padding 0: the computation of the TCL task)."""
    import time
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.randn(1, layer["c"], layer["h"], layer["w"])
    w = torch.randn(layer["f"], layer["c"], layer["kh"], layer["kw"])
    with torch.no_grad():
        def call():
            torch.nn.functional.conv2d(x, w, stride=layer["stride"],
                                       dilation=layer["dilation"])
        for _ in range(3):
            call()
        samples: list[float] = []
        while sum(samples) < min_time or len(samples) < min_repeats:
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
    samples.sort()
    return samples[len(samples) // 2]


def run(cmd: list[str], log: Path) -> str:
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=f, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}; see {log}")
    return proc.stdout


def records(db: Path) -> list[dict[str, Any]]:
    out = []
    for line in db.read_text("utf-8").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if r.get("type") == "measure":
            out.append(r)
    return out


def curve(db: Path) -> list[float]:
    """Best-so-far sum over workloads of median latency, per trial, in file
    order (workloads not yet measured count as missing until they are)."""
    best: dict[str, float] = {}
    points = []
    for r in records(db):
        if r.get("error") == "none" and r.get("median_s", 0) > 0:
            k = r["workload"]
            best[k] = min(best.get(k, float("inf")), r["median_s"])
        points.append(sum(best.values()))
    return points


def parse_table(stdout: str) -> list[dict[str, Any]]:
    rows = []
    for line in stdout.splitlines():
        m = re.match(r"(\S+_[0-9a-f]{16})\s+(\S+)\s+(\d+)\s+([\d.]+)\s+(\d+)"
                     r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x", line)
        if m:
            rows.append({"key": m[1], "kind": m[2], "weight": int(m[3]),
                         "mflop": float(m[4]), "trials": int(m[5]),
                         "default_ms": float(m[6]), "tuned_ms": float(m[7]),
                         "speedup": float(m[8])})
    return rows


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", type=Path, default=REPO / "build")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--trials", type=int, default=1000,
                   help="matmul budget per cost model (default 1000)")
    p.add_argument("--conv-trials", type=int, default=2000,
                   help="budget for the ResNet-50 conv layers (default 2000)")
    p.add_argument("--skip-convs", action="store_true")
    p.add_argument("--reuse", action="store_true",
                   help="keep existing databases in --out and resume from "
                        "them instead of starting over")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    binary = args.build_dir / "bin"
    args.out.mkdir(parents=True, exist_ok=True)
    target = f"cpu,threads={args.threads}"
    result: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": platform.processor() or platform.machine(),
        "threads": args.threads, "commands": []}

    mm = args.out / "matmul.mlir"
    mm.write_text(MATMUL, "utf-8")
    for model in ("xgb", "random"):
        db = args.out / f"matmul_{model}.jsonl"
        if db.exists() and not args.reuse:
            db.unlink()
        cmd = [str(binary / "tcl-tune"), str(mm), f"--target={target}",
               f"--trials={args.trials}", f"--cost-model={model}",
               f"--database={db}", f"--seed={args.seed}"]
        result["commands"].append(" ".join(cmd))
        rows = parse_table(run(cmd, args.out / f"matmul_{model}.log"))
        pts = curve(db)
        result[f"matmul_{model}"] = {"rows": rows, "curve_s": pts,
                                     "best_gflops": 2 * 1024**3 / pts[-1] / 1e9
                                     if pts and pts[-1] > 0 else 0}
    torch = json.loads(run([str(binary / "tcl-torch-ref"), "--threads",
                            str(args.threads)], args.out / "torch.log"))
    result["torch"] = torch
    mm_torch = next((op["gflops"] for op in torch.get("ops", [])
                     if op.get("kind") == "matmul"), 0)
    result["matmul_torch_gflops"] = mm_torch
    # Trials each model needed to reach the random model's final best.
    target_s = result["matmul_random"]["curve_s"][-1]
    for model in ("xgb", "random"):
        pts = result[f"matmul_{model}"]["curve_s"]
        result[f"matmul_{model}"]["trials_to_random_best"] = next(
            (i + 1 for i, v in enumerate(pts) if 0 < v <= target_s), None)

    if not args.skip_convs:
        convs = args.out / "resnet50_convs.mlir"
        convs.write_text(resnet_convs(REPO / "examples" /
                                      "resnet50_bert_layers.mlir"), "utf-8")
        db = args.out / "resnet50_convs.jsonl"
        if db.exists() and not args.reuse:
            db.unlink()
        cmd = [str(binary / "tcl-tune"), str(convs), f"--target={target}",
               f"--trials={args.conv_trials}", f"--database={db}",
               f"--seed={args.seed}"]
        result["commands"].append(" ".join(cmd))
        stdout = run(cmd, args.out / "resnet50_convs.log")
        rows = parse_table(stdout)
        # LibTorch conv2d on each layer's shape, joined by workload key.
        layers = conv_layers(convs.read_text("utf-8"))
        keys = task_keys(binary / "tcl-opt", convs)
        torch_ms = {}
        for name, layer in layers.items():
            if name in keys and keys[name] not in torch_ms:
                torch_ms[keys[name]] = torch_conv_seconds(
                    layer, args.threads) * 1e3
                print(f"LibTorch {name}: {torch_ms[keys[name]]:.4f} ms",
                      file=sys.stderr, flush=True)
        for row in rows:
            row["torch_ms"] = torch_ms.get(row["key"])
        m = re.search(r"default ([\d.]+) ms, tuned ([\d.]+) ms, speedup "
                      r"([\d.]+)x", stdout)
        result["resnet50_convs"] = {
            "rows": rows, "curve_s": curve(db),
            "weighted_torch_ms": sum(r["weight"] * r["torch_ms"]
                                     for r in rows if r["torch_ms"]),
            "weighted_default_ms": float(m[1]) if m else None,
            "weighted_tuned_ms": float(m[2]) if m else None,
            "speedup": float(m[3]) if m else None}

    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    write_markdown(result, args.out / "results.md")
    plot(result, args.out / "curve.png")
    print((args.out / "results.md").read_text("utf-8"))
    return 0


def write_markdown(r: dict[str, Any], path: Path) -> None:
    lines = ["# Tuning benchmark", "",
             f"- Date: {r['date']}", f"- Threads: {r['threads']}", "",
             "## matmul 1024^3 f32", "",
             "| cost model | trials | best GFLOP/s | vs LibTorch mm | "
             "trials to reach random's best |", "|---|---:|---:|---:|---:|"]
    for model in ("xgb", "random"):
        m = r[f"matmul_{model}"]
        ratio = m["best_gflops"] / r["matmul_torch_gflops"] \
            if r["matmul_torch_gflops"] else 0
        lines.append(f"| {model} | {len(m['curve_s'])} | "
                     f"{m['best_gflops']:.1f} | {ratio:.2f}x | "
                     f"{m['trials_to_random_best']} |")
    lines.append(f"\nLibTorch mm (OpenBLAS): {r['matmul_torch_gflops']:.1f} "
                 "GFLOP/s")
    if "resnet50_convs" in r:
        c = r["resnet50_convs"]
        lines += ["", "## ResNet-50 conv layers", "",
                  "| workload | weight | MFLOP | trials | default ms | "
                  "tuned ms | speedup | LibTorch ms | tuned vs LibTorch |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in c["rows"]:
            t = row.get("torch_ms")
            vs = f"{t / row['tuned_ms']:.2f}x" if t and row["tuned_ms"] else "-"
            lines.append(f"| {row['key']} | {row['weight']} | {row['mflop']} | "
                         f"{row['trials']} | {row['default_ms']} | "
                         f"{row['tuned_ms']} | {row['speedup']}x | "
                         f"{t:.4f} | {vs} |" if t else
                         f"| {row['key']} | {row['weight']} | {row['mflop']} | "
                         f"{row['trials']} | {row['default_ms']} | "
                         f"{row['tuned_ms']} | {row['speedup']}x | - | - |")
        lines.append(f"\nWeighted sum: default {c['weighted_default_ms']} ms, "
                     f"tuned {c['weighted_tuned_ms']} ms "
                     f"({c['speedup']}x); LibTorch conv2d "
                     f"{c['weighted_torch_ms']:.3f} ms (tuned is "
                     f"{c['weighted_torch_ms'] / c['weighted_tuned_ms']:.2f}x "
                     "LibTorch's speed).")
    lines += ["", "## Commands", ""] + ["    " + c for c in r["commands"]]
    path.write_text("\n".join(lines) + "\n", "utf-8")


def plot(r: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no curve.png", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for model in ("xgb", "random"):
        pts = [v * 1e3 for v in r[f"matmul_{model}"]["curve_s"]]
        ax.plot(range(1, len(pts) + 1), pts, label=f"matmul 1024^3, {model}")
    ax.set_xlabel("trials")
    ax.set_ylabel("best latency (ms)")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title(f"tcl-tune, {r['threads']} threads")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
