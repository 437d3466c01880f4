// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="schedules=%S/Inputs/dense-schedule.mlir target=cpu:avx512,threads=2" | FileCheck %s
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cpu:avx512,threads=2" | FileCheck %s --check-prefix=DEFAULT
// RUN: tcl-opt %s --tcl-extract-tasks | mlir-opt --transform-preload-library=transform-library-paths=%S/Inputs/dense-schedule.mlir --transform-interpreter | FileCheck %s --check-prefix=STOCK
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="schedules=%S/Inputs/dense-schedule.mlir target=cpu:avx512,threads=2" --tcl-lower-to-cpu="target=cpu:avx512,threads=2" | FileCheck %s --check-prefix=LOWERED

// The schedule file's tiles (32 rows per thread tile, 4x32 register tiles)
// are applied: the matmul, its fill and its bias+ReLU consumer are fused
// into one scf.forall over 4x12 thread tiles; the matmul's register tile is
// a 4x32 outer-product accumulation kept in registers across the k loop.
// CHECK-LABEL: func.func @dense
// CHECK: scf.forall ({{.*}}) in (4, 12)
// CHECK: vector.transfer_write {{.*}} : vector<4x32xf32>
// CHECK: scf.for
// CHECK: scf.for {{.*}} -> (vector<4x32xf32>)
// CHECK-COUNT-4: vector.fma {{.*}} : vector<32xf32>
// CHECK: arith.maximumf {{.*}} : vector<4x32xf32>
// CHECK: scf.forall.in_parallel
// CHECK-NOT: linalg.matmul

// The default schedule: 8x32 register tiles.
// DEFAULT-LABEL: func.func @dense
// DEFAULT: scf.forall ({{.*}}) in (2, 2)
// DEFAULT: scf.for {{.*}} -> (vector<8x32xf32>)
// DEFAULT-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// DEFAULT-NOT: linalg.matmul

// A schedule is a plain transform script: stock mlir-opt replays it.
// STOCK-LABEL: func.func @dense
// STOCK: scf.forall ({{.*}}) in (4, 12)
// STOCK: scf.for {{.*}} -> (vector<4x32xf32>)
// STOCK-COUNT-4: vector.fma {{.*}} : vector<32xf32>

// LOWERED: llvm.func @dense
// LOWERED: omp.parallel num_threads({{.*}})
// LOWERED: omp.wsloop
// LOWERED: llvm.intr.fmuladd{{.*}}vector<32xf32>
// LOWERED: llvm.func @_mlir_ciface_dense
func.func @dense(%a: tensor<128x768xf32>, %b: tensor<768x384xf32>, %bias: tensor<384xf32>) -> tensor<128x384xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x384xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<128x384xf32>) -> tensor<128x384xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x384xf32>) outs(%fill : tensor<128x384xf32>) -> tensor<128x384xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<128x384xf32>, tensor<384xf32>) outs(%e : tensor<128x384xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x384xf32>
  return %r : tensor<128x384xf32>
}
