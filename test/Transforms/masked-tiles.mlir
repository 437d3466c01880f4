// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="schedules=%S/Inputs/masked-tiles-schedule.mlir target=cpu:avx512,threads=2" | FileCheck %s

// N = 100 is not a multiple of the 32-wide thread tiles of the schedule, so
// the last tile is partial: the register tile is vectorized with masks
// instead of falling back to scalar code.
// CHECK-LABEL: func.func @skinny
// CHECK: scf.forall ({{.*}}) in (1, 4)
// CHECK: affine.min
// CHECK: vector.transfer_read {{.*}} : tensor<6x?xf32>, vector<6x16xf32>
// CHECK: scf.for {{.*}} -> (vector<6x16xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<1x?xf32>, vector<1x16xf32>
// CHECK: %[[FMA:.*]] = vector.fma {{.*}} : vector<16xf32>
// CHECK: arith.select %{{.*}}, %[[FMA]], %{{.*}} : vector<16xi1>, vector<16xf32>
func.func @skinny(%a: tensor<30x96xf32>, %b: tensor<96x100xf32>, %c: tensor<30x100xf32>) -> tensor<30x100xf32> {
  %mm = linalg.matmul ins(%a, %b : tensor<30x96xf32>, tensor<96x100xf32>) outs(%c : tensor<30x100xf32>) -> tensor<30x100xf32>
  return %mm : tensor<30x100xf32>
}
