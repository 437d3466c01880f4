#!/usr/bin/python3
"""Space-quality benchmark: how good is TCL's schedule space?

For matmul 1024^3 and three ResNet-50 3x3 convs (NHWC, batch 1, fill + op,
no consumers), on each requested thread count, this compares

- TCL's default schedule and the best of N random samples of its space
  (``tcl-run --samples=N``; every sample is checked against a reference),
- LibTorch's mm / conv2d on the same shape (``tcl-torch-ref``; OpenBLAS and
  oneDNN as Debian builds them),
- the FP32 FMA peak from a micro-benchmark (``tcl-fma-peak``),

and reports builder and runner throughput (candidates per second). It prints
a table and writes ``results.json`` and ``results.md`` to ``--out``.

Usage::

    /usr/bin/python3 benchmarks/space_quality/run.py --build-dir build
    /usr/bin/python3 benchmarks/space_quality/run.py --samples 20   # quick
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


@dataclass(frozen=True)
class Op:
    """One benchmarked op: its MLIR function and its LibTorch counterpart."""

    name: str
    kind: str
    flops: int
    torch_name: str
    mlir: str


def matmul_op(m: int, n: int, k: int) -> Op:
    a, b, c = f"tensor<{m}x{k}xf32>", f"tensor<{k}x{n}xf32>", \
        f"tensor<{m}x{n}xf32>"
    name = f"matmul_{m}x{n}x{k}"
    mlir = f"""func.func @{name}(%a: {a}, %b: {b}) -> {c} {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {c}
  %fill = linalg.fill ins(%zero : f32) outs(%e : {c}) -> {c}
  %r = linalg.matmul ins(%a, %b : {a}, {b}) outs(%fill : {c}) -> {c}
  return %r : {c}
}}"""
    return Op(name, "matmul", 2 * m * n * k, name, mlir)


def conv3x3_op(size: int, channels: int, filters: int) -> Op:
    """3x3, stride 1, pad 1 conv on a size x size x channels NHWC map; the
    input is passed already padded."""
    padded = size + 2
    i = f"tensor<1x{padded}x{padded}x{channels}xf32>"
    w = f"tensor<3x3x{channels}x{filters}xf32>"
    o = f"tensor<1x{size}x{size}x{filters}xf32>"
    name = f"conv3x3_{size}x{size}x{channels}_{filters}"
    mlir = f"""func.func @{name}(%input: {i}, %filter: {w}) -> {o} {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {o}
  %fill = linalg.fill ins(%zero : f32) outs(%e : {o}) -> {o}
  %r = linalg.conv_2d_nhwc_hwcf {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}} ins(%input, %filter : {i}, {w}) outs(%fill : {o}) -> {o}
  return %r : {o}
}}"""
    return Op(name, "conv_2d_nhwc_hwcf",
              2 * size * size * filters * 9 * channels, name, mlir)


OPS = [matmul_op(1024, 1024, 1024), conv3x3_op(56, 64, 64),
       conv3x3_op(28, 128, 128), conv3x3_op(14, 256, 256)]


def write_input(path: Path) -> None:
    text = ("// Input of benchmarks/space_quality/run.py: one func per op,\n"
            "// fill + op, f32, batch 1, NHWC convs on pre-padded inputs.\n\n"
            + "\n\n".join(op.mlir for op in OPS) + "\n")
    path.write_text(text, encoding="utf-8")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_library() -> str:
    """What Debian's libblas.so.3 alternative points at."""
    lib = Path("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return str(lib.resolve()) if lib.exists() else "unknown"


def git_revision() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_json(cmd: list[str], timeout: Optional[float]) -> dict[str, Any]:
    """Runs a tool that prints one JSON object on stdout."""
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}: "
                           f"{proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


# Timing protocol for the sampled schedules: the correctness-check call warms
# the caches, then at least 50 ms (and one call) of timed repeats; a sample
# slower than 10 s in all is a timeout. Random samples include very slow
# schedules, which would otherwise dominate the run time.
TCL_TIMING = ["--min-repeats=1", "--warmup=0", "--min-repeat-seconds=0.05",
              "--timeout=10"]


