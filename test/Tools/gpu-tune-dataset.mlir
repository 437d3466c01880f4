// REQUIRES: cuda-runner
// tcl-tune and tcl-dataset --target=cuda:sm_90 against the stand-in CUDA
// driver (test/fake-cuda): candidates are lowered here, each round (batch)
// goes to a tcl-cuda-runner child process, and its records land in the
// database with the runner's platform id. The fake driver runs nothing, so every output
// keeps its seeded input values and every candidate is a wrong_answer; the
// loop, the records, resuming and the errors are what is tested here.
// RUN: rm -rf %t && mkdir -p %t
// RUN: env LD_LIBRARY_PATH=%fake_cuda tcl-tune %s --target=cuda:sm_90 --trials=6 --measures-per-round=3 --seed=1 --database=%t/db.jsonl --work-dir=%t/work -o %t/tuned.mlir > %t/out.txt 2> %t/err.txt
// RUN: FileCheck %s --input-file=%t/err.txt
// RUN: FileCheck %s --check-prefix=TABLE --input-file=%t/out.txt
// RUN: FileCheck %s --check-prefix=DB --input-file=%t/db.jsonl
// RUN: grep -c '"type":"measure"' %t/db.jsonl | FileCheck %s --check-prefix=COUNT
// Each round's batch, database and log are removed once read.
// RUN: ls %t/work | FileCheck %s --check-prefix=WORK --allow-empty
// RUN: FileCheck %s --check-prefix=TUNED --input-file=%t/tuned.mlir

// CHECK: tcl-tune: 2 workloads on cuda:sm_90@Fake GPU, 6 trials (0 from the database), cost model 'mamba', database {{.*}}db.jsonl
// CHECK: trials 6/6
// CHECK: tcl-apply-best: database '{{.*}}db.jsonl', platform 'cuda:sm_90@Fake GPU'
// CHECK: default (none of 3 records for platform cuda:sm_90@Fake GPU succeeded)
// TABLE: matmul_{{[0-9a-f]+}} matmul 1 {{.*}} 3
// TABLE: conv_2d_nhwc_hwcf_{{[0-9a-f]+}} conv_2d_nhwc_hwcf 1 {{.*}} 3
// DB: "error":"wrong_answer",{{.*}}"platform":"cuda:sm_90@Fake GPU"{{.*}}"target":"cuda:sm_90"
// COUNT: {{^}}6{{$}}
// WORK-NOT: _gpu
// The tuned module carries the GPU schedules (default ones here).
// TUNED: {mapping = [#gpu.block<

// Resuming: the records count as trials, nothing is measured again.
// RUN: env LD_LIBRARY_PATH=%fake_cuda tcl-tune %s --target=cuda:sm_90 --trials=6 --seed=1 --database=%t/db.jsonl 2>&1 | FileCheck %s --check-prefix=RESUME
// RUN: grep -c '"type":"measure"' %t/db.jsonl | FileCheck %s --check-prefix=COUNT
// RESUME: 6 trials (6 from the database)

// No GPU: tcl-tune stops before tuning and writes nothing.
// RUN: not env TCL_FAKE_CUDA_NO_DEVICE=1 LD_LIBRARY_PATH=%fake_cuda tcl-tune %s --target=cuda:sm_90 --trials=2 --database=%t/none.jsonl 2>&1 | FileCheck %s --check-prefix=NO-GPU
// RUN: not test -e %t/none.jsonl
// NO-GPU: tcl-tune: cannot measure on cuda:sm_90: '{{.*}}tcl-cuda-runner --print-platform=cuda:sm_90' found no GPU (exit status 77): tcl-cuda-runner: no GPU to measure on (no CUDA device)

// A runner that is not one.
// RUN: not tcl-tune %s --target=cuda:sm_90 --trials=2 --cuda-runner=/bin/false --database=%t/false.jsonl 2>&1 | FileCheck %s --check-prefix=NOT-RUNNER
// NOT-RUNNER: tcl-tune: cannot measure on cuda:sm_90: '/bin/false --print-platform=cuda:sm_90' exited with status 1

