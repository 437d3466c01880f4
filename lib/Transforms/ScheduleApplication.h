//===- ScheduleApplication.h - Applying schedules to a module ---*- C++ -*-===//
//
// Internal to lib/Transforms: the steps `--tcl-apply-schedules` and
// `--tcl-apply-best` share to apply resolved schedules to the tasks of a
// module.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_LIB_TRANSFORMS_SCHEDULEAPPLICATION_H
#define TCL_LIB_TRANSFORMS_SCHEDULEAPPLICATION_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace tcl {
class SearchSpace;
struct Schedule;

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

} // namespace detail
} // namespace tcl

#endif // TCL_LIB_TRANSFORMS_SCHEDULEAPPLICATION_H
