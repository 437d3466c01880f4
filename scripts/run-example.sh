#!/usr/bin/env bash
# The main job on the bundled workload: builds TCL if needed, then tunes the
# 35 distinct ResNet-50 and BERT-base layers on the host CPU (about ten
# minutes on 2 cores), prints the per-task table and the estimated end-to-end
# speedup, and writes the tuned module. Measurements go to
# resnet50_bert_layers.jsonl, so running it again resumes. Extra arguments go
# to tcl-tune (see `build/bin/tcl-tune --help`), e.g. --trials=5000 or
# --target=cpu:avx2,threads=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build_dir=${TCL_BUILD_DIR:-build}
"$build_dir/bin/tcl-tune" examples/resnet50_bert_layers.mlir --trials=2500 \
  --database=resnet50_bert_layers.jsonl -o resnet50_bert_layers.tuned.mlir "$@"