// A runner that dies in a round: the error names it and its kept log.
// RUN: printf '#!/bin/sh\ncase "$1" in --print-platform=*) echo "cuda:sm_90@Script GPU";; *) echo "lost the GPU" >&2; exit 3;; esac\n' > %t/dying-runner
// RUN: chmod +x %t/dying-runner
// RUN: not tcl-tune %s --target=cuda:sm_90 --trials=2 --cuda-runner=%t/dying-runner --database=%t/dying.jsonl --work-dir=%t/dying 2>&1 | FileCheck %s --check-prefix=DYING
// DYING: tcl-tune: measuring 'matmul_{{[0-9a-f]+}}' failed (0 new records are in {{.*}}dying.jsonl): tcl-cuda-runner exited with status 3 on '{{.*}}_gpu0.json' (log '{{.*}}_gpu0.log'): lost the GPU

// No runner next to tcl-tune and none on PATH.
// RUN: mkdir -p %t/alone && cp %{tcl_tools_dir}/tcl-tune %t/alone/
// RUN: not env PATH=/usr/bin:/bin %t/alone/tcl-tune %s --target=cuda:sm_90 --trials=2 --database=%t/alone.jsonl 2>&1 | FileCheck %s --check-prefix=ALONE
// ALONE: tcl-tune: cannot measure on cuda:sm_90: no tcl-cuda-runner was given or found

// tcl-dataset: 4 programs per task, each task's batch measured by the
// runner; the manifest names the runner's GPU.
// RUN: env LD_LIBRARY_PATH=%fake_cuda tcl-dataset %s --target=cuda:sm_90 --programs=4 --database=%t/ds.jsonl 2>&1 | FileCheck %s --check-prefix=DATASET
// RUN: grep -c '"platform":"cuda:sm_90@Fake GPU"' %t/ds.jsonl | FileCheck %s --check-prefix=DS-COUNT
// RUN: %python -c "import json,sys; p=json.load(open(sys.argv[1]))['platform']; print(p['id'], '/', p['gpu_model'])" %t/ds.jsonl.manifest.json | FileCheck %s --check-prefix=MANIFEST
// RUN: not env TCL_FAKE_CUDA_NO_DEVICE=1 LD_LIBRARY_PATH=%fake_cuda tcl-dataset %s --target=cuda:sm_90 --programs=4 --database=%t/ds-none.jsonl 2>&1 | FileCheck %s --check-prefix=DS-NO-GPU
// RUN: not test -e %t/ds-none.jsonl
// DATASET: tcl-dataset: 2 workloads from 1 networks on cuda:sm_90@Fake GPU, 4 programs each; 8 to measure
// DATASET: tcl-dataset: 2 tasks, 8 records (0 ok, 8 new), 0 tasks skipped
// DS-COUNT: {{^}}8{{$}}
// MANIFEST: cuda:sm_90@Fake GPU / Fake GPU
// DS-NO-GPU: tcl-dataset: cannot measure on cuda:sm_90: '{{.*}}tcl-cuda-runner --print-platform=cuda:sm_90' found no GPU (exit status 77)

func.func @dense(%a: tensor<64x48xf32>, %b: tensor<48x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x48xf32>, tensor<48x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %mm : tensor<64x64xf32>
}

func.func @conv(%x: tensor<1x18x18x16xf32>, %w: tensor<3x3x16x32xf32>) -> tensor<1x16x16x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x16x16x32xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x16x32xf32>) -> tensor<1x16x16x32xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x18x18x16xf32>, tensor<3x3x16x32xf32>) outs(%fill : tensor<1x16x16x32xf32>) -> tensor<1x16x16x32xf32>
  return %c : tensor<1x16x16x32xf32>
}
