// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="schedules=%S/Inputs/too-many-threads-schedule.mlir target=cuda:sm_90" -verify-diagnostics -o /dev/null

// 64x64 block tiles with one output per thread need 4096 threads per block;
// the schedule is rejected before anything is transformed.
// expected-error @below {{4096 threads per block (64x64x1), more than the limit of 1024 on cuda:sm_90}}
module {
  func.func @mm(%a: tensor<256x512xf32>, %b: tensor<512x384xf32>) -> tensor<256x384xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<256x384xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<256x384xf32>) -> tensor<256x384xf32>
    %mm = linalg.matmul ins(%a, %b : tensor<256x512xf32>, tensor<512x384xf32>) outs(%fill : tensor<256x384xf32>) -> tensor<256x384xf32>
    return %mm : tensor<256x384xf32>
  }
}
