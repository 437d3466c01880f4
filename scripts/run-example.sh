#!/usr/bin/env bash
# The main job on the bundled workload: builds TCL if needed, then measures
# every distinct ResNet-50 and BERT-base layer on the host CPU with its default
# schedule and a few random schedules of its search space. Extra arguments go
# to tcl-run (see `build/bin/tcl-run --help`), e.g. --samples=20 or
# --target=cpu:avx2,threads=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build_dir=${TCL_BUILD_DIR:-build}
"$build_dir/bin/tcl-run" examples/resnet50_bert_layers.mlir --samples=4 \
  --json=resnet50_bert_layers.results.json "$@"
