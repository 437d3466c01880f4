//===- Registration.cpp - Dialects and embedded schedules -----------------===//

#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

using namespace mlir;

void tcl::registerTCLDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
}

void tcl::eraseTransformScripts(ModuleOp module) {
  SmallVector<Operation *> scripts;
  for (Operation &op : module.getBody()->getOperations())
    if (isa<transform::TransformDialect>(op.getDialect()))
      scripts.push_back(&op);
  for (Operation *op : scripts)
    op->erase();
  module->removeAttr(transform::TransformDialect::kWithNamedSequenceAttrName);
}

LogicalResult tcl::applyEmbeddedSchedule(ModuleOp module) {
  transform::TransformOpInterface entry =
      transform::detail::findTransformEntryPoint(module, module);
  if (!entry)
    return module.emitError("no transform entry point '")
           << transform::TransformDialect::kTransformEntryPointSymbolName
           << "' in the module";
  transform::TransformOptions options;
  options.enableExpensiveChecks(false);
  if (failed(transform::applyTransformNamedSequence(module, entry, module,
                                                    options)))
    return failure();
  eraseTransformScripts(module);
  return success();
}
