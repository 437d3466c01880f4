#!/usr/bin/python3
"""Measurement quality of a dataset's platforms: noise and agreement.

For every platform of the given databases, over the tasks of
``--test-manifest`` (the evaluation tasks, measured on every platform with
the same seeded programs):

- within-record spread: for each successful record with at least 3 timed
  repeats, max / min of its latencies; the median and the 90th percentile
  over records. A quiet machine keeps these near 1; a machine shared with
  builds or training while it measured shows large values;
- agreement between two platforms: per task, the Spearman rank
  correlation of the latencies of the programs both measured, and the
  "transfer top-1": best latency on B / B's latency of A's best program.
  Noise on either platform lowers both.

Each program counts once, with its latest record (as
``Database::latestRecordsFor``); ``--until`` ignores records newer than a
time, which shows a platform as it was before a re-measurement
(``tcl-dataset --remeasure-before``). ``--remeasured-at`` compares each
program's records before and after such a re-measurement (repeatability).
The tasks can come from any tcl-dataset manifest, e.g. a training sample's.
Prints Markdown tables and writes JSON (``--json``).

Usage::

    /usr/bin/python3 benchmarks/dataset_quality/run.py \\
        --database data/cpu-avx512-t2/dataset.jsonl \\
        --database data/cpu-avx2-t2/dataset.jsonl \\
        --test-manifest data/cpu-avx512-t2/eval.manifest.json \\
        --json docs/results/dataset_quality.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any, Optional


def load(databases: list[Path], tasks: set[str], until: Optional[str],
         since: Optional[str] = None) -> dict[str, dict[str, dict[str, Any]]]:
    """platform -> task -> knobs (JSON text) -> latest record, of the
    records before `until` and at or after `since` (None: no bound)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for path in databases:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{number}: not JSON: {e}")
                if r.get("type") != "measure" or r["workload"] not in tasks:
                    continue
                if until and r.get("timestamp", "") >= until:
                    continue
                if since and r.get("timestamp", "") < since:
                    continue
                knobs = json.dumps(r["knobs"], sort_keys=True)
                out.setdefault(r["platform"], {}).setdefault(
                    r["workload"], {})[knobs] = r
    return out


def ok(r: dict[str, Any]) -> bool:
    return r["error"] == "none" and r["median_s"] > 0


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    for rank, i in enumerate(order):
        result[i] = float(rank)
    return result


def spearman(a: list[float], b: list[float]) -> Optional[float]:
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = math.sqrt(sum((x - ma) ** 2 for x in ra) *
                    sum((y - mb) ** 2 for y in rb))
    return cov / var if var > 0 else None


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def compare(ra: dict[str, Any], rb: dict[str, Any], least: int
            ) -> Optional[tuple[Optional[float], float, list[float],
                                list[float]]]:
    """Two record sets of one task (knobs -> record), over the programs
    successful in both: Spearman of their latencies, transfer top-1 (best
    latency in `rb` / `rb`'s latency of `ra`'s best program) and the two
    latency lists; None with fewer than `least` such programs."""
    both = [k for k in ra if k in rb and ok(ra[k]) and ok(rb[k])]
    if len(both) < least:
        return None
    la = [ra[k]["median_s"] for k in both]
    lb = [rb[k]["median_s"] for k in both]
    best_of_a = min(both, key=lambda k: ra[k]["median_s"])
    return spearman(la, lb), min(lb) / rb[best_of_a]["median_s"], la, lb


