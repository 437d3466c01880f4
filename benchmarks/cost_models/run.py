#!/usr/bin/python3
"""Cost-model benchmark: mamba, tlp, mlp and xgb trained on the same split.

For each model, runs ``tcl-train`` on one database of measure records (see
``tcl-dataset`` / ``scripts/collect-dataset.sh``) with the tasks of the
held-out networks (``--test-manifest``) left out of training, and collects
TenSet's top-1 / top-5 score per held-out network, the pairwise accuracy,
the top-1 of a random ranking, the parameter count, the model's size on
disk, the training time and the prediction rate (held-out programs in
batches of 512 on ``--threads`` threads, measured by tcl-train). Writes
``out/results.json`` and ``out/results.md`` and prints the table.

A model is a kind (mamba, tlp, mlp, xgb) or a named variant
``NAME=KIND:CONFIG`` whose CONFIG replaces keys of the kind's default
architecture (``tcl-train --config``), e.g.
``mamba-s=mamba:{"d_model":32,"d_state":8}``. Models whose summary is
already in ``--out`` are not trained again (``--force`` retrains), so an
interrupted run resumes.

With ``--seeds 0,1,2`` every model is trained once per seed (initial
weights and batch order; files ``NAME.sSEED.*``) and the table gives the
mean and the standard deviation over the seeds: a single network's top-1
can move by 0.2 between seeds, so one seed does not separate models that
are a few points apart.

Usage::

    /usr/bin/python3 benchmarks/cost_models/run.py \\
        --database data/cpu-avx512-t2/dataset.jsonl \\
        --test-manifest data/cpu-avx512-t2/eval.manifest.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
KINDS = ("mamba", "tlp", "mlp", "xgb")


def parse_model(spec: str) -> tuple[str, str, str]:
    """'mamba' or 'NAME=KIND:CONFIG' -> (name, kind, config JSON or '')."""
    if "=" not in spec:
        return spec, spec, ""
    name, rest = spec.split("=", 1)
    kind, _, config = rest.partition(":")
    return name, kind, config


def train(binary: Path, spec: str, args: argparse.Namespace,
          out: Path, seed: int, tag: str) -> dict[str, Any]:
    """Runs tcl-train for one model and seed (its files are named NAME +
    tag); returns its JSON summary plus size."""
    name, kind, config = parse_model(spec)
    suffix = "xgb" if kind == "xgb" else "pt"
    model_path = out / f"{name}{tag}.{suffix}"
    summary_path = out / f"{name}{tag}.json"
    cmd = [str(binary), f"--database={args.database}", f"--model={kind}",
           f"--epochs={args.epochs}", f"--seed={seed}",
           f"--torch-threads={args.threads}",
           f"-o={model_path}", f"--json={summary_path}"]
    if config:
        cmd.append(f"--config={config}")
    if args.test_manifest:
        cmd.append(f"--test-manifest={args.test_manifest}")
    if args.max_per_task:
        cmd.append(f"--max-per-task={args.max_per_task}")
    if args.time_limit:
        cmd.append(f"--time-limit={args.time_limit}")
    if summary_path.exists() and model_path.exists() and not args.force:
        print(f"{name}{tag}: reusing {summary_path}", file=sys.stderr,
              flush=True)
    else:
        print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
        log_path = out / f"{name}{tag}.log"
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log,
                                  text=True)
        if proc.returncode != 0:
            summary_path.unlink(missing_ok=True)
            return {"model": name, "kind": kind, "seed": seed,
                    "error": f"tcl-train exited with {proc.returncode}; "
                    f"see {log_path}"}
        print(proc.stdout, file=sys.stderr)
    result = json.loads(summary_path.read_text("utf-8"))
    result["model"] = name
    result["kind"] = kind
    result["seed"] = seed
    result["config_overrides"] = config
    result["command"] = " ".join(cmd)
    result["size_bytes"] = sum(p.stat().st_size for p in out.glob(
        f"{name}{tag}.{suffix}*"))
    return result


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's runs (one per seed) as one result: the first run's
    facts, every score averaged over the runs, timings averaged, and
    `runs` (the per-seed summaries) and `top1_std` (std over seeds of the
    mean top-1) added."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    result = dict(runs[0])
    result["runs"] = runs
    result["seeds"] = [r["seed"] for r in runs]
    for key in ("train_seconds", "predictions_per_second", "final_loss"):
        result[key] = statistics.fmean(r.get(key, 0) for r in runs)
    scores: dict[str, dict[str, float]] = {}
    for network, first in runs[0].get("scores", {}).items():
        scores[network] = {
            k: statistics.fmean(r["scores"][network][k] for r in runs)
            for k, v in first.items() if isinstance(v, (int, float))}
    result["scores"] = scores
    tops = [mean_score(r, "top1") for r in runs]
    result["top1_per_seed"] = tops
    result["top1_std"] = statistics.pstdev(tops) if len(tops) > 1 else 0.0
    return result


def mean_score(result: dict[str, Any], key: str) -> Optional[float]:
    scores = [s[key] for s in result.get("scores", {}).values() if key in s]
    return sum(scores) / len(scores) if scores else None


def fmt(value: Optional[float]) -> str:
    return f"{value:.4f}" if value is not None else "-"


def write_markdown(results: list[dict[str, Any]], meta: dict[str, Any],
                   path: Path) -> None:
    networks = sorted({n for r in results for n in r.get("scores", {})})
    held_out = meta["test_manifest"] or "(a seeded fifth of the tasks)"
    lines = ["# Cost models on held-out networks", "",
             f"- Date: {meta['date']}", f"- Database: {meta['database']}",
             f"- Platform: {meta.get('platform', '?')}",
             f"- Test manifest: {held_out}",
             f"- Threads: {meta['threads']} (training and prediction)",
             f"- Epochs: {meta['epochs']}", ""]
    seeds = meta["seeds"]
    if len(seeds) > 1:
        lines += [f"Seeds {', '.join(map(str, seeds))}: every cell is the "
                  "mean over the seeds; top-1 (mean) also gives the std over "
                  "seeds and the per-seed values follow the table.", ""]
    head = ["model", "params", "size (KB)", "train s", "predictions/s",
            "top-1 (mean)", "top-5 (mean)", "pairwise"] + \
        [f"top-1 {n}" for n in networks]
    lines += ["| " + " | ".join(head) + " |",
              "|" + "---|" * len(head)]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['model']} | failed: {r['error']} |")
            continue
        cells = [r["model"], str(r.get("parameters", "")),
                 f"{r['size_bytes'] / 1024:.0f}",
                 f"{r.get('train_seconds', 0):.1f}",
                 f"{r.get('predictions_per_second', 0):.0f}",
                 fmt(mean_score(r, "top1")) +
                 (f" ± {r['top1_std']:.3f}" if len(seeds) > 1 else ""),
                 fmt(mean_score(r, "top5")),
                 fmt(mean_score(r, "pairwise"))]
        cells += [fmt(r["scores"][n]["top1"]) if n in r.get("scores", {})
                  else "-" for n in networks]
        lines.append("| " + " | ".join(cells) + " |")
    scored = [r for r in results if r.get("scores")]
    if scored:
        r = scored[0]
        cells = ["random ranking", "", "", "", "",
                 fmt(mean_score(r, "random_top1")),
                 fmt(mean_score(r, "random_top5")), "0.5000"]
        cells += [fmt(r["scores"][n].get("random_top1"))
                  if n in r["scores"] else "-" for n in networks]
        lines.append("| " + " | ".join(cells) + " |")
        lines += ["", f"Training: {r['train_tasks']} tasks, "
                  f"{r['train_programs']} programs; held out: "
                  f"{r['test_tasks']} tasks, {r['test_programs']} programs."]
    if len(seeds) > 1:
        lines += ["", "Top-1 (mean over the networks) per seed "
                  f"{', '.join(map(str, seeds))}:", ""]
        for r in results:
            if "top1_per_seed" in r:
                lines.append(f"- {r['model']}: " + ", ".join(
                    f"{t:.4f}" for t in r["top1_per_seed"]))
        lines.append("")
    variants = [r for r in results if r.get("config_overrides")]
    for r in variants:
        lines.append(f"`{r['model']}`: {r['kind']} with "
                     f"`{r['config_overrides']}`.")
    path.write_text("\n".join(lines) + "\n", "utf-8")


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--database", type=Path, required=True,
                   help="database of measure records (tcl-dataset)")
    p.add_argument("--test-manifest", type=Path, default=None,
                   help="manifest of the held-out networks (default: a "
                        "seeded fifth of the tasks)")
    p.add_argument("--models", default=",".join(KINDS),
                   help="comma-separated models: kinds (mamba, tlp, mlp, "
                        "xgb) or NAME=KIND:CONFIG variants; separate "
                        "variants with ';' when their CONFIG has commas "
                        "(default: mamba,tlp,mlp,xgb)")
    p.add_argument("--epochs", type=int, default=30,
                   help="training epochs of the neural models (default 30)")
    p.add_argument("--threads", type=int, default=2,
                   help="intra-op threads for training and prediction "
                        "(default 2)")
    p.add_argument("--time-limit", type=float, default=0,
                   help="stop each model's training after this many "
                        "seconds (default: none)")
    p.add_argument("--max-per-task", type=int, default=0,
                   help="records per task to use (default: all)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of a single run (default 0)")
    p.add_argument("--seeds", default="",
                   help="comma-separated seeds: train every model once per "
                        "seed and report mean and std (overrides --seed)")
    p.add_argument("--force", action="store_true",
                   help="retrain models whose results are already in --out")
    p.add_argument("--build-dir", type=Path, default=REPO / "build")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = p.parse_args(argv)

    separator = ";" if ";" in args.models else ","
    models = [m for m in args.models.split(separator) if m]
    unknown = [m for m in models if parse_model(m)[1] not in KINDS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)} (kinds: "
                f"{', '.join(KINDS)})")
    binary = args.build_dir / "bin" / "tcl-train"
    if not binary.exists():
        p.error(f"{binary} not found: build TCL first (scripts/setup.sh)")
    if not args.database.exists():
        p.error(f"{args.database} not found (scripts/collect-dataset.sh "
                "collects it; a shipped snapshot is data/*/dataset.jsonl.xz)")
    try:
        seeds = ([int(x) for x in args.seeds.split(",") if x.strip()]
                 if args.seeds else [args.seed])
    except ValueError:
        p.error(f"--seeds must be comma-separated integers, got "
                f"'{args.seeds}'")
    if not seeds:
        p.error("--seeds is empty")
    args.out.mkdir(parents=True, exist_ok=True)
    # One seed keeps the file names of single runs (NAME.*), so earlier
    # outputs are reused.
    tags = {seed: (f".s{seed}" if len(seeds) > 1 else "") for seed in seeds}
    results = [combine([train(binary, m, args, args.out, seed, tags[seed])
                        for seed in seeds]) for m in models]
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "database": str(args.database),
            "test_manifest": str(args.test_manifest or ""),
            "platform": next((r["platform"] for r in results
                              if "platform" in r), "?"),
            "threads": args.threads, "epochs": args.epochs,
            "seeds": seeds,
            "cpu_count": os.cpu_count()}
    (args.out / "results.json").write_text(
        json.dumps({"meta": meta, "models": results}, indent=2), "utf-8")
    write_markdown(results, meta, args.out / "results.md")
    print((args.out / "results.md").read_text("utf-8"))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
