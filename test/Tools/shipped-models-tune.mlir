// The shipped pretrained models load in tcl-tune and tune a task. A model
// is checked only against the version of the features it reads: the mlp
// model (statement features) stays usable when the sequence features change.
// RUN: rm -f %t.mlp.jsonl %t.mamba.jsonl
// RUN: tcl-tune %s --target=cpu,threads=1 --trials=4 --measures-per-round=2 --min-repeat-seconds=0.001 --cost-model=mlp:%S/../../models/cpu-avx512-t2.mlp.pt --database=%t.mlp.jsonl 2>&1 | FileCheck %s
// RUN: tcl-tune %s --target=cpu,threads=1 --trials=4 --measures-per-round=2 --min-repeat-seconds=0.001 --cost-model=mamba:%S/../../models/cpu-avx512-t2.mamba.pt --database=%t.mamba.jsonl 2>&1 | FileCheck %s
// A stale statement version still refuses the mlp model.
// RUN: sed 's/"statement_feature_version": [0-9]*/"statement_feature_version": 99/' %S/../../models/cpu-avx512-t2.mlp.pt.json > %t.old.pt.json && cp %S/../../models/cpu-avx512-t2.mlp.pt %t.old.pt
// RUN: not tcl-tune %s --trials=2 --cost-model=mlp:%t.old.pt --database=%t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=STALE

// CHECK: matmul_{{[0-9a-f]+}} {{.*}}trials 4/4
// STALE: trained on feature versions sequence {{[0-9]+}} / statement 99, this build computes sequence {{[0-9]+}} / statement 1; retrain the model

func.func @mm(%a: tensor<16x16xf32>, %b: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<16x16xf32>, tensor<16x16xf32>) outs(%fill : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %mm : tensor<16x16xf32>
}
