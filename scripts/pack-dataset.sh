#!/usr/bin/env bash
# Packs the collected dataset(s) for shipping: data/<name>/dataset.jsonl
# (appended to by scripts/collect-dataset.sh, not tracked) becomes
# data/<name>/dataset.jsonl.xz (tracked). collect-dataset.sh unpacks it again
# on a fresh clone, so collection continues across machines and sessions.
# A cut-off last line (a collector killed mid-write) is left out.
#
# Usage: scripts/pack-dataset.sh [data/<name> ...]   (default: all of data/*)
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then dirs=(data/*/); fi
for dir in "${dirs[@]}"; do
  dir=${dir%/}
  src="$dir/dataset.jsonl"
  [ -f "$src" ] || { echo "pack-dataset: no $src" >&2; continue; }
  # Complete lines only: everything up to the last newline.
  tmp="$dir/dataset.jsonl.xz.tmp"
  if [ -z "$(tail -c 1 "$src")" ]; then   # ends in a newline
    xz -9 -T1 < "$src" > "$tmp"
  else
    head -n -1 "$src" | xz -9 -T1 > "$tmp"
  fi
  mv "$tmp" "$dir/dataset.jsonl.xz"
  records=$(xz -dc "$dir/dataset.jsonl.xz" | grep -c '"type":"measure"' || true)
  echo "pack-dataset: $dir/dataset.jsonl.xz: $records measure records, $(du -h "$dir/dataset.jsonl.xz" | cut -f1)"
done
