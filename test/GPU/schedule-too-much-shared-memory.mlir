// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="schedules=%S/Inputs/too-much-shared-memory-schedule.mlir target=cuda:sm_90" -verify-diagnostics -o /dev/null

// 256x128 block tiles with reduction steps of 64, promoted: a 256x64 and a
// 64x128 f32 tile are 96 KiB of shared memory, over the 48 KiB a block can
// declare statically.
// expected-error @below {{98304 bytes of shared memory per block, more than the limit of 49152 on cuda:sm_90}}
module {
  func.func @mm(%a: tensor<256x512xf32>, %b: tensor<512x384xf32>) -> tensor<256x384xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<256x384xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<256x384xf32>) -> tensor<256x384xf32>
    %mm = linalg.matmul ins(%a, %b : tensor<256x512xf32>, tensor<512x384xf32>) outs(%fill : tensor<256x384xf32>) -> tensor<256x384xf32>
    return %mm : tensor<256x384xf32>
  }
}
