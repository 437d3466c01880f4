//===- Tuner.h - Tune every task of a module --------------------*- C++ -*-===//
//
// The tuning loop shared by `tcl-tune` and `--tcl-autotune`: the task
// scheduler picks a task, the evolutionary search proposes a batch of its
// schedules ranked by the cost model, a measurer measures them (CPU: the
// builder builds them in parallel and the runner times them one at a time;
// GPU: they are lowered to PTX and tcl-cuda-runner times them), every
// result is appended to the database, and the cost model is updated with
// the new measurements.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_SEARCH_TUNER_H
#define TCL_SEARCH_TUNER_H

#include "tcl/Measure/GPUTaskMeasurer.h"
#include "tcl/Measure/Runner.h"
#include "tcl/Search/EvolutionarySearch.h"
#include "tcl/Search/TaskScheduler.h"
#include "tcl/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <string>
#include <vector>

namespace tcl {

struct TuneOptions {
  Target target;
  /// Measurements in total over all tasks, records already in the database
  /// for this platform included (so a rerun resumes instead of repeating).
  unsigned trials = 200;
  /// Schedules measured per round of one task.
  unsigned measuresPerRound = 16;
  /// Cost model spec, see tcl::createCostModel.
  std::string costModel = "xgb";
  /// JSON Lines database; created if absent.
  std::string databasePath;
  /// Where built shared objects go (empty: a new temporary directory).
  std::string workDir;
  uint64_t seed = 0;
  TaskScheduler::Strategy strategy = TaskScheduler::Strategy::Gradient;
  SearchOptions search;
  /// CPU targets: the runner's timing protocol (inputs from `seed`).
  RunnerOptions runner;
  /// GPU targets: how the candidates reach this machine's GPU (a
  /// tcl-cuda-runner child process per round; its work directory defaults
  /// to `workDir`). References are computed on this machine's CPU.
  GPUMeasureOptions gpu;
  /// Parallel builds (0: all cores).
  unsigned jobs = 0;
  /// Progress output (a live line on a terminal); null for none.
  llvm::raw_ostream *log = nullptr;
  /// Set (e.g. by a SIGINT handler) to stop after the current measurement;
  /// what was measured stays in the database.
  const std::atomic<bool> *interrupted = nullptr;
};

/// The outcome for one distinct workload.
struct TunedWorkload {
  std::string key;
  std::string kind;
  std::vector<std::string> functions;
  int64_t weight = 0;
  int64_t flops = 0;
  /// Median latency (s) of the default schedule; 0 if it failed.
  double defaultSeconds = 0;
  /// Median latency (s) of the best schedule on this platform; 0 if none.
  double bestSeconds = 0;
  /// Records of this platform for the workload (this run and earlier ones).
  unsigned trials = 0;
  /// The platform id (tcl::Platform::id()) of the records.
  std::string platform;
  /// Why the workload could not be tuned, if it could not.
  std::string skipped;
};

/// Tunes the tasks of `module` (found by tcl::findTasks; the module is not
/// changed). Errors (database, target, no tasks, trials = 0) name the
/// problem; failing candidates are records with an error code, not errors.
llvm::Expected<std::vector<TunedWorkload>> tuneModule(mlir::ModuleOp module,
                                                      const TuneOptions &options);

} // namespace tcl

#endif // TCL_SEARCH_TUNER_H
