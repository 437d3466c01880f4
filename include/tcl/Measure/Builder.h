//===- Builder.h - Build scheduled kernels into shared objects -*- C++ -*-===//
//
// The builder half of the builder/runner split: applies a candidate's
// embedded schedule, lowers the module to LLVM for a target, optimizes it at
// O3 and links it into a shared object that the runner loads. Builds are
// independent (one MLIRContext and one LLVMContext each) and run in parallel.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_BUILDER_H
#define TCL_MEASURE_BUILDER_H

#include "tcl/Measure/Measure.h"
#include "tcl/Target/Target.h"

#include "llvm/ADT/ArrayRef.h"

#include <memory>
#include <string>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace tcl {

/// Builds kernel modules into shared objects `<workDir>/<name>.so`.
///
/// A module is a kernel on tensors (e.g. `func.func @kernel`), optionally
/// with a resolved schedule as an embedded transform script
/// `transform.named_sequence @__transform_main`. The build applies the
/// script, runs `--tcl-lower-to-cpu` for the target, translates to LLVM IR,
/// optimizes at O3 for the target's CPU and features, emits an object file
/// and links it against the OpenMP runtime with the C++ compiler driver.
class Builder {
public:
  /// `workDir` is created if absent and made absolute (see getWorkDir()).
  /// `jobs` is the number of builds run in
  /// parallel by buildAll(); 0 means one per hardware thread.
  Builder(Target target, std::string workDir, unsigned jobs = 0);
  ~Builder();

  /// Builds `moduleText` into `<workDir>/<name>.so`. `kernelName` is the
  /// public function whose C interface `_mlir_ciface_<kernelName>` the runner
  /// calls. Failures are returned, not raised: a parse error, failing
  /// schedule, lowering or code-generation error, missing kernel or link
  /// error is an ErrorCode::BuildError with the diagnostics in `message`
  /// (only a crash inside MLIR/LLVM itself, e.g. `report_fatal_error` in a
  /// pass, can still end the process). Thread-safe.
  BuildResult build(llvm::StringRef moduleText, llvm::StringRef name,
                    llvm::StringRef kernelName = "kernel");

  /// Builds every module of `moduleTexts` in parallel (`jobs` threads),
  /// module i as `<namePrefix>_<i>`. Results are in input order.
  llvm::SmallVector<BuildResult>
  buildAll(llvm::ArrayRef<std::string> moduleTexts, llvm::StringRef namePrefix,
           llvm::StringRef kernelName = "kernel");

  const Target &getTarget() const { return target; }
  llvm::StringRef getWorkDir() const { return workDir; }

private:
  Target target;
  std::string workDir;
  unsigned jobs;
  /// Set when the work directory could not be created; every build fails
  /// with it.
  std::string setupError;
  /// Dialects and extensions, shared read-only by the per-build contexts.
  std::unique_ptr<mlir::DialectRegistry> registry;
};

} // namespace tcl

#endif // TCL_MEASURE_BUILDER_H
