#!/usr/bin/python3
"""Sampling benchmark: which programs to measure, in simulation mode.

On a fully measured dataset (every program of every task has a measure
record), each strategy of ``tcl-sample`` (rdu, random, uncertainty,
diversity, representativeness) chooses a fraction (``--budgets``) of the
training programs, the tasks of the held-out networks (``--test-manifest``)
excluded; then ``tcl-train`` trains the evaluated model (default: mamba in
tcl-train's default architecture, the shipped configuration) on just the
chosen records and scores TenSet's top-1 / top-5 on the held-out networks,
whose records come from the full dataset (``tcl-train --eval-database``).
The same model trained on 100% of the training programs is the reference.
Every (strategy, budget, seed) is one run, with ``--seed`` for the sampler;
its evaluated model is trained ``--train-seeds`` times (seeds seed, seed +
1000, ...) on the same selection and the run scores their mean, because one
training's top-1 moves by up to ~0.2 with its seed alone
(docs/results/sampling-v4-rounds.md). The table gives
mean and spread (sample standard deviation) over the seeds.

The sampler's own models (the ensemble that embeds the pool and measures
disagreement each round) are ``--sampler-model`` (default mamba, the tools'
default: the 12 trainings of a 10% selection take ~220 s on 1 thread, mlp
~29 s; they grow with the budget).

Runs whose summaries are in ``--out`` are reused (``--force`` redoes them),
so an interrupted benchmark resumes; results.json / results.md / curve.png
are rewritten after every run. Runs go budget by budget (the order of
``--budgets``, then 100%), so a partial run already answers for the first
budget.

Targets (issue 6): RDU at 10% reaches at least 97% of the full-data top-1 and
beats random at 10% on every seed.

Usage::

    /usr/bin/python3 benchmarks/sampling/run.py \\
        --database data/cpu-avx512-t2/dataset.jsonl \\
        --test-manifest data/cpu-avx512-t2/eval.manifest.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
STRATEGIES = ("rdu", "random", "uncertainty", "diversity",
              "representativeness")


def run_logged(cmd: list[str], log: Path) -> int:
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    with open(log, "w", encoding="utf-8") as f:
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode


def mean_over_networks(summary: dict[str, Any], key: str) -> float:
    scores = [s[key] for s in summary["scores"].values()]
    return sum(scores) / len(scores)


def one_run(args: argparse.Namespace, bin_dir: Path, strategy: str,
            budget: float, seed: int) -> dict[str, Any]:
    """Samples (unless budget is 1) and trains; returns the run's record."""
    name = "full" if budget >= 1 else f"{strategy}-{budget:g}"
    tag = f"{name}-s{seed}"
    record_path = args.out / f"{tag}.run.json"
    if record_path.exists() and not args.force:
        record = json.loads(record_path.read_text("utf-8"))
        # Records of runs before --train-seeds trained one model.
        if record.get("train_seeds", 1) == args.train_seeds:
            return record
    run: dict[str, Any] = {"strategy": "full" if budget >= 1 else strategy,
                           "budget": min(budget, 1.0), "seed": seed,
                           "train_seeds": args.train_seeds}
    train_db = args.database
    if budget < 1:
        selection = args.out / f"{tag}.jsonl"
        sample_json = args.out / f"{tag}.sample.json"
        # tcl-sample writes its JSON summary last: with it, the selection
        # is complete and is reused (e.g. when only --train-seeds changed).
        if args.force or not (sample_json.exists() and selection.exists()):
            base, *extra = args.variants.get(strategy, strategy).split()
            cmd = [str(bin_dir / "tcl-sample"), f"--database={args.database}",
                   f"--test-manifest={args.test_manifest}",
                   f"--strategy={base}", *extra, f"--budget={budget}",
                   f"--rounds={args.rounds}", f"--ensemble={args.ensemble}",
                   f"--model={args.sampler_model}",
                   f"--epochs={args.sampler_epochs}",
                   f"--torch-threads={args.threads}", f"--seed={seed}",
                   f"-o={selection}", f"--json={sample_json}", "--force"]
            if args.sampler_config:
                cmd.append(f"--config={args.sampler_config}")
            sample_json.unlink(missing_ok=True)
            start = time.monotonic()
            rc = run_logged(cmd, args.out / f"{tag}.sample.log")
            if rc != 0:
                run["error"] = (f"tcl-sample exited with {rc}; see "
                                f"{tag}.sample.log")
                return run
            wall = time.monotonic() - start
        else:
            wall = None
        sample = json.loads(sample_json.read_text("utf-8"))
        run["selected"] = sample["selected"]
        run["pool_programs"] = sample["pool_programs"]
        run["select_seconds"] = sum(r["select_seconds"]
                                    for r in sample["rounds"])
        run["sampler_train_seconds"] = sum(r["train_seconds"] + r["embed_seconds"]
                                           for r in sample["rounds"])
        # Where the selection was reused: its rounds' time, without the
        # feature extraction.
        run["sample_wall_seconds"] = (wall if wall is not None else
                                      run["select_seconds"] +
                                      run["sampler_train_seconds"])
        train_db = selection
    # The evaluated model, trained --train-seeds times on the same records
    # (seeds seed, seed + 1000, ...): one training's top-1 moves by up to
    # ~0.2 with its seed alone, as much as strategies differ.
    summaries = []
    for j in range(args.train_seeds):
        suffix = "" if j == 0 else str(j)
        summary_path = args.out / f"{tag}.train{suffix}.json"
        if args.force or not summary_path.exists():
            cmd = [str(bin_dir / "tcl-train"), f"--database={train_db}",
                   f"--model={args.model}", f"--epochs={args.epochs}",
                   f"--seed={seed + 1000 * j}",
                   f"--torch-threads={args.threads}",
                   f"--test-manifest={args.test_manifest}",
                   f"--eval-database={args.database}",
                   f"--json={summary_path}"]
            if args.model_config:
                cmd.append(f"--config={args.model_config}")
            if args.time_limit:
                cmd.append(f"--time-limit={args.time_limit}")
            if args.valid_fraction:
                cmd.append(f"--valid-fraction={args.valid_fraction}")
            rc = run_logged(cmd, args.out / f"{tag}.train{suffix}.log")
            if rc != 0:
                summary_path.unlink(missing_ok=True)
                run["error"] = (f"tcl-train exited with {rc}; see "
                                f"{tag}.train{suffix}.log")
                return run
        summaries.append(json.loads(summary_path.read_text("utf-8")))
    first = summaries[0]
    networks = list(first["scores"])
    top1_per_train_seed = [mean_over_networks(s, "top1") for s in summaries]
    run.update({
        "train_programs": first["train_programs"],
        "train_tasks": first["train_tasks"],
        "train_seconds": statistics.fmean(s["train_seconds"]
                                          for s in summaries),
        "epochs_run": first["epochs"],
        "top1": statistics.fmean(top1_per_train_seed),
        "top5": statistics.fmean(mean_over_networks(s, "top5")
                                 for s in summaries),
        "top1_per_train_seed": top1_per_train_seed,
        "top1_per_network": {n: statistics.fmean(s["scores"][n]["top1"]
                                                 for s in summaries)
                             for n in networks},
        "random_top1": mean_over_networks(first, "random_top1"),
    })
    if budget >= 1:
        run["selected"] = first["train_programs"]
    record_path.write_text(json.dumps(run, indent=1) + "\n", "utf-8")
    return run


