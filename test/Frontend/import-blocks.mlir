// Imports the tiny PyTorch blocks of Inputs/blocks.py, checks that the
// checked-in conv-bn-relu.mlir and attention-block.mlir are what the
// importer writes today, and runs every block with stock MLIR (mlir-runner,
// naive loops) against PyTorch eager.
// REQUIRES: torch

// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/blocks.py export conv-bn-relu %t/cbr.onnx
// RUN: %python -m tcl.onnx_import %t/cbr.onnx -o %t/cbr.mlir --weights %t/cbr.npz 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: grep -v -e '^//' -e '^$' %t/cbr.mlir > %t/cbr.body
// RUN: grep -v -e '^//' -e '^$' %S/conv-bn-relu.mlir | diff - %t/cbr.body
// RUN: %python -c "import numpy; w = numpy.load('%t/cbr.npz'); print(sorted((k, w[k].shape) for k in w.files))" | FileCheck %s --check-prefix=NPZ

// The BatchNormalization of the ONNX graph is folded into the conv.
// SUMMARY: onnx_import: {{.*}}cbr.onnx: 3 ONNX nodes; {{[0-9]+}} ops emitted (1 linalg.conv_2d_nhwc_hwcf, 1 linalg.fill, 2 linalg.generic, 2 linalg.transpose); 2 weights
// SUMMARY: onnx_import: inputs tensor<1x8x16x16xf32>; outputs tensor<1x16x8x8xf32>
// NPZ: [('arg1', (3, 3, 8, 16)), ('arg2', (16,))]

// RUN: %python %S/Inputs/blocks.py export attention %t/attn.onnx
// RUN: %python -m tcl.onnx_import %t/attn.onnx -o %t/attn.mlir --no-weights --quiet
// RUN: grep -v -e '^//' -e '^$' %t/attn.mlir > %t/attn.body
// RUN: grep -v -e '^//' -e '^$' %S/attention-block.mlir | diff - %t/attn.body

// RUN: %python %S/Inputs/blocks.py check 2>&1 | FileCheck %s --check-prefix=NUMERIC
// NUMERIC-DAG: conv-bn-relu: {{.*}}: OK
// NUMERIC-DAG: separable: {{.*}}: OK
// NUMERIC-DAG: pools: {{.*}}: OK
// NUMERIC-DAG: attention: {{.*}}: OK
// NUMERIC-NOT: FAIL
