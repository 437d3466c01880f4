//===- TaskFixture.h - One task and its search space, for unit tests -*- C++ -*-===//

#ifndef TCL_TEST_UNIT_TASKFIXTURE_H
#define TCL_TEST_UNIT_TASKFIXTURE_H

#include "tcl/Space/SearchSpace.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <memory>

namespace tcl {

/// Parses a module holding exactly one task and builds the task's search
/// space for `target`. Tests derive from it and call setUpTask() in SetUp.
class TaskFixture : public ::testing::Test {
protected:
  void setUpTask(llvm::StringRef mlir, llvm::StringRef target) {
    mlir::DialectRegistry registry;
    registerTCLDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    module = mlir::parseSourceString<mlir::ModuleOp>(mlir, &context);
    ASSERT_TRUE(module);
    tasks = findTasks(*module);
    ASSERT_EQ(tasks.size(), 1u);
    llvm::Expected<Target> t = Target::parse(target);
    ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
    auto s = SearchSpace::forTask(tasks[0], *t);
    ASSERT_TRUE(mlir::succeeded(s));
    space = std::make_unique<SearchSpace>(std::move(*s));
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  llvm::SmallVector<Task> tasks;
  std::unique_ptr<SearchSpace> space;
};

} // namespace tcl

#endif // TCL_TEST_UNIT_TASKFIXTURE_H
