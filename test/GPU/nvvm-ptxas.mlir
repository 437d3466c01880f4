// REQUIRES: ptxas
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" --tcl-lower-to-nvvm="target=cuda:sm_90 output=%t.sm90.ptx" -o /dev/null
// RUN: %ptxas -arch=sm_90 %t.sm90.mm_kernel.ptx -o %t.sm90.mm.cubin
// RUN: %ptxas -arch=sm_90 %t.sm90.conv_kernel.ptx -o %t.sm90.conv.cubin
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_80" --tcl-lower-to-nvvm="target=cuda:sm_80 output=%t.sm80.ptx" -o /dev/null
// RUN: %ptxas -arch=sm_80 %t.sm80.mm_kernel.ptx -o %t.sm80.mm.cubin
// RUN: %ptxas -arch=sm_80 %t.sm80.conv_kernel.ptx -o %t.sm80.conv.cubin

// The PTX of a matmul and a convolution kernel is valid: ptxas assembles it
// (one file per kernel, named after it).
module {
  func.func @mm(%a: tensor<256x512xf32>, %b: tensor<512x384xf32>) -> tensor<256x384xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<256x384xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<256x384xf32>) -> tensor<256x384xf32>
    %mm = linalg.matmul ins(%a, %b : tensor<256x512xf32>, tensor<512x384xf32>) outs(%fill : tensor<256x384xf32>) -> tensor<256x384xf32>
    return %mm : tensor<256x384xf32>
  }
  func.func @conv(%in: tensor<1x58x58x64xf32>, %w: tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<1x56x56x64xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
    %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x58x58x64xf32>, tensor<3x3x64x64xf32>) outs(%fill : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
    return %c : tensor<1x56x56x64xf32>
  }
}
