// benchmarks/sampling/validation_split.py: the validation manifest keeps
// only measured tasks of the chosen training networks (with their weights
// in those networks), and the database loses every line of the test tasks.
//
// RUN: rm -rf %t && split-file %s %t
// RUN: %python %S/../../benchmarks/sampling/validation_split.py \
// RUN:   --database %t/db.jsonl --test-manifest %t/test.json \
// RUN:   --train-manifest %t/train.json --measured %t/measured.json \
// RUN:   --networks netA,netB --out %t/out 2>&1 | FileCheck %s --check-prefix=LOG
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/out/validation.manifest.json
// RUN: FileCheck %s --check-prefix=DB < %t/out/train-only.jsonl
// RUN: not %python %S/../../benchmarks/sampling/validation_split.py \
// RUN:   --database %t/db.jsonl --test-manifest %t/test.json \
// RUN:   --train-manifest %t/train.json --measured %t/measured.json \
// RUN:   --networks netA,netD --out %t/bad 2>&1 | FileCheck %s --check-prefix=BAD

// LOG: validation: 2 tasks of 2 networks; train-only.jsonl: 3 lines kept, 2 of test tasks dropped

// t1 (netA and netC): only its netA weight stays; t2 (netB) stays; t3 is
// not measured; t4 is a test task.
// MANIFEST: "key": "t1"
// MANIFEST-NEXT: "kind": "matmul"
// MANIFEST-NEXT: "networks": {
// MANIFEST-NEXT: "netA": 2
// MANIFEST-NEXT: }
// MANIFEST: "key": "t2"
// MANIFEST-NOT: "t3"
// MANIFEST-NOT: "t4"

// DB: {"type":"workload","key":"t1"}
// DB-NEXT: {"type":"measure","workload":"t1"}
// DB-NEXT: {"type":"measure","workload":"t2"}
// DB-NOT: t4

// BAD: error: no measured task in network(s) netD

//--- db.jsonl
{"type":"workload","key":"t1"}
{"type":"measure","workload":"t1"}
{"type":"workload","key":"t4"}
{"type":"measure","workload":"t4"}
{"type":"measure","workload":"t2"}
//--- test.json
{"tasks": [{"key": "t4", "networks": {"test": 1}}]}
//--- train.json
{"tasks": [{"key": "t1", "kind": "matmul", "networks": {"netA": 2, "netC": 1}},
           {"key": "t2", "kind": "conv", "networks": {"netB": 1}},
           {"key": "t3", "kind": "conv", "networks": {"netC": 1}},
           {"key": "t4", "kind": "conv", "networks": {"netA": 5}}]}
//--- measured.json
{"tasks": [{"key": "t1"}, {"key": "t2"}, {"key": "t4"}]}
