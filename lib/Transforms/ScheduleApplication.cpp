//===- ScheduleApplication.cpp - Applying schedules to a module -----------===//

#include "ScheduleApplication.h"

#include "tcl/Space/SearchSpace.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Parser/Parser.h"

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
