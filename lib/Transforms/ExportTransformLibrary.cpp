//===- ExportTransformLibrary.cpp - Write best schedules for mlir-opt -----===//

#include "ScheduleApplication.h"

#include "tcl/Transforms/Passes.h"
#include "tcl/Transforms/TransformLibrary.h"

#include "mlir/Dialect/Transform/IR/TransformDialect.h"

namespace tcl {
#define GEN_PASS_DEF_TCLEXPORTTRANSFORMLIBRARY
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;

namespace {
struct ExportTransformLibraryPass
    : public tcl::impl::TCLExportTransformLibraryBase<
          ExportTransformLibraryPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void ExportTransformLibraryPass::runOnOperation() {
  ModuleOp module = getOperation();
  markAllAnalysesPreserved();
  if (output.empty()) {
    module.emitError() << "--" << getArgument()
                       << " needs an output file: output=<path>";
    return signalPassFailure();
  }
  FailureOr<tcl::detail::BestRecordSource> source =
      tcl::detail::openBestRecordSource(module, getArgument(), database,
                                        target, platform);
  if (failed(source))
    return signalPassFailure();

  tcl::TransformLibraryOptions options;
  options.defaultSchedules = defaultSchedules;
  options.report = &llvm::errs();
  options.reportHeading = getArgument().str();
  FailureOr<OwningOpRef<ModuleOp>> library =
      tcl::buildTransformLibrary(module, source->db, database, source->target,
                                 source->platformId, options);
  if (failed(library))
    return signalPassFailure();
  if (llvm::Error error = tcl::writeTransformLibrary(**library, output)) {
    module.emitError(llvm::toString(std::move(error)));
    return signalPassFailure();
  }
  llvm::errs() << getArgument() << ": wrote '" << output << "'\n";
}
