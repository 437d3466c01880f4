//===- AutotunePass.cpp - Tune and apply as a pass ------------------------===//

#include "tcl/Search/Passes.h"
#include "tcl/Search/Tuner.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

namespace tcl {
#define GEN_PASS_DEF_TCLAUTOTUNE
#include "tcl/Search/Passes.h.inc"
} // namespace tcl

using namespace mlir;

namespace {
struct AutotunePass : public tcl::impl::TCLAutotuneBase<AutotunePass> {
  using Base::Base;
  void runOnOperation() override;
  void getDependentDialects(DialectRegistry &registry) const override {
    tcl::registerTCLDialects(registry);
  }
};
} // namespace

void AutotunePass::runOnOperation() {
  ModuleOp module = getOperation();
  if (database.empty()) {
    module.emitError("tcl-autotune needs a database file (database=...)");
    return signalPassFailure();
  }
  llvm::Expected<tcl::Target> parsed = tcl::Target::parse(target);
  if (!parsed) {
    module.emitError(llvm::toString(parsed.takeError()));
    return signalPassFailure();
  }
  if (llvm::Error err = tcl::requireCPUTarget(*parsed, "--tcl-autotune")) {
    module.emitError(llvm::toString(std::move(err)));
    return signalPassFailure();
  }
  tcl::TuneOptions options;
  options.target = *parsed;
  options.trials = trials;
  options.costModel = costModel;
  options.databasePath = database;
  options.measuresPerRound = std::max(1u, measuresPerRound.getValue());
  options.seed = seed;
  options.runner.threads = parsed->threads;
  options.runner.bindThreads = parsed->bindThreads;
  options.runner.seed = seed;
  options.runner.warmup = 0;
  options.runner.minRepeats = 1;
  options.runner.minRepeatSeconds = 0.02;
  options.runner.timeoutSeconds = 10;
  llvm::Expected<std::vector<tcl::TunedWorkload>> tuned =
      tcl::tuneModule(module, options);
  if (!tuned) {
    module.emitError("tcl-autotune: ") << llvm::toString(tuned.takeError());
    return signalPassFailure();
  }

  OpPassManager pm(ModuleOp::getOperationName());
  std::string pipeline = "tcl-extract-tasks,tcl-apply-best{database=" +
                         database + " target=" + parsed->str() + "}";
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs()))) {
    module.emitError("tcl-autotune: internal error: bad pipeline ")
        << pipeline;
    return signalPassFailure();
  }
  if (failed(runPipeline(pm, module)))
    return signalPassFailure();
}
