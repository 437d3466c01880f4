// RUN: not tcl-opt %s --tcl-extract-tasks --tcl-export-transform-library="output=%t.lib.mlir" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NO-DATABASE
// RUN: not tcl-opt %s --tcl-extract-tasks --tcl-export-transform-library="database=%S/Inputs/export-transform-library-db.jsonl" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NO-OUTPUT
// RUN: not tcl-opt %s --tcl-extract-tasks --tcl-export-transform-library="database=%S/Inputs/does-not-exist.jsonl output=%t.lib.mlir" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tcl-opt %s --tcl-extract-tasks --tcl-export-transform-library="database=%S/Inputs/export-transform-library-db.jsonl target=gpu output=%t.lib.mlir" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not tcl-opt %s --tcl-extract-tasks --tcl-export-transform-library="database=%S/Inputs/export-transform-library-db.jsonl platform=cpu:avx512,threads=2@test-cpu output=%t.missing-dir/lib.mlir" -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNWRITABLE

// NO-DATABASE: error: --tcl-export-transform-library needs a database file: database=<path>
// NO-OUTPUT: error: --tcl-export-transform-library needs an output file: output=<path>
// MISSING: error: {{.*}}does-not-exist.jsonl': cannot open: No such file or directory
// TARGET: error: {{.*}}gpu
// UNWRITABLE: error: cannot write the transform library '{{.*}}.missing-dir/lib.mlir': {{.*}}No such file or directory

func.func @square(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %mm : tensor<64x64xf32>
}
