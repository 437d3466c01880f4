//===- Passes.td - TCL pass definitions --------------------*- tablegen -*-===//

#ifndef TCL_TRANSFORMS_PASSES
#define TCL_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def TCLExtractTasks : Pass<"tcl-extract-tasks", "mlir::ModuleOp"> {
  let summary = "Mark each tunable Linalg op with its workload key and FLOPs";
  let description = [{
    Finds the anchor ops of the module (contractions, convolutions, pooling,
    reductions, and elementwise ops that no anchor absorbs) and the
    elementwise consumers fused with each anchor. The anchor gets
    `tcl.task = "<workload key>"` and `tcl.flops = <FLOPs of the task>`; each
    fused consumer gets `tcl.fused = "<workload key>"`. Identical workloads
    get the same key.

    Example:

    ```mlir
    %0 = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x768xf32>)
                       outs(%fill : tensor<128x768xf32>) -> tensor<128x768xf32>
    // becomes
    %0 = linalg.matmul {tcl.flops = 150994944 : i64,
                        tcl.task = "matmul_3d2c...."} ins(...) outs(...)
    ```

    With `report=true` a table (key, kind, shapes, FLOPs, instances) is
    printed to stderr.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Print a table of tasks, FLOPs and instance counts to stderr">,
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def TCLApplySchedules : Pass<"tcl-apply-schedules", "mlir::ModuleOp"> {
  let summary = "Apply resolved transform-dialect schedules to the tasks they name";
  let description = [{
    Reads a file of schedules: a module with `transform.with_named_sequence`
    holding one `transform.named_sequence` per workload, each carrying
    `tcl.workload = "<key>"` and taking the module as its only argument.
    Every `transform.tune.knob` must have a `selected` value that satisfies
    the constraints of the workload's search space. Each schedule is applied
    to the tasks (ops with `tcl.task`, see `--tcl-extract-tasks`) with that
    key; a schedule naming a workload absent from the module is an error.
    Tasks without a schedule get the default schedule of their sketch
    (tiled, fused, vectorized and parallel) unless `default-schedules=false`.
    With a GPU target (`cuda:sm_80`, `cuda:sm_90`) the GPU sketch rules give
    the spaces, constraints and defaults (block and thread tiles, reduction
    steps, shared-memory promotion; see docs/gpu.md), and
    `--tcl-lower-to-nvvm` lowers the result.

    Example: `tcl-opt m.mlir --tcl-extract-tasks
    --tcl-apply-schedules=schedules=best.mlir --tcl-lower-to-cpu`.
  }];
  let options = [
    Option<"schedules", "schedules", "std::string", /*default=*/"\"\"",
           "Path of the schedule file (empty: default schedules only)">,
    Option<"defaultSchedules", "default-schedules", "bool", /*default=*/"true",
           "Give tasks without a schedule their default schedule">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target whose sketch rules produce default schedules and constraints">,
    Option<"dumpDefaults", "dump-defaults", "bool", /*default=*/"false",
           "Print the default schedule of each task to stderr, as a "
           "transform script that mlir-opt replays">,
  ];
}

def TCLApplyBest : Pass<"tcl-apply-best", "mlir::ModuleOp"> {
  let summary = "Apply the best measured schedule of each task from a database";
  let description = [{
    Opens a TCL database (JSON Lines of workload and measure records, as
    written by the tuner) and, for each task of the module (ops with
    `tcl.task`, see `--tcl-extract-tasks`), looks up the successful measure
    record of its workload on the platform with the lowest median latency.
    The record's knob values are checked against the task's search space
    and the resulting schedule is applied; tasks without a record get the
    default schedule of their sketch unless `default-schedules=false`.

    The platform is the target plus this machine's fingerprint
    (`<target>@<cpu model>`, tcl::Platform::id()), or `platform` when given.
    A workload with records only for other platforms gets a warning naming
    them. A record whose knobs do not fit the task's space is an error; a
    missing database file is an error. A report goes to stderr:

    ```
    tcl-apply-best: database 'db.jsonl', platform 'cpu:avx512,threads=2@...'
      matmul_8c8eae7c6ab8b177: tuned (median 0.412 ms, 37 records)
      matmul_5d0e61f2a3b4c697: default (no record for platform cpu:avx512,...)
    1 of 2 workloads tuned
    ```

    Example: `tcl-opt m.mlir --tcl-extract-tasks
    --tcl-apply-best="database=db.jsonl target=cpu,threads=2"
    --tcl-lower-to-cpu="target=cpu,threads=2"`.
  }];
  let options = [
    Option<"database", "database", "std::string", /*default=*/"\"\"",
           "Path of the database file (required)">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target whose sketch rules give the search spaces and whose "
           "platform the records are looked up for">,
    Option<"platform", "platform", "std::string", /*default=*/"\"\"",
           "Platform id to look records up for (empty: this machine's "
           "platform for the target)">,
    Option<"defaultSchedules", "default-schedules", "bool", /*default=*/"true",
           "Give tasks without a record their default schedule">,
  ];
}

def TCLPreprocess : Pass<"tcl-preprocess", "mlir::ModuleOp"> {
  let summary = "Bring an imported network to fused Linalg on tensors";
  let description = [{
    Prepares the output of TCL's ONNX importer (`python -m tcl.onnx_import`,
    Linalg on tensors with weights as function arguments) for
    `--tcl-extract-tasks`: fuses chains of elementwise `linalg.generic` ops
    (upstream elementwise fusion patterns restricted to all-parallel
    producers and consumers, e.g. a folded batch norm's bias add with the
    ReLU after it; reshapes are not moved through contractions, and nothing
    is fused into a reduction), then canonicalizes and removes common
    subexpressions; a `linalg.fill` (with its `tensor.empty`) that CSE
    shared between several ops is duplicated again, one per use, so each
    task owns its accumulator. Named anchors (convolutions, matmuls, pooling) are left
    as they are, so their elementwise consumers are fused into their task by
    `--tcl-extract-tasks`.
    Example: `tcl-opt resnet50.mlir --tcl-preprocess --tcl-extract-tasks`.
  }];
}

def TCLExportTransformLibrary
    : Pass<"tcl-export-transform-library", "mlir::ModuleOp"> {
  let summary = "Write the best schedules as a transform library for stock "
                "mlir-opt";
  let description = [{
    Chooses a schedule for each workload of the module exactly as
    `--tcl-apply-best` does (same options and database lookup, same report
    on stderr) and writes them to `output` as a transform library that stock
    `mlir-opt --transform-preload-library=transform-library-paths=<output>
    --transform-interpreter` applies to the module without TCL: one action
    sequence `@tcl_<key>` per workload (the per-anchor body of its schedule,
    knobs selected), one matcher `@match_<key>` that recognizes the
    workload's tasks by structure (op names, loop extents, iterator types,
    operand counts and bit widths, convolution strides and dilations, fused
    fill and consumers; see tcl/Transforms/TransformLibrary.h for what is and
    is not checked), and an entry point `@__transform_main` with one
    `transform.foreach_match`. Tasks come from `tcl.task` annotations (see
    `--tcl-extract-tasks`); the module itself is not changed. Workloads
    without a record are exported with their default schedule unless
    `default-schedules=false`, which leaves them out. A task that its
    matcher misses, or that another workload's matcher takes, gets a
    warning. A missing database or output, or an unwritable output file, is
    an error.

    Example:

    ```
    tcl-opt m.mlir --tcl-extract-tasks --tcl-export-transform-library="database=db.jsonl output=lib.mlir" -o /dev/null
    mlir-opt m.mlir --transform-preload-library=transform-library-paths=lib.mlir --transform-interpreter
    ```
  }];
  let options = [
    Option<"database", "database", "std::string", /*default=*/"\"\"",
           "Path of the database file (required)">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target whose sketch rules give the search spaces and whose "
           "platform the records are looked up for">,
    Option<"platform", "platform", "std::string", /*default=*/"\"\"",
           "Platform id to look records up for (empty: this machine's "
           "platform for the target)">,
    Option<"defaultSchedules", "default-schedules", "bool", /*default=*/"true",
           "Export the default schedule of workloads without a record">,
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "Path of the transform library to write (required)">,
  ];
  let dependentDialects = ["mlir::transform::TransformDialect"];
}

