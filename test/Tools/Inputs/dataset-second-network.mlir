// A second network for tcl-dataset.mlir: the same matmul as there (shared
// workload, weight 1 here) and a matmul of another shape.
func.func @dense(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>) -> tensor<32x48xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x48xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<32x48xf32>) -> tensor<32x48xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x48xf32>) outs(%fill : tensor<32x48xf32>) -> tensor<32x48xf32>
  return %mm : tensor<32x48xf32>
}

func.func @wide(%a: tensor<16x32xf32>, %b: tensor<32x128xf32>) -> tensor<16x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x128xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<16x128xf32>) -> tensor<16x128xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x128xf32>) outs(%fill : tensor<16x128xf32>) -> tensor<16x128xf32>
  return %mm : tensor<16x128xf32>
}
