//===- Passes.td - TCL search passes -----------------------*- tablegen -*-===//

#ifndef TCL_SEARCH_PASSES
#define TCL_SEARCH_PASSES

include "mlir/Pass/PassBase.td"

def TCLAutotune : Pass<"tcl-autotune", "mlir::ModuleOp"> {
  let summary = "Tune the module's tasks and apply the best schedules";
  let description = [{
    The search of `tcl-tune` as a pass: extracts the tasks of the module,
    tunes them within `trials` measurements (cost-model-guided evolutionary
    search, Ansor's task scheduler), appends every measurement to
    `database`, then marks the tasks (`--tcl-extract-tasks`) and applies the
    best schedule of each for the target (`--tcl-apply-best`).

    Example: `tcl-opt m.mlir --tcl-autotune="trials=64 database=db.jsonl"
    --tcl-lower-to-cpu`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target: cpu[:avx512|avx2|sse4.2][,threads=N]">,
    Option<"trials", "trials", "unsigned", /*default=*/"64",
           "Measurements in total (database records of this platform count)">,
    Option<"costModel", "cost-model", "std::string", /*default=*/"\"xgb\"",
           "Cost model: xgb, random or xgb:<saved model>">,
    Option<"database", "database", "std::string", /*default=*/"\"\"",
           "JSON Lines database (required)">,
    Option<"measuresPerRound", "measures-per-round", "unsigned",
           /*default=*/"16", "Schedules measured per round of one task">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of search and inputs">,
  ];
}

#endif // TCL_SEARCH_PASSES
