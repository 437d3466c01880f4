// RUN: tcl-opt %s --tcl-extract-tasks | FileCheck %s --check-prefix=TASKS
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cpu:avx512,threads=2" | FileCheck %s
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cpu:avx512,threads=2" --tcl-lower-to-cpu="target=cpu:avx512,threads=2" | FileCheck %s --check-prefix=LOWERED

// A grouped convolution (8 groups of 4 channels) is one task. Upstream Linalg
// has no 1-D decomposition for it: the default schedule gives the window
// loops unit register tiles, generalizes the register tile and folds its
// unit loops, so the tile vectorizes as a contraction over the input
// channels. The accumulator (7 output columns x 4 filters of one group) is
// carried in registers across the window and channel loops.
// TASKS-LABEL: func.func @grouped
// TASKS: linalg.conv_2d_nhwgc_gfhwc {{.*}}tcl.task = "conv_2d_nhwgc_gfhwc_
// CHECK-LABEL: func.func @grouped
// CHECK: scf.forall ({{.*}}) in (1, 2, 1, 2, 1)
// CHECK: scf.for {{.*}} -> (vector<7x4xf32>)
// CHECK: scf.for {{.*}} -> (vector<7x4xf32>)
// CHECK: scf.for {{.*}} -> (vector<7x4xf32>)
// CHECK: arith.mulf {{.*}} : vector<7x4xf32>
// CHECK: arith.addf {{.*}} : vector<7x4xf32>
// CHECK-NOT: linalg.conv_2d_nhwgc_gfhwc
// CHECK-NOT: linalg.generic
// CHECK: return
// LOWERED-LABEL: llvm.func @grouped(
// LOWERED: omp.parallel
// LOWERED: omp.wsloop
// LOWERED: llvm.fmul {{.*}} : vector<4xf32>
// LOWERED: llvm.fadd {{.*}} : vector<4xf32>
func.func @grouped(%i: tensor<1x16x16x8x4xf32>, %w: tensor<8x4x3x3x4xf32>) -> tensor<1x14x14x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x14x14x8x4xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x14x14x8x4xf32>) -> tensor<1x14x14x8x4xf32>
  %c = linalg.conv_2d_nhwgc_gfhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x16x16x8x4xf32>, tensor<8x4x3x3x4xf32>) outs(%fill : tensor<1x14x14x8x4xf32>) -> tensor<1x14x14x8x4xf32>
  return %c : tensor<1x14x14x8x4xf32>
}

// With stride 2 the input index of an output column stays `2 * ow` after the
// window loops are folded, which the vectorizer does not take: the output
// image loops get unit register tiles too, and the register tile runs along
// the filters of a group.
// CHECK-LABEL: func.func @grouped_stride2
// CHECK: scf.forall
// CHECK: scf.for {{.*}} -> (vector<8xf32>)
// CHECK: arith.mulf {{.*}} : vector<8xf32>
// CHECK-NOT: linalg.conv_2d_nhwgc_gfhwc
// CHECK-NOT: linalg.generic
// CHECK: return
// LOWERED-LABEL: llvm.func @grouped_stride2(
// LOWERED: omp.parallel
// LOWERED: llvm.fmul {{.*}} : vector<8xf32>
func.func @grouped_stride2(%i: tensor<1x15x15x4x8xf32>, %w: tensor<4x8x3x3x8xf32>, %o: tensor<1x7x7x4x8xf32>) -> tensor<1x7x7x4x8xf32> {
  %r = linalg.conv_2d_nhwgc_gfhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%i, %w : tensor<1x15x15x4x8xf32>, tensor<4x8x3x3x8xf32>) outs(%o : tensor<1x7x7x4x8xf32>) -> tensor<1x7x7x4x8xf32>
  return %r : tensor<1x7x7x4x8xf32>
}
