// RUN: tcl-opt %s --tcl-preprocess | FileCheck %s
// RUN: tcl-opt %s --tcl-preprocess --tcl-extract-tasks | FileCheck %s --check-prefix=TASKS
// RUN: tcl-opt %s --tcl-preprocess --tcl-extract-tasks --tcl-apply-schedules="target=cpu,threads=2" --tcl-lower-to-cpu="target=cpu,threads=2" | FileCheck %s --check-prefix=LOWERED
// RUN: tcl-run %s --entry=residual --target=cpu,threads=1 --min-repeats=1 | FileCheck %s --check-prefix=TIMED

// A ResNet-style residual block as the importer writes it: two 1x1 convs of
// the same shape (the main branch and the downsample branch), each with its
// own zero accumulator, biases added by separate elementwise ops, then the
// residual add and ReLU.

// Elementwise chains are fused: one bias add per branch is folded into the
// residual add, and CSE's shared accumulator is split again, one per conv.
// CHECK-LABEL: func.func @residual
// CHECK-COUNT-2: linalg.fill
// CHECK-NOT: linalg.fill
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return

// The add belongs to the first conv's task only, so the two convs are different
// workloads.
// TASKS: linalg.conv_2d_nhwc_hwcf {{.*}}tcl.task = "[[FIRST:conv_2d_nhwc_hwcf_[0-9a-f]+]]"
// TASKS: linalg.conv_2d_nhwc_hwcf {{.*}}tcl.task = "[[SECOND:conv_2d_nhwc_hwcf_[0-9a-f]+]]"
// TASKS: linalg.generic {{.*}}tcl.fused = "[[FIRST]]"

// LOWERED: llvm.func @residual
// TIMED: @residual: median

func.func @residual(%x: tensor<1x14x14x64xf32>, %w1: tensor<1x1x64x64xf32>, %b1: tensor<64xf32>,
                    %w2: tensor<1x1x64x64xf32>, %b2: tensor<64xf32>) -> tensor<1x14x14x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<1x14x14x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  %c1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w1 : tensor<1x14x14x64xf32>, tensor<1x1x64x64xf32>) outs(%f1 : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  %e2 = tensor.empty() : tensor<1x14x14x64xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w2 : tensor<1x14x14x64xf32>, tensor<1x1x64x64xf32>) outs(%f2 : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  %e3 = tensor.empty() : tensor<1x14x14x64xf32>
  %a1 = linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, h, w, c)>, affine_map<(n, h, w, c) -> (c)>, affine_map<(n, h, w, c) -> (n, h, w, c)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c1, %b1 : tensor<1x14x14x64xf32>, tensor<64xf32>) outs(%e3 : tensor<1x14x14x64xf32>) {
  ^bb0(%v: f32, %b: f32, %o: f32):
    %s = arith.addf %v, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x14x14x64xf32>
  %e4 = tensor.empty() : tensor<1x14x14x64xf32>
  %a2 = linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, h, w, c)>, affine_map<(n, h, w, c) -> (c)>, affine_map<(n, h, w, c) -> (n, h, w, c)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c2, %b2 : tensor<1x14x14x64xf32>, tensor<64xf32>) outs(%e4 : tensor<1x14x14x64xf32>) {
  ^bb0(%v: f32, %b: f32, %o: f32):
    %s = arith.addf %v, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x14x14x64xf32>
  %e5 = tensor.empty() : tensor<1x14x14x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, h, w, c)>, affine_map<(n, h, w, c) -> (n, h, w, c)>, affine_map<(n, h, w, c) -> (n, h, w, c)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a1, %a2 : tensor<1x14x14x64xf32>, tensor<1x14x14x64xf32>) outs(%e5 : tensor<1x14x14x64xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %s = arith.addf %u, %v : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x14x14x64xf32>
  return %r : tensor<1x14x14x64xf32>
}
