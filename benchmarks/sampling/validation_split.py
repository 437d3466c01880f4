#!/usr/bin/python3
"""Validation split for choosing sampler settings without the test networks.

Writes, under ``--out``:

- ``validation.manifest.json``: the measured tasks (``--measured``, e.g.
  data/cpu-avx512-t2/train-tasks.manifest.json) of the ``--networks`` of a
  training manifest (``--train-manifest``), in the manifest format that
  ``tcl-sample --test-manifest`` and ``tcl-train --test-manifest`` read
  (each task keeps its weights in the chosen networks);
- ``train-only.jsonl``: ``--database`` without the records of the held-out
  test networks' tasks (``--test-manifest``), so that neither the sampler's
  pool nor the evaluation sees them.

Then ``run.py --database OUT/train-only.jsonl --test-manifest
OUT/validation.manifest.json`` compares strategies and weights on training
networks only; the held-out networks stay untouched until the choice is
made.

Usage::

    /usr/bin/python3 benchmarks/sampling/validation_split.py \\
        --database data/cpu-avx512-t2/dataset.jsonl \\
        --test-manifest data/cpu-avx512-t2/eval.manifest.json \\
        --train-manifest data/cpu-avx512-t2/train.manifest.json \\
        --measured data/cpu-avx512-t2/train-tasks.manifest.json \\
        --networks resnet18,mnasnet1_0,bert_medium,squeezenet1_1,mobilenet_v3_large \\
        --out benchmarks/sampling/validation
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--database", type=Path, required=True)
    p.add_argument("--test-manifest", type=Path, required=True,
                   help="manifest of the held-out test networks (dropped)")
    p.add_argument("--train-manifest", type=Path, required=True,
                   help="manifest of the training networks (tcl-dataset)")
    p.add_argument("--measured", type=Path, required=True,
                   help="manifest listing the training tasks with records")
    p.add_argument("--networks", required=True,
                   help="comma-separated training networks to validate on")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    def tasks_of(path: Path) -> list[dict]:
        try:
            return json.loads(path.read_text("utf-8"))["tasks"]
        except (OSError, ValueError, KeyError) as e:
            p.error(f"{path}: {e}")

    networks = [n for n in args.networks.split(",") if n]
    measured = {t["key"] for t in tasks_of(args.measured)}
    test = {t["key"] for t in tasks_of(args.test_manifest)}
    chosen = []
    for t in tasks_of(args.train_manifest):
        weights = {n: w for n, w in t["networks"].items() if n in networks}
        if weights and t["key"] in measured and t["key"] not in test:
            chosen.append({"key": t["key"], "kind": t.get("kind", ""),
                           "networks": weights})
    found = {n for t in chosen for n in t["networks"]}
    missing = [n for n in networks if n not in found]
    if missing:
        p.error(f"no measured task in network(s) {', '.join(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = {"networks": networks, "tasks": chosen,
                "note": "validation split of the training networks "
                        "(benchmarks/sampling/validation_split.py)"}
    (args.out / "validation.manifest.json").write_text(
        json.dumps(manifest, indent=1) + "\n", "utf-8")
    kept = dropped = 0
    tmp = args.out / "train-only.jsonl.tmp"
    with open(args.database, encoding="utf-8") as src, \
            open(tmp, "w", encoding="utf-8") as dst:
        for line in src:
            r = json.loads(line)
            key = r.get("workload") if r.get("type") == "measure" else r.get("key")
            if key in test:
                dropped += 1
                continue
            kept += 1
            dst.write(line)
    tmp.rename(args.out / "train-only.jsonl")
    print(f"validation: {len(chosen)} tasks of {len(networks)} networks; "
          f"train-only.jsonl: {kept} lines kept, {dropped} of test tasks "
          f"dropped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
