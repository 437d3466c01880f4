// RUN: rm -f %t.jsonl %t.jsonl.manifest.json
// RUN: tcl-dataset %s --target=cpu,threads=1 --programs=4 --batch=3 --database=%t.jsonl --min-repeat-seconds=0.001 2>&1 | FileCheck %s
// RUN: grep -c '"type":"measure"' %t.jsonl | FileCheck %s --check-prefix=COUNT4
// RUN: grep -c '"type":"workload"' %t.jsonl | FileCheck %s --check-prefix=WORKLOADS
// RUN: FileCheck %s --check-prefix=MANIFEST < %t.jsonl.manifest.json
// A second run with a larger target measures only the difference, and none
// of the earlier programs again.
// RUN: tcl-dataset %s --target=cpu,threads=1 --programs=6 --database=%t.jsonl --min-repeat-seconds=0.001 2>&1 | FileCheck %s --check-prefix=RESUME
// RUN: grep -c '"type":"measure"' %t.jsonl | FileCheck %s --check-prefix=COUNT6
// RUN: grep '"type":"measure"' %t.jsonl | sed 's/.*"knobs":\({[^}]*}\).*"workload":"\([^"]*\)".*/\2 \1/' > %t.programs
// RUN: grep -c '^matmul_[0-9a-f]* {"' %t.programs | FileCheck %s --check-prefix=SIX
// RUN: sort %t.programs | uniq -d | count 0
// --remeasure: programs whose latest record failed (two marked here as
// build errors) are measured again, before new ones; the new records
// supersede the failed ones, so the program count stays and the same two
// programs appear twice in the file.
// RUN: sed -e '0,/"error":"none"/s//"error":"build_error"/' %t.jsonl | sed -e '0,/"error":"none"/s//"error":"build_error"/' > %t5.jsonl
// RUN: grep -c '"error":"build_error"' %t5.jsonl | FileCheck %s --check-prefix=TWO-FAILED
// RUN: tcl-dataset %s --target=cpu,threads=1 --programs=7 --database=%t5.jsonl --min-repeat-seconds=0.001 --remeasure=build_error,timeout 2>&1 | FileCheck %s --check-prefix=REMEASURE
// RUN: grep '"type":"measure"' %t5.jsonl | sed 's/.*"knobs":\({[^}]*}\).*"workload":"\([^"]*\)".*/\2 \1/' | sort | uniq -d | count 2
// RUN: tcl-dataset %s --target=cpu,threads=1 --programs=7 --database=%t5.jsonl --min-repeat-seconds=0.001 --remeasure=build_error 2>&1 | FileCheck %s --check-prefix=REMEASURE-DONE
// --remeasure-before: every program whose latest record is older (all 14
// here) is measured again; records from before 2000 are none.
// RUN: tcl-dataset %s --target=cpu,threads=1 --programs=7 --database=%t5.jsonl --min-repeat-seconds=0.001 --remeasure-before=2999-01-01T00:00:00Z 2>&1 | FileCheck %s --check-prefix=STALE
// RUN: tcl-dataset %s --target=cpu,threads=1 --programs=7 --database=%t5.jsonl --min-repeat-seconds=0.001 --remeasure-before=2000-01-01T00:00:00Z 2>&1 | FileCheck %s --check-prefix=REMEASURE-DONE
// RUN: not tcl-dataset %s --database=%t5.jsonl --remeasure-before=yesterday 2>&1 | FileCheck %s --check-prefix=BAD-TIME
// RUN: not tcl-dataset %s --database=%t5.jsonl --remeasure=crash 2>&1 | FileCheck %s --check-prefix=BAD-REMEASURE
// RUN: not tcl-dataset %s --database=%t5.jsonl --remeasure=timeout --sampler=random 2>&1 | FileCheck %s --check-prefix=REMEASURE-SAMPLER
// Two networks: workloads are shared across networks, with a weight in each.
// RUN: rm -f %t2.jsonl
// RUN: tcl-dataset %s %S/Inputs/dataset-second-network.mlir --target=cpu,threads=1 --programs=2 --database=%t2.jsonl --manifest=%t2.json --min-repeat-seconds=0.001 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: FileCheck %s --check-prefix=TWO-MANIFEST < %t2.json
// Active sampling: only the budget of the 40-program pools is measured, in
// rounds; a second run resumes, a larger budget adds the difference, and a
// full collection afterwards measures the rest of the same pools.
// RUN: rm -f %t3.jsonl
// RUN: tcl-dataset %s %S/Inputs/dataset-second-network.mlir --target=cpu,threads=1 --programs=40 --database=%t3.jsonl --min-repeat-seconds=0.001 --sampler=rdu --budget=0.25 --rounds=3 --sampler-epochs=2 --ensemble=2 --torch-threads=1 2>&1 | FileCheck %s --check-prefix=ACTIVE
// RUN: grep -c '"type":"measure"' %t3.jsonl | FileCheck %s --check-prefix=THIRTY
// RUN: FileCheck %s --check-prefix=ACTIVE-MANIFEST < %t3.jsonl.manifest.json
// RUN: tcl-dataset %s %S/Inputs/dataset-second-network.mlir --target=cpu,threads=1 --programs=40 --database=%t3.jsonl --min-repeat-seconds=0.001 --sampler=rdu --budget=0.25 --sampler-epochs=2 --torch-threads=1 2>&1 | FileCheck %s --check-prefix=ACTIVE-DONE
// RUN: tcl-dataset %s %S/Inputs/dataset-second-network.mlir --target=cpu,threads=1 --programs=40 --database=%t3.jsonl --min-repeat-seconds=0.001 --sampler=diversity --budget=0.5 --rounds=2 --sampler-epochs=2 --torch-threads=1 2>&1 | FileCheck %s --check-prefix=ACTIVE-MORE
// RUN: grep -c '"type":"measure"' %t3.jsonl | FileCheck %s --check-prefix=SIXTY
// RUN: tcl-dataset %s %S/Inputs/dataset-second-network.mlir --target=cpu,threads=1 --programs=40 --database=%t3.jsonl --min-repeat-seconds=0.001 2>&1 | FileCheck %s --check-prefix=ACTIVE-FULL
// RUN: grep '"type":"measure"' %t3.jsonl | sed 's/.*"knobs":\({[^}]*}\).*"workload":"\([^"]*\)".*/\2 \1/' | sort | uniq -d | count 0
// --tasks-from: only the tasks of another manifest (the first network's two).
// RUN: rm -f %t4.jsonl
// RUN: tcl-dataset %s %S/Inputs/dataset-second-network.mlir --tasks-from=%t.jsonl.manifest.json --target=cpu,threads=1 --programs=1 --database=%t4.jsonl --min-repeat-seconds=0.001 2>&1 | FileCheck %s --check-prefix=ONLY
// RUN: not tcl-dataset %s --tasks-from=%t.missing.json --database=%t4.jsonl 2>&1 | FileCheck %s --check-prefix=ONLY-MISSING
// RUN: printf '{"tasks":[{"key":"matmul_x","networks":{}}]}' > %t.none.json
// RUN: not tcl-dataset %s --tasks-from=%t.none.json --database=%t4.jsonl 2>&1 | FileCheck %s --check-prefix=ONLY-NONE
// Pinned threads (`,bind`): a platform of its own, in records and manifest.
// RUN: rm -f %t6.jsonl
// RUN: tcl-dataset %s --target=cpu,threads=2,bind --programs=1 --database=%t6.jsonl --manifest=%t6.json --min-repeat-seconds=0.001 2>&1 | FileCheck %s --check-prefix=BIND
// RUN: grep -c '"platform":"cpu:[a-z0-9.]*,threads=2,bind@' %t6.jsonl | FileCheck %s --check-prefix=BIND-RECORDS
// RUN: FileCheck %s --check-prefix=BIND-MANIFEST < %t6.json
// Bad input.
// RUN: not tcl-dataset %s --database=%t.jsonl --sampler=greedy 2>&1 | FileCheck %s --check-prefix=BAD-SAMPLER
// RUN: not tcl-dataset %s --database=%t.jsonl --sampler=rdu --budget=0 2>&1 | FileCheck %s --check-prefix=BAD-BUDGET
// RUN: not tcl-dataset %s --database=%t.jsonl --sampler=rdu --sampler-model=cnn 2>&1 | FileCheck %s --check-prefix=BAD-MODEL
// RUN: not tcl-dataset %s --programs=0 --database=%t.jsonl 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not tcl-dataset %s.missing --database=%t.jsonl 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK: tcl-dataset: 2 workloads from 1 networks on cpu:avx512,threads=1@{{.*}}, 4 programs each; 8 to measure
// CHECK: tcl-dataset: 2 tasks, 8 records (8 ok, 8 new), 0 tasks skipped

