// RUN: rm -f %t.jsonl
// RUN: tcl-tune %s --target=cpu,threads=1 --trials=6 --measures-per-round=3 --cost-model=random --database=%t.jsonl --min-repeat-seconds=0.001 -o %t.mlir | FileCheck %s
// RUN: grep -c '"type":"measure"' %t.jsonl | FileCheck %s --check-prefix=COUNT
// RUN: FileCheck %s --check-prefix=TUNED < %t.mlir
// A second run resumes from the database and measures nothing new.
// RUN: tcl-tune %s --target=cpu,threads=1 --trials=6 --cost-model=random --database=%t.jsonl 2>&1 >/dev/null | FileCheck %s --check-prefix=RESUME
// RUN: grep -c '"type":"measure"' %t.jsonl | FileCheck %s --check-prefix=COUNT
// The best schedules as a transform library that stock mlir-opt applies.
// RUN: tcl-tune %s --target=cpu,threads=1 --trials=6 --cost-model=random --database=%t.jsonl --emit-transform-library=%t.lib.mlir >/dev/null 2>&1
// RUN: mlir-opt %s --transform-preload-library="transform-library-paths=%t.lib.mlir" --transform-interpreter | FileCheck %s --check-prefix=TUNED
// The same search as a pass.
// RUN: rm -f %t2.jsonl
// RUN: tcl-opt %s --tcl-autotune="target=cpu,threads=1 trials=4 measures-per-round=2 cost-model=random database=%t2.jsonl" 2>/dev/null | FileCheck %s --check-prefix=TUNED
// RUN: grep -c '"type":"measure"' %t2.jsonl | FileCheck %s --check-prefix=COUNT4

// CHECK: workload {{.*}} trials {{.*}} speedup
// CHECK: matmul_{{[0-9a-f]+}} matmul 1 {{.*}} 6
// CHECK: estimated end to end

// COUNT: 6
// COUNT4: 4

// TUNED-LABEL: func.func @dense
// TUNED: scf.forall
// TUNED: vector.fma
// TUNED-NOT: linalg.matmul

// RESUME: 6 trials (6 from the database)

func.func @dense(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>) -> tensor<32x48xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x48xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<32x48xf32>) -> tensor<32x48xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x48xf32>) outs(%fill : tensor<32x48xf32>) -> tensor<32x48xf32>
  return %mm : tensor<32x48xf32>
}
