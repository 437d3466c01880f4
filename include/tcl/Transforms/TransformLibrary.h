//===- TransformLibrary.h - Best schedules as a transform library -*- C++ -*-===//
//
// Exports the best schedules of a module's workloads as a transform library
// that stock `mlir-opt --transform-preload-library=...
// --transform-interpreter` applies without TCL: the payload needs no
// `tcl.task` annotation, because each workload gets a matcher that
// recognizes its tasks by structure.
//
// The library holds, per exported workload with key <key>:
//
//   - `@match_<key>(%root {transform.readonly}) -> !transform.any_op`: a
//     matcher built only from upstream match ops. It is applied to the last
//     op of a task (the last fused elementwise consumer, or the anchor when
//     there is none) and yields the task's anchor. Matching the last op
//     rather than the anchor matters: `transform.foreach_match` walks the
//     payload in post-order and the action rewrites the whole task, which
//     must lie at or before the walk position.
//   - `@tcl_<key>(%a)`: the action, i.e. the per-anchor body of the
//     workload's schedule (`SearchSpace::printScript`) with its selected
//     `transform.tune.knob` / `transform.tune.alternatives` ops, applied to
//     the anchor the matcher yields.
//
// and one entry point `@__transform_main(%root {transform.consumed})` with a
// `transform.foreach_match` over all pairs, tasks with more ops first.
//
// What a matcher checks, for each op of the task (anchor and fused
// consumers):
//   - the op name (`transform.match.operation_name`);
//   - every loop extent and whether each loop is parallel or a reduction
//     (`transform.match.structured.dim`), hence also the loop count;
//   - the number of inputs and inits, the element bit width of every shaped
//     operand (`transform.match.structured.elemental_bitwidth`), and which
//     operand indexing maps are permutations or projected permutations;
//   - the body: `contraction = [<mul>, <add>]` where the op has a
//     contraction body (telling float from integer contractions),
//     `elementwise` where the op is elementwise, and for ops without
//     reduction loops whether the body only forwards its inputs
//     (`passthrough`: copies, transposes, broadcasts) or not;
//   - for convolution-like anchors, strides and dilations
//     (`transform.match.structured.classify_convolution_dims`);
//   - the task's shape: each consumer reads the previous op's result, which
//     has that single use; the anchor's init is produced by a single-use
//     `linalg.fill` exactly when the task fuses a fill; the last op's result
//     is not the single use of a further all-parallel, single-init linalg op
//     of the same rank that is not a fill, copy, transpose or passthrough
//     generic (`--tcl-extract-tasks` would have fused it); and for an
//     elementwise anchor, no operand read through the identity map is the
//     single-use result of another linalg op other than a fill or copy
//     (which would have absorbed it).
// Negations ("no such op") are a `transform.match.structured
// failures(suppress)` whose checks yield a handle only when they all pass,
// followed by `transform.match.operation_empty`.
//
// What a matcher does not check (limitations):
//   - exact element types: f16 and bf16 (or f32 and i32 outside a
//     contraction body) are told apart only by bit width;
//   - exact operand shapes where loop extents, strides and dilations do not
//     fix them (a convolution input one row larger than the window needs);
//   - exact indexing maps beyond "(projected) permutation or not", and the
//     ops inside elementwise bodies (a bias+ReLU consumer and a bias+GELU one
//     of equal shapes look the same), the fill value and attributes other
//     than convolution strides and dilations;
//   - whether a further consumer reads the result through the identity map:
//     a task followed by a single-use elementwise op (not a passthrough) that
//     reads it through another map is not matched, so stock mlir-opt leaves
//     it unscheduled; and an identity-copy generic after a task is taken for
//     a transpose, so the task matches as if it ended before the copy.
// Workloads that differ only in what is not checked may match each other's
// sequences; tasks with dynamic shapes are never tasks. The builder checks
// its matchers against the payload it was built from and warns, on the
// instance, about every anchor that would get the schedule of another
// workload or none.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_TRANSFORMS_TRANSFORMLIBRARY_H
#define TCL_TRANSFORMS_TRANSFORMLIBRARY_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace tcl {

class Database;
struct Target;

/// Options of buildTransformLibrary().
struct TransformLibraryOptions {
  /// Export the default schedule of workloads without a successful record on
  /// the platform; without it such workloads are left out of the library,
  /// and stock mlir-opt leaves their tasks unchanged.
  bool defaultSchedules = true;
  /// Receives the report of `--tcl-apply-best` (per workload: tuned with its
  /// median latency, default, or unscheduled = left out; then "N of M
  /// workloads tuned") under the heading `reportHeading`; null for none.
  llvm::raw_ostream *report = nullptr;
  std::string reportHeading = "tcl-export-transform-library";
};

/// Builds the transform library of the best schedules of `payload`'s tasks
/// (ops annotated by `--tcl-extract-tasks`). Schedules are chosen as by
/// `--tcl-apply-best`: the successful record of `db` with the lowest median
/// latency on `platformId`, with search spaces for `target`; `databaseName`
/// (e.g. the database path) and `platformId` are recorded on the library
/// module as `tcl.database` / `tcl.platform`. `payload` is not changed.
///
/// Fails, with an error on `payload`, when a record does not fit its
/// workload's search space or a task's kind has no sketch rules. Warns on
/// the instance when a matcher would give a task another workload's
/// schedule or none (see the file comment).
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildTransformLibrary(mlir::ModuleOp payload, const Database &db,
                      llvm::StringRef databaseName, const Target &target,
                      llvm::StringRef platformId,
                      const TransformLibraryOptions &options = {});

/// Writes `library` to the file at `path` (overwriting it), after a comment
/// line naming its database and platform and how to apply it with stock
/// mlir-opt. Fails with an error naming `path` when it cannot be written.
llvm::Error writeTransformLibrary(mlir::ModuleOp library, llvm::StringRef path);

} // namespace tcl

#endif // TCL_TRANSFORMS_TRANSFORMLIBRARY_H