// COUNT4: 8
// COUNT6: 12
// SIX: 6
// WORKLOADS: 2

// MANIFEST: "networks": [
// MANIFEST-NEXT: "tcl-dataset"
// MANIFEST: "num_records": 8
// MANIFEST: "num_tasks": 2
// MANIFEST: "cpu_model":
// MANIFEST: "programs_per_task": 4
// MANIFEST: "flops": 196608
// MANIFEST-NEXT: "key": "matmul_
// MANIFEST-NEXT: "kind": "matmul"
// MANIFEST-NEXT: "networks": {
// MANIFEST-NEXT: "tcl-dataset": 3

// RESUME: 6 programs each; 4 to measure
// RESUME: 2 tasks, 12 records (12 ok, 4 new)

// TWO-FAILED: {{^2$}}
// REMEASURE: 7 programs each; 4 to measure
// REMEASURE: tcl-dataset: 2 programs to measure again (--remeasure)
// REMEASURE: tcl-dataset: 2 tasks, 14 records (14 ok, 4 new)
// REMEASURE-DONE: 7 programs each; 0 to measure
// REMEASURE-DONE-NOT: again
// REMEASURE-DONE: 2 tasks, 14 records (14 ok, 0 new)
// STALE: tcl-dataset: 14 programs to measure again (--remeasure)
// STALE: tcl-dataset: 2 tasks, 14 records (14 ok, 14 new)
// BAD-TIME: tcl-dataset: --remeasure-before: 'yesterday' is not a UTC time like 2026-12-08T00:00:00Z
// BAD-REMEASURE: tcl-dataset: --remeasure: unknown error code 'crash' (expected build_error, runtime_error, wrong_answer or timeout)
// REMEASURE-SAMPLER: tcl-dataset: --remeasure and --remeasure-before cannot be combined with --sampler

