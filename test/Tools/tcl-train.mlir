// A tiny dataset of three tasks, a model trained on it, and the tuner using it.
// RUN: rm -f %t.jsonl %t.pt %t.pt.json
// RUN: tcl-dataset %s --target=cpu,threads=1 --programs=10 --database=%t.jsonl --min-repeat-seconds=0.001 2>/dev/null
// RUN: tcl-train --database=%t.jsonl --model=mamba --epochs=2 -o %t.pt --json=%t.json 2>%t.log | FileCheck %s
// RUN: FileCheck %s --check-prefix=LOG < %t.log
// RUN: FileCheck %s --check-prefix=SIDECAR < %t.pt.json
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// Ansor's XGBoost model, fitted offline on the same split.
// RUN: tcl-train --database=%t.jsonl --model=xgb -o %t.xgb --json=%t.xgb.json 2>&1 | FileCheck %s --check-prefix=XGB
// RUN: FileCheck %s --check-prefix=XGB-META < %t.xgb.meta.json
// The tuner loads the model, scores candidates with it and fine-tunes it.
// RUN: tcl-tune %s --target=cpu,threads=1 --trials=6 --measures-per-round=3 --cost-model=mamba:%t.pt --database=%t.tune.jsonl --min-repeat-seconds=0.001 2>&1 | FileCheck %s --check-prefix=TUNE
// Bad input.
// RUN: not tcl-tune %s --trials=2 --cost-model=tlp:%t.pt --database=%t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: sed 's/"sequence_feature_version": [0-9]*/"sequence_feature_version": 99/' %t.pt.json > %t.old.pt.json && cp %t.pt %t.old.pt
// RUN: not tcl-tune %s --trials=2 --cost-model=mamba:%t.old.pt --database=%t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=VERSION
// RUN: not tcl-train --database=%t.missing.jsonl 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tcl-train --database=%t.jsonl --model=transformer 2>&1 | FileCheck %s --check-prefix=MODEL
// RUN: not tcl-train --database=%t.jsonl --model=mamba --config='{"d_modl":8}' 2>&1 | FileCheck %s --check-prefix=CONFIG-KEY
// RUN: not tcl-train --database=%t.jsonl --model=mamba --config='{"token_dim":8}' 2>&1 | FileCheck %s --check-prefix=CONFIG-FIXED
// A saved model evaluated again (--init, no epochs): the same scores, with
// the per-task breakdown.
// RUN: tcl-train --database=%t.jsonl --model=mamba --init=%t.pt --epochs=0 --json=%t.eval.json 2>&1 | FileCheck %s --check-prefix=EVAL
// RUN: %python -c "import json,sys; a,b=(json.load(open(f))['scores'] for f in sys.argv[1:]); print('same scores' if a==b else 'scores differ')" %t.json %t.eval.json | FileCheck %s --check-prefix=SAME
// RUN: FileCheck %s --check-prefix=PER-TASK < %t.eval.json
// RUN: not tcl-train --database=%t.jsonl --model=tlp --init=%t.pt --epochs=0 2>&1 | FileCheck %s --check-prefix=INIT-KIND
// RUN: not tcl-train --database=%t.jsonl --model=mamba --init=%t.pt --config='{"d_model":8}' 2>&1 | FileCheck %s --check-prefix=INIT-CONFIG
// RUN: not tcl-train --database=%t.jsonl --model=mamba --epochs=0 2>&1 | FileCheck %s --check-prefix=NO-EPOCHS
// Checkpoint selection on held-out training tasks (here one of the two).
// RUN: tcl-train --database=%t.jsonl --model=mamba --epochs=2 --valid-fraction=0.5 --json=%t.valid.json 2>&1 | FileCheck %s --check-prefix=VALID
// RUN: FileCheck %s --check-prefix=VALID-JSON < %t.valid.json
// RUN: not tcl-train --database=%t.jsonl --valid-fraction=1 2>&1 | FileCheck %s --check-prefix=VALID-RANGE
// RUN: not tcl-train --database=%t.jsonl --valid-fraction=0.2 --ema-decay=0.9 2>&1 | FileCheck %s --check-prefix=VALID-EMA
// A smaller architecture through --config.
// RUN: tcl-train --database=%t.jsonl --model=mamba --epochs=1 --config='{"d_model":16,"d_state":4}' -o %t.small.pt 2>&1 | FileCheck %s --check-prefix=SMALL
// RUN: FileCheck %s --check-prefix=SMALL-SIDECAR < %t.small.pt.json

