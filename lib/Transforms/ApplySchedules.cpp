//===- ApplySchedules.cpp - Apply resolved schedules to tasks -------------===//

#include "tcl/Space/SearchSpace.h"
#include "tcl/Task/Task.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

namespace tcl {
#define GEN_PASS_DEF_TCLAPPLYSCHEDULES
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;

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

/// Runs `fn` collecting its diagnostics; on failure re-emits them as one
/// error on `anchor` (the payload module) so that problems found in a
/// separate schedule file are reported against the module being compiled.
LogicalResult reportOn(Operation *anchor, const llvm::Twine &context,
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
} // namespace

/// Gives every use of a `tensor.empty` its own op. Front ends share one
/// empty tensor between destinations (e.g. a matmul's fill and its bias-add
/// consumer); after fusion both would write one buffer and bufferization
/// could no longer update loop results in place.
static void splitSharedEmptyTensors(ModuleOp module) {
  SmallVector<tensor::EmptyOp> shared;
  module.walk([&](tensor::EmptyOp op) {
    if (!op->hasOneUse() && !op->use_empty())
      shared.push_back(op);
  });
  OpBuilder b(module.getContext());
  for (tensor::EmptyOp op : shared) {
    for (OpOperand &use : llvm::make_early_inc_range(
             llvm::drop_begin(op->getUses()))) {
      b.setInsertionPoint(op);
      use.set(b.clone(*op)->getResult(0));
    }
  }
}

/// Tiling and fusion leave the original untiled ops in place without uses;
/// erase them so the output shows only the scheduled code.
static void eraseDeadOps(ModuleOp module) {
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

static LogicalResult applySequence(ModuleOp payload, Operation *sequence,
                                   ModuleOp library) {
  transform::TransformOptions options;
  return transform::applyTransformNamedSequence(payload, sequence, library,
                                                options);
}

void ApplySchedulesPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();
  llvm::Expected<tcl::Target> parsedTarget = tcl::Target::parse(target);
  if (!parsedTarget) {
    module.emitError(llvm::toString(parsedTarget.takeError()));
    return signalPassFailure();
  }

  splitSharedEmptyTensors(module);
  SmallVector<tcl::Task> tasks = tcl::collectAnnotatedTasks(module);
  llvm::MapVector<StringRef, const tcl::Task *> byKey;
  for (const tcl::Task &task : tasks)
    byKey.insert({task.key, &task});

  // Schedules from the file, checked against their workload's space.
  OwningOpRef<ModuleOp> library;
  llvm::StringSet<> scheduled;
  SmallVector<std::pair<StringRef, Operation *>> toApply;
  if (!schedules.empty()) {
    if (failed(reportOn(module,
                        "cannot parse schedule file '" + schedules + "'",
                        [&]() -> LogicalResult {
                          ParserConfig config(ctx);
                          library = parseSourceFile<ModuleOp>(schedules,
                                                              config);
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
    std::string where = ("applying the schedule of workload '" + key + "'").str();
    if (failed(reportOn(module, where,
                        [&] { return applySequence(module, seq, *library); })))
      return signalPassFailure();
  }

  if (defaultSchedules && failed(applyDefaults(module, byKey, scheduled,
                                               *parsedTarget)))
    return signalPassFailure();
  eraseDeadOps(module);
}

LogicalResult ApplySchedulesPass::applyDefaults(
    ModuleOp module,
    const llvm::MapVector<StringRef, const tcl::Task *> &byKey,
    const llvm::StringSet<> &scheduled, const tcl::Target &target) {
  MLIRContext *ctx = module.getContext();
  for (auto [key, task] : byKey) {
    if (scheduled.contains(key))
      continue;
    FailureOr<tcl::SearchSpace> space = tcl::SearchSpace::forTask(*task, target);
    if (failed(space))
      return failure();
    std::string script = space->printScript(space->getDefault());
    if (dumpDefaults)
      llvm::errs() << "// Default schedule of workload '" << key << "'\n"
                   << script;
    ParserConfig config(ctx);
    OwningOpRef<ModuleOp> defaultLibrary =
        parseSourceString<ModuleOp>(script, config, "default-schedule");
    if (!defaultLibrary) {
      return module.emitError()
             << "internal error: the default schedule of workload '" << key
             << "' does not parse";
    }
    auto seq = defaultLibrary->lookupSymbol<transform::NamedSequenceOp>(
        ("tcl_" + key).str());
    std::string where =
        ("applying the default schedule of workload '" + key + "'").str();
    if (failed(reportOn(module, where, [&] {
          return applySequence(module, seq, *defaultLibrary);
        })))
      return failure();
  }
  return success();
}
