//===- ExtractTasks.cpp - Mark tasks with workload keys -------------------===//

#include "tcl/Task/Task.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Format.h"

namespace tcl {
#define GEN_PASS_DEF_TCLEXTRACTTASKS
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;

namespace {
struct ExtractTasksPass
    : public tcl::impl::TCLExtractTasksBase<ExtractTasksPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void ExtractTasksPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<tcl::Task> tasks = tcl::findTasks(module);
  OpBuilder b(&getContext());
  for (const tcl::Task &task : tasks) {
    task.anchor->setAttr(tcl::kTaskAttr, b.getStringAttr(task.key));
    task.anchor->setAttr(tcl::kFlopsAttr, b.getI64IntegerAttr(task.flops));
    for (Operation *consumer : task.consumers)
      consumer->setAttr(tcl::kFusedAttr, b.getStringAttr(task.key));
  }
  if (!report)
    return;

  // One row per distinct workload, in order of first appearance.
  llvm::MapVector<StringRef, std::pair<const tcl::Task *, unsigned>> rows;
  for (const tcl::Task &task : tasks) {
    auto [it, inserted] = rows.insert({task.key, {&task, 0}});
    ++it->second.second;
  }
  int64_t totalFlops = 0;
  llvm::raw_ostream &os = llvm::errs();
  os << llvm::format("%-36s %-28s %9s %14s  %s\n", "workload", "kind",
                     "instances", "MFLOP", "operands");
  for (auto &[key, row] : rows) {
    const tcl::Task &task = *row.first;
    std::string operands;
    llvm::raw_string_ostream ops(operands);
    llvm::interleave(task.anchor->getOperandTypes(), ops, ", ");
    if (!task.consumers.empty())
      ops << " + " << task.consumers.size() << " fused";
    os << llvm::format("%-36s %-28s %9u %14.2f  %s\n", key.str().c_str(),
                       task.kind.c_str(), row.second, task.flops / 1e6,
                       operands.c_str());
    totalFlops += task.flops * row.second;
  }
  os << llvm::format("%zu tasks, %zu distinct workloads, %.2f GFLOP in total\n",
                     tasks.size(), rows.size(), totalFlops / 1e9);
}
