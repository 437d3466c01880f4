// RUN: tcl-run %s --target=cpu,threads=1 --samples=3 --seed=1 --min-repeat-seconds=0.001 --json=%t.json | FileCheck %s
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: not tcl-run %s --target=cpu:avx3 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not tcl-run %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING

// The main job end to end on one small layer: default schedule plus three
// random schedules, each built, checked against the naive reference and
// timed.
// CHECK: workload {{.*}} default ms
// CHECK: matmul_{{[0-9a-f]+}} matmul 2 {{.*}} 4/4
// CHECK: weighted latency: default {{.*}} ms, best {{.*}} ms

// JSON: "cpu_model":
// JSON: "threads": 1
// JSON: "error": "none"
// JSON: "gflops":
// JSON: "schedule": "module attributes {transform.with_named_sequence}
// JSON: "weight": 2

// BADTARGET: tcl-run: invalid target 'cpu:avx3': unknown ISA 'avx3'
// MISSING: tcl-run: cannot open input file

func.func @dense(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>) -> tensor<32x48xf32> attributes {tcl.weight = 2 : i64} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x48xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<32x48xf32>) -> tensor<32x48xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x48xf32>) outs(%fill : tensor<32x48xf32>) -> tensor<32x48xf32>
  return %mm : tensor<32x48xf32>
}