def run_tcl(tcl_run: Path, mlir: Path, threads: int, samples: int, seed: int,
            out: Path, timeout: Optional[float]) -> dict[str, Any]:
    """Runs tcl-run, echoing its table, and returns its JSON report."""
    json_path = out / f"tcl_run_t{threads}.json"
    log_path = out / f"tcl_run_t{threads}.log"
    cmd = [str(tcl_run), str(mlir), f"--target=cpu,threads={threads}",
           f"--samples={samples}", f"--seed={seed}", f"--json={json_path}",
           *TCL_TIMING]
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
            log.write(line)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    if rc != 0:
        raise RuntimeError(f"tcl-run exited with {rc}; see {log_path}")
    return json.loads(json_path.read_text(encoding="utf-8"))


def task_keys(tcl_opt: Path, mlir: Path) -> dict[str, str]:
    """Maps each function of `mlir` to the workload key of its task, from
    `tcl-opt --tcl-extract-tasks`; empty if tcl-opt is unavailable."""
    if not tcl_opt.exists():
        return {}
    proc = subprocess.run([str(tcl_opt), str(mlir), "--tcl-extract-tasks"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {}
    keys: dict[str, str] = {}
    func = None
    for line in proc.stdout.splitlines():
        m = re.search(r"func\.func @([\w.$-]+)", line)
        if m:
            func = m.group(1)
        m = re.search(r'tcl\.task = "([^"]+)"', line)
        if m and func and func not in keys:
            keys[func] = m.group(1)
    return keys


def match_tasks(report: dict[str, Any],
                keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Pairs each op with its task in a tcl-run report: by the function names
    tcl-run lists, else by the workload key tcl-opt gave, else by order of
    appearance (the four ops have equal FLOPs, so FLOPs cannot tell the
    convs apart)."""
    tasks = report.get("tasks", [])
    by_key = {t.get("key"): t for t in tasks}
    by_func = {f: t for t in tasks for f in t.get("functions", [])}
    matched: dict[str, dict[str, Any]] = {}
    for op in OPS:
        task = by_func.get(op.name) or by_key.get(keys.get(op.name))
        if task is not None:
            matched[op.name] = task
    if len(matched) < len(OPS) and len(tasks) == len(OPS):
        for op, task in zip(OPS, tasks):
            matched.setdefault(op.name, task)
    return matched


def ok_gflops(entry: Optional[dict[str, Any]]) -> Optional[float]:
    if not entry or entry.get("error", "none") != "none":
        return None
    value = entry.get("gflops")
    return float(value) if value is not None else None


def summarize_task(task: dict[str, Any]) -> dict[str, Any]:
    samples = task.get("samples", [])
    errors: dict[str, int] = {}
    valid = []
    for s in samples:
        err = s.get("error", "none")
        errors[err] = errors.get(err, 0) + 1
        g = ok_gflops(s)
        if g is not None:
            valid.append(g)
    # tcl-run's "best" may be the default schedule; best-of-N counts only
    # the random samples.
    best = task.get("best") or {}
    valid.sort()
    return {
        "key": task.get("key"),
        "default_gflops": ok_gflops(task.get("default")),
        "default_error": (task.get("default") or {}).get("error"),
        "best_gflops": valid[-1] if valid else None,
        "best_incl_default_gflops": best.get("gflops"),
        "best_schedule": best.get("schedule"),
        "samples": len(samples),
        "valid_samples": len(valid),
        "median_sample_gflops": valid[len(valid) // 2] if valid else None,
        "errors": errors,
    }


def fma_peak(report: dict[str, Any]) -> tuple[Optional[float], str]:
    """The highest FMA roof the micro-benchmark measured, and its ISA."""
    best: tuple[Optional[float], str] = (None, "")
    for isa in ("avx512", "avx2"):
        entry = report.get(isa)
        if entry and (best[0] is None or entry["gflops"] > best[0]):
            best = (float(entry["gflops"]), isa)
    return best


def contention_warnings(fma: dict[int, dict[str, Any]]) -> list[str]:
    """Flags thread counts whose FMA peak falls short of linear scaling from
    one thread: another process shared the cores, so every timing taken on
    that many threads is suspect."""
    base, _ = fma_peak(fma.get(1, {}))
    warnings = []
    for threads, report in sorted(fma.items()):
        peak, _ = fma_peak(report)
        if threads > 1 and base and peak and peak < 0.85 * threads * base:
            warnings.append(
                f"FMA peak on {threads} threads is {peak:.1f} GFLOP/s, "
                f"{100 * peak / (threads * base):.0f}% of {threads} x the "
                "1-thread peak: the machine was busy, so the "
                f"{threads}-thread numbers are unreliable")
    return warnings


def fmt(value: Optional[float], spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


def build_rows(threads_list: list[int], tcl: dict[int, dict[str, Any]],
               keys: dict[str, str], torch: dict[int, dict[str, Any]],
               fma: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for threads in threads_list:
        matched = match_tasks(tcl[threads], keys) if threads in tcl else {}
        torch_ops = {o["name"]: o for o in torch.get(threads, {}).get("ops",
                                                                       [])}
        peak, isa = fma_peak(fma.get(threads, {}))
        for op in OPS:
            summary = (summarize_task(matched[op.name])
                       if op.name in matched else {})
            torch_g = torch_ops.get(op.torch_name, {}).get("gflops")
            best = summary.get("best_gflops")
            rows.append({
                "op": op.name, "kind": op.kind, "flops": op.flops,
                "threads": threads,
                "tcl": summary,
                "default_gflops": summary.get("default_gflops"),
                "best_gflops": best,
                "torch_gflops": torch_g,
                "best_over_torch": ratio(best, torch_g),
                "fma_peak_gflops": peak, "fma_peak_isa": isa,
                "best_pct_of_peak": (None if ratio(best, peak) is None
                                     else 100 * ratio(best, peak)),
                "torch_pct_of_peak": (None if ratio(torch_g, peak) is None
                                      else 100 * ratio(torch_g, peak)),
            })
    return rows


HEADER = ["op", "threads", "default GFLOP/s", "best-of-N GFLOP/s",
          "valid/N", "torch GFLOP/s", "best/torch", "FMA peak GFLOP/s",
          "best % peak", "torch % peak"]


def row_cells(row: dict[str, Any]) -> list[str]:
    tcl = row["tcl"]
    valid = (f"{tcl['valid_samples']}/{tcl['samples']}" if tcl else "-")
    return [row["op"], str(row["threads"]), fmt(row["default_gflops"]),
            fmt(row["best_gflops"]), valid, fmt(row["torch_gflops"]),
            fmt(row["best_over_torch"], ".2f"), fmt(row["fma_peak_gflops"]),
            fmt(row["best_pct_of_peak"]), fmt(row["torch_pct_of_peak"])]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows)
              for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths)))
             for r in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def throughput_rows(tcl: dict[int, dict[str, Any]]) -> list[list[str]]:
    rows = []
    for threads, report in sorted(tcl.items()):
        for part in ("builder", "runner"):
            entry = report.get(part) or {}
            rows.append([part, str(threads), str(entry.get("candidates", "-")),
                         fmt(entry.get("seconds"), ".2f"),
                         fmt(entry.get("per_second"), ".2f")])
    return rows


THROUGHPUT_HEADER = ["stage", "threads", "candidates", "seconds",
                     "candidates/s"]


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Space quality: TCL default and best-of-N vs LibTorch and FMA peak",
        "",
        f"- Date: {results['date']}",
        f"- Machine: {m['cpu_model']} ({m['hardware_threads']} hardware "
        f"threads), {m['system']}",
        f"- Threads: {', '.join(str(t) for t in results['threads'])}",
        f"- Samples per task: {results['samples']} (seed {results['seed']})",
        f"- TCL revision: {results['git_revision']}",
        f"- LibTorch: {results['torch_version']}, BLAS "
        f"{results['machine']['blas']}",
        "",
        "GFLOP/s = FLOPs / median latency. `best-of-N` is the fastest of the "
        "N random schedules that built and passed the correctness check "
        "(`valid/N`), not counting the default schedule; `results.json` "
        "also has tcl-run's best including the default, and its schedule. FMA peak is the aggregate FP32 FMA roof on that many "
        "threads. The convs are 3x3, stride 1, on pre-padded NHWC inputs "
        "(LibTorch: NCHW, same FLOPs).",
        "",
        md_table(HEADER, [row_cells(r) for r in results["rows"]]),
        "",
        "## Builder and runner throughput",
        "",
        md_table(THROUGHPUT_HEADER, throughput_rows(
            {int(k): v for k, v in results["raw"]["tcl"].items()})),
    ]
    for title, items in (("Warnings", results["warnings"]),
                         ("Errors", results["errors"])):
        if items:
            lines += ["", f"## {title}", ""]
            lines += [f"- {e}" for e in items]
    lines += ["", "## Commands", ""]
    lines += [f"    {c}" for c in results["commands"]]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Compare TCL's default and best-of-N random schedules "
        "with LibTorch and the FP32 FMA peak on matmul 1024^3 and three "
        "ResNet-50 3x3 convs.")
    parser.add_argument("--build-dir", type=Path, default=REPO / "build",
                        help="TCL build directory with bin/tcl-run "
                        "(default: %(default)s)")
    parser.add_argument("--samples", type=int, default=200,
                        help="random schedules per task (default: 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts (default: 1 2)")
    parser.add_argument("--out", type=Path, default=HERE / "out",
                        help="output directory (default: %(default)s)")
    parser.add_argument("--torch-ref", type=Path,
                        help="tcl-torch-ref binary (default: BUILD/bin/)")
    parser.add_argument("--fma-peak", type=Path,
                        help="tcl-fma-peak binary (default: BUILD/bin/)")
    parser.add_argument("--reuse-tcl", action="store_true",
                        help="reuse OUT/tcl_run_tN.json from an earlier run "
                        "instead of running tcl-run")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per tcl-run (default: none)")
    args = parser.parse_args(argv)

    bin_dir = args.build_dir / "bin"
    tcl_run = bin_dir / "tcl-run"
    tcl_opt = bin_dir / "tcl-opt"
    torch_ref = args.torch_ref or bin_dir / "tcl-torch-ref"
    fma_bin = args.fma_peak or bin_dir / "tcl-fma-peak"
    args.out.mkdir(parents=True, exist_ok=True)
    mlir = args.out / "space_quality.mlir"
    write_input(mlir)

    errors: list[str] = []
    commands: list[str] = []
    tcl: dict[int, dict[str, Any]] = {}
    torch: dict[int, dict[str, Any]] = {}
    fma: dict[int, dict[str, Any]] = {}
    keys = task_keys(tcl_opt, mlir)
    load: dict[str, list[float]] = {"start": list(os.getloadavg())}
    for threads in args.threads:
        json_path = args.out / f"tcl_run_t{threads}.json"
        try:
            if args.reuse_tcl:
                tcl[threads] = json.loads(json_path.read_text("utf-8"))
            else:
                commands.append(
                    f"{tcl_run} {mlir} --target=cpu,threads={threads} "
                    f"--samples={args.samples} --seed={args.seed} "
                    f"--json={json_path} " + " ".join(TCL_TIMING))
                tcl[threads] = run_tcl(tcl_run, mlir, threads, args.samples,
                                       args.seed, args.out, args.timeout)
        except (OSError, RuntimeError, ValueError,
                subprocess.TimeoutExpired) as e:
            errors.append(f"tcl-run, {threads} threads: {e}")
        for name, binary, store in (("tcl-torch-ref", torch_ref, torch),
                                    ("tcl-fma-peak", fma_bin, fma)):
            cmd = [str(binary), "--threads", str(threads)]
            commands.append(" ".join(cmd))
            try:
                store[threads] = run_json(cmd, timeout=600)
            except (OSError, RuntimeError, ValueError,
                    subprocess.TimeoutExpired) as e:
                errors.append(f"{name}, {threads} threads: {e}")
        load[f"after_threads_{threads}"] = list(os.getloadavg())

    rows = build_rows(args.threads, tcl, keys, torch, fma)
    warnings = contention_warnings(fma)
    tcl_platform = next(iter(tcl.values()), {}).get("platform", {})
    torch_version = next(iter(torch.values()), {}).get("torch_version", "-")
    results = {
        "benchmark": "space_quality",
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "machine": {
            "cpu_model": tcl_platform.get("cpu_model") or cpu_model(),
            "hardware_threads": os.cpu_count(),
            "system": f"{platform.system()} {platform.release()}",
            "blas": blas_library(),
        },
        "git_revision": git_revision(),
        "torch_version": torch_version,
        "threads": args.threads,
        "samples": next(iter(tcl.values()), {}).get("samples",
                                                     args.samples),
        "seed": args.seed,
        "workload_keys": keys,
        "rows": rows,
        "errors": errors,
        "warnings": warnings,
        "load_average": load,
        "commands": commands,
        "raw": {"tcl": tcl, "torch": torch, "fma": fma},
    }
    (args.out / "results.json").write_text(
        json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(render_markdown(results),
                                         encoding="utf-8")

    m = results["machine"]
    print(f"\nspace_quality on {m['cpu_model']} "
          f"({m['hardware_threads']} hardware threads), "
          f"threads {args.threads}, {results['samples']} samples, "
          f"{results['date']}")
    print(text_table(HEADER, [row_cells(r) for r in rows]))
    print()
    print(text_table(THROUGHPUT_HEADER, throughput_rows(tcl)))
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    print(f"\nwrote {args.out / 'results.json'} and "
          f"{args.out / 'results.md'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
