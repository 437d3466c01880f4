// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" -verify-diagnostics -o /dev/null

// The GPU sketch rules cover matmul, batch_matmul and conv_2d_nhwc_hwcf.
func.func @pool(%in: tensor<1x56x56x64xf32>, %out: tensor<1x28x28x64xf32>) -> tensor<1x28x28x64xf32> {
  %window = tensor.empty() : tensor<2x2xf32>
  // expected-error @below {{unsupported op for the GPU sketch rules: 'linalg.pooling_nhwc_max' (expected linalg.matmul, linalg.batch_matmul or linalg.conv_2d_nhwc_hwcf)}}
  %r = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %window : tensor<1x56x56x64xf32>, tensor<2x2xf32>) outs(%out : tensor<1x28x28x64xf32>) -> tensor<1x28x28x64xf32>
  return %r : tensor<1x28x28x64xf32>
}
