// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-best="database=%S/Inputs/apply-best-db.jsonl target=cpu:avx512,threads=2 platform=cpu:avx512,threads=2@test-cpu" 2>%t.report | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.report
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-best="database=%S/Inputs/apply-best-db.jsonl target=cpu:avx512,threads=2 platform=cpu:avx512,threads=2@test-cpu default-schedules=false" 2>%t.nodefault | FileCheck %s --check-prefix=NODEFAULT
// RUN: FileCheck %s --check-prefix=NODEFAULT-REPORT < %t.nodefault
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-best="database=%S/Inputs/apply-best-db.jsonl target=cpu:avx512,threads=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=HOST

// The database holds four records of @dense's workload. The best successful
// one on the platform has 32-row thread tiles and 4x32 register tiles; a
// slower one (64 rows, 8x32) must lose, and a faster wrong-answer record
// (16 rows, 2x32) and a faster record of another platform (8 rows, 8x16)
// must be ignored.
// CHECK-LABEL: func.func @dense
// CHECK: scf.forall ({{.*}}) in (4, 12)
// CHECK: scf.for {{.*}} -> (vector<4x32xf32>)
// CHECK-COUNT-4: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: linalg.matmul

// @square's workload has records only for another platform: it gets its
// default schedule (16 rows per thread tile, 8x32 register tiles).
// CHECK-LABEL: func.func @square
// CHECK: scf.forall ({{.*}}) in (4, 1)
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK-NOT: linalg.matmul

// REPORT: warning: workload 'matmul_9e2261d81d365803' has records only for platform(s) 'cpu:avx2,threads=1@other-cpu'; using the default schedule
// REPORT: tcl-apply-best: database '{{.*}}apply-best-db.jsonl', platform 'cpu:avx512,threads=2@test-cpu'
// REPORT-NEXT: matmul_8c8eae7c6ab8b177: tuned (median 1 ms, 3 records)
// REPORT-NEXT: matmul_9e2261d81d365803: default (no record for platform cpu:avx512,threads=2@test-cpu)
// REPORT-NEXT: 1 of 2 workloads tuned

// Without default schedules the untuned task is left as it is.
// NODEFAULT-LABEL: func.func @dense
// NODEFAULT: scf.forall ({{.*}}) in (4, 12)
// NODEFAULT-LABEL: func.func @square
// NODEFAULT-NOT: scf.forall
// NODEFAULT: linalg.matmul
// NODEFAULT-REPORT: leaving it unscheduled
// NODEFAULT-REPORT: matmul_9e2261d81d365803: unscheduled (no record for platform cpu:avx512,threads=2@test-cpu)

// Without `platform`, records are looked up for this machine's platform,
// which the database does not hold.
// HOST: tcl-apply-best: database '{{.*}}', platform 'cpu:avx512,threads=2@{{.+}}'
// HOST-NOT: @test-cpu'
// HOST: 0 of 2 workloads tuned

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

func.func @square(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %mm : tensor<64x64xf32>
}
