// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_80" | FileCheck %s --check-prefix=SCHED
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_80" --tcl-lower-to-nvvm="target=cuda:sm_80 output=%t.ptx" | FileCheck %s
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t.ptx

// The default GPU schedule of a 3x3 convolution (NHWC, 56x56x64 output):
// output rows (oh) over blocks along z, the 56x64 (ow, f) plane of a row in
// one block of 14x16 threads with 4x4 outputs each; reduction steps of one
// filter tap and 16 channels, whose input patch (1x1x56x16) and filter tile
// (1x1x16x64) are copied into workgroup memory.
// SCHED-LABEL: func.func @conv
// SCHED: scf.forall ({{.*}}) in (56, 1, 1)
// SCHED: scf.for {{.*}} to %c3 step %c1
// SCHED: scf.for {{.*}} to %c3{{.*}} step %c1
// SCHED: scf.for {{.*}} to %c64 step %c16
// SCHED: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<1x1x56x16xf32>
// SCHED: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<1x1x16x64xf32>
// SCHED: scf.forall ({{.*}}) in (1, 14, 16)
// SCHED: linalg.conv_2d_nhwc_hwcf
// SCHED: {mapping = [#gpu.thread<z>, #gpu.thread<y>, #gpu.thread<x>]}
// SCHED: {mapping = [#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]}

// CHECK: gpu.launch_func @conv_kernel::@conv_kernel
// CHECK: gpu.binary @conv_kernel [#gpu.object<#nvvm.target<chip = "sm_80", features = "+ptx80">

// PTX: .target sm_80
// PTX: .visible .entry conv_kernel(
// PTX: .maxntid 16, 14, 1
// PTX-DAG: .shared .align 16 .b8 __wg_conv_kernel_0[3584];
// PTX-DAG: .shared .align 16 .b8 __wg_conv_kernel_1[4096];
// PTX: mov.u32 {{.*}}, %ctaid.z;
// PTX: ld.global.b32
// PTX: st.shared.b32
// PTX: bar.sync 0;
// PTX: ld.shared.b32
// PTX: st.global.b32
func.func @conv(%in: tensor<1x58x58x64xf32>, %w: tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x56x56x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x58x58x64xf32>, tensor<3x3x64x64xf32>) outs(%fill : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  return %c : tensor<1x56x56x64xf32>
}
