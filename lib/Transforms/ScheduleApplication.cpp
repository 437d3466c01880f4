//===- ScheduleApplication.cpp - Applying schedules to a module -----------===//

#include "ScheduleApplication.h"

#include "tcl/Space/SearchSpace.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

using namespace mlir;

LogicalResult tcl::detail::reportOn(Operation *anchor,
                                    const llvm::Twine &context,
                                    llvm::function_ref<LogicalResult()> fn) {
  std::string messages;
  LogicalResult result = success();
  {
    ScopedDiagnosticHandler handler(anchor->getContext(), [&](Diagnostic &d) {
      if (d.getSeverity() != DiagnosticSeverity::Error)
        return success();
      if (!messages.empty())
        messages += "; ";
      messages += d.str();
      return success();
    });
    result = fn();
  }
  if (failed(result))
    return anchor->emitError() << context << ": " << messages;
  return success();
}

void tcl::detail::splitSharedEmptyTensors(ModuleOp module) {
  SmallVector<tensor::EmptyOp> shared;
  module.walk([&](tensor::EmptyOp op) {
    if (!op->hasOneUse() && !op->use_empty())
      shared.push_back(op);
  });
  OpBuilder b(module.getContext());
  for (tensor::EmptyOp op : shared) {
    for (OpOperand &use :
         llvm::make_early_inc_range(llvm::drop_begin(op->getUses()))) {
      b.setInsertionPoint(op);
      use.set(b.clone(*op)->getResult(0));
    }
  }
}

void tcl::detail::eraseDeadOps(ModuleOp module) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> dead;
    module.walk([&](Operation *op) {
      if (op != module && isOpTriviallyDead(op))
        dead.push_back(op);
    });
    for (Operation *op : dead) {
      op->erase();
      changed = true;
    }
  }
}

LogicalResult tcl::detail::applySequence(ModuleOp payload, Operation *sequence,
                                         ModuleOp library) {
  transform::TransformOptions options;
  return transform::applyTransformNamedSequence(payload, sequence, library,
                                                options);
}

LogicalResult tcl::detail::applySchedule(ModuleOp module,
                                         const SearchSpace &space,
                                         const Schedule &schedule,
                                         const llvm::Twine &context,
                                         llvm::raw_ostream *dump) {
  std::string script = space.printScript(schedule);
  if (dump)
    *dump << script;
  ParserConfig config(module.getContext());
  OwningOpRef<ModuleOp> library =
      parseSourceString<ModuleOp>(script, config, "generated-schedule");
  if (!library)
    return module.emitError()
           << "internal error: the generated schedule of workload '"
           << space.getWorkloadKey() << "' does not parse";
  auto sequence = library->lookupSymbol<transform::NamedSequenceOp>(
      ("tcl_" + space.getWorkloadKey()).str());
  return reportOn(module, context,
                  [&] { return applySequence(module, sequence, *library); });
}

LogicalResult tcl::applyTaskSchedule(ModuleOp module, const SearchSpace &space,
                                     const Schedule &schedule) {
  if (failed(detail::applySchedule(module, space, schedule,
                                   "schedule of workload '" +
                                       space.getWorkloadKey() + "'")))
    return failure();
  detail::eraseDeadOps(module);
  return success();
}

FailureOr<tcl::detail::BestRecordSource>
tcl::detail::openBestRecordSource(ModuleOp module, StringRef passArgument,
                                  StringRef database, StringRef target,
                                  StringRef platform) {
  if (database.empty())
    return module.emitError()
           << "--" << passArgument << " needs a database file: "
           << "database=<path>";
  llvm::Expected<Target> parsedTarget = Target::parse(target);
  if (!parsedTarget)
    return module.emitError(llvm::toString(parsedTarget.takeError()));
  llvm::Expected<Database> db = Database::open(database, /*create=*/false);
  if (!db)
    return module.emitError(llvm::toString(db.takeError()));
  std::string platformId =
      platform.empty() ? Platform::host(*parsedTarget).id() : platform.str();
  return BestRecordSource{*parsedTarget, std::move(*db), platformId};
}

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

FailureOr<std::vector<tcl::detail::WorkloadPlan>>
tcl::detail::planBestSchedules(ModuleOp module, ArrayRef<Task> tasks,
                               const Database &db, StringRef databaseName,
                               const Target &target, StringRef platformId,
                               bool defaultSchedules) {
  llvm::MapVector<StringRef, const Task *> byKey;
  for (const Task &task : tasks)
    byKey.insert({task.key, &task});

  std::vector<WorkloadPlan> plans;
  for (auto [key, task] : byKey) {
    FailureOr<SearchSpace> space = SearchSpace::forTask(*task, target);
    if (failed(space))
      return failure();
    WorkloadPlan plan{key, task, std::move(*space)};
    plan.record = db.best(key, platformId);
    plan.numRecords = db.recordsFor(key, platformId).size();
    if (!plan.record) {
      llvm::StringSet<> others = db.platforms(key);
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
    llvm::Expected<Schedule> schedule =
        plan.space.fromKnobMap(plan.record->knobs);
    if (!schedule)
      return module.emitError()
             << "the best record of workload '" << key << "' in '"
             << databaseName << "' does not fit its search space: "
             << llvm::toString(schedule.takeError());
    plan.schedule = std::move(*schedule);
    plans.push_back(std::move(plan));
  }
  return plans;
}

void tcl::detail::printPlanReport(llvm::raw_ostream &os,
                                  StringRef passArgument, StringRef database,
                                  StringRef platformId,
                                  ArrayRef<WorkloadPlan> plans,
                                  bool defaultSchedules) {
  os << passArgument << ": database '" << database << "', platform '"
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
