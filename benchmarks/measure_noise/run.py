#!/usr/bin/python3
"""Measurement repeatability: the same programs timed in separate processes.

Every tcl-dataset record is one child process (lib/Measure/Runner.cpp). A
record's own repeats can agree closely while the next process times the
same program 2x slower, e.g. when the OS stacks a kernel's two OpenMP
threads on one core; the within-record spread of
benchmarks/dataset_quality does not see that. This benchmark measures the
``--programs`` seeded programs of each ``--tasks`` workload ``--passes``
times per target (passes interleaved over the targets, so a busy period
hits every target alike), each pass a fresh ``tcl-dataset
--remeasure-before`` run into a scratch database, and reports per target
and task:

- across-pass spread: per program, max / min of its pass latencies
  (median_s); median and 90th percentile over programs;
- retest top-1: the best program of pass a, scored in pass b
  (best latency of b / b's latency of a's pick), mean over ordered pass
  pairs: what a perfect cost model would reach against a re-measured
  ground truth;
- the median program latency, and for each target after the first, its
  median latency ratio to the first target's, program by program.

Targets are tcl-dataset ``--target`` spellings; ``,bind`` pins the run-time
threads one per core (Target::bindThreads). Run it on a machine doing
nothing else. Prints a Markdown table; writes JSON and Markdown to
``--out``.

Usage::

    /usr/bin/python3 benchmarks/measure_noise/run.py \\
        --out docs/results --name measure_noise
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
# BERT-tiny's attention-output matmul, its GELU elementwise task and
# ResNet-50's most frequent 3x3 convolution: 0.1-10 ms, 5-100 us, ~1-10 ms.
TASKS = ("matmul_1fa065259976638f", "elementwise_0dc92c256107e458",
         "conv_2d_nhwc_hwcf_ca1b70a222b13bd2")
TARGETS = "cpu:avx512,threads=2;cpu:avx512,threads=2,bind"


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure_pass(args: argparse.Namespace, target: str, index: int,
                 database: Path, manifest: Path) -> None:
    """One pass: the first measures every program, later ones measure again
    every program recorded before the pass started."""
    # Record timestamps have whole seconds: start the pass in a later second
    # than the previous pass's last record.
    time.sleep(1.1)
    before = utc_now()
    time.sleep(1.1)
    networks = sorted(str(p) for p in args.networks.glob("*.mlir"))
    cmd = [str(args.build_dir / "bin" / "tcl-dataset"), *networks,
           f"--target={target}", f"--programs={args.programs}",
           f"--seed={args.seed}", f"--tasks-from={manifest}",
           f"--max-repeats={args.max_repeats}", f"--database={database}",
           f"--manifest={database.with_suffix('.manifest.json')}",
           f"--remeasure-before={before}"]
    print(f"pass {index + 1} {target}: " + " ".join(cmd), file=sys.stderr,
          flush=True)
    log = database.with_suffix(f".pass{index + 1}.log")
    with open(log, "w", encoding="utf-8") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        sys.exit(f"tcl-dataset exited with {rc}; see {log}")


def load(database: Path) -> dict[str, dict[str, list[float]]]:
    """task -> knobs (JSON text) -> median_s of each successful record, in
    file (time) order."""
    out: dict[str, dict[str, list[float]]] = {}
    with open(database, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") != "measure" or r["error"] != "none":
                continue
            out.setdefault(r["workload"], {}).setdefault(
                json.dumps(r["knobs"], sort_keys=True), []).append(r["median_s"])
    return out


def summarize(by_program: dict[str, list[float]], passes: int
              ) -> Optional[dict[str, Any]]:
    full = {k: v[:passes] for k, v in by_program.items() if len(v) >= passes}
    if len(full) < 2:
        return None
    spreads = [max(v) / min(v) for v in full.values()]
    top1 = []
    for a, b in itertools.permutations(range(passes), 2):
        pick = min(full, key=lambda k: full[k][a])
        top1.append(min(v[b] for v in full.values()) / full[pick][b])
    return {"programs": len(full),
            "spread_median": statistics.median(spreads),
            "spread_p90": quantile(spreads, 0.9),
            "retest_top1": statistics.fmean(top1),
            "latency_median_s": statistics.median(
                statistics.median(v) for v in full.values())}


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--tasks", default=",".join(TASKS),
                   help="workload keys, comma-separated (default: "
                        "three of the evaluation networks' tasks)")
    p.add_argument("--targets", default=TARGETS,
                   help=f"tcl-dataset targets, ';'-separated (default "
                        f"{TARGETS!r}); ratios are against the first")
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--programs", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-repeats", type=int, default=32,
                   help="tcl-dataset --max-repeats (default 32, as the "
                        "shipped datasets)")
    p.add_argument("--networks", type=Path,
                   default=REPO / "build" / "networks" / "eval",
                   help="directory of preprocessed MLIR files holding the "
                        "tasks (default build/networks/eval)")
    p.add_argument("--build-dir", type=Path, default=REPO / "build")
    p.add_argument("--work", type=Path,
                   default=Path(__file__).parent / "out",
                   help="scratch databases (default benchmarks/"
                        "measure_noise/out; removed and rewritten)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    p.add_argument("--name", default="results",
                   help="base name of the JSON and Markdown files")
    args = p.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    targets = [t for t in args.targets.split(";") if t]
    if args.passes < 2:
        p.error("--passes must be at least 2")
    if not tasks or not targets:
        p.error("--tasks and --targets must not be empty")
    if not (args.build_dir / "bin" / "tcl-dataset").exists():
        p.error("tcl-dataset not built (scripts/setup.sh)")

    args.work.mkdir(parents=True, exist_ok=True)
    manifest = args.work / "tasks.manifest.json"
    manifest.write_text(json.dumps(
        {"tasks": [{"key": t, "networks": {"measure_noise": 1}}
                   for t in tasks]}) + "\n", "utf-8")
    databases = []
    for i, target in enumerate(targets):
        db = args.work / f"target{i + 1}.jsonl"
        db.unlink(missing_ok=True)
        databases.append(db)
    started = time.monotonic()
    for index in range(args.passes):
        for target, db in zip(targets, databases):
            measure_pass(args, target, index, db, manifest)

    rows = []
    data = [load(db) for db in databases]
    for task in tasks:
        for i, target in enumerate(targets):
            row = summarize(data[i].get(task, {}), args.passes)
            if row is None:
                continue
            row.update({"task": task, "target": target})
            if i > 0:
                first, this = data[0].get(task, {}), data[i][task]
                ratios = [statistics.median(this[k]) / statistics.median(v)
                          for k, v in first.items() if k in this]
                row["latency_ratio_to_first"] = (
                    statistics.median(ratios) if ratios else None)
            rows.append(row)
    meta = {"date": utc_now(), "tasks": tasks, "targets": targets,
            "passes": args.passes, "programs": args.programs,
            "seed": args.seed, "max_repeats": args.max_repeats,
            "seconds": time.monotonic() - started}

    lines = [f"Measurement repeatability ({meta['date']}): {args.programs} "
             f"seeded programs per task, each measured in {args.passes} "
             f"separate tcl-dataset passes per target (max {args.max_repeats} "
             f"timed calls per record), {meta['seconds']:.0f} s.", "",
             "| task | target | programs | across-pass spread median | "
             "p90 | retest top-1 | median latency (us) | latency vs "
             "first target |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = r.get("latency_ratio_to_first")
        lines.append(
            f"| {r['task']} | `{r['target']}` | {r['programs']} | "
            f"{r['spread_median']:.2f} | {r['spread_p90']:.2f} | "
            f"{r['retest_top1']:.3f} | {r['latency_median_s'] * 1e6:.1f} | "
            f"{'-' if ratio is None else f'{ratio:.3f}'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n", "utf-8")
    (args.out / f"{args.name}.md").write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
