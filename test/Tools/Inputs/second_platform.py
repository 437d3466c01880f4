"""Writes a two-platform database for the tcl-distill test.

Usage: second_platform.py IN.jsonl OUT.jsonl MANIFEST.json

OUT holds IN's records and a copy of its measure records on a synthetic
platform "synthetic-p2" whose latencies are the reciprocals of the
originals (another performance landscape). MANIFEST is a tcl-dataset
manifest whose one network, "heldout", has the last two workloads of IN.
"""
import json
import sys

src, dst, manifest = sys.argv[1:4]
lines = open(src, encoding="utf-8").read().splitlines()
workloads = [json.loads(l)["key"] for l in lines
             if json.loads(l).get("type") == "workload"]
with open(dst, "w", encoding="utf-8") as out:
    for line in lines:
        out.write(line + "\n")
    for line in lines:
        record = json.loads(line)
        if record.get("type") != "measure":
            continue
        record["platform"] = "synthetic-p2"
        if record.get("median_s"):
            record["median_s"] = 1e-6 / record["median_s"]
        out.write(json.dumps(record) + "\n")
with open(manifest, "w", encoding="utf-8") as out:
    json.dump({"tasks": [{"key": k, "networks": {"heldout": 1}}
                         for k in workloads[-2:]]}, out)
