// REQUIRES: cuda-runner
// --dry-run validates a batch built by tcl-run, including that every PTX
// entry takes as many parameters as its launch passes (memref descriptors
// expanded), without a GPU. Bad batches are errors that name the problem.
// RUN: tcl-run %S/tcl-run-gpu-batch.mlir --target=cuda:sm_90 --samples=2 --gpu-batch=%t.json 2>/dev/null
// RUN: tcl-cuda-runner %t.json --dry-run 2>&1 | FileCheck %s
// CHECK: tcl-cuda-runner: {{.*}}.json: 2 workloads, 6 candidates for cuda:sm_90 (TCL {{.*}}, seed 0)
// CHECK: matmul_{{[0-9a-f]+}}: 3 candidates, 4096 reference values
// CHECK: conv_2d_nhwc_hwcf_{{[0-9a-f]+}}: 3 candidates, 4096 reference values

// RUN: not tcl-cuda-runner %t.missing.json --dry-run 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: tcl-cuda-runner: cannot read GPU batch '{{.*}}missing.json': No such file or directory

// RUN: echo '{"format": "tcl-gpu-batch"' > %t.cut.json
// RUN: not tcl-cuda-runner %t.cut.json --dry-run 2>&1 | FileCheck %s --check-prefix=CUT
// CUT: tcl-cuda-runner: GPU batch '{{.*}}cut.json': {{.*}}

// RUN: echo '{"format": "tcl-dataset"}' > %t.format.json
// RUN: not tcl-cuda-runner %t.format.json --dry-run 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: GPU batch '{{.*}}format.json': not a TCL GPU batch at batch.format

// RUN: sed -e 's/"target": "cuda:sm_90"/"target": "cpu"/' %S/Inputs/fake-gpu-batch.json > %t.cpu.json
// RUN: not tcl-cuda-runner %t.cpu.json --dry-run 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: GPU batch '{{.*}}cpu.json': expected a cuda: target at batch.target

// RUN: sed -e 's/{"buffer": 1}/{"buffer": 7}/' %S/Inputs/fake-gpu-batch.json > %t.range.json
// RUN: not tcl-cuda-runner %t.range.json --dry-run 2>&1 | FileCheck %s --check-prefix=RANGE
// RANGE: GPU batch '{{.*}}range.json': invalid GPU program at batch.tasks[0].candidates[0].program: buffer index out of range at {{.*}}launches[0].operands[1].buffer

// RUN: sed -e 's/"shape": \[4\], "argument": -1/"shape": [0], "argument": -1/' %S/Inputs/fake-gpu-batch.json > %t.shape.json
// RUN: not tcl-cuda-runner %t.shape.json --dry-run 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: must be positive at {{.*}}buffers[1].shape[0]

// RUN: sed -e 's/"operands": \[{"buffer": 0}, {"buffer": 1}\]/"operands": [{"buffer": 0}]/' %S/Inputs/fake-gpu-batch.json > %t.params.json
// RUN: not tcl-cuda-runner %t.params.json --dry-run 2>&1 | FileCheck %s --check-prefix=PARAMS
// PARAMS: tcl-cuda-runner: {{.*}}params.json: workload 'fake_zero_fill', candidate 0: kernel 'ok_kernel' takes 10 parameters in its PTX, but its launch passes 5

// RUN: not tcl-cuda-runner %S/Inputs/fake-gpu-batch.json 2>&1 | FileCheck %s --check-prefix=NO-DB
// NO-DB: tcl-cuda-runner: --database=FILE is required (or --dry-run)
