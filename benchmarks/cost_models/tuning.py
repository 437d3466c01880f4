#!/usr/bin/python3
"""Tuning with pretrained cost models: trials to reach the same latency.

Tunes one network (default: BERT-tiny, imported from ONNX, 2 threads) with
``tcl-tune --trials=N`` once per cost model, each from an empty database, and
reads from each database the estimated end-to-end latency after every trial:
sum over tasks of (instances in the network) x (best median latency measured
so far), defined once every task has a measurement. The target latency is
the worst of the models' final latencies (a latency every model reached);
for each model the benchmark reports the trials it needed to reach it and
that count relative to the baseline model's (``--baseline``, default mlp:
TCL's comparison is against the TenSet MLP). Writes ``out-tuning/results.json``
and ``results.md`` and, with matplotlib, ``curve.png``.

Models are ``tcl-tune --cost-model`` values, e.g.
``xgb``, ``mamba:models/cpu-avx512-t2.mamba.pt``,
``mlp:models/cpu-avx512-t2.mlp.pt``, optionally named ``NAME=VALUE`` (the
name, by default the kind, names the database and the curve; two models of
one kind need names). One run per model; the machine is
shared, so the comparison is only as good as the run-to-run noise (the
script prints the final latencies so the spread can be judged).

Usage::

    /usr/bin/python3 benchmarks/cost_models/tuning.py --trials 300 \\
        --models xgb,mamba:models/cpu-avx512-t2.mamba.pt,mlp:models/cpu-avx512-t2.mlp.pt
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]


def run(cmd: list[str], log: Path) -> str:
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=f,
                              text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}; "
                           f"see {log}")
    return proc.stdout


def task_weights(tcl_opt: Path, network: Path) -> dict[str, int]:
    """Workload key -> instances in the network (tcl.task annotations)."""
    out = subprocess.run([str(tcl_opt), str(network), "--tcl-extract-tasks"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    weights: dict[str, int] = {}
    for key in re.findall(r'tcl\.task = "(\w+)"', out):
        weights[key] = weights.get(key, 0) + 1
    return weights


def latency_curve(db: Path, weights: dict[str, int]) -> list[Optional[float]]:
    """Estimated end-to-end latency (s) after each trial, in file order;
    None until every task has a successful measurement."""
    best: dict[str, float] = {}
    points: list[Optional[float]] = []
    for line in db.read_text("utf-8").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if r.get("type") != "measure":
            continue
        k = r["workload"]
        if r.get("error") == "none" and r.get("median_s", 0) > 0:
            best[k] = min(best.get(k, float("inf")), r["median_s"])
        points.append(sum(w * best[k] for k, w in weights.items())
                      if all(k in best for k in weights) else None)
    return points


def trials_to_reach(points: list[Optional[float]], target: float) -> Optional[int]:
    for i, p in enumerate(points):
        if p is not None and p <= target * (1 + 1e-9):
            return i + 1
    return None


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--network", type=Path,
                   default=REPO / "examples/networks/bert_tiny.mlir",
                   help="imported network (brought to fused Linalg with "
                        "tcl-opt --tcl-preprocess first)")
    p.add_argument("--models", default="xgb,mlp,mamba",
                   help="comma-separated tcl-tune --cost-model values")
    p.add_argument("--baseline", default="mlp",
                   help="name of the model the trial counts are compared "
                        "with (default mlp)")
    p.add_argument("--trials", type=int, default=300)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--build-dir", type=Path, default=REPO / "build")
    p.add_argument("--out", type=Path,
                   default=Path(__file__).parent / "out-tuning")
    args = p.parse_args(argv)

    bin_dir = args.build_dir / "bin"
    for tool in ("tcl-opt", "tcl-tune"):
        if not (bin_dir / tool).exists():
            p.error(f"{bin_dir / tool} not found: build TCL first")
    if not args.network.exists():
        p.error(f"{args.network} not found")
    args.out.mkdir(parents=True, exist_ok=True)
    network = args.out / "network.mlir"
    subprocess.run([str(bin_dir / "tcl-opt"), str(args.network),
                    "--tcl-preprocess", "-o", str(network)], check=True)
    weights = task_weights(bin_dir / "tcl-opt", network)
    target = f"cpu,threads={args.threads}"

    results: list[dict[str, Any]] = []
    names: set[str] = set()
    for entry in [m for m in args.models.split(",") if m]:
        name, named, model = entry.partition("=")
        if not named:
            name, model = entry.split(":")[0], entry
        if name in names:
            p.error(f"--models: two models named '{name}': name them "
                    "NAME=VALUE")
        names.add(name)
        db = args.out / f"{name}.jsonl"
        db.unlink(missing_ok=True)
        cmd = [str(bin_dir / "tcl-tune"), str(network), f"--target={target}",
               f"--trials={args.trials}", f"--cost-model={model}",
               f"--database={db}", f"--seed={args.seed}"]
        start = datetime.datetime.now()
        run(cmd, args.out / f"{name}.log")
        seconds = (datetime.datetime.now() - start).total_seconds()
        points = latency_curve(db, weights)
        results.append({"model": model, "name": name, "command": " ".join(cmd),
                        "tune_seconds": seconds, "curve_s": points,
                        "final_s": next((x for x in reversed(points)
                                         if x is not None), None)})
    finals = [r["final_s"] for r in results if r["final_s"] is not None]
    target_s = max(finals) if finals else None
    base = next((r for r in results if r["name"] == args.baseline), None)
    for r in results:
        r["trials_to_target"] = (trials_to_reach(r["curve_s"], target_s)
                                 if target_s else None)
    base_trials = base["trials_to_target"] if base else None
    for r in results:
        t = r["trials_to_target"]
        r["trials_vs_baseline"] = (base_trials / t if base_trials and t
                                   else None)

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "network": str(args.network), "tasks": len(weights),
            "trials": args.trials, "threads": args.threads,
            "target_latency_s": target_s, "baseline": args.baseline,
            "cpu_count": os.cpu_count()}
    (args.out / "results.json").write_text(
        json.dumps({"meta": meta, "models": results}, indent=2), "utf-8")
    lines = ["# Tuning with pretrained cost models", "",
             f"- Date: {meta['date']}", f"- Network: {args.network.name} "
             f"({len(weights)} tasks), {args.trials} trials per model, "
             f"{args.threads} threads", "- Target: the worst final "
             f"estimated latency, {target_s * 1e3:.3f} ms" if target_s else
             "- Target: none (no model measured every task)", "",
             "| cost model | final ms | trials to target | "
             f"{args.baseline} trials / model trials | tuning s |",
             "|---|---:|---:|---:|---:|"]
    for r in results:
        final = f"{r['final_s'] * 1e3:.3f}" if r["final_s"] else "-"
        ratio = (f"{r['trials_vs_baseline']:.2f}x"
                 if r["trials_vs_baseline"] else "-")
        lines.append(f"| {r['model']} | {final} | "
                     f"{r['trials_to_target'] or '-'} | {ratio} | "
                     f"{r['tune_seconds']:.0f} |")
    (args.out / "results.md").write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for r in results:
            xs = [i + 1 for i, x in enumerate(r["curve_s"]) if x is not None]
            ys = [x * 1e3 for x in r["curve_s"] if x is not None]
            ax.plot(xs, ys, label=r["name"])
        ax.set_xlabel("trials")
        ax.set_ylabel("estimated end-to-end latency (ms)")
        ax.set_title(f"{args.network.stem}, {args.threads} threads")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.out / "curve.png", dpi=120)
    except ImportError:
        print("matplotlib not installed: no curve.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
