// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" --tcl-lower-to-nvvm="target=cuda:sm_90 output=%t.ptx" | FileCheck %s
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t.ptx

// A batch matmul: one batch per block along z, 64x64 tiles of each batch
// along y and x, 16x16 threads.
// CHECK: gpu.launch_func @bmm_kernel::@bmm_kernel
// CHECK: gpu.binary @bmm_kernel

// PTX: .visible .entry bmm_kernel(
// PTX: .maxntid 16, 16, 1
// PTX-DAG: .shared .align 16 .b8 __wg_bmm_kernel_0[4096];
// PTX-DAG: .shared .align 16 .b8 __wg_bmm_kernel_1[4096];
// PTX-DAG: %ctaid.x
// PTX-DAG: %ctaid.y
// PTX-DAG: %ctaid.z
// PTX: ld.shared.b32
func.func @bmm(%a: tensor<12x128x64xf32>, %b: tensor<12x64x128xf32>) -> tensor<12x128x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x128x128xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<12x128x128xf32>) -> tensor<12x128x128xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<12x128x64xf32>, tensor<12x64x128xf32>) outs(%fill : tensor<12x128x128xf32>) -> tensor<12x128x128xf32>
  return %r : tensor<12x128x128xf32>
}
