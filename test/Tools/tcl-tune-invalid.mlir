// RUN: not tcl-tune %s --trials=0 --database=%t.jsonl 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not tcl-tune %s --trials=4 --database=%t.jsonl 2>&1 | FileCheck %s --check-prefix=NOTASKS
// RUN: not tcl-tune %s --cost-model=nope --database=%t.jsonl 2>&1 | FileCheck %s --check-prefix=MODEL
// RUN: not tcl-tune %s --task-scheduler=fifo 2>&1 | FileCheck %s --check-prefix=SCHED
// RUN: not tcl-tune %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tcl-opt %s --tcl-autotune 2>&1 | FileCheck %s --check-prefix=NODB

// ZERO: tcl-tune: trials must be at least 1
// NOTASKS: tcl-tune: the module has no tunable ops
// MODEL: tcl-tune: {{.*}}unknown cost model 'nope'
// SCHED: tcl-tune: unknown --task-scheduler 'fifo' (expected gradient or round-robin)
// MISSING: tcl-tune: cannot open input file
// NODB: tcl-autotune needs a database file (database=...)

func.func @no_linalg(%x: f32) -> f32 {
  %y = arith.addf %x, %x : f32
  return %y : f32
}
