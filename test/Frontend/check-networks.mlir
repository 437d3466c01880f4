// Whole-network checks of the two CI-sized evaluation networks: export with
// seeded weights, import, run and compare with PyTorch eager on the fixed
// random input (relative tolerance 1e-3). The mlir-runner backend (stock
// MLIR, naive loops) checks the importer independently of TCL; the other
// three networks are in the benchmark scripts (too slow for CI here).
// REQUIRES: torch

// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -m tcl.check_model bert_tiny --backend mlir-runner --onnx-dir %t 2>&1 | FileCheck %s --check-prefix=BERT
// BERT: bert_tiny: backend mlir-runner: max abs error {{.*}}: OK

// RUN: %python -m tcl.check_model mobilenet_v2 --backend mlir-runner --onnx-dir %t 2>&1 | FileCheck %s --check-prefix=MOBILENET
// MOBILENET: mobilenet_v2: backend mlir-runner: max abs error {{.*}}: OK
