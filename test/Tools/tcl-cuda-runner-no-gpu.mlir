// REQUIRES: cuda-runner
// UNSUPPORTED: cuda-gpu
// Without a GPU the runner says why, exits with 77 and writes nothing.
// RUN: rm -f %t.jsonl
// RUN: tcl-cuda-runner %S/Inputs/fake-gpu-batch.json --database=%t.jsonl > %t.out 2>&1 || echo "exit $?" >> %t.out
// RUN: FileCheck %s --input-file=%t.out
// RUN: not test -e %t.jsonl

// CHECK: tcl-cuda-runner: no GPU to measure on (no CUDA {{driver|device}}): {{.*}}; nothing measured
// CHECK: exit 77
