#!/usr/bin/python3
"""Cost-model benchmark: mamba, tlp, mlp and xgb trained on the same split.

For each model, runs ``tcl-train`` on one database of measure records (see
``tcl-dataset`` / ``scripts/collect-dataset.sh``) with the tasks of the
held-out networks (``--test-manifest``) left out of training, and collects
TenSet's top-1 / top-5 score per held-out network, the parameter count, the
model's size on disk, the training time and the prediction rate. Writes
``out/results.json`` and ``out/results.md`` and prints the table.

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
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
MODELS = ("mamba", "tlp", "mlp", "xgb")


def train(binary: Path, model: str, args: argparse.Namespace,
          out: Path) -> dict[str, Any]:
    """Runs tcl-train for `model`; returns its JSON summary plus the size."""
    suffix = "xgb" if model == "xgb" else "pt"
    model_path = out / f"{model}.{suffix}"
    summary_path = out / f"{model}.json"
    cmd = [str(binary), f"--database={args.database}", f"--model={model}",
           f"--epochs={args.epochs}", f"--seed={args.seed}",
           f"-o={model_path}", f"--json={summary_path}"]
    if args.test_manifest:
        cmd.append(f"--test-manifest={args.test_manifest}")
    if args.max_per_task:
        cmd.append(f"--max-per-task={args.max_per_task}")
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    with open(out / f"{model}.log", "w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log,
                              text=True)
    if proc.returncode != 0:
        return {"model": model, "error": f"tcl-train exited with "
                f"{proc.returncode}; see {out / (model + '.log')}"}
    print(proc.stdout, file=sys.stderr)
    result = json.loads(summary_path.read_text("utf-8"))
    result["command"] = " ".join(cmd)
    result["size_bytes"] = sum(p.stat().st_size for p in out.glob(
        f"{model}.{suffix}*"))
    return result


def mean_score(result: dict[str, Any], key: str) -> Optional[float]:
    scores = [s[key] for s in result.get("scores", {}).values()]
    return sum(scores) / len(scores) if scores else None


def write_markdown(results: list[dict[str, Any]], meta: dict[str, Any],
                   path: Path) -> None:
    networks = sorted({n for r in results for n in r.get("scores", {})})
    held_out = meta["test_manifest"] or "(a seeded fifth of the tasks)"
    lines = ["# Cost models on held-out networks", "",
             f"- Date: {meta['date']}", f"- Database: {meta['database']}",
             f"- Test manifest: {held_out}", ""]
    head = ["model", "params", "size (KB)", "train s", "predictions/s",
            "top-1 (mean)", "top-5 (mean)"] + [f"top-1 {n}" for n in networks]
    lines += ["| " + " | ".join(head) + " |",
              "|" + "---|" * len(head)]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['model']} | failed: {r['error']} |")
            continue
        top1, top5 = mean_score(r, "top1"), mean_score(r, "top5")
        cells = [r["model"], str(r.get("parameters", "")),
                 f"{r['size_bytes'] / 1024:.0f}",
                 f"{r.get('train_seconds', 0):.1f}",
                 f"{r.get('predictions_per_second', 0):.0f}",
                 f"{top1:.4f}" if top1 is not None else "-",
                 f"{top5:.4f}" if top5 is not None else "-"]
        cells += [f"{r['scores'][n]['top1']:.4f}" if n in r.get("scores", {})
                  else "-" for n in networks]
        lines.append("| " + " | ".join(cells) + " |")
    if results and "train_tasks" in results[0]:
        r = results[0]
        lines += ["", f"Training: {r['train_tasks']} tasks, "
                  f"{r['train_programs']} programs; held out: "
                  f"{r['test_tasks']} tasks, {r['test_programs']} programs."]
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
    p.add_argument("--models", default=",".join(MODELS),
                   help="comma-separated subset of mamba,tlp,mlp,xgb")
    p.add_argument("--epochs", type=int, default=30,
                   help="training epochs of the neural models (default 30)")
    p.add_argument("--max-per-task", type=int, default=0,
                   help="records per task to use (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--build-dir", type=Path, default=REPO / "build")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = p.parse_args(argv)

    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}")
    binary = args.build_dir / "bin" / "tcl-train"
    if not binary.exists():
        p.error(f"{binary} not found: build TCL first (scripts/setup.sh)")
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "database": str(args.database),
            "test_manifest": str(args.test_manifest or ""),
            "threads": os.cpu_count()}
    results = [train(binary, m, args, args.out) for m in models]
    (args.out / "results.json").write_text(
        json.dumps({"meta": meta, "models": results}, indent=2), "utf-8")
    write_markdown(results, meta, args.out / "results.md")
    print((args.out / "results.md").read_text("utf-8"))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
