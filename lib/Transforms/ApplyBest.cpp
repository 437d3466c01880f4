//===- ApplyBest.cpp - Apply the best measured schedules from a database --===//

#include "ScheduleApplication.h"

#include "tcl/Database/Database.h"
#include "tcl/Space/SearchSpace.h"
#include "tcl/Target/Target.h"
#include "tcl/Task/Task.h"
#include "tcl/Transforms/Passes.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

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

/// What the pass does with one workload.
struct WorkloadPlan {
  StringRef key;
  tcl::SearchSpace space;
  tcl::Schedule schedule;
  /// The record the schedule comes from; null for the default schedule.
  const tcl::MeasureRecord *record = nullptr;
  /// Records of the workload on the platform, failed ones included.
  size_t numRecords = 0;
};
} // namespace

/// `'a', 'b'`: platform ids contain commas, so each is quoted.
static std::string quotedList(const llvm::StringSet<> &set) {
  SmallVector<StringRef> names(set.keys());
  llvm::sort(names);
  std::string result;
  for (StringRef name : names) {
    if (!result.empty())
      result += ", ";
    result += ("'" + name + "'").str();
  }
  return result;
}

void ApplyBestPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (database.empty()) {
    module.emitError("--tcl-apply-best needs a database file: "
                     "database=<path>");
    return signalPassFailure();
  }
  llvm::Expected<tcl::Target> parsedTarget = tcl::Target::parse(target);
  if (!parsedTarget) {
    module.emitError(llvm::toString(parsedTarget.takeError()));
    return signalPassFailure();
  }
  llvm::Expected<tcl::Database> db =
      tcl::Database::open(database, /*create=*/false);
  if (!db) {
    module.emitError(llvm::toString(db.takeError()));
    return signalPassFailure();
  }
  std::string platformId =
      platform.empty() ? tcl::Platform::host(*parsedTarget).id() : platform;

  tcl::detail::splitSharedEmptyTensors(module);
  SmallVector<tcl::Task> tasks = tcl::collectAnnotatedTasks(module);
  llvm::MapVector<StringRef, const tcl::Task *> byKey;
  for (const tcl::Task &task : tasks)
    byKey.insert({task.key, &task});

  // Resolve every schedule before applying any, so that a record that does
  // not fit fails the pass before the module is changed.
  std::vector<WorkloadPlan> plans;
  for (auto [key, task] : byKey) {
    FailureOr<tcl::SearchSpace> space =
        tcl::SearchSpace::forTask(*task, *parsedTarget);
    if (failed(space))
      return signalPassFailure();
    WorkloadPlan plan{key, std::move(*space)};
    plan.record = db->best(key, platformId);
    plan.numRecords = db->recordsFor(key, platformId).size();
    if (!plan.record) {
      llvm::StringSet<> others = db->platforms(key);
      if (plan.numRecords == 0 && !others.empty())
        module.emitWarning()
            << "workload '" << key << "' has records only for platform(s) "
            << quotedList(others) << "; "
            << (defaultSchedules ? "using the default schedule"
                                 : "leaving it unscheduled");
      plan.schedule = plan.space.getDefault();
      plans.push_back(std::move(plan));
      continue;
    }
    llvm::Expected<tcl::Schedule> schedule =
        plan.space.fromKnobMap(plan.record->knobs);
    if (!schedule) {
      module.emitError() << "the best record of workload '" << key << "' in '"
                         << database << "' does not fit its search space: "
                         << llvm::toString(schedule.takeError());
      return signalPassFailure();
    }
    plan.schedule = std::move(*schedule);
    plans.push_back(std::move(plan));
  }

  for (const WorkloadPlan &plan : plans) {
    if (!plan.record && !defaultSchedules)
      continue;
    if (failed(tcl::detail::applySchedule(
            module, plan.space, plan.schedule,
            "applying the " + Twine(plan.record ? "tuned" : "default") +
                " schedule of workload '" + plan.key + "'")))
      return signalPassFailure();
  }
  tcl::detail::eraseDeadOps(module);

  llvm::raw_ostream &os = llvm::errs();
  os << "tcl-apply-best: database '" << database << "', platform '"
     << platformId << "'\n";
  unsigned numTuned = 0;
  for (const WorkloadPlan &plan : plans) {
    os << "  " << plan.key << ": ";
    if (plan.record) {
      ++numTuned;
      os << "tuned (median "
         << llvm::format("%.4g", plan.record->medianSeconds * 1e3) << " ms, "
         << plan.numRecords << " records)\n";
      continue;
    }
    os << (defaultSchedules ? "default" : "unscheduled");
    if (plan.numRecords == 0)
      os << " (no record for platform " << platformId << ")\n";
    else
      os << " (none of " << plan.numRecords << " records for platform "
         << platformId << " succeeded)\n";
  }
  os << numTuned << " of " << plans.size() << " workloads tuned\n";
}