// TWO: 3 workloads from 2 networks
// TWO: 3 tasks, 6 records
// TWO-MANIFEST: "networks": [
// TWO-MANIFEST-NEXT: "tcl-dataset",
// TWO-MANIFEST-NEXT: "dataset-second-network"
// TWO-MANIFEST: "networks": {
// TWO-MANIFEST-NEXT: "dataset-second-network": 1,
// TWO-MANIFEST-NEXT: "tcl-dataset": 3

// ACTIVE: 3 workloads from 2 networks on {{.*}}, pools of 40 programs each (the budget follows)
// ACTIVE: tcl-dataset: sampler: pool of 120 programs in 3 tasks; budget 30 (0.25), 0 measured earlier, 30 to measure in rounds of 10
// ACTIVE: tcl-dataset: sampler chose 10 programs (train 0.0 s
// ACTIVE: tcl-dataset: round 1: measuring 10 programs
// ACTIVE: tcl-dataset: sampler chose 10 programs (train {{[0-9.]+}} s, embed {{[0-9.]+}} s
// ACTIVE: tcl-dataset: round 3: measuring 10 programs
// ACTIVE: tcl-dataset: 3 tasks, 30 records (30 ok, 30 new)
// THIRTY: {{^30$}}
// ACTIVE-MANIFEST: "sampler": {
// ACTIVE-MANIFEST-NEXT: "budget": 0.25,
// ACTIVE-MANIFEST-NEXT: "pool_per_task": 40,
// ACTIVE-MANIFEST-NEXT: "rounds": 3
// ACTIVE-DONE: budget 30 (0.25), 30 measured earlier, 0 to measure
// ACTIVE-DONE: 3 tasks, 30 records (30 ok, 0 new)
// ACTIVE-MORE: budget 60 (0.50), 30 measured earlier, 30 to measure in rounds of 30
// ACTIVE-MORE: 3 tasks, 60 records (60 ok, 30 new)
// SIXTY: {{^60$}}
// ACTIVE-FULL: 40 programs each; 60 to measure
// ACTIVE-FULL: 3 tasks, 120 records (120 ok, 60 new)
// ONLY: tcl-dataset: 2 workloads from 2 networks
// ONLY-MISSING: tcl-dataset: --tasks-from: manifest '{{.*}}missing.json':
// ONLY-NONE: tcl-dataset: --tasks-from: manifest '{{.*}}none.json' lists no task of any network
// BIND: tcl-dataset: 2 workloads from 1 networks on cpu:{{[a-z0-9.]+}},threads=2,bind@
// BIND: 2 tasks, 2 records (2 ok, 2 new)
// BIND-RECORDS: {{^2$}}
// BIND-MANIFEST: "bind_threads": true
// BAD-SAMPLER: tcl-dataset: --sampler: unknown sampler strategy 'greedy'
// BAD-BUDGET: tcl-dataset: --budget: budget fraction 0 is outside (0, 1]
// BAD-MODEL: tcl-dataset: --sampler-model/--sampler-config: {{.*}}cnn

// ZERO: tcl-dataset: --programs must be positive
// MISSING: tcl-dataset: {{.*}}missing{{.*}}

// @dense runs three times per network execution (tcl.weight), @bias once.
func.func @dense(%a: tensor<32x64xf32>, %b: tensor<64x48xf32>) -> tensor<32x48xf32> attributes {tcl.weight = 3 : i64} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x48xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<32x48xf32>) -> tensor<32x48xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x48xf32>) outs(%fill : tensor<32x48xf32>) -> tensor<32x48xf32>
  return %mm : tensor<32x48xf32>
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
