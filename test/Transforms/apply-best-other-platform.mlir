// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-best="database=%S/Inputs/apply-best-db.jsonl target=cpu:avx512,threads=2 platform=cpu:avx512,threads=2@test-cpu" -verify-diagnostics 2>/dev/null | FileCheck %s

// Records measured on another platform are not used, but the mismatch is
// reported: they may be what the user meant to apply.
// expected-warning @below {{workload 'matmul_9e2261d81d365803' has records only for platform(s) 'cpu:avx2,threads=1@other-cpu'; using the default schedule}}
module {
  // CHECK-LABEL: func.func @square
  // CHECK: scf.forall ({{.*}}) in (4, 1)
  // CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
  func.func @square(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<64x64xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
    %mm = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
    return %mm : tensor<64x64xf32>
  }
}
