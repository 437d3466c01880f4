"""GPU benchmark: TCL-tuned kernels against cuBLAS / cuDNN on the same shapes.

Two phases on two machines (issue 8):

``build`` (any machine, no GPU or CUDA needed) lowers, for each workload of
a small smoke test (a matmul with bias and ReLU, a conv), of
``benchmarks/gpu/matmul.mlir`` (4096^3 matmul in f32 and in f16 with f32
accumulation) and of ResNet-50's conv layers, the default GPU schedule and
``--samples`` random ones to PTX with ``tcl-run --target=cuda:sm_90
--gpu-batch``, and copies ``tcl-cuda-runner`` (self-contained apart from
glibc) next to the batches.

``measure`` (the GPU machine) runs every batch with ``tcl-cuda-runner``
(measure records in ``gpu.jsonl``), times the same shapes with PyTorch's
cuBLAS / cuDNN kernels (CUDA events, the same warm-up and repeat protocol),
and writes ``results.json`` and ``results.md``: per workload the default and
best TCL schedules and the library kernel, in TFLOP/s, and the ratio
library time / TCL time (above 1: TCL is faster).

``report`` rewrites the tables from the files ``measure`` left.

Usage::

    /usr/bin/python3 benchmarks/gpu/run.py build --samples 31 --out benchmarks/gpu/out
    # on the GPU machine, from the repository root:
    python3 benchmarks/gpu/run.py measure --out benchmarks/gpu/out

The convs of the library baseline are cuDNN's on channels-last tensors
without the fused batch-norm and ReLU that TCL's conv tasks carry, so the
ratio slightly favours the library there.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
SOURCES = {
    # Small tasks first: whether the runner and the kernels work at all.
    "smoke": REPO / "test" / "Tools" / "tcl-run-gpu-batch.mlir",
    "matmul": REPO / "benchmarks" / "gpu" / "matmul.mlir",
    "resnet50": REPO / "examples" / "networks" / "resnet50.mlir",
}
TARGET = "cuda:sm_90"


def build(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    tcl_run = args.build_dir / "bin" / "tcl-run"
    runner = args.build_dir / "bin" / "tcl-cuda-runner"
    for tool in (tcl_run, runner):
        if not tool.exists():
            sys.exit(f"run.py: {tool} not built (scripts/setup.sh; "
                     "tcl-cuda-runner needs the CUDA toolkit's headers)")
    for name, source in SOURCES.items():
        if args.only and name not in args.only.split(","):
            continue
        cmd = [str(tcl_run), str(source), f"--target={TARGET}",
               f"--samples={args.samples}", f"--seed={args.seed}",
               f"--timeout={args.timeout}",
               f"--gpu-batch={args.out / f'batch-{name}.json'}"]
        print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
        if subprocess.run(cmd).returncode != 0:
            return 1
    shutil.copy2(runner, args.out / "tcl-cuda-runner")
    print(f"run.py: batches and tcl-cuda-runner in {args.out}",
          file=sys.stderr)
    return 0


def parse_shape(text: str) -> tuple[list[int], str]:
    *dims, dtype = text.split("x")
    return [int(d) for d in dims], dtype


def library_op(kernel: str) -> Optional[dict[str, Any]]:
    """The matmul or conv of a task kernel (MLIR text), as shapes and
    attributes for the library baseline; None for other ops."""
    m = re.search(r"linalg\.matmul\b.*?ins\([^:]*: tensor<([^>]*)>, "
                  r"tensor<([^>]*)>\) outs\([^:]*: tensor<([^>]*)>", kernel)
    if m:
        (a, ta), (b, tb), (c, tc) = (parse_shape(g) for g in m.groups())
        return {"op": "matmul", "a": a, "b": b, "c": c, "in": ta, "out": tc}
    m = re.search(r"linalg\.conv_2d_nhwc_hwcf (\{[^}]*\})?\s*ins\([^:]*: "
                  r"tensor<([^>]*)>, tensor<([^>]*)>\) outs\([^:]*: "
                  r"tensor<([^>]*)>", kernel)
    if m:
        attrs = m.group(1) or ""
        (x, tx), (w, _), (y, ty) = (parse_shape(g) for g in m.groups()[1:])

        def pair(name: str) -> list[int]:
            a = re.search(name + r" = dense<(\[?[0-9, ]+\]?)>", attrs)
            if not a:
                return [1, 1]
            v = json.loads(a.group(1)) if "[" in a.group(1) else int(a.group(1))
            return v if isinstance(v, list) else [v, v]
        return {"op": "conv", "x": x, "w": w, "y": y, "in": tx, "out": ty,
                "strides": pair("strides"), "dilations": pair("dilations")}
    return None


def time_library(op: dict[str, Any], warmup: int, min_repeats: int,
                 min_seconds: float) -> float:
    """Median seconds of the cuBLAS / cuDNN kernel for `op` (PyTorch, CUDA
    events around each call)."""
    import torch  # only on the GPU machine
    dtypes = {"f32": torch.float32, "f16": torch.float16,
              "bf16": torch.bfloat16}
    dev = torch.device("cuda")
    dt = dtypes[op["in"]]
    # f32 GEMMs in full f32 (no TF32), as TCL's f32 kernels compute.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if op["op"] == "matmul":
        a = torch.rand(op["a"], device=dev, dtype=dt) * 2 - 1
        b = torch.rand(op["b"], device=dev, dtype=dt) * 2 - 1

        def call() -> None:
            torch.matmul(a, b)
    else:
        n, h, w_, c = op["x"]
        kh, kw, _, f = op["w"]
        x = (torch.rand((n, c, h, w_), device=dev, dtype=dt) * 2 - 1
             ).to(memory_format=torch.channels_last)
        w = (torch.rand((f, c, kh, kw), device=dev, dtype=dt) * 2 - 1
             ).to(memory_format=torch.channels_last)
        torch.backends.cudnn.benchmark = True

        def call() -> None:
            torch.nn.functional.conv2d(x, w, stride=op["strides"],
                                       dilation=op["dilations"])
    for _ in range(max(warmup, 1)):
        call()
    torch.cuda.synchronize()
    start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
    times: list[float] = []
    while len(times) < min_repeats or sum(times) < min_seconds:
        start.record()
        call()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e-3)
        if len(times) >= 1000:
            break
    return statistics.median(times)


def load_records(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    workloads: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    if not path.exists():
        return workloads, records
    for line in path.read_text("utf-8").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut off by a killed writer
        if r.get("type") == "workload":
            workloads[r["key"]] = r
        elif r.get("type") == "measure":
            records.append(r)
    return workloads, records


def measure(args: argparse.Namespace) -> int:
    runner = args.out / "tcl-cuda-runner"
    db = args.out / "gpu.jsonl"
    batches = sorted(args.out.glob("batch-*.json"))
    if not batches:
        sys.exit(f"run.py: no batch-*.json in {args.out} (run.py build)")
    for batch in batches:
        cmd = [str(runner), str(batch), f"--database={db}"]
        print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
        rc = subprocess.run(cmd).returncode
        if rc == 77:
            sys.exit("run.py: no GPU here (tcl-cuda-runner exit 77)")
        if rc != 0:
            print(f"run.py: tcl-cuda-runner exited with {rc}", file=sys.stderr)
    library: dict[str, float] = {}
    lib_file = args.out / "library.json"
    if lib_file.exists():
        library = json.loads(lib_file.read_text("utf-8"))
    try:
        import torch
        has_gpu = torch.cuda.is_available()
    except ImportError:
        has_gpu = False
    if not has_gpu:
        print("run.py: PyTorch sees no CUDA GPU: library kernels not timed",
              file=sys.stderr)
        batches = []
    for batch in batches:
        data = json.loads(batch.read_text("utf-8"))
        timing = data["timing"]
        for task in data["tasks"]:
            key = task["workload"]["key"]
            op = library_op(task["workload"]["kernel"])
            if key in library or op is None:
                continue
            library[key] = time_library(op, timing["warmup"],
                                        timing["min_repeats"],
                                        timing["min_repeat_s"])
            print(f"library {key}: {library[key] * 1e3:.4f} ms",
                  file=sys.stderr, flush=True)
            lib_file.write_text(json.dumps(library, indent=1) + "\n", "utf-8")
    return report(args)


def report(args: argparse.Namespace) -> int:
    workloads, records = load_records(args.out / "gpu.jsonl")
    library = {}
    lib_file = args.out / "library.json"
    if lib_file.exists():
        library = json.loads(lib_file.read_text("utf-8"))
    defaults: dict[str, dict[str, int]] = {}
    sources: dict[str, str] = {}
    for batch in sorted(args.out.glob("batch-*.json")):
        data = json.loads(batch.read_text("utf-8"))
        for task in data["tasks"]:
            key = task["workload"]["key"]
            defaults[key] = task["candidates"][0]["knobs"]
            sources[key] = batch.stem.removeprefix("batch-")
    rows = []
    platforms = sorted({r["platform"] for r in records})
    for key, w in workloads.items():
        mine = [r for r in records if r["workload"] == key]
        ok = [r for r in mine if r["error"] == "none" and r["median_s"] > 0]
        best = min(ok, key=lambda r: r["median_s"]) if ok else None
        default = next((r for r in ok if r["knobs"] == defaults.get(key)),
                       None)
        lib = library.get(key)

        def tflops(seconds: Optional[float]) -> Optional[float]:
            return w["flops"] / seconds / 1e12 if seconds else None
        rows.append({
            "workload": key, "source": sources.get(key, ""),
            "kind": w["kind"], "flops": w["flops"],
            "measured": len(mine), "ok": len(ok),
            "errors": {e: sum(r["error"] == e for r in mine)
                       for e in sorted({r["error"] for r in mine})},
            "default_s": default["median_s"] if default else None,
            "best_s": best["median_s"] if best else None,
            "best_knobs": best["knobs"] if best else None,
            "library_s": lib,
            "default_tflops": tflops(default["median_s"] if default else None),
            "best_tflops": tflops(best["median_s"] if best else None),
            "library_tflops": tflops(lib),
            "ratio": lib / best["median_s"] if lib and best else None,
        })
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "platforms": platforms,
        "rows": rows,
        "geomean_ratio": (math.exp(statistics.fmean(math.log(x)
                                                    for x in ratios))
                          if ratios else None),
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=1)
                                           + "\n", "utf-8")

    def f(v: Optional[float], fmt: str = "{:.2f}") -> str:
        return fmt.format(v) if v is not None else "-"
    lines = [
        "# GPU kernels: TCL against cuBLAS / cuDNN", "",
        f"- Date: {summary['date']}",
        f"- Platform: {', '.join(platforms) or '-'}",
        "- TCL: default and best of the measured GPU schedules "
        "(tcl-cuda-runner, CUDA events, median); library: PyTorch's "
        "cuBLAS / cuDNN on the same shapes (TF32 off)", "",
        "| workload | from | GFLOP | ok / measured | default TFLOP/s "
        "| best TFLOP/s | library TFLOP/s | library time / TCL time |",
        "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['source']} | {r['flops'] / 1e9:.2f} "
            f"| {r['ok']} / {r['measured']} | {f(r['default_tflops'])} "
            f"| {f(r['best_tflops'])} | {f(r['library_tflops'])} "
            f"| {f(r['ratio'], '{:.3f}')} |")
    lines += ["", f"Geometric mean of library time / TCL time: "
              f"{f(summary['geomean_ratio'], '{:.3f}')}", ""]
    (args.out / "results.md").write_text("\n".join(lines), "utf-8")
    print("\n".join(lines))
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    sub = p.add_subparsers(dest="phase", required=True)
    b = sub.add_parser("build", help="lower the candidates to PTX batches "
                       "(any machine)")
    b.add_argument("--samples", type=int, default=31,
                   help="random GPU schedules per workload besides the "
                        "default (default 31)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--timeout", type=float, default=10,
                   help="seconds one candidate may take on the GPU "
                        "(default 10)")
    b.add_argument("--only", default="",
                   help="comma-separated subset of: " + ", ".join(SOURCES))
    b.add_argument("--build-dir", type=Path, default=REPO / "build")
    for name, q in (("measure", sub.add_parser(
            "measure", help="measure the batches and the library kernels "
            "(GPU machine)")), ("report", sub.add_parser(
                "report", help="rewrite the tables from measured files"))):
        q.add_argument("--out", type=Path,
                       default=Path(__file__).parent / "out")
    b.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = p.parse_args(argv)
    return {"build": build, "measure": measure, "report": report}[args.phase](
        args)


if __name__ == "__main__":
    sys.exit(main())
