//===- ApplySchedules.cpp - Apply resolved schedules to tasks -------------===//

#include "ScheduleApplication.h"

#include "tcl/Space/SearchSpace.h"
#include "tcl/Task/Task.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

namespace tcl {
#define GEN_PASS_DEF_TCLAPPLYSCHEDULES
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;
using tcl::detail::reportOn;

namespace {
struct ApplySchedulesPass
    : public tcl::impl::TCLApplySchedulesBase<ApplySchedulesPass> {
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult
  applyDefaults(ModuleOp module,
                const llvm::MapVector<StringRef, const tcl::Task *> &byKey,
                const llvm::StringSet<> &scheduled, const tcl::Target &target);
};
} // namespace

void ApplySchedulesPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  llvm::Expected<tcl::Target> parsedTarget = tcl::Target::parse(target);
  if (!parsedTarget) {
    module.emitError(llvm::toString(parsedTarget.takeError()));
    return signalPassFailure();
  }

  tcl::detail::splitSharedEmptyTensors(module);
  SmallVector<tcl::Task> tasks = tcl::collectAnnotatedTasks(module);
  llvm::MapVector<StringRef, const tcl::Task *> byKey;
  for (const tcl::Task &task : tasks)
    byKey.insert({task.key, &task});

  // Schedules from the file, checked against their workload's space.
  OwningOpRef<ModuleOp> library;
  llvm::StringSet<> scheduled;
  SmallVector<std::pair<StringRef, Operation *>> toApply;
  if (!schedules.empty()) {
    if (failed(
            reportOn(module, "cannot parse schedule file '" + schedules + "'",
                     [&]() -> LogicalResult {
                       ParserConfig config(ctx);
                       library = parseSourceFile<ModuleOp>(schedules, config);
                       return success(static_cast<bool>(library));
                     })))
      return signalPassFailure();
    for (auto seq : library->getOps<transform::NamedSequenceOp>()) {
      auto workload = seq->getAttrOfType<StringAttr>("tcl.workload");
      if (!workload)
        continue;
      std::string where =
          ("schedule @" + seq.getSymName() + " in '" + schedules + "'").str();
      const tcl::Task *task = byKey.lookup(workload.getValue());
      if (!task) {
        module.emitError() << where << " names workload '"
                           << workload.getValue()
                           << "', which is not a task of this module";
        return signalPassFailure();
      }
      if (failed(reportOn(module, where, [&]() -> LogicalResult {
            FailureOr<tcl::SearchSpace> space =
                tcl::SearchSpace::forTask(*task, *parsedTarget);
            if (failed(space))
              return failure();
            FailureOr<tcl::Schedule> schedule = space->readSchedule(seq);
            if (failed(schedule))
              return failure();
            if (llvm::Error err = space->verify(*schedule))
              return seq.emitError(llvm::toString(std::move(err)));
            return success();
          })))
        return signalPassFailure();
      scheduled.insert(workload.getValue());
      toApply.push_back({workload.getValue(), seq});
    }
  }

  for (auto [key, seq] : toApply) {
    std::string where =
        ("applying the schedule of workload '" + key + "'").str();
    if (failed(reportOn(module, where, [&] {
          return tcl::detail::applySequence(module, seq, *library);
        })))
      return signalPassFailure();
  }

  if (defaultSchedules &&
      failed(applyDefaults(module, byKey, scheduled, *parsedTarget)))
    return signalPassFailure();
  tcl::detail::eraseDeadOps(module);
}

LogicalResult ApplySchedulesPass::applyDefaults(
    ModuleOp module, const llvm::MapVector<StringRef, const tcl::Task *> &byKey,
    const llvm::StringSet<> &scheduled, const tcl::Target &target) {
  for (auto [key, task] : byKey) {
    if (scheduled.contains(key))
      continue;
    FailureOr<tcl::SearchSpace> space =
        tcl::SearchSpace::forTask(*task, target);
    if (failed(space))
      return failure();
    if (dumpDefaults)
      llvm::errs() << "// Default schedule of workload '" << key << "'\n";
    if (failed(tcl::detail::applySchedule(
            module, *space, space->getDefault(),
            "applying the default schedule of workload '" + key + "'",
            dumpDefaults ? &llvm::errs() : nullptr)))
      return failure();
  }
  return success();
}
