#!/usr/bin/env bash
# The main job on the bundled real workload: builds TCL if needed, brings the
# imported ResNet-50 (examples/networks/resnet50.mlir, from ONNX by
# python/tcl/onnx_import.py) to fused Linalg, tunes its 32 distinct tasks on
# the host CPU (about ten minutes on 2 cores), prints the per-task table,
# writes the tuned module, and then times the whole network end to end with
# default and with tuned schedules. Measurements go to resnet50.jsonl, so
# running it again resumes. Extra arguments go to tcl-tune (see
# `build/bin/tcl-tune --help`), e.g. --trials=5000 or
# --target=cpu:avx2,threads=1 (a --target is also used for the timing runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bin=${TCL_BUILD_DIR:-build}/bin
target=cpu
for arg in "$@"; do
  case "$arg" in --target=*) target="${arg#--target=}" ;; esac
done
mkdir -p "${TCL_BUILD_DIR:-build}/examples"
network="${TCL_BUILD_DIR:-build}/examples/resnet50.mlir"
"$bin/tcl-opt" examples/networks/resnet50.mlir --tcl-preprocess -o "$network"
# Cost model: XGBoost fitted online. The shipped pretrained Mamba model
# (--cost-model=mamba:models/cpu-avx512-t2.mamba.pt) ranks held-out networks
# worse than XGBoost so far (docs/results/cost_models.md), so it is not the
# default yet. A --cost-model in "$@" comes later and wins.
"$bin/tcl-tune" "$network" --trials=2500 --database=resnet50.jsonl \
  --cost-model=xgb -o resnet50.tuned.mlir "$@"
echo
echo "ResNet-50 end to end, batch 1, random input ($target):"
"$bin/tcl-run" "$network" --entry=forward --target="$target"
"$bin/tcl-run" "$network" --entry=forward --target="$target" \
  --database=resnet50.jsonl
