// REQUIRES: cuda-runner
// tcl-cuda-runner against a stand-in CUDA driver (test/fake-cuda): every
// way a candidate can fail becomes a measure record and the run goes on.
// RUN: rm -f %t.jsonl
// RUN: env LD_LIBRARY_PATH=%fake_cuda tcl-cuda-runner %S/Inputs/fake-gpu-batch.json --database=%t.jsonl 2>&1 | FileCheck %s
// RUN: FileCheck %s --check-prefix=DB --input-file=%t.jsonl

// A second run finds everything recorded.
// RUN: env LD_LIBRARY_PATH=%fake_cuda tcl-cuda-runner %S/Inputs/fake-gpu-batch.json --database=%t.jsonl 2>&1 | FileCheck %s --check-prefix=RESUME
// RUN: grep -c '"type":"measure"' %t.jsonl | FileCheck %s --check-prefix=COUNT

// No device: exit status 77 and nothing written.
// RUN: rm -f %t.none.jsonl
// RUN: env TCL_FAKE_CUDA_NO_DEVICE=1 LD_LIBRARY_PATH=%fake_cuda tcl-cuda-runner %S/Inputs/fake-gpu-batch.json --database=%t.none.jsonl > %t.none.out 2>&1 || echo "exit $?" >> %t.none.out
// RUN: FileCheck %s --check-prefix=NO-DEVICE --input-file=%t.none.out
// RUN: not test -e %t.none.jsonl

// CHECK: tcl-cuda-runner: {{.*}}fake-gpu-batch.json: 1 workloads, 7 candidates for cuda:sm_90 (TCL 0.1.0, seed 0)
// CHECK: measuring on cuda:sm_90@Fake GPU (device 0: Fake GPU)
// CHECK: [1/1] fake_zero_fill: 7 to measure
// CHECK-NEXT: candidate 0: {{[0-9.]+}} ms
// CHECK-NEXT: candidate 1: wrong_answer: output differs from the reference: max abs error 4.200000e+01 over 4 sampled elements (atol 1.000000e-04, rtol 1.000000e-03); first bad element at flat index 0: got 4.200000e+01, expected 0.000000e+00
// CHECK-NEXT: candidate 2: runtime_error: CUDA_ERROR_ILLEGAL_ADDRESS in the check run
// CHECK-NEXT: candidate 3: runtime_error: the worker died of signal Segmentation fault
// CHECK-NEXT: candidate 4: build_error: CUDA_ERROR_INVALID_PTX loading the PTX of jit_error_kernel: fake JIT error log
// CHECK-NEXT: candidate 5: timeout: no result within 1.00 s; the worker was killed
// CHECK-NEXT: candidate 6: {{[0-9.]+}} ms
// CHECK: fake_zero_fill {{.*}} 2/7

// DB: {"flops":4,"kernel":"module {}","key":"fake_zero_fill","kind":"fake","type":"workload"}
// DB-NEXT: "error":"none","knobs":{"variant":0},"latencies":[{{[^]]+}}]{{.*}}"platform":"cuda:sm_90@Fake GPU"
// DB-NEXT: "error":"wrong_answer","knobs":{"variant":1}
// DB-NEXT: "error":"runtime_error","knobs":{"variant":2}
// DB-NEXT: "error":"runtime_error","knobs":{"variant":3}
// DB-NEXT: "error":"build_error","knobs":{"variant":4}
// DB-NEXT: "error":"timeout","knobs":{"variant":5}
// DB-NEXT: "error":"none","knobs":{"variant":6}

// COUNT: {{^}}7{{$}}
// RESUME: [1/1] fake_zero_fill: 0 to measure (7 already recorded)

// NO-DEVICE: tcl-cuda-runner: no GPU to measure on (no CUDA device): cuInit failed (CUDA_ERROR_NO_DEVICE): no usable NVIDIA kernel driver or GPU; nothing measured
// NO-DEVICE: exit 77
