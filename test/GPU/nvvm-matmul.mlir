// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" | FileCheck %s --check-prefix=SCHED
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" --tcl-lower-to-nvvm="target=cuda:sm_90 output=%t.ptx" | FileCheck %s
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t.ptx

// The default GPU schedule of a 256x384 (k = 512) matmul: 64x64 block
// tiles over a 4x6 grid, 4x4 outputs per thread (16x16 threads), k steps of
// 16 whose 64x16 and 16x64 operand tiles are copied into workgroup memory
// by all threads.
// SCHED-LABEL: func.func @mm
// SCHED: scf.forall ({{.*}}) in (4, 6)
// SCHED: scf.forall ({{.*}}) in (16, 16)
// SCHED: linalg.fill
// SCHED: {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
// SCHED: scf.for {{.*}} step %c16
// SCHED: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x16xf32>
// SCHED: linalg.copy ins({{.*}} : tensor<1x4xf32>)
// SCHED: {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// SCHED: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<16x64xf32>
// SCHED: scf.forall ({{.*}}) in (16, 16)
// SCHED: linalg.matmul {{.*}} ins({{.*}} : tensor<4x16xf32>, tensor<16x4xf32>) outs({{.*}} : tensor<4x4xf32>)
// SCHED: {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
// SCHED: {mapping = [#gpu.block<y>, #gpu.block<x>]}

// The host launches the kernel, which is a gpu.binary holding PTX for sm_90.
// CHECK: module attributes {gpu.container_module, tcl.target = "cuda:sm_90"
// CHECK: llvm.func @mm(
// CHECK: gpu.launch_func @mm_kernel::@mm_kernel blocks in ({{.*}}) threads in ({{.*}})
// CHECK: gpu.binary @mm_kernel [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">, {{.*}}assembly = "{{.*}}.visible .entry mm_kernel(

// PTX: .version 8.0
// PTX: .target sm_90
// PTX: .visible .entry mm_kernel(
// PTX: .maxntid 16, 16, 1
// PTX-DAG: .shared .align 16 .b8 __wg_mm_kernel_0[4096];
// PTX-DAG: .shared .align 16 .b8 __wg_mm_kernel_1[4096];
// PTX: bar.sync 0;
// PTX: ld.global.b32
// PTX: st.shared.b32
// PTX: bar.sync 0;
// PTX: ld.shared.b32
// The multiply-add contracts to one fused instruction.
// PTX: fma.rn.f32
// PTX-NOT: mul.rn.f32
// PTX: st.global.b32
// PTX: ret;
func.func @mm(%a: tensor<256x512xf32>, %b: tensor<512x384xf32>) -> tensor<256x384xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x384xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<256x384xf32>) -> tensor<256x384xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<256x512xf32>, tensor<512x384xf32>) outs(%fill : tensor<256x384xf32>) -> tensor<256x384xf32>
  return %mm : tensor<256x384xf32>
}
