// Whole-network checks of the two CI-sized evaluation networks: export with
// seeded weights, import, run and compare with PyTorch eager on the fixed
// random input (max relative error <= 1e-3, see tcl.check_model).
//
// First through TCL: tcl-opt --tcl-preprocess, then tcl-run --entry=forward
// with the default schedules of every task on the real input and weights.
// Then through stock MLIR (mlir-runner backend: bufferization + naive loops),
// which checks the importer independently of TCL. The other three networks
// are checked by benchmarks/end_to_end/run.py (too slow for CI here).
// About 60 s on 2 cores.
// REQUIRES: torch

// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -m tcl.check_model bert_tiny --onnx-dir %t 2>&1 | FileCheck %s --check-prefix=BERT
// BERT: bert_tiny: backend tcl-run: max abs error {{.*}}: OK

// RUN: %python -m tcl.check_model mobilenet_v2 --onnx-dir %t 2>&1 | FileCheck %s --check-prefix=MOBILENET
// MOBILENET: mobilenet_v2: backend tcl-run: max abs error {{.*}}: OK

// RUN: %python -m tcl.check_model bert_tiny --backend mlir-runner --onnx-dir %t 2>&1 | FileCheck %s --check-prefix=BERT-STOCK
// BERT-STOCK: bert_tiny: backend mlir-runner: max abs error {{.*}}: OK

// RUN: %python -m tcl.check_model mobilenet_v2 --backend mlir-runner --onnx-dir %t 2>&1 | FileCheck %s --check-prefix=MOBILENET-STOCK
// MOBILENET-STOCK: mobilenet_v2: backend mlir-runner: max abs error {{.*}}: OK
