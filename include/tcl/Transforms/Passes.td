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

def TCLLowerToCPU : Pass<"tcl-lower-to-cpu", "mlir::ModuleOp"> {
  let summary = "Lower scheduled Linalg/vector IR on tensors to the LLVM dialect";
  let description = [{
    Runs one-shot bufferization (function boundaries included), lowers
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

#endif // TCL_TRANSFORMS_PASSES
