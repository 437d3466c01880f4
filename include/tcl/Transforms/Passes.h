//===- Passes.h - TCL passes and pipelines ----------------------*- C++ -*-===//

#ifndef TCL_TRANSFORMS_PASSES_H
#define TCL_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::linalg {
class LinalgDialect;
} // namespace mlir::linalg
namespace mlir::transform {
class TransformDialect;
} // namespace mlir::transform

namespace tcl {

struct Target;
struct GPUProgram;
class SearchSpace;
struct Schedule;

#define GEN_PASS_DECL
#include "tcl/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tcl/Transforms/Passes.h.inc"

/// `--tcl-lower-to-nvvm` with `options` that also appends to `programs` the
/// GPUProgram of each host function that launches kernels, in module order
/// (as `plan=<file>` writes them; needs format=isa).
std::unique_ptr<mlir::Pass>
createTCLLowerToNVVM(const TCLLowerToNVVMOptions &options,
                     llvm::SmallVectorImpl<GPUProgram> *programs);

/// Registers the dialects, interfaces and transform-dialect extensions that
/// TCL parses, schedules and lowers (Linalg, tensor, vector, SCF, OpenMP,
/// LLVM, transform with its Linalg/SCF/vector/tune extensions, ...).
void registerTCLDialects(mlir::DialectRegistry &registry);

/// Adds the passes that lower scheduled Linalg/vector IR on tensors to the
/// LLVM dialect for `target` (see `--tcl-lower-to-cpu`). The module must
/// hold no transform ops any more.
void buildLowerToCPUPipeline(mlir::OpPassManager &pm, const Target &target);

/// Runs the transform script embedded in `module` (a named sequence
/// `@__transform_main` on the module) and then erases every transform
/// named sequence and the `transform.with_named_sequence` attribute, so the
/// module can be lowered. Fails with diagnostics when the script fails, e.g.
/// on a knob without `selected`.
mlir::LogicalResult applyEmbeddedSchedule(mlir::ModuleOp module);

/// Applies `schedule` of `space` (a CPU or GPU space) to every task of
/// `module` with the space's workload key, as `--tcl-apply-schedules` does,
/// and erases the untiled originals. Failures are emitted on `module`.
mlir::LogicalResult applyTaskSchedule(mlir::ModuleOp module,
                                      const SearchSpace &space,
                                      const Schedule &schedule);

/// Erases the transform named sequences of `module` and its
/// `transform.with_named_sequence` attribute.
void eraseTransformScripts(mlir::ModuleOp module);

} // namespace tcl

#endif // TCL_TRANSFORMS_PASSES_H
