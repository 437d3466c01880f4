#!/usr/bin/python3
"""Continual benchmark: one cost model carried along a platform sequence.

For a sequence of platforms P1, P2, ... (``--platforms``, ids as in the
records), every method of ``tcl-distill`` trains one model per stage:

- ``ckd``: continual knowledge distillation from the previous stage's model,
- ``finetune``: the previous stage's model fine-tuned on the new sample,
- ``scratch``: a fresh model on the new sample only,
- ``mtl``: a fresh model on every platform's data so far (needs all data),

all starting from the same P1 model (trained from scratch on P1's data).
After each stage, ``tcl-distill`` scores the model on the held-out networks
(``--test-manifest``) of every platform it has learned, which fills one row
of a matrix: top-1 on platform j after stage i. Repeated for ``--seeds``;
the table gives mean and spread. Writes results.json, results.md and
heatmap.png to ``--out``; runs already there are reused (resumable).

Each platform's labelled data are its records in ``--database`` outside
the held-out tasks, or those of ``--train P=FILE`` (e.g. a
``tcl-dataset --sampler=rdu --budget=0.1`` collection); the script writes
the combined database it trains on to ``--out``.

Targets (issue 7): on each new platform CKD beats fine-tuning and scratch
and matches or beats MTL; on earlier platforms CKD loses at most 2 points of
top-1; parameters do not grow.

Usage (the three shipped platforms; unpack the .jsonl.xz files first)::

    /usr/bin/python3 benchmarks/continual/run.py \\
        --database data/cpu-avx512-t2/dataset.jsonl \\
        --database data/cpu-avx2-t2/dataset.jsonl \\
        --test-manifest data/cpu-avx512-t2/eval.manifest.json \\
        --platforms 'cpu:avx512,threads=2@Intel(R) Xeon(R) Processor;cpu:avx512,threads=2@AMD EPYC;cpu:avx2,threads=2@AMD EPYC' \\
        --train 'cpu:avx512,threads=2@AMD EPYC=data/cpu-avx512-t2/amd-rdu10.jsonl' \\
        --train 'cpu:avx2,threads=2@AMD EPYC=data/cpu-avx2-t2/rdu10.jsonl' \\
        --first-max-per-task 32 --threads 1
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import hashlib
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
METHODS = ("ckd", "finetune", "scratch", "mtl")
# tcl-distill's own defaults (kContinualDefaults in Distill.h).
MAMBA_S = '{"d_model":32,"d_state":8,"input_norm":1,"platform_film":1}'


def tag_of(platform: str) -> str:
    return hashlib.sha1(platform.encode()).hexdigest()[:8]


def run_stage(args: argparse.Namespace, method: str, stage: int, seed: int,
              platforms: list[str], train: dict[str, str],
              previous: Optional[Path]) -> dict[str, Any]:
    """One tcl-distill call; returns its JSON summary (cached in --out)."""
    name = f"s{seed}-stage{stage + 1}-{method if stage else 'first'}"
    model = args.out / f"{name}.pt"
    summary = args.out / f"{name}.json"
    if summary.exists() and model.exists() and not args.force:
        return json.loads(summary.read_text("utf-8"))
    platform = platforms[stage]
    cmd = [str(args.build_dir / "bin" / "tcl-distill"),
           f"--train={train[platform]}", f"--platform={platform}",
           f"--test-manifest={args.test_manifest}",
           f"--eval-database={args.database}",
           f"--epochs={args.epochs}", f"--seed={seed}",
           f"--torch-threads={args.threads}", f"--unlabeled={args.unlabeled}",
           f"--alpha={args.alpha}", f"--beta={args.beta}",
           f"--gamma={args.gamma}", f"-o={model}", f"--json={summary}"]
    if stage > 0 and method in ("ckd", "finetune"):
        cmd.append(f"--new-slot={args.new_slot}")
    if stage > 0 and args.valid_fraction > 0:
        cmd.append(f"--valid-fraction={args.valid_fraction}")
    if stage == 0 or method in ("scratch", "mtl"):
        cmd.append(f"--config={args.config}")
    if stage == 0:
        pass
    elif method == "mtl":
        cmd.append("--method=mtl")
        cmd += [f"--mtl-platform={p}" for p in platforms[:stage]]
    else:
        cmd += [f"--method={method}", f"--from={previous}"]
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    with open(args.out / f"{name}.log", "w", encoding="utf-8") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        summary.unlink(missing_ok=True)
        return {"error": f"tcl-distill exited with {rc}; see {name}.log"}
    return json.loads(summary.read_text("utf-8"))


def derive_database(args: argparse.Namespace, first: str,
                    overrides: dict[str, str]) -> Path:
    """The benchmark's database: the --database files, concatenated, with at most
    --first-max-per-task records per training task of `first`, and, for each
    platform of `overrides`, its training records replaced by those of the
    given file (held-out tasks keep --database's records)."""
    name = f"database-first{args.first_max_per_task}"
    if len(args.database) > 1:
        name += "-" + tag_of(json.dumps([str(d) for d in args.database]))
    if overrides:
        name += "-" + tag_of(json.dumps(sorted(overrides.items())))
    out = args.out / f"{name}.jsonl"
    if out.exists() and not args.force:
        return out
    held = {t["key"] for t in json.loads(
        args.test_manifest.read_text("utf-8"))["tasks"]}
    kept: dict[str, int] = {}
    workloads: set[str] = set()

    def keep(r: dict[str, Any], override: Optional[str]) -> bool:
        """Whether record `r` goes to the derived database; `override` is
        the platform whose training records the file being read supplies
        (None for --database)."""
        if r.get("type") == "workload":
            if r["key"] in workloads:
                return False
            workloads.add(r["key"])
            return True
        if r.get("type") != "measure":
            return True
        training = r["workload"] not in held
        if override is not None:
            return training and r["platform"] == override
        if training and r["platform"] in overrides:
            return False
        if training and r["platform"] == first and args.first_max_per_task:
            n = kept.get(r["workload"], 0)
            if n >= args.first_max_per_task:
                return False
            kept[r["workload"]] = n + 1
        return True

    sources = [(path, None) for path in args.database]
    sources += [(Path(path), platform) for platform, path in overrides.items()]
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as dst:
        for path, override in sources:
            with open(path, encoding="utf-8") as src:
                for line in src:
                    if keep(json.loads(line), override):
                        dst.write(line)
    tmp.rename(out)
    return out


def mean_top1(scores: dict[str, Any]) -> Optional[float]:
    values = [n["top1"] for n in scores.values()]
    return sum(values) / len(values) if values else None


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--database", type=Path, action="append", required=True,
                   help="records of every platform (held-out networks "
                        "fully measured on each); repeat to combine "
                        "databases (e.g. one per platform)")
    p.add_argument("--test-manifest", type=Path, required=True)
    p.add_argument("--platforms", required=True,
                   help="platform ids in sequence order, separated by ';'")
    p.add_argument("--train", action="append", default=[],
                   help="PLATFORM=FILE: that platform's training records "
                        "come from FILE (e.g. tcl-dataset --sampler=rdu "
                        "--budget=0.1) instead of --database, which keeps "
                        "its held-out records (default: all from "
                        "--database)")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--config", default=MAMBA_S,
                   help=f"mamba overrides (default {MAMBA_S})")
    p.add_argument("--first-max-per-task", type=int, default=0,
                   help="keep only the first N records per training task of "
                        "P1 (a derived database in --out; default: all)")
    p.add_argument("--unlabeled", type=int, default=64)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--beta", type=float, default=0.0)
    p.add_argument("--gamma", type=float, default=0.0,
                   help="tcl-distill --gamma: weight of the active column "
                   "(Progress & Compress) in CKD (default 0: none)")
    p.add_argument("--new-slot", choices=("copy", "zero"), default="zero",
                   help="tcl-distill --new-slot for ckd and finetune: the new "
                   "platform's slot starts from zero (default) or as a copy "
                   "of the previous platform's")
    p.add_argument("--valid-fraction", type=float, default=0.0,
                   help="tcl-distill --valid-fraction for every method from "
                   "stage 2 on: checkpoint selection on this fraction of the "
                   "new platform's labelled tasks, held out of its sample "
                   "(default 0: off; the first stage never uses it)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--jobs", type=int, default=1,
                   help="tcl-distill runs at a time (default 1); each seed's "
                   "first stage, then each (seed, method) chain of later "
                   "stages, is one job. With --threads 1 the models do not "
                   "depend on --jobs")
    p.add_argument("--force", action="store_true")
    p.add_argument("--build-dir", type=Path, default=REPO / "build")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = p.parse_args(argv)

    platforms = [x for x in args.platforms.split(";") if x]
    if len(platforms) < 2:
        p.error("--platforms needs at least two platforms")
    methods = [m for m in args.methods.split(",") if m]
    if any(m not in METHODS for m in methods):
        p.error(f"--methods: known are {', '.join(METHODS)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    args.out.mkdir(parents=True, exist_ok=True)
    overrides = {}
    for spec in args.train:
        pl, _, path = spec.rpartition("=")  # platform ids contain "="
        if pl not in platforms or not path:
            p.error(f"--train {spec!r}: expected PLATFORM=FILE for a "
                    "platform of --platforms")
        overrides[pl] = path
    if args.first_max_per_task or overrides or len(args.database) > 1:
        args.database = derive_database(args, platforms[0], overrides)
    else:
        args.database = args.database[0]
    train = {pl: str(args.database) for pl in platforms}
    if not (args.build_dir / "bin" / "tcl-distill").exists():
        p.error("tcl-distill not built (scripts/setup.sh)")
    args.out.mkdir(parents=True, exist_ok=True)

    def first(seed: int) -> list[dict[str, Any]]:
        result = run_stage(args, "first", 0, seed, platforms, train, None)
        return [{**result, "seed": seed, "method": "first", "stage": 1}]

    def chain(seed: int, method: str) -> list[dict[str, Any]]:
        """Stages 2, 3, ... of `method` from seed `seed`'s first model."""
        out = []
        previous = args.out / f"s{seed}-stage1-first.pt"
        for stage in range(1, len(platforms)):
            result = run_stage(args, method, stage, seed, platforms, train,
                               previous)
            out.append({**result, "seed": seed, "method": method,
                        "stage": stage + 1})
            previous = args.out / f"s{seed}-stage{stage + 1}-{method}.pt"
        return out

    # Runs in (seed, method, stage) order, whatever order they finish in.
    order = {m: i for i, m in enumerate(("first",) + tuple(methods))}
    runs: list[dict[str, Any]] = []

    def collect(futures: list[concurrent.futures.Future]) -> None:
        for future in concurrent.futures.as_completed(futures):
            runs.extend(future.result())
            runs.sort(key=lambda r: (seeds.index(r["seed"]),
                                     order[r["method"]], r["stage"]))
            write_results(args, platforms, methods, seeds, runs)

    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        collect([pool.submit(first, seed) for seed in seeds])
        collect([pool.submit(chain, seed, method)
                 for seed in seeds for method in methods])
    write_results(args, platforms, methods, seeds, runs)
    print((args.out / "results.md").read_text("utf-8"))
    return 0


def matrix(runs: list[dict[str, Any]], method: str, stage: int,
           platform: str) -> list[float]:
    """Top-1 on `platform` after `stage` of `method`, one per seed."""
    out = []
    for r in runs:
        m = r["method"]
        if r["stage"] != stage or "error" in r:
            continue
        if m != method and not (stage == 1 and m == "first"):
            continue
        value = mean_top1(r.get("scores", {}).get(platform, {}))
        if value is not None:
            out.append(value)
    return out


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {std:.3f}"


def write_results(args: argparse.Namespace, platforms: list[str],
                  methods: list[str], seeds: list[int],
                  runs: list[dict[str, Any]]) -> None:
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "database": str(args.database),
            "test_manifest": str(args.test_manifest),
            "platforms": platforms, "methods": methods, "seeds": seeds,
            "epochs": args.epochs, "config": args.config,
            "first_max_per_task": args.first_max_per_task,
            "unlabeled": args.unlabeled, "alpha": args.alpha,
            "beta": args.beta, "gamma": args.gamma, "new_slot": args.new_slot,
            "valid_fraction": args.valid_fraction, "threads": args.threads}
    cells = {}
    for method in methods:
        for stage in range(1, len(platforms) + 1):
            for j, platform in enumerate(platforms[:stage]):
                cells[f"{method}|{stage}|{j + 1}"] = matrix(
                    runs, method, stage, platform)
    goals = []
    for stage in range(2, len(platforms) + 1):
        new = platforms[stage - 1]
        ckd = matrix(runs, "ckd", stage, new)
        row = {"stage": stage, "platform": new,
               "ckd": statistics.fmean(ckd) if ckd else None}
        for other in ("finetune", "scratch", "mtl"):
            v = matrix(runs, other, stage, new)
            row[other] = statistics.fmean(v) if v else None
        zero = [mean_top1(r["zero_shot"]) for r in runs
                if r["method"] == "ckd" and r["stage"] == stage
                and r.get("zero_shot")]
        row["zero_shot"] = statistics.fmean(zero) if zero else None
        # Forgetting: earlier platforms right after learning them vs now.
        drops = []
        for j in range(stage - 1):
            learned = matrix(runs, "ckd", j + 1, platforms[j])
            now = matrix(runs, "ckd", stage, platforms[j])
            if learned and now:
                drops.append(statistics.fmean(learned) - statistics.fmean(now))
        row["ckd_max_drop_on_earlier"] = max(drops) if drops else None
        goals.append(row)
    params = sorted({r.get("parameters") for r in runs if "parameters" in r})
    (args.out / "results.json").write_text(json.dumps(
        {"meta": meta, "runs": runs, "cells": cells, "targets": goals,
         "parameter_counts": params}, indent=1) + "\n", "utf-8")

    short = [f"P{i + 1}" for i in range(len(platforms))]
    lines = ["# Continual learning across platforms", "",
             f"- Date: {meta['date']}", f"- Database: {meta['database']}",
             f"- Held out: {meta['test_manifest']}",
             f"- Model: mamba `{args.config}` with 8 platform slots, "
             f"{args.epochs} epochs, {args.threads} threads; seeds {seeds}",
             f"- CKD and fine-tuning: new platform slot {args.new_slot}\n"
             f"- CKD: alpha {args.alpha}, beta {args.beta}, gamma {args.gamma}, "
             f"{args.unlabeled} unlabelled programs per task", ""]
    for i, pl in enumerate(platforms):
        lines.append(f"- P{i + 1} = `{pl}`")
    lines += ["", "Mean top-1 over the held-out networks of each platform "
              "(mean ± std over seeds), after each stage:", ""]
    head = ["method", "after stage"] + short
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method in methods:
        for stage in range(1, len(platforms) + 1):
            row = [method, str(stage)]
            for j in range(len(platforms)):
                row.append(fmt(cells.get(f"{method}|{stage}|{j + 1}", []))
                           if j < stage else "")
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Targets:", ""]
    for g in goals:
        def f(x):
            return "-" if x is None else f"{x:.3f}"
        lines.append(
            f"- stage {g['stage']} (new platform P{g['stage']}): CKD "
            f"{f(g['ckd'])}, fine-tuning {f(g['finetune'])}, scratch "
            f"{f(g['scratch'])}, MTL {f(g['mtl'])}, zero-shot (the previous "
            f"model's last platform part, untrained on P{g['stage']}) "
            f"{f(g['zero_shot'])}; largest CKD drop on an "
            f"earlier platform {f(g['ckd_max_drop_on_earlier'])} (target <= "
            f"0.020)")
    lines.append(f"- parameter counts seen: {params}")
    seconds = {}
    for r in runs:
        if "train_seconds" in r:
            seconds.setdefault(r["method"], []).append(r["train_seconds"])
    lines.append("- training seconds (mean per stage): " + ", ".join(
        f"{m} {statistics.fmean(v):.0f}" for m, v in seconds.items()))
    labelled = {}
    for r in runs:
        if "labeled_programs" in r:
            labelled.setdefault((r["method"], r["stage"]), r["labeled_programs"])
    lines.append("- labelled programs per stage: " + ", ".join(
        f"{m} stage {s}: {n}" for (m, s), n in sorted(labelled.items())))
    (args.out / "results.md").write_text("\n".join(lines) + "\n", "utf-8")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3),
                             squeeze=False)
    for ax, method in zip(axes[0], methods):
        grid = [[statistics.fmean(cells.get(f"{method}|{s}|{j + 1}") or [0])
                 if j < s else float("nan") for j in range(len(platforms))]
                for s in range(1, len(platforms) + 1)]
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        for s in range(len(platforms)):
            for j in range(len(platforms)):
                if j <= s:
                    ax.text(j, s, f"{grid[s][j]:.2f}", ha="center",
                            va="center", color="white", fontsize=8)
        ax.set_xticks(range(len(platforms)), short)
        ax.set_yticks(range(len(platforms)),
                      [f"after {i + 1}" for i in range(len(platforms))]
                      if ax is axes[0][0] else [])
        ax.set_title(method)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="top-1")
    fig.savefig(args.out / "heatmap.png", dpi=120)


if __name__ == "__main__":
    sys.exit(main())