// Without a test manifest, a fifth of the tasks (here one) is held out.
// CHECK: network {{.*}} top-1 top-5 pairwise random-top1 random-top5
// CHECK-NEXT: held-out tasks 1 {{[01]\.[0-9]+}} {{[01]\.[0-9]+}}
// CHECK: predictions: {{[0-9]+}} programs/s

// LOG: train 2 tasks / 20 programs, test 1 tasks / 10 programs
// LOG: mamba model, {{[0-9]+}} parameters
// LOG: epoch 2 loss

// SIDECAR: "kind": "mamba"
// SIDECAR: "max_length": 64
// SIDECAR: "sequence_feature_version": {{[1-9][0-9]*}}
// SIDECAR: "statement_feature_version": 1

// JSON: "train_programs": 20

// XGB: xgb on 20 programs
// XGB: held-out tasks 1
// XGB-META: "model": "xgb"

// TUNE: cost model 'mamba'
// TUNE: estimated end to end

// KIND: holds a 'mamba' model, not 'tlp'
// VERSION: trained on feature versions sequence 99 / statement 1, this build computes sequence {{[0-9]+}} / statement 1; retrain the model
// EVAL: mamba model, {{[0-9]+}} parameters
// EVAL: held-out tasks 1
// SAME: same scores
// PER-TASK: "per_task": [
// PER-TASK: "share": 1
// PER-TASK: "workload":
// INIT-KIND: tcl-train: --init: '{{.*}}.pt' holds a 'mamba' model, not 'tlp' (pass --model=mamba)
// INIT-CONFIG: tcl-train: --init keeps the saved model's architecture; drop --config
// NO-EPOCHS: tcl-train: --epochs=0 needs --init (a model to evaluate)
// MISSING: tcl-train: {{.*}}missing.jsonl
// MODEL: tcl-train: unknown --model 'transformer' (expected mamba, tlp, mlp or xgb)
// CONFIG-KEY: tcl-train: --config: unknown model config key 'd_modl' (this model has d_conv, d_model, d_state, expand, head_hidden, input_norm, layers, platform_film)
// CONFIG-FIXED: tcl-train: --config: model config key 'token_dim' is fixed
// VALID: validation 1 tasks / 10 programs
// VALID: train 1 tasks / 10 programs, test 1 tasks / 10 programs
// VALID: epoch 1 loss {{[0-9.]+}} valid top-1 {{[01]\.[0-9]+}}
// VALID: epoch 2 loss {{[0-9.]+}} valid top-1 {{[01]\.[0-9]+}}
// VALID: kept epoch {{[0-2]}} of 2 (best validation top-1 {{[01]\.[0-9]+}}; initial weights {{[01]\.[0-9]+}})
// VALID-JSON: "best_epoch": {{[0-2]}}
// VALID-JSON: "valid_fraction": 0.5
// VALID-JSON: "valid_tasks": 1
// VALID-JSON: "valid_top1": [
// VALID-RANGE: tcl-train: --valid-fraction must be in [0, 1), got 1
// VALID-EMA: tcl-train: --valid-fraction keeps one epoch's weights; it does not combine with --ema-decay
// SMALL: mamba model, {{[0-9]+}} parameters
// SMALL-SIDECAR: "d_model": 16
// SMALL-SIDECAR: "d_state": 4

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

func.func @bias(%a: tensor<32x48xf32>, %b: tensor<48xf32>) -> tensor<32x48xf32> {
  %e = tensor.empty() : tensor<32x48xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%a, %b : tensor<32x48xf32>, tensor<48xf32>) outs(%e : tensor<32x48xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<32x48xf32>
  return %r : tensor<32x48xf32>
}
