// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules -verify-diagnostics -o /dev/null

// The CPU sketch rules vectorize convolutions through 1-D decomposition,
// which upstream Linalg does not provide for 3-D convolutions.
func.func @conv3d(%i: tensor<1x6x6x6x8xf32>, %w: tensor<3x3x3x8x16xf32>, %o: tensor<1x4x4x4x16xf32>) -> tensor<1x4x4x4x16xf32> {
  // expected-error @below {{unsupported convolution for the CPU sketch rules: no 1-D decomposition for 'linalg.conv_3d_ndhwc_dhwcf'}}
  %r = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>} ins(%i, %w : tensor<1x6x6x6x8xf32>, tensor<3x3x3x8x16xf32>) outs(%o : tensor<1x4x4x4x16xf32>) -> tensor<1x4x4x4x16xf32>
  return %r : tensor<1x4x4x4x16xf32>
}
