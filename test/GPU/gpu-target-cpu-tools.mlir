// The CPU-only tools refuse a GPU target (tcl-tune and tcl-dataset
// take one: see test/Tools/gpu-tune-dataset.mlir) with a clear message instead of
// compiling x86 code for an NVPTX CPU name.
// RUN: not tcl-run %s --target=cuda:sm_90 2>&1 | FileCheck %s --check-prefix=RUNNER
// RUN: not tcl-run %s --gpu-batch=%t.batch.json 2>&1 | FileCheck %s --check-prefix=CPU-BATCH
// RUN: not tcl-opt %s --tcl-lower-to-cpu=target=cuda:sm_90 2>&1 | FileCheck %s --check-prefix=LOWER

// RUNNER: tcl-run: a cuda: target needs --gpu-batch=FILE (tcl-run builds GPU candidates here; tcl-cuda-runner measures them on the GPU machine)
// CPU-BATCH: tcl-run: --gpu-batch needs a cuda: target
// LOWER: error: --tcl-lower-to-cpu got the GPU target 'cuda:sm_90'; use --tcl-lower-to-nvvm

func.func @dense(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>) -> tensor<32x48xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x48xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<32x48xf32>) -> tensor<32x48xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x48xf32>) outs(%fill : tensor<32x48xf32>) -> tensor<32x48xf32>
  return %mm : tensor<32x48xf32>
}
