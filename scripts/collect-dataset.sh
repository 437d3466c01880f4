#!/usr/bin/env bash
# Collects (or continues collecting) the cost-model dataset of this machine:
# the tasks of the evaluation networks (examples/networks/*.mlir) first, then
# those of the training zoo (examples/networks/zoo/*.mlir), each network
# brought to fused Linalg by `tcl-opt --tcl-preprocess` (the form tcl-tune
# sees). Measure records go to data/<name>/dataset.jsonl (not tracked; run
# scripts/pack-dataset.sh to ship a compressed snapshot, which this script
# unpacks again on a fresh clone). Resumable: run it again and it measures
# only what is missing.
#
# Usage: scripts/collect-dataset.sh [--target=cpu,threads=2] [--eval-programs=N]
#                                   [--train-programs=N] [--name=NAME]
set -euo pipefail
cd "$(dirname "$0")/.."

target="cpu:avx512,threads=2"
eval_programs=128
train_programs=128
name=""
for arg in "$@"; do
  case "$arg" in
    --target=*) target="${arg#--target=}" ;;
    --eval-programs=*) eval_programs="${arg#--eval-programs=}" ;;
    --train-programs=*) train_programs="${arg#--train-programs=}" ;;
    --name=*) name="${arg#--name=}" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "collect-dataset: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
# cpu:avx512,threads=2 -> cpu-avx512-t2
[ -n "$name" ] || name=$(echo "$target" | sed 's/:/-/; s/,threads=/-t/')
bin=${TCL_BUILD_DIR:-build}/bin
out=data/$name
pre=${TCL_BUILD_DIR:-build}/networks
mkdir -p "$out" "$pre/eval" "$pre/train"
# Continue from the shipped snapshot (scripts/pack-dataset.sh) on a fresh
# clone.
if [ ! -e "$out/dataset.jsonl" ] && [ -e "$out/dataset.jsonl.xz" ]; then
  xz -dc "$out/dataset.jsonl.xz" > "$out/dataset.jsonl"
fi

preprocess() { # <dir of imported .mlir> <output dir>
  for f in "$1"/*.mlir; do
    dst="$2/$(basename "$f")"
    if [ ! -e "$dst" ] || [ "$f" -nt "$dst" ]; then
      "$bin/tcl-opt" "$f" --tcl-preprocess -o "$dst"
    fi
  done
}
preprocess examples/networks "$pre/eval"
preprocess examples/networks/zoo "$pre/train"

"$bin/tcl-dataset" "$pre"/eval/*.mlir --target="$target" \
  --programs="$eval_programs" --database="$out/dataset.jsonl" \
  --manifest="$out/eval.manifest.json"
# Round-robin over the zoo networks, so that a partial collection covers
# all of them.
"$bin/tcl-dataset" "$pre"/train/*.mlir --target="$target" --interleave \
  --programs="$train_programs" --database="$out/dataset.jsonl" \
  --manifest="$out/train.manifest.json"