def repeatability(before: dict[str, dict[str, dict[str, Any]]],
                  after: dict[str, dict[str, dict[str, Any]]]
                  ) -> dict[str, Any]:
    """Per platform, old (`before`) against new (`after`) records of the same
    programs; prints a table and returns its rows."""
    rows: dict[str, Any] = {}
    print()
    print("| platform | tasks | programs | Spearman old/new median | mean | "
          "p10 | old/new latency median | old best's new top-1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for platform in sorted(set(before) & set(after)):
        correlations, ratios, top1 = [], [], []
        for task, new in sorted(after[platform].items()):
            pair = compare(before[platform].get(task, {}), new, 3)
            if pair is None:
                continue
            rho, transfer, lo, ln = pair
            if rho is not None:
                correlations.append(rho)
            ratios += [x / y for x, y in zip(lo, ln)]
            top1.append(transfer)
        if not correlations:
            continue
        row = {"tasks": len(correlations), "programs": len(ratios),
               "spearman_median": statistics.median(correlations),
               "spearman_mean": statistics.fmean(correlations),
               "spearman_p10": quantile(correlations, 0.1),
               "latency_ratio_median": statistics.median(ratios),
               "old_best_top1": statistics.fmean(top1)}
        rows[platform] = row
        print(f"| {platform} | {row['tasks']} | {row['programs']} | "
              f"{row['spearman_median']:.3f} | {row['spearman_mean']:.3f} | "
              f"{row['spearman_p10']:.3f} | "
              f"{row['latency_ratio_median']:.3f} | "
              f"{row['old_best_top1']:.3f} |")
    return rows


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", type=Path, action="append", required=True)
    p.add_argument("--test-manifest", type=Path, required=True,
                   help="tcl-dataset manifest whose tasks are compared")
    p.add_argument("--until", default="",
                   help="ignore records at or after this UTC time "
                        "(e.g. 2026-12-08T00:10:00Z)")
    p.add_argument("--remeasured-at", default="",
                   help="also compare, per platform, each program's latest "
                        "record before this UTC time with its record at or "
                        "after it (a tcl-dataset --remeasure-before run "
                        "started then): Spearman of the two latencies per "
                        "task, old/new latency ratio, and the new top-1 of "
                        "the old best program")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)

    try:
        manifest = json.loads(args.test_manifest.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"{args.test_manifest}: {e}")
    tasks = {t["key"] for t in manifest["tasks"]}
    data = load(args.database, tasks, args.until or None)

    result: dict[str, Any] = {"until": args.until, "platforms": {},
                              "pairs": []}
    print("| platform | tasks | records | ok | spread median | spread p90 |")
    print("|---|---:|---:|---:|---:|---:|")
    for platform, by_task in sorted(data.items()):
        records = [r for t in by_task.values() for r in t.values()]
        spreads = [max(r["latencies"]) / min(r["latencies"])
                   for r in records if ok(r) and len(r["latencies"]) >= 3
                   and min(r["latencies"]) > 0]
        row = {"tasks": len(by_task), "records": len(records),
               "ok": sum(ok(r) for r in records),
               "spread_median": quantile(spreads, 0.5) if spreads else None,
               "spread_p90": quantile(spreads, 0.9) if spreads else None}
        result["platforms"][platform] = row
        print(f"| {platform} | {row['tasks']} | {row['records']} | "
              f"{row['ok']} | {row['spread_median'] or 0:.2f} | "
              f"{row['spread_p90'] or 0:.2f} |")

    print()
    print("| platform A | platform B | tasks | Spearman median | "
          "Spearman mean | transfer top-1 |")
    print("|---|---|---:|---:|---:|---:|")
    for a, b in itertools.combinations(sorted(data), 2):
        correlations, transfer = [], []
        for task in sorted(set(data[a]) & set(data[b])):
            pair = compare(data[a][task], data[b][task], 10)
            if pair is None:
                continue
            rho, top1, _, _ = pair
            if rho is not None:
                correlations.append(rho)
            transfer.append(top1)
        if not correlations:
            continue
        pair = {"a": a, "b": b, "tasks": len(correlations),
                "spearman_median": statistics.median(correlations),
                "spearman_mean": statistics.fmean(correlations),
                "transfer_top1": statistics.fmean(transfer)}
        result["pairs"].append(pair)
        print(f"| {a} | {b} | {pair['tasks']} | "
              f"{pair['spearman_median']:.3f} | {pair['spearman_mean']:.3f} "
              f"| {pair['transfer_top1']:.3f} |")

    if args.remeasured_at:
        result["remeasured_at"] = args.remeasured_at
        result["repeatability"] = repeatability(
            load(args.database, tasks, args.remeasured_at),
            load(args.database, tasks, None, args.remeasured_at))

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
