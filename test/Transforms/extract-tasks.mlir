// RUN: tcl-opt %s --tcl-extract-tasks | FileCheck %s
// RUN: tcl-opt %s --tcl-extract-tasks=report=true -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// The fill and the bias-add + ReLU consumer belong to the matmul's task.
// CHECK-LABEL: func.func @dense
// CHECK: linalg.fill
// CHECK-NOT: tcl.
// CHECK: linalg.matmul {tcl.flops = 50397184 : i64, tcl.task = "[[MM:matmul_[0-9a-f]+]]"}
// CHECK: linalg.generic
// CHECK-SAME: tcl.fused = "[[MM]]"
func.func @dense(%a: tensor<128x768xf32>, %b: tensor<768x256xf32>, %bias: tensor<256xf32>) -> tensor<128x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x256xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<128x256xf32>) -> tensor<128x256xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x256xf32>) outs(%fill : tensor<128x256xf32>) -> tensor<128x256xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<128x256xf32>, tensor<256xf32>) outs(%e : tensor<128x256xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x256xf32>
  return %r : tensor<128x256xf32>
}

// The same layer again shares the workload key.
// CHECK-LABEL: func.func @dense_again
// CHECK: linalg.matmul {tcl.flops = 50397184 : i64, tcl.task = "[[MM]]"}
func.func @dense_again(%a: tensor<128x768xf32>, %b: tensor<768x256xf32>, %bias: tensor<256xf32>) -> tensor<128x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x256xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<128x256xf32>) -> tensor<128x256xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x256xf32>) outs(%fill : tensor<128x256xf32>) -> tensor<128x256xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<128x256xf32>, tensor<256xf32>) outs(%e : tensor<128x256xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x256xf32>
  return %r : tensor<128x256xf32>
}

// A transposed-B matmul is a different workload.
// CHECK-LABEL: func.func @dense_transposed
// CHECK: linalg.matmul
// CHECK-SAME: tcl.task = "[[MMT:matmul_[0-9a-f]+]]"
// CHECK-NOT: tcl.task = "[[MM]]"
func.func @dense_transposed(%a: tensor<128x768xf32>, %b: tensor<256x768xf32>, %c: tensor<128x256xf32>) -> tensor<128x256xf32> {
  %mm = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<128x768xf32>, tensor<256x768xf32>) outs(%c : tensor<128x256xf32>) -> tensor<128x256xf32>
  return %mm : tensor<128x256xf32>
}

// CHECK-LABEL: func.func @attention_scores
// CHECK: linalg.batch_matmul {tcl.flops = 25165824 : i64, tcl.task = "batch_matmul_{{[0-9a-f]+}}"}
func.func @attention_scores(%q: tensor<12x128x64xf32>, %k: tensor<12x64x128xf32>, %c: tensor<12x128x128xf32>) -> tensor<12x128x128xf32> {
  %s = linalg.batch_matmul ins(%q, %k : tensor<12x128x64xf32>, tensor<12x64x128xf32>) outs(%c : tensor<12x128x128xf32>) -> tensor<12x128x128xf32>
  return %s : tensor<12x128x128xf32>
}

// 2 * 56*56*64 * 3*3*64 FLOPs.
// CHECK-LABEL: func.func @conv_nhwc
// CHECK: linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, tcl.flops = 231211008 : i64, tcl.task = "conv_2d_nhwc_hwcf_{{[0-9a-f]+}}"}
func.func @conv_nhwc(%i: tensor<1x58x58x64xf32>, %w: tensor<3x3x64x64xf32>, %o: tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32> {
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x58x58x64xf32>, tensor<3x3x64x64xf32>) outs(%o : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  return %r : tensor<1x56x56x64xf32>
}

// Strides are part of the workload.
// CHECK-LABEL: func.func @conv_nchw_strided
// CHECK: linalg.conv_2d_nchw_fchw {{.*}}tcl.task = "conv_2d_nchw_fchw_{{[0-9a-f]+}}"
func.func @conv_nchw_strided(%i: tensor<1x64x57x57xf32>, %w: tensor<128x64x3x3xf32>, %o: tensor<1x128x28x28xf32>) -> tensor<1x128x28x28xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%i, %w : tensor<1x64x57x57xf32>, tensor<128x64x3x3xf32>) outs(%o : tensor<1x128x28x28xf32>) -> tensor<1x128x28x28xf32>
  return %r : tensor<1x128x28x28xf32>
}

// CHECK-LABEL: func.func @conv_fhwc
// CHECK: linalg.conv_2d_nhwc_fhwc {{.*}}tcl.task = "conv_2d_nhwc_fhwc_{{[0-9a-f]+}}"
func.func @conv_fhwc(%i: tensor<1x16x16x32xf32>, %w: tensor<64x3x3x32xf32>, %o: tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32> {
  %r = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x16x16x32xf32>, tensor<64x3x3x32xf32>) outs(%o : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  return %r : tensor<1x14x14x64xf32>
}

// CHECK-LABEL: func.func @depthwise
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc {{.*}}tcl.task = "depthwise_conv_2d_nhwc_hwc_{{[0-9a-f]+}}"
func.func @depthwise(%i: tensor<1x114x114x32xf32>, %w: tensor<3x3x32xf32>, %o: tensor<1x112x112x32xf32>) -> tensor<1x112x112x32xf32> {
  %r = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x114x114x32xf32>, tensor<3x3x32xf32>) outs(%o : tensor<1x112x112x32xf32>) -> tensor<1x112x112x32xf32>
  return %r : tensor<1x112x112x32xf32>
}

// CHECK-LABEL: func.func @maxpool
// CHECK: linalg.pooling_nhwc_max {{.*}}tcl.task = "pooling_nhwc_max_{{[0-9a-f]+}}"
func.func @maxpool(%i: tensor<1x114x114x64xf32>, %o: tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32> {
  %win = tensor.empty() : tensor<3x3xf32>
  %r = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%i, %win : tensor<1x114x114x64xf32>, tensor<3x3xf32>) outs(%o : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  return %r : tensor<1x56x56x64xf32>
}

// Softmax pieces: a max reduction, then exp as a standalone elementwise task.
// CHECK-LABEL: func.func @softmax_max
// CHECK: linalg.generic {{.*}}tcl.flops = 196608 : i64, tcl.task = "reduction_{{[0-9a-f]+}}"
// CHECK: linalg.generic {{.*}}tcl.task = "elementwise_{{[0-9a-f]+}}"
func.func @softmax_max(%x: tensor<12x128x128xf32>, %init: tensor<12x128xf32>, %out: tensor<12x128x128xf32>) -> tensor<12x128x128xf32> {
  %max = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : tensor<12x128x128xf32>) outs(%init : tensor<12x128xf32>) {
  ^bb0(%a: f32, %m: f32):
    %r = arith.maximumf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<12x128xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %max : tensor<12x128x128xf32>, tensor<12x128xf32>) outs(%out : tensor<12x128x128xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  } -> tensor<12x128x128xf32>
  return %e : tensor<12x128x128xf32>
}

// REPORT: workload
// REPORT: matmul_{{[0-9a-f]+}} matmul 2 50.40
// REPORT: 11 tasks, 10 distinct workloads
