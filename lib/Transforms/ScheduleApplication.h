//===- ScheduleApplication.h - Applying schedules to a module ---*- C++ -*-===//
//
// Internal to lib/Transforms: the steps `--tcl-apply-schedules`,
// `--tcl-apply-best` and `--tcl-export-transform-library` share to choose
// schedules for the tasks of a module and to apply them.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_LIB_TRANSFORMS_SCHEDULEAPPLICATION_H
#define TCL_LIB_TRANSFORMS_SCHEDULEAPPLICATION_H

#include "tcl/Database/Database.h"
#include "tcl/Space/SearchSpace.h"
#include "tcl/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <vector>

namespace tcl {

namespace detail {

/// Runs `fn`, collecting the errors it emits; on failure re-emits them as
/// one error on `anchor` (the payload module) prefixed by `context`, so that
/// problems found in a separate file or a generated script are reported
/// against the module being compiled.
mlir::LogicalResult reportOn(mlir::Operation *anchor,
                             const llvm::Twine &context,
                             llvm::function_ref<mlir::LogicalResult()> fn);

/// Gives every use of a `tensor.empty` its own op. Front ends share one
/// empty tensor between destinations (e.g. a matmul's fill and its bias-add
/// consumer); after fusion both would write one buffer and bufferization
/// could no longer update loop results in place. Run before applying
/// schedules.
void splitSharedEmptyTensors(mlir::ModuleOp module);

/// Erases the untiled originals that tiling and fusion leave without uses,
/// so the output shows only the scheduled code. Run after applying
/// schedules.
void eraseDeadOps(mlir::ModuleOp module);

/// Applies `sequence`, a `transform.named_sequence` of `library`, to
/// `payload`.
mlir::LogicalResult applySequence(mlir::ModuleOp payload,
                                  mlir::Operation *sequence,
                                  mlir::ModuleOp library);

/// Applies `schedule` of `space` to every task of `module` with the space's
/// workload key: prints it as a transform script, parses and applies it.
/// Failures are reported on `module` prefixed by `context`. When `dump` is
/// set, the script is also printed to it.
mlir::LogicalResult applySchedule(mlir::ModuleOp module,
                                  const SearchSpace &space,
                                  const Schedule &schedule,
                                  const llvm::Twine &context,
                                  llvm::raw_ostream *dump = nullptr);

/// A database, a target and the platform whose records are looked up: what
/// `--tcl-apply-best` and `--tcl-export-transform-library` read.
struct BestRecordSource {
  Target target;
  Database db;
  std::string platformId;
};

/// Parses `target`, opens the database at `database` (which must exist) and
/// resolves the platform id (`platform`, or this machine's platform for the
/// target when empty). Errors are emitted on `module`, naming `passArgument`
/// when no database is given.
mlir::FailureOr<BestRecordSource>
openBestRecordSource(mlir::ModuleOp module, llvm::StringRef passArgument,
                     llvm::StringRef database, llvm::StringRef target,
                     llvm::StringRef platform);

/// The schedule chosen for one workload of a module.
struct WorkloadPlan {
  llvm::StringRef key;
  /// The first instance of the workload in the module.
  const Task *task = nullptr;
  SearchSpace space;
  Schedule schedule;
  /// The record the schedule comes from; null for the default schedule.
  const MeasureRecord *record = nullptr;
  /// Records of the workload on the platform, failed ones included.
  size_t numRecords = 0;
};

/// Chooses a schedule for each distinct workload of `tasks` (in order of
/// first appearance): the knobs of the successful record of `db` with the
/// lowest median latency on `platformId`, else the default schedule of the
/// workload's space for `target`. Warns on `module` about a workload with
/// records only for other platforms. Fails, with an error on `module`, when
/// a record does not fit its workload's space (naming `databaseName`) or a
/// space cannot be built. The plans point into `tasks` and `db`.
mlir::FailureOr<std::vector<WorkloadPlan>>
planBestSchedules(mlir::ModuleOp module, llvm::ArrayRef<Task> tasks,
                  const Database &db, llvm::StringRef databaseName,
                  const Target &target, llvm::StringRef platformId,
                  bool defaultSchedules);

/// Prints, for each plan, whether it is tuned (median latency in ms, number
/// of records) or gets the default schedule (or none, without
/// `defaultSchedules`), then `N of M workloads tuned`.
void printPlanReport(llvm::raw_ostream &os, llvm::StringRef passArgument,
                     llvm::StringRef database, llvm::StringRef platformId,
                     llvm::ArrayRef<WorkloadPlan> plans,
                     bool defaultSchedules);

} // namespace detail
} // namespace tcl

#endif // TCL_LIB_TRANSFORMS_SCHEDULEAPPLICATION_H
