// Simulation mode of the RDU sampler on 400 real records (10 conv tasks x 40
// programs, one platform): a budget of 10% in 2 rounds selects exactly 40
// records, copied unchanged with their workloads, and tcl-train trains on
// them. One seed gives one output, byte for byte.
// RUN: rm -f %t.rdu.jsonl %t.rdu2.jsonl %t.random.jsonl %t.random2.jsonl %t.bad.jsonl
// RUN: tcl-sample --database=%S/Inputs/conv-records.jsonl --strategy=rdu --budget=0.1 --rounds=2 --ensemble=2 --model=mamba --config='{"d_model":16,"d_state":4}' --epochs=2 --torch-threads=1 --seed=3 -o %t.rdu.jsonl --json=%t.rdu.json 2>%t.rdu.log
// RUN: FileCheck %s --check-prefix=LOG < %t.rdu.log
// RUN: FileCheck %s --check-prefix=JSON < %t.rdu.json
// RUN: grep -c '"type":"measure"' %t.rdu.jsonl | FileCheck %s --check-prefix=FORTY
// RUN: grep -c '"type":"workload"' %t.rdu.jsonl | FileCheck %s --check-prefix=TEN
// RUN: not grep -v -F -x -f %S/Inputs/conv-records.jsonl %t.rdu.jsonl
// RUN: tcl-sample --database=%S/Inputs/conv-records.jsonl --strategy=rdu --budget=0.1 --rounds=2 --ensemble=2 --model=mamba --config='{"d_model":16,"d_state":4}' --epochs=2 --torch-threads=1 --seed=3 -o %t.rdu2.jsonl 2>/dev/null
// RUN: diff %t.rdu.jsonl %t.rdu2.jsonl
// RUN: tcl-train --database=%t.rdu.jsonl --epochs=1 --torch-threads=1 --config='{"d_model":16,"d_state":4}' 2>&1 | FileCheck %s --check-prefix=TRAIN
// Training on the selection, scoring held-out tasks on the full records.
// RUN: %python %S/Inputs/second_platform.py %S/Inputs/conv-records.jsonl %t.unused.jsonl %t.manifest.json
// RUN: tcl-train --database=%t.rdu.jsonl --eval-database=%S/Inputs/conv-records.jsonl --test-manifest=%t.manifest.json --epochs=1 --torch-threads=1 --config='{"d_model":16,"d_state":4}' 2>&1 | FileCheck %s --check-prefix=EVALDB
// RUN: not tcl-train --database=%t.rdu.jsonl --eval-database=%S/Inputs/conv-records.jsonl --epochs=1 2>&1 | FileCheck %s --check-prefix=EVALDB-NOMANIFEST
// The random baseline trains nothing; it picks other records than RDU.
// RUN: tcl-sample --database=%S/Inputs/conv-records.jsonl --strategy=random --budget=0.1 --rounds=2 --seed=3 -o %t.random.jsonl 2>&1 | FileCheck %s --check-prefix=RANDOM
// RUN: grep -c '"type":"measure"' %t.random.jsonl | FileCheck %s --check-prefix=FORTY
// RUN: tcl-sample --database=%S/Inputs/conv-records.jsonl --strategy=random --budget=0.1 --rounds=2 --seed=3 -o %t.random2.jsonl 2>/dev/null
// RUN: diff %t.random.jsonl %t.random2.jsonl
// RUN: not diff -q %t.rdu.jsonl %t.random.jsonl
// A pretrained model embeds the pool for round 1 and is fine-tuned after.
// RUN: rm -f %t.from.jsonl
// RUN: tcl-train --database=%S/Inputs/conv-records.jsonl --epochs=1 --torch-threads=1 --config='{"d_model":16,"d_state":4}' -o %t.pt 2>/dev/null >/dev/null
// RUN: tcl-sample --database=%S/Inputs/conv-records.jsonl --from=%t.pt --budget=0.1 --rounds=2 --ensemble=2 --epochs=2 --torch-threads=1 -o %t.from.jsonl 2>&1 | FileCheck %s --check-prefix=FROM
// RUN: grep -c '"type":"measure"' %t.from.jsonl | FileCheck %s --check-prefix=FORTY
// RUN: not tcl-sample --database=%S/Inputs/conv-records.jsonl --from=%t.pt --model=tlp -o %t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: sed 's/"sequence_feature_version": [0-9]*/"sequence_feature_version": 99/' %t.pt.json > %t.old.pt.json && cp %t.pt %t.old.pt
// RUN: not tcl-sample --database=%S/Inputs/conv-records.jsonl --from=%t.old.pt -o %t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=VERSION
// Bad input.
// RUN: not tcl-sample --database=%S/Inputs/conv-records.jsonl --budget=0 -o %t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=BUDGET0
// RUN: not tcl-sample --database=%S/Inputs/conv-records.jsonl --budget=1.5 -o %t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=BUDGET15
// RUN: not tcl-sample --database=%S/Inputs/conv-records.jsonl --strategy=greedy -o %t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=STRATEGY
// RUN: not tcl-sample --database=%S/Inputs/conv-records.jsonl --strategy=random -o %t.rdu.jsonl 2>&1 | FileCheck %s --check-prefix=EXISTS
// RUN: not tcl-sample --database=%t.missing.jsonl -o %t.bad.jsonl 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not ls %t.bad.jsonl

// LOG: pool 10 tasks / 400 programs; budget 40 programs in 2 rounds, strategy rdu
// LOG: round 1/2: 20/40 selected; train {{[0-9.]+}} s, embed {{[0-9.]+}} s, select {{[0-9.]+}} s
// LOG: round 2/2: 40/40 selected; train {{[0-9.]+}} s, embed {{[0-9.]+}} s, select {{[0-9.]+}} s
// LOG: wrote 40 records of 10 tasks

// JSON: "budget_programs": 40
// JSON: "pool_programs": 400
// JSON: "rounds": [
// JSON: "embed_seconds":
// JSON: "round": 1
// JSON: "round": 2
// JSON: "seed": 3
// JSON: "selected": 40
// JSON: "strategy": "rdu"

// FORTY: {{^40$}}
// TEN: {{^10$}}

// TRAIN: train 8 tasks / 32 programs, test 2 tasks / 8 programs
// TRAIN: epoch 1 loss
// EVALDB: train 8 tasks / 32 programs, test 2 tasks / 80 programs
// EVALDB: heldout 2
// EVALDB-NOMANIFEST: tcl-train: --eval-database needs --test-manifest

// RANDOM: round 2/2: 40/40 selected; train 0.00 s, embed 0.00 s
// RANDOM: wrote 40 records

// FROM: round 1/2: 20/40 selected; train {{[0-9.]+}} s, embed {{[0-9.]+}} s
// FROM: round 2/2: 40/40 selected
// KIND: tcl-sample: --from: '{{.*}}.pt' holds a 'mamba' model, not 'tlp'
// VERSION: tcl-sample: --from: model sidecar '{{.*}}old.pt.json': trained on feature versions sequence 99 / statement 1, this build computes sequence {{[0-9]+}} / statement 1; retrain the model

// BUDGET0: tcl-sample: --budget: budget fraction 0 is outside (0, 1]
// BUDGET15: tcl-sample: --budget: budget fraction 1.5 is outside (0, 1]
// STRATEGY: tcl-sample: --strategy: unknown sampler strategy 'greedy' (expected rdu, random, uncertainty, diversity or representativeness)
// EXISTS: tcl-sample: output '{{.*}}rdu.jsonl' exists; remove it or pass --force to overwrite it
// MISSING: tcl-sample: database '{{.*}}missing.jsonl': cannot open
