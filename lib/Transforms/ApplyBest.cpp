//===- ApplyBest.cpp - Apply the best measured schedules from a database --===//

#include "ScheduleApplication.h"

#include "tcl/Task/Task.h"
#include "tcl/Transforms/Passes.h"

namespace tcl {
#define GEN_PASS_DEF_TCLAPPLYBEST
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;

namespace {
struct ApplyBestPass : public tcl::impl::TCLApplyBestBase<ApplyBestPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void ApplyBestPass::runOnOperation() {
  ModuleOp module = getOperation();
  FailureOr<tcl::detail::BestRecordSource> source =
      tcl::detail::openBestRecordSource(module, getArgument(), database,
                                        target, platform);
  if (failed(source))
    return signalPassFailure();

  tcl::detail::splitSharedEmptyTensors(module);
  SmallVector<tcl::Task> tasks = tcl::collectAnnotatedTasks(module);
  // Resolve every schedule before applying any, so that a record that does
  // not fit fails the pass before the module is changed.
  FailureOr<std::vector<tcl::detail::WorkloadPlan>> plans =
      tcl::detail::planBestSchedules(module, tasks, source->db, database,
                                     source->target, source->platformId,
                                     defaultSchedules);
  if (failed(plans))
    return signalPassFailure();

  for (const tcl::detail::WorkloadPlan &plan : *plans) {
    if (!plan.record && !defaultSchedules)
      continue;
    if (failed(tcl::detail::applySchedule(
            module, plan.space, plan.schedule,
            "applying the " + Twine(plan.record ? "tuned" : "default") +
                " schedule of workload '" + plan.key + "'")))
      return signalPassFailure();
  }
  tcl::detail::eraseDeadOps(module);
  tcl::detail::printPlanReport(llvm::errs(), getArgument(), database,
                               source->platformId, *plans, defaultSchedules);
}
