// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="schedules=%S/Inputs/no-promotion-schedule.mlir target=cuda:sm_90" | FileCheck %s --check-prefix=SCHED
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="schedules=%S/Inputs/no-promotion-schedule.mlir target=cuda:sm_90" --tcl-lower-to-nvvm="target=cuda:sm_90 output=%t.ptx" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t.ptx

// The default tiles with promote = none: threads read their operands from
// global memory; the kernel declares no shared memory.
// SCHED-LABEL: func.func @mm
// SCHED-NOT: workgroup
// SCHED-NOT: linalg.copy
// SCHED: linalg.matmul {{.*}} ins({{.*}} : tensor<4x16xf32>, tensor<16x4xf32>)

// PTX: .visible .entry mm_kernel(
// PTX: .maxntid 16, 16, 1
// PTX-NOT: .shared
// PTX: ld.global.b32
// PTX-NOT: .shared
// PTX: ret;
module {
  func.func @mm(%a: tensor<256x512xf32>, %b: tensor<512x384xf32>) -> tensor<256x384xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<256x384xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<256x384xf32>) -> tensor<256x384xf32>
    %mm = linalg.matmul ins(%a, %b : tensor<256x512xf32>, tensor<512x384xf32>) outs(%fill : tensor<256x384xf32>) -> tensor<256x384xf32>
    return %mm : tensor<256x384xf32>
  }
}
