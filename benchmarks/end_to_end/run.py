#!/usr/bin/python3
"""End-to-end benchmark: whole evaluation networks, TCL vs PyTorch eager.

For each evaluation network (ResNet-50, MobileNet-V2, ResNeXt-50 32x4d,
BERT-base, BERT-tiny; batch 1; `--only` to restrict), on `--threads`
threads (default 2), in one run:

  1. PyTorch eager latency: the model object exactly as `tcl.export` builds
     it (seeded random weights, eval(), torch.no_grad()), torch.set_num_threads
     (and OMP/OpenBLAS thread counts) = threads, warm-up calls, then repeats
     until both --min-repeats and --min-seconds are reached; median and min.
     Its output on the fixed random input is the reference.
  2. TCL with default schedules: examples/networks/<net>.mlir through
     `tcl-opt --tcl-preprocess`, then `tcl-run --entry=forward
     --target=cpu,threads=N --inputs=ARGS --output=OUT.npy --json=...` on the
     same input and the same weights (the importer's .npz), so the timed run
     also gives the output that is checked against PyTorch (max abs error,
     max relative error = max abs error / max |reference|, tolerance 1e-3;
     the functions of tcl.check_model).
  3. TCL tuned, when a database is given (`--database DB` for every network,
     or `--database-dir DIR` holding <net>.jsonl): the same run with
     `--database` (best record per task, default schedule for tasks without
     one); the column is left out when no network has a database.

A network that fails in one step is recorded as "failed: <reason>" and the
run goes on with the next one. Writes OUT/results.json (every number, the
commands, machine, threads, date), OUT/results.md (the table) and
OUT/latency.png (grouped bar chart, matplotlib).

Usage:
  /usr/bin/python3 benchmarks/end_to_end/run.py
  /usr/bin/python3 benchmarks/end_to_end/run.py --only bert_tiny,mobilenet_v2
  /usr/bin/python3 benchmarks/end_to_end/run.py --database-dir tuned/
Needs python3-torch, python3-torchvision, python3-onnx, python3-numpy
(python3-matplotlib for the plot) and a built TCL (build/bin/tcl-opt,
tcl-run). Missing .npz weights are exported and imported into --weights-dir
first (minutes for BERT-base). Measure on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

# A 1-minute load average above this before the run marks the results as
# taken on a busy machine (other processes take time slices from the
# benchmark's threads; PyTorch's 2-thread eager calls then slow down 10-50x).
LOADED = 0.5

EVAL_NETWORKS = ["resnet50", "mobilenet_v2", "resnext50_32x4d", "bert_base",
                 "bert_tiny"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def short_reason(err: BaseException) -> str:
    """One line for the table: the first MLIR `error:` diagnostic of a
    tool's stderr, else its last line saying error/failed
    (check_model.CheckError carries the command line, then its stderr)."""
    if isinstance(err, subprocess.TimeoutExpired):
        return f"timed out after {err.timeout:.0f} s"
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    tail = lines[1:] or lines
    diagnostic = next((ln.split(" error: ", 1)[1] for ln in tail
                       if " error: " in ln), None)
    pick = diagnostic or next(
        (ln for ln in reversed(tail) if "error" in ln.lower()
         or "failed" in ln.lower()), tail[-1] if tail else repr(err))
    pick = pick.replace("|", "/")
    return pick if len(pick) <= 160 else pick[:157] + "..."


def torch_latency(model, x, warmup: int, min_repeats: int,
                  min_seconds: float) -> dict[str, Any]:
    """Median and min seconds of `model(x)` under no_grad."""
    import torch  # noqa: PLC0415
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        samples: list[float] = []
        while len(samples) < min_repeats or sum(samples) < min_seconds:
            start = time.perf_counter()
            model(x)
            samples.append(time.perf_counter() - start)
    return {"median_s": statistics.median(samples), "min_s": min(samples),
            "repeats": len(samples)}


def task_report(tcl_opt: Path, pre: Path) -> dict[str, Any]:
    """Tasks, distinct workload keys and GFLOP of a preprocessed module
    (`tcl-opt --tcl-extract-tasks=report=true`)."""
    proc = subprocess.run([str(tcl_opt), str(pre),
                           "--tcl-extract-tasks=report=true", "-o",
                           os.devnull], capture_output=True, text=True,
                          check=True)
    text = proc.stdout + proc.stderr
    total = re.search(r"(\d+) tasks, (\d+) distinct workloads, ([\d.]+) "
                      r"GFLOP in total", text)
    keys = sorted(set(re.findall(r"^(\w+_[0-9a-f]{16})\s", text, re.M)))
    return {"tasks": int(total[1]) if total else None,
            "workloads": int(total[2]) if total else len(keys),
            "gflop": float(total[3]) if total else None, "keys": keys}


def database_coverage(db: Path, keys: list[str]) -> int:
    """How many of `keys` have at least one successful measure record."""
    tuned = set()
    with open(db, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if r.get("type") == "measure" and r.get("error") == "none":
                tuned.add(r.get("workload"))
    return sum(k in tuned for k in keys)


def ensure_weights(spec, weights_dir: Path, work: Path) -> Path:
    """The importer's .npz for `spec` (argN = argument N of @forward);
    exported and imported when missing."""
    from tcl import export, onnx_import  # noqa: PLC0415
    npz = weights_dir / f"{spec.name}.npz"
    if npz.exists():
        return npz
    onnx_path = weights_dir / f"{spec.name}.onnx"
    if not onnx_path.exists():
        log(f"  exporting {spec.name} -> {onnx_path}")
        export.export_onnx(spec, str(onnx_path))
    log(f"  importing {onnx_path} -> {npz}")
    # The .mlir written here is thrown away: the checked-in
    # examples/networks/<net>.mlir is what runs; tcl-run rejects weights
    # whose shapes do not match its arguments.
    onnx_import.import_file(str(onnx_path), str(work / "imported.mlir"),
                            str(npz))
    return npz


def tcl_measure(pre: Path, args_dir: Path, work: Path, tag: str,
                reference, args: argparse.Namespace,
                database: Optional[Path], commands: list[str]
                ) -> dict[str, Any]:
    """One `tcl-run --entry=forward` on the real input and weights: timing
    from its JSON, and the error of its output against `reference`."""
    from tcl import check_model  # noqa: PLC0415
    out_npy = work / f"{tag}.npy"
    json_path = work / f"{tag}.json"
    target = f"cpu,threads={args.threads}"
    extra = [f"--json={json_path}", f"--min-repeats={args.min_repeats}",
             f"--min-repeat-seconds={args.min_seconds}",
             f"--warmup={args.warmup}", f"--timeout={args.call_timeout}"]
    tcl_run = args.build_dir / "bin" / "tcl-run"
    commands.append(" ".join(
        [str(tcl_run), str(pre), "--entry=forward", f"--inputs={args_dir}",
         f"--output={out_npy}"] + ([f"--database={database}"] if database
                                   else []) + [f"--target={target}"] + extra))
    actual = check_model.run_tcl(str(pre), str(args_dir), str(out_npy),
                                 str(tcl_run),
                                 str(database) if database else None,
                                 target, args.timeout, extra)
    abs_err, rel_err = check_model.compare(actual, reference)
    with open(json_path, encoding="utf-8") as f:
        j = json.load(f)
    return {"median_s": j["median_s"], "min_s": j["min_s"],
            "repeats": len(j.get("latencies", [])), "build_s": j["build_s"],
            "flops": j["flops"], "gflops": j["gflops"],
            "platform": j.get("platform", {}).get("target"),
            "max_abs_error": abs_err, "max_rel_error": rel_err,
            "ok": rel_err <= args.tolerance}


def bench_network(name: str, args: argparse.Namespace,
                  database: Optional[Path]) -> dict[str, Any]:
    """All measurements of one network; failures are recorded per step."""
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from tcl import check_model, zoo  # noqa: PLC0415
    spec = zoo.find(name)
    row: dict[str, Any] = {"network": name,
                           "input_shape": list(spec.input_shape),
                           "database": str(database) if database else None,
                           "commands": []}
    work = args.out / "work" / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    model = spec.build()
    x = spec.example_input()
    with torch.no_grad():
        reference = model(x).numpy()
    row["max_abs_reference"] = float(np.max(np.abs(reference)))
    log(f"  PyTorch eager ({args.threads} threads) ...")
    row["torch"] = torch_latency(model, x, args.warmup, args.min_repeats,
                                 args.min_seconds)
    log(f"  PyTorch: median {row['torch']['median_s'] * 1e3:.2f} ms")
    del model

    try:
        mlir = args.networks_dir / f"{name}.mlir"
        pre = work / f"{name}.pre.mlir"
        tcl_opt = args.build_dir / "bin" / "tcl-opt"
        row["commands"].append(f"{tcl_opt} {mlir} --tcl-preprocess -o {pre}")
        check_model.preprocess(str(mlir), str(pre), str(tcl_opt),
                               args.timeout)
        report = task_report(tcl_opt, pre)
        row.update(tasks=report["tasks"], workloads=report["workloads"],
                   gflop=report["gflop"])
        if database:
            row["tuned_workloads"] = database_coverage(database,
                                                       report["keys"])
        npz = ensure_weights(spec, args.weights_dir, work)
        args_dir = work / "args"
        check_model.write_arguments(str(args_dir), [x.numpy()], str(npz))
    except Exception as err:  # noqa: BLE001 - recorded, next network
        row["error"] = f"failed: {short_reason(err)}"
        row["error_detail"] = str(err)[-4000:]
        log(f"  {row['error']}")
        return row

    configs = [("default", None)] + ([("tuned", database)] if database
                                     else [])
    for tag, db in configs:
        log(f"  TCL {tag} schedules: tcl-run --entry=forward ...")
        try:
            row[tag] = tcl_measure(pre, args_dir, work, tag, reference, args,
                                   db, row["commands"])
            r = row[tag]
            log(f"  TCL {tag}: median {r['median_s'] * 1e3:.2f} ms (build "
                f"{r['build_s']:.1f} s), max rel error "
                f"{r['max_rel_error']:.2e} {'OK' if r['ok'] else 'FAIL'}")
        except Exception as err:  # noqa: BLE001 - recorded, go on
            row[tag] = {"error": f"failed: {short_reason(err)}",
                        "error_detail": str(err)[-4000:]}
            log(f"  TCL {tag}: {row[tag]['error']}")
    if not args.keep_work:
        shutil.rmtree(args_dir, ignore_errors=True)
        for npy in work.glob("*.npy"):
            npy.unlink()
    return row


def database_for(name: str, args: argparse.Namespace) -> Optional[Path]:
    if args.database:
        return args.database
    if args.database_dir:
        db = args.database_dir / f"{name}.jsonl"
        return db if db.exists() else None
    return None


def ms(r: Optional[dict[str, Any]]) -> Optional[float]:
    return r["median_s"] * 1e3 if r and "median_s" in r else None


def write_markdown(result: dict[str, Any], path: Path) -> str:
    tuned = result["tuned_column"]
    head = ["network", "GFLOP", "PyTorch ms", "TCL default ms"]
    if tuned:
        head.append("TCL tuned ms")
    head.append("default vs PyTorch")
    if tuned:
        head.append("tuned vs PyTorch")
    head.append("max rel error")
    lines = ["# End-to-end latency: TCL vs PyTorch eager", "",
             f"- Date: {result['date']}",
             f"- Machine: {result['machine']}",
             f"- Threads: {result['threads']}; batch 1, f32",
             f"- Load average (1 min) before the run: "
             f"{result['load_average']:.2f}" + (
                 " -- the machine was busy: the timings (PyTorch's 2-thread "
                 "OpenMP ones above all) are not reliable"
                 if result["load_average"] > LOADED else ""),
             f"- PyTorch {result['torch_version']} eager, no_grad, "
             f"{result['torch_threads']} intra-op threads",
             f"- Median of >= {result['min_repeats']} calls and >= "
             f"{result['min_seconds']} s after {result['warmup']} warm-up "
             "calls (both sides); speedup = PyTorch ms / TCL ms",
             f"- Correctness: TCL output vs PyTorch on the same input and "
             f"weights, max |diff| / max |reference|, tolerance "
             f"{result['tolerance']:g}", "",
             "| " + " | ".join(head) + " |",
             "|---|" + "---:|" * (len(head) - 1)]

    def cell(v: Optional[float], fmt: str = "{:.2f}") -> str:
        return fmt.format(v) if v is not None else "-"

    for row in result["networks"]:
        torch_ms = ms(row.get("torch"))
        cells = [row["network"], cell(row.get("gflop"), "{:.2f}"),
                 cell(torch_ms)]
        if "error" in row:
            cells += [row["error"]] + (["-"] if tuned else [])
            cells += ["-"] * (2 if tuned else 1) + ["-"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        runs = [row.get("default")] + ([row.get("tuned")] if tuned else [])
        for label, r in zip(("default", "tuned"), runs):
            if r is None:
                cells.append("no database")
            elif "error" in r:
                cells.append(r["error"])
            elif label == "tuned" and row.get("workloads"):
                cells.append(f"{cell(ms(r))} ({row.get('tuned_workloads')}/"
                             f"{row['workloads']} workloads tuned)")
            else:
                cells.append(cell(ms(r)))
        for r in runs:
            t = ms(r)
            cells.append(f"{torch_ms / t:.2f}x" if t and torch_ms else "-")
        errors = []
        for label, r in zip(("default", "tuned"), runs):
            if r and "max_rel_error" in r:
                mark = "" if r["ok"] else " FAIL"
                errors.append(f"{r['max_rel_error']:.1e}{mark}"
                              if len(runs) == 1 else
                              f"{label} {r['max_rel_error']:.1e}{mark}")
        cells.append(", ".join(errors) or "-")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Commands", ""]
    lines += ["    " + c for row in result["networks"]
              for c in row.get("commands", [])]
    text = "\n".join(lines) + "\n"
    path.write_text(text, "utf-8")
    return text


def plot(result: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib  # noqa: PLC0415
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        log("matplotlib missing: no latency.png")
        return
    series = [("PyTorch eager", "torch"), ("TCL default", "default")]
    if result["tuned_column"]:
        series.append(("TCL tuned", "tuned"))
    rows = result["networks"]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(rows)), 4))
    width = 0.8 / len(series)
    for i, (label, key) in enumerate(series):
        values = [ms(row.get(key)) for row in rows]
        xs = [j + (i - (len(series) - 1) / 2) * width
              for j in range(len(rows))]
        ax.bar(xs, [v or 0 for v in values], width, label=label)
        for x, row, v in zip(xs, rows, values):
            # A failed network or run gets a mark where its bar would be; a
            # network without a database gets nothing.
            if v is None and ("error" in row or
                              "error" in (row.get(key) or {})):
                ax.annotate("failed", (x, 0.02), xycoords=("data",
                                                          "axes fraction"),
                            ha="center", va="bottom", fontsize=8,
                            rotation=90)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([row["network"] for row in rows], rotation=15)
    ax.set_ylabel("latency (ms, median; log scale)")
    ax.set_yscale("log")
    ax.set_title(f"End to end, batch 1, {result['threads']} threads "
                 f"({result['date'][:10]})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated networks (default: all "
                   "five: " + ",".join(EVAL_NETWORKS) + ")")
    p.add_argument("--threads", type=int, default=2,
                   help="threads for PyTorch and for TCL "
                   "(--target=cpu,threads=N; default %(default)s)")
    db = p.add_mutually_exclusive_group()
    db.add_argument("--database", type=Path, help="tuning database (JSON "
                    "Lines) applied to every network for the tuned column")
    db.add_argument("--database-dir", type=Path, help="directory of "
                    "per-network databases <network>.jsonl for the tuned "
                    "column; networks without one get no tuned run")
    p.add_argument("--build-dir", type=Path, default=REPO / "build",
                   help="TCL build with bin/tcl-opt and bin/tcl-run "
                   "(default: %(default)s)")
    p.add_argument("--networks-dir", type=Path,
                   default=REPO / "examples" / "networks",
                   help="imported networks <network>.mlir "
                   "(default: %(default)s)")
    p.add_argument("--weights-dir", type=Path, default=REPO / "build" /
                   "onnx", help="the importer's weights <network>.npz (and "
                   "ONNX cache); missing ones are exported and imported "
                   "(default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out",
                   help="output directory (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2,
                   help="untimed calls before timing, PyTorch and "
                   "tcl-run (default %(default)s)")
    p.add_argument("--min-repeats", type=int, default=10,
                   help="timed calls at least, PyTorch and tcl-run "
                   "(default %(default)s)")
    p.add_argument("--min-seconds", type=float, default=1.0,
                   help="timed seconds at least, PyTorch and tcl-run "
                   "--min-repeat-seconds (default %(default)s)")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="max relative error of TCL vs PyTorch "
                   "(default %(default)g, tcl.check_model's)")
    p.add_argument("--timeout", type=float, default=3600,
                   help="seconds per tool invocation (tcl-opt, tcl-run "
                   "including its build; default %(default)g)")
    p.add_argument("--call-timeout", type=float, default=120,
                   help="tcl-run --timeout: seconds one run of the compiled "
                   "network may take (default %(default)g)")
    p.add_argument("--keep-work", action="store_true",
                   help="keep the argument .npy files and outputs in "
                   "OUT/work/<network>/ (large for BERT-base)")
    args = p.parse_args(argv)

    names = [n for n in (args.only or ",".join(EVAL_NETWORKS)).split(",")
             if n]
    unknown = [n for n in names if n not in EVAL_NETWORKS]
    if unknown:
        p.error(f"not an evaluation network: {', '.join(unknown)} (known: "
                f"{', '.join(EVAL_NETWORKS)})")
    if args.database and not args.database.exists():
        p.error(f"--database {args.database} does not exist")
    if args.database_dir and not args.database_dir.is_dir():
        p.error(f"--database-dir {args.database_dir} is not a directory")
    for tool in ("tcl-opt", "tcl-run"):
        if not (args.build_dir / "bin" / tool).exists():
            p.error(f"{args.build_dir / 'bin' / tool} not found "
                    "(--build-dir)")

    # Before numpy/torch load OpenMP and OpenBLAS: their pools read these.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        log("end_to_end: python3-torch is not installed "
            "(apt-get install python3-torch python3-torchvision)")
        return 1
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    args.weights_dir.mkdir(parents=True, exist_ok=True)

    result: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, "
                   f"{os.cpu_count()} CPUs",
        "threads": args.threads, "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "warmup": args.warmup, "min_repeats": args.min_repeats,
        "min_seconds": args.min_seconds, "tolerance": args.tolerance,
        "load_average": os.getloadavg()[0], "networks": []}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f
                          if ln.startswith("model name")), None)
        if model:
            result["machine"] = f"{model}, {os.cpu_count()} CPUs"
    except OSError:
        pass

    start = time.time()
    for i, name in enumerate(names, 1):
        database = database_for(name, args)
        log(f"[{i}/{len(names)}] {name}" +
            (f" (database {database})" if database else ""))
        t0 = time.time()
        load = os.getloadavg()[0]
        try:
            row = bench_network(name, args, database)
        except Exception as err:  # noqa: BLE001 - e.g. PyTorch itself
            row = {"network": name, "error": f"failed: {short_reason(err)}",
                   "error_detail": str(err)[-4000:]}
            log(f"  {row['error']}")
        row["wall_s"] = time.time() - t0
        row["load_average"] = load
        result["networks"].append(row)
        # Written after every network, so a long run leaves partial results.
        result["tuned_column"] = any(r.get("database")
                                     for r in result["networks"])
        (args.out / "results.json").write_text(json.dumps(result, indent=2))
    result["wall_s"] = time.time() - start
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    text = write_markdown(result, args.out / "results.md")
    plot(result, args.out / "latency.png")
    print(text)
    log(f"wrote {args.out}/results.json, results.md, latency.png "
        f"({result['wall_s']:.0f} s)")
    failed = [r["network"] for r in result["networks"] if "error" in r or
              any(isinstance(r.get(k), dict) and (
                  "error" in r[k] or not r[k].get("ok", True))
                  for k in ("default", "tuned"))]
    if failed:
        log("failed or wrong: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
