"""Fails unless a tcl-train --json summary beats a random ranking clearly.

Usage: beats_random.py SUMMARY.json MIN_PAIRWISE MIN_TOP5_MARGIN

Every held-out network must have pairwise accuracy >= MIN_PAIRWISE (random:
0.5) and top-5 >= random top-5 + MIN_TOP5_MARGIN. Top-1 is printed but not
checked: on a couple of held-out tasks it is one pick per task, too coarse
for a pass/fail line.
"""
import json
import sys

summary = json.load(open(sys.argv[1], encoding="utf-8"))
min_pairwise, margin = float(sys.argv[2]), float(sys.argv[3])
scores = summary["scores"]
if not scores:
    sys.exit("no held-out network was scored")
failed = False
for network, s in sorted(scores.items()):
    ok = (s["pairwise"] >= min_pairwise
          and s["top5"] >= s["random_top5"] + margin)
    print(f"{network}: top-1 {s['top1']:.3f} (random {s['random_top1']:.3f}), "
          f"top-5 {s['top5']:.3f} (random {s['random_top5']:.3f}), "
          f"pairwise {s['pairwise']:.3f}: {'beats random' if ok else 'FAILS'}")
    failed |= not ok
sys.exit(1 if failed else 0)
