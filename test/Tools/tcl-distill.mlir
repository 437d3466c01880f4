// A platform sequence on the 400 shipped conv records: platform 1 as
// recorded, platform 2 a synthetic copy with another landscape.
// RUN: %python %S/Inputs/second_platform.py %S/Inputs/conv-records.jsonl %t.db.jsonl %t.manifest.json
// RUN: tcl-distill --train=%t.db.jsonl --platform='cpu:avx512,threads=2@AMD EPYC' --test-manifest=%t.manifest.json --epochs=2 --config='{"d_model":16,"d_state":4}' --torch-threads=1 -o %t.m1.pt --json=%t.m1.json 2>&1 | FileCheck %s --check-prefix=FIRST
// RUN: FileCheck %s --check-prefix=SIDECAR1 < %t.m1.pt.json
// RUN: tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --from=%t.m1.pt --test-manifest=%t.manifest.json --epochs=2 --unlabeled=16 --torch-threads=1 -o %t.m2.pt --json=%t.m2.json 2>&1 | FileCheck %s --check-prefix=CKD
// RUN: FileCheck %s --check-prefix=JSON2 < %t.m2.json
// The baselines, with the same parameter count.
// RUN: tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --from=%t.m1.pt --epochs=2 --unlabeled=16 --valid-fraction=0.25 --torch-threads=1 -o %t.v2.pt --json=%t.v2.json 2>&1 | FileCheck %s --check-prefix=VALID
// RUN: FileCheck %s --check-prefix=VALID-JSON < %t.v2.json
// RUN: not tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --from=%t.m1.pt --valid-fraction=-0.5 -o %t.bad.pt 2>&1 | FileCheck %s --check-prefix=VALID-RANGE
// RUN: tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --from=%t.m1.pt --method=finetune --epochs=1 --torch-threads=1 -o %t.ft.pt 2>&1 | FileCheck %s --check-prefix=FINETUNE
// RUN: tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --from=%t.m1.pt --method=scratch --epochs=1 --torch-threads=1 -o %t.sc.pt 2>&1 | FileCheck %s --check-prefix=SCRATCH
// RUN: tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --mtl-platform='cpu:avx512,threads=2@AMD EPYC' --method=mtl --config='{"d_model":16,"d_state":4}' --epochs=1 --torch-threads=1 -o %t.mtl.pt 2>&1 | FileCheck %s --check-prefix=MTL
// The tuner needs the part of its own platform.
// RUN: not tcl-tune %s --target=cpu:sse4.2,threads=1 --trials=2 --cost-model=mamba:%t.m2.pt --database=%t.tune.jsonl 2>&1 | FileCheck %s --check-prefix=TUNE-UNKNOWN
// Bad input.
// RUN: not tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --method=ckd -o %t.bad.pt 2>&1 | FileCheck %s --check-prefix=NO-FROM
// RUN: tcl-train --database=%S/Inputs/conv-records.jsonl --epochs=1 --torch-threads=1 --config='{"d_model":16,"d_state":4}' -o %t.plain.pt >/dev/null 2>&1
// RUN: not tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --from=%t.plain.pt -o %t.bad.pt 2>&1 | FileCheck %s --check-prefix=NOT-CONTINUAL
// RUN: not tcl-distill --train=%t.db.jsonl --platform=nowhere --from=%t.m1.pt -o %t.bad.pt 2>&1 | FileCheck %s --check-prefix=NO-RECORDS
// RUN: not tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --model=tlp -o %t.bad.pt 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: not tcl-distill --train=%t.db.jsonl --platform=synthetic-p2 --from=%t.m1.pt --method=ewc -o %t.bad.pt 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not ls %t.bad.pt

// FIRST: tcl-distill: scratch for cpu:avx512,threads=2@AMD EPYC: 320 labelled programs of 8 tasks
// FIRST: cpu:avx512,threads=2@AMD EPYC {{ *}}heldout {{ *}}2
// FIRST: tcl-distill: 8049 parameters
// SIDECAR1: "input_norm": 1
// SIDECAR1: "platform_film": 1
// SIDECAR1: "platform_slots": 8
// SIDECAR1: "platforms": [
// SIDECAR1-NEXT: "cpu:avx512,threads=2@AMD EPYC"
// SIDECAR1-NEXT: ]

// CKD: tcl-distill: ckd for synthetic-p2: 320 labelled programs of 8 tasks, 128 unlabelled; from {{.*}}m1.pt (1 platforms)
// CKD: cpu:avx512,threads=2@AMD EPYC {{ *}}heldout
// CKD: synthetic-p2 {{ *}}heldout
// CKD: tcl-distill: 8049 parameters
// JSON2: "method": "ckd"
// JSON2: "platforms": [
// JSON2-NEXT: "cpu:avx512,threads=2@AMD EPYC",
// JSON2-NEXT: "synthetic-p2"
// JSON2: "scores": {
// JSON2: "synthetic-p2": {
// JSON2-NEXT: "heldout": {
// JSON2: "top1":

// VALID: tcl-distill: validation 3 tasks / 120 programs of synthetic-p2
// VALID: ckd for synthetic-p2: 280 labelled programs of 7 tasks
// VALID: epoch 1 loss {{[0-9.]+}} valid top-1 {{[01]\.[0-9]+}}
// VALID: epoch 2 loss {{[0-9.]+}} valid top-1 {{[01]\.[0-9]+}}
// VALID: tcl-distill: kept epoch {{[0-2]}} (best validation top-1 {{[01]\.[0-9]+}}; start {{[01]\.[0-9]+}})
// VALID-JSON: "best_epoch": {{[0-2]}}
// VALID-JSON: "valid_programs": 120
// VALID-JSON: "valid_tasks": 3
// VALID-JSON: "valid_top1": [
// VALID-RANGE: tcl-distill: --valid-fraction must be in [0, 1), got -0.5
// FINETUNE: finetune for synthetic-p2
// FINETUNE: tcl-distill: 8049 parameters
// SCRATCH: scratch for synthetic-p2
// SCRATCH: tcl-distill: 8049 parameters
// MTL: mtl for synthetic-p2
// MTL: tcl-distill: 8049 parameters

// TUNE-UNKNOWN: tcl-tune: {{.*}}m2.pt' has no part for platform 'cpu:sse4.2,threads=1@{{.*}}'; it was trained for 'cpu:avx512,threads=2@AMD EPYC', 'synthetic-p2'

// NO-FROM: tcl-distill: --method=ckd needs --from (the previous platform's model)
// NOT-CONTINUAL: tcl-distill: --from: '{{.*}}plain.pt' is not a continual model (its sidecar lists no platforms)
// NO-RECORDS: tcl-distill: '{{.*}}db.jsonl' has no usable record of platform 'nowhere' outside the held-out tasks
// KIND: tcl-distill: --model/--config: continual models are mamba models {{.*}}'tlp' is not supported
// METHOD: tcl-distill: --method: unknown method 'ewc' (expected ckd, finetune, scratch or mtl)

func.func @mm(%a: tensor<16x16xf32>, %b: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<16x16xf32>, tensor<16x16xf32>) outs(%fill : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %mm : tensor<16x16xf32>
}
