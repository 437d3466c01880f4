// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules -verify-diagnostics -o /dev/null

// The CPU sketch rules vectorize convolutions through 1-D decomposition,
// which upstream Linalg does not provide for the FHWC filter layout.
func.func @conv_fhwc(%i: tensor<1x16x16x32xf32>, %w: tensor<64x3x3x32xf32>, %o: tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32> {
  // expected-error @below {{unsupported convolution for the CPU sketch rules: no 1-D decomposition for 'linalg.conv_2d_nhwc_fhwc'}}
  %r = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x16x16x32xf32>, tensor<64x3x3x32xf32>) outs(%o : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  return %r : tensor<1x14x14x64xf32>
}
