// RUN: tcl-opt %s --tcl-extract-tasks | mlir-opt --transform-preload-library=transform-library-paths=%S/Inputs/gpu-matmul-schedule.mlir --transform-interpreter | FileCheck %s

// A GPU schedule is a plain transform script: stock mlir-opt replays it,
// bufferization and the mapping to a gpu.launch included (the script's
// entry point does what --tcl-lower-to-nvvm does for every kernel).
// CHECK-LABEL: func.func @mm
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c6{{.*}}, {{.*}} = %c4{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c16{{.*}}, {{.*}} = %c16{{.*}}, {{.*}} = %c1{{.*}})
// CHECK: gpu.block_id x
// CHECK: gpu.thread_id x
// CHECK: memref.alloc() {{.*}} : memref<64x16xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: linalg.matmul {{.*}} ins({{.*}} : memref<4x16xf32, {{.*}}#gpu.address_space<workgroup>>, memref<16x4xf32, {{.*}}#gpu.address_space<workgroup>>)
// CHECK: gpu.terminator
module {
  func.func @mm(%a: tensor<256x512xf32>, %b: tensor<512x384xf32>) -> tensor<256x384xf32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<256x384xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<256x384xf32>) -> tensor<256x384xf32>
    %mm = linalg.matmul ins(%a, %b : tensor<256x512xf32>, tensor<512x384xf32>) outs(%fill : tensor<256x384xf32>) -> tensor<256x384xf32>
    return %mm : tensor<256x384xf32>
  }
}
