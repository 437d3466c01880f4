// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-best="database=%S/Inputs/does-not-exist.jsonl target=cpu:avx512,threads=2" -verify-diagnostics -o /dev/null
// RUN: not tcl-opt %s --tcl-extract-tasks --tcl-apply-best -o /dev/null 2>&1 | FileCheck %s --check-prefix=EMPTY

// EMPTY: error: --tcl-apply-best needs a database file: database=<path>

// A database that does not exist is an error, not an empty database: the
// pass never creates the file.
// expected-error @below {{does-not-exist.jsonl': cannot open: No such file or directory}}
module {
  func.func @square(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<64x64xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
    %mm = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
    return %mm : tensor<64x64xf32>
  }
}