def TCLLowerToCPU : Pass<"tcl-lower-to-cpu", "mlir::ModuleOp"> {
  let summary = "Lower scheduled Linalg/vector IR on tensors to the LLVM dialect";
  let description = [{
    Replaces `math.erf`/`math.erfc` by polynomial approximations (they
    stay vectorized), runs one-shot bufferization (function boundaries
    included), lowers
    remaining Linalg ops to loops, `scf.forall` to OpenMP with the target's
    thread count, vector ops (fully unrolled transfers), affine, memref, math,
    arith, control flow and functions to the LLVM dialect. Public functions
    get a C interface (`_mlir_ciface_<name>`). The target's CPU and features
    are recorded on the module as `tcl.target_cpu` / `tcl.target_features`.

    Example: `tcl-opt m.mlir --tcl-lower-to-cpu="target=cpu:avx2,threads=2"`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target: cpu[:avx512|avx2|sse4.2][,threads=N]">,
  ];
}

def TCLLowerToNVVM : Pass<"tcl-lower-to-nvvm", "mlir::ModuleOp"> {
  let summary = "Lower GPU-scheduled Linalg on tensors to NVVM and PTX";
  let description = [{
    Takes a module whose tasks have GPU schedules (`--tcl-apply-schedules`
    or `--tcl-apply-best` with a `cuda:sm_XX` target): each task is a
    block-level `scf.forall` mapped to `#gpu.block<x|y|z>` that holds
    thread-level `scf.forall`s mapped to `#gpu.thread<...>`, on tensors.
    The pass

    1. bufferizes the module (one-shot, function boundaries included);
    2. turns each block-level forall into a `gpu.launch` with the upstream
       transform ops `transform.gpu.map_forall_to_blocks
       generate_gpu_launch` and `transform.gpu.map_nested_forall_to_threads`;
       the block dims are the largest thread-level loop along x, y and z
       (loops mapped to linear thread ids, such as copies into shared
       memory, must fit the block), checked against the target's limits
       (1024 threads per block, 1024/1024/64 along x/y/z);
    3. lowers Linalg ops in the kernels to loops (their floating-point
       multiply-adds may contract into FMAs) and outlines the kernels;
       buffers in workgroup memory (`#gpu.address_space<workgroup>`) become
       static `.shared` arrays, 16-byte aligned, and a kernel using more
       than the target's 48 KiB per block is an error;
    4. runs the upstream `gpu-lower-to-nvvm-pipeline` for the target's SM
       architecture with PTX ISA 8.0: each kernel becomes a `gpu.binary`
       holding PTX (`format=isa`), a cubin (`bin`) or a fatbin (`fatbin`;
       both need the CUDA toolkit's `ptxas`), and the host code calls it
       through the GPU runtime wrappers (`mgpu*`).

    A Linalg op left outside a kernel (a task without a GPU schedule) is an
    error. With `output=<file>` the PTX is also written to a file (one file
    per kernel, `<file>` with the kernel name before the extension, when
    there are several). libdevice is linked when the CUDA toolkit is found
    (`CUDA_ROOT`, `CUDA_HOME` or `CUDA_PATH`), which PTX for kernels
    without math library calls does not need.

    With `plan=<file>` the pass also writes a JSON array with one GPU
    program per host function that launches kernels (see
    `tcl/Transforms/GPUProgram.h`): the function's device buffers (its
    memref arguments and the buffers it allocates), its `gpu.launch_func`
    ops in order with grid, block and operands, and the PTX of each kernel.
    That is all `tcl-cuda-runner` needs; host functions that do more than
    allocate buffers and launch kernels are an error with this option.

    Example:

    ```
    tcl-opt m.mlir --tcl-extract-tasks
        --tcl-apply-schedules="target=cuda:sm_90"
        --tcl-lower-to-nvvm="target=cuda:sm_90 output=m.ptx"
    ```

    produces a module with

    ```mlir
    gpu.binary @mm_kernel [#gpu.object<#nvvm.target<chip = "sm_90",
        features = "+ptx80">, ..., assembly = "...
        .visible .entry mm_kernel(...) .maxntid 16, 16, 1 { ...
        .shared .align 16 .b8 __wg_mm_kernel_0[4096]; ..."}>]
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cuda:sm_90\"",
           "Target: cuda:sm_80 or cuda:sm_90">,
    Option<"format", "format", "std::string", /*default=*/"\"isa\"",
           "Kernel binary format: isa (PTX), bin (cubin) or fatbin">,
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "Also write the PTX to this file (format=isa only)">,
    Option<"plan", "plan", "std::string", /*default=*/"\"\"",
           "Also write, as JSON, what a GPU runner replays of each host "
           "function: its device buffers, its kernel launches in order and "
           "their PTX (format=isa only; see tcl/Transforms/GPUProgram.h)">,
  ];
}

#endif // TCL_TRANSFORMS_PASSES