def spread(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (strategy, budget): mean and std of top-1/top-5 over seeds."""
    cells: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for r in runs:
        if "error" not in r:
            cells.setdefault((r["strategy"], r["budget"]), []).append(r)
    out = []
    for (strategy, budget), rs in sorted(cells.items()):
        t1 = spread([r["top1"] for r in rs])
        t5 = spread([r["top5"] for r in rs])
        out.append({"strategy": strategy, "budget": budget,
                    "seeds": [r["seed"] for r in rs],
                    "top1_mean": t1[0], "top1_std": t1[1],
                    "top5_mean": t5[0], "top5_std": t5[1],
                    "select_seconds_mean": statistics.fmean(
                        r.get("select_seconds", 0.0) for r in rs),
                    "selected_mean": statistics.fmean(
                        r["selected"] for r in rs)})
    return {"cells": out}


def targets(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 6's targets at 10%, where the runs exist."""
    ok = [r for r in runs if "error" not in r]
    full = [r["top1"] for r in ok if r["strategy"] == "full"]
    rdu = {r["seed"]: r["top1"] for r in ok
           if r["strategy"] == "rdu" and abs(r["budget"] - 0.1) < 1e-9}
    rnd = {r["seed"]: r["top1"] for r in ok
           if r["strategy"] == "random" and abs(r["budget"] - 0.1) < 1e-9}
    result: dict[str, Any] = {}
    if full and rdu:
        ratio = statistics.fmean(rdu.values()) / statistics.fmean(full)
        result["rdu10_over_full_top1"] = ratio
        result["rdu10_reaches_97pct"] = ratio >= 0.97
    common = sorted(set(rdu) & set(rnd))
    if common:
        result["rdu10_minus_random10_per_seed"] = {
            str(s): rdu[s] - rnd[s] for s in common}
        result["rdu10_beats_random10_every_seed"] = all(
            rdu[s] > rnd[s] for s in common)
    return result


def write_markdown(meta: dict[str, Any], agg: dict[str, Any],
                   goals: dict[str, Any], path: Path) -> None:
    cells = agg["cells"]
    budgets = sorted({c["budget"] for c in cells if c["strategy"] != "full"})
    lines = ["# Sampling strategies in simulation mode", "",
             f"- Date: {meta['date']}", f"- Database: {meta['database']}",
             f"- Held out: {meta['test_manifest']}",
             f"- Evaluated model: {meta['model']} `{meta['model_config']}`, "
             f"{meta['epochs']} epochs, {meta['threads']} threads, "
             f"mean of {meta.get('train_seeds', 1)} trainings per run",
             f"- Sampler models: {meta['sampler_model']} "
             f"`{meta['sampler_config']}`, ensemble {meta['ensemble']}, "
             f"{meta['rounds']} rounds, {meta['sampler_epochs']} epochs",
             f"- Seeds: {meta['seeds']}", "",
             "Mean top-1 over the held-out networks, mean ± sample std "
             "over the seeds (n = seeds that finished):", ""]

    def cell(strategy: str, budget: float, key: str) -> str:
        for c in cells:
            if c["strategy"] == strategy and abs(c["budget"] - budget) < 1e-9:
                return (f"{c[key + '_mean']:.4f} ± {c[key + '_std']:.4f} "
                        f"(n={len(c['seeds'])})")
        return "-"

    for key, title in (("top1", "top-1"), ("top5", "top-5")):
        lines.append(f"### {title}")
        lines.append("")
        head = ["strategy"] + [f"{b:.0%}" for b in budgets]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for s in meta["strategies"]:
            lines.append("| " + " | ".join(
                [s] + [cell(s, b, key) for b in budgets]) + " |")
        lines.append(f"| 100% (all training programs) | {cell('full', 1.0, key)}"
                     + " |" * len(budgets))
        lines.append("")
    sel = [c for c in cells if c["strategy"] != "full"]
    if sel:
        lines += ["### Selection time (s, mean over seeds; sampler-model "
                  "training excluded)", ""]
        head = ["strategy"] + [f"{b:.0%}" for b in budgets]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for s in meta["strategies"]:
            row = [s]
            for b in budgets:
                c = next((c for c in sel if c["strategy"] == s
                          and abs(c["budget"] - b) < 1e-9), None)
                row.append(f"{c['select_seconds_mean']:.2f}" if c else "-")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines += ["### Targets", ""]
    if "rdu10_over_full_top1" in goals:
        lines.append(f"- RDU at 10% / full-data top-1: "
                     f"{goals['rdu10_over_full_top1']:.3f} (target >= 0.97: "
                     f"{'met' if goals['rdu10_reaches_97pct'] else 'not met'})")
    if "rdu10_minus_random10_per_seed" in goals:
        diffs = ", ".join(f"seed {s}: {d:+.4f}" for s, d in
                          goals["rdu10_minus_random10_per_seed"].items())
        lines.append(f"- RDU minus random top-1 at 10%: {diffs} (target: > 0 "
                     f"on every seed: "
                     f"{'met' if goals['rdu10_beats_random10_every_seed'] else 'not met'})")
    lines += ["", f"Command: `{meta['command']}`"]
    path.write_text("\n".join(lines) + "\n", "utf-8")


def plot(meta: dict[str, Any], agg: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no curve.png", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    full = next((c for c in agg["cells"] if c["strategy"] == "full"), None)
    for s in meta["strategies"]:
        cs = sorted((c for c in agg["cells"] if c["strategy"] == s),
                    key=lambda c: c["budget"])
        if full:
            cs = cs + [full]
        if not cs:
            continue
        xs = [c["budget"] * 100 for c in cs]
        ys = [c["top1_mean"] for c in cs]
        es = [c["top1_std"] for c in cs]
        ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=s)
    if full:
        ax.axhline(0.97 * full["top1_mean"], color="grey", linestyle=":",
                   label="97% of full data")
    ax.set_xscale("log")
    ax.set_xticks([5, 10, 20, 50, 100])
    ax.set_xticklabels(["5", "10", "20", "50", "100"])
    ax.set_xlabel("training programs measured (%)")
    ax.set_ylabel("top-1 on held-out networks (mean)")
    ax.set_title(f"{meta['model']} trained on each strategy's selection")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--database", type=Path, required=True,
                   help="fully measured database (tcl-dataset)")
    p.add_argument("--test-manifest", type=Path, required=True,
                   help="manifest of the held-out networks")
    p.add_argument("--strategies", default=",".join(STRATEGIES),
                   help="comma-separated tcl-sample strategies "
                        f"(default {','.join(STRATEGIES)})")
    p.add_argument("--variant", action="append", default=[],
                   metavar="NAME=STRATEGY [FLAGS]",
                   help="a named tcl-sample configuration usable in "
                        "--strategies, e.g. 'rdu-p1=rdu "
                        "--weight-performance=1' (repeatable)")
    p.add_argument("--budgets", default="0.1,0.05,0.2,0.5",
                   help="comma-separated fractions in (0, 1), run in this "
                        "order (default 0.1,0.05,0.2,0.5); 100%% runs too "
                        "unless --skip-full")
    p.add_argument("--skip-full", action="store_true",
                   help="do not train the 100%% reference (e.g. when only "
                        "strategies are compared)")
    p.add_argument("--seeds", default="0,1,2",
                   help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--model", default="mamba",
                   help="evaluated model kind (default mamba)")
    p.add_argument("--model-config", default="",
                   help="its tcl-train --config (default: tcl-train's "
                        "default architecture)")
    p.add_argument("--epochs", type=int, default=20,
                   help="epochs of the evaluated model (default 20)")
    p.add_argument("--time-limit", type=float, default=0,
                   help="cap on each evaluated training, seconds (default: "
                        "none)")
    p.add_argument("--valid-fraction", type=float, default=0.0,
                   help="tcl-train --valid-fraction for the evaluated model: "
                   "checkpoint selection on this fraction of the selection's "
                   "tasks, held out of its training (default 0: off)")
    p.add_argument("--sampler-model", default="mamba",
                   help="kind of the sampler's ensemble (default mamba)")
    p.add_argument("--sampler-config", default="",
                   help="its --config (default: the kind's default)")
    p.add_argument("--sampler-epochs", type=int, default=30,
                   help="epochs of each sampler model per round (default 30)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--ensemble", type=int, default=3)
    p.add_argument("--train-seeds", type=int, default=3,
                   help="trainings of the evaluated model per run, seeds "
                        "seed + 1000 j; the run's scores are their mean "
                        "(default 3: one training's top-1 moves by up to "
                        "~0.2 with its seed alone)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--force", action="store_true",
                   help="redo runs whose results are in --out")
    p.add_argument("--build-dir", type=Path, default=REPO / "build")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = p.parse_args(argv)

    args.variants = {}
    for spec in args.variant:
        name, _, config = spec.partition("=")
        if not name or not config or config.split()[0] not in STRATEGIES:
            p.error(f"--variant {spec!r}: expected NAME=STRATEGY [FLAGS] "
                    f"with a strategy of {', '.join(STRATEGIES)}")
        args.variants[name] = config
    strategies = [s for s in args.strategies.split(",") if s]
    unknown = [s for s in strategies
               if s not in STRATEGIES and s not in args.variants]
    if unknown:
        p.error(f"unknown strategies {', '.join(unknown)} (known: "
                f"{', '.join(STRATEGIES)})")
    try:
        budgets = [float(b) for b in args.budgets.split(",") if b]
        seeds = [int(s) for s in args.seeds.split(",") if s]
    except ValueError as e:
        p.error(f"--budgets/--seeds: {e}")
    bad = [b for b in budgets if not 0 < b < 1]
    if bad:
        p.error(f"budgets must be in (0, 1) (100% is the --skip-full "
                f"reference): {bad}")
    if args.train_seeds < 1:
        p.error("--train-seeds must be at least 1")
    bin_dir = args.build_dir / "bin"
    for tool in ("tcl-sample", "tcl-train"):
        if not (bin_dir / tool).exists():
            p.error(f"{bin_dir / tool} not found: build TCL first "
                    "(scripts/setup.sh)")
    if not args.database.exists():
        p.error(f"{args.database} not found (unpack the shipped snapshot: "
                "xz -dk data/cpu-avx512-t2/dataset.jsonl.xz)")
    args.out.mkdir(parents=True, exist_ok=True)

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "database": str(args.database),
            "test_manifest": str(args.test_manifest),
            "model": args.model, "model_config": args.model_config,
            "epochs": args.epochs, "threads": args.threads,
            "train_seeds": args.train_seeds,
            "valid_fraction": args.valid_fraction,
            "sampler_model": args.sampler_model,
            "sampler_config": args.sampler_config,
            "sampler_epochs": args.sampler_epochs,
            "rounds": args.rounds, "ensemble": args.ensemble,
            "strategies": strategies, "variants": args.variants,
            "budgets": budgets, "seeds": seeds,
            "command": " ".join(["/usr/bin/python3",
                                 "benchmarks/sampling/run.py"] +
                                (argv if argv is not None else sys.argv[1:]))}
    plan = [(s, b, seed) for b in budgets[:1] for seed in seeds
            for s in strategies]
    if not args.skip_full:
        plan += [("full", 1.0, seed) for seed in seeds]
    plan += [(s, b, seed) for b in budgets[1:] for seed in seeds
             for s in strategies]
    runs: list[dict[str, Any]] = []
    for i, (strategy, budget, seed) in enumerate(plan):
        print(f"[{i + 1}/{len(plan)}] {strategy} {budget:g} seed {seed}",
              file=sys.stderr, flush=True)
        run = one_run(args, bin_dir, strategy, budget, seed)
        if "error" in run:
            print(f"  failed: {run['error']}", file=sys.stderr, flush=True)
        else:
            print(f"  top-1 {run['top1']:.4f} top-5 {run['top5']:.4f} "
                  f"({run['selected']} programs)", file=sys.stderr, flush=True)
        runs.append(run)
        agg = aggregate(runs)
        goals = targets(runs)
        (args.out / "results.json").write_text(json.dumps(
            {"meta": meta, "runs": runs, **agg, "targets": goals},
            indent=1) + "\n", "utf-8")
        write_markdown(meta, agg, goals, args.out / "results.md")
        plot(meta, agg, args.out / "curve.png")
    print((args.out / "results.md").read_text("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
