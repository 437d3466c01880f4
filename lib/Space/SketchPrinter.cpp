//===- SketchPrinter.cpp - Printing sketches as transform IR --------------===//

#include "SketchPrinter.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace tcl;
using namespace tcl::sketch;

std::string TileSizes::str() const {
  return "[" + llvm::join(entries, ", ") + "]";
}

unsigned TileSizes::numTiled() const {
  return llvm::count_if(entries, [](const std::string &e) { return e != "0"; });
}

std::string TileSizes::operandTypes() const {
  std::string s = "!transform.any_op";
  for (unsigned i = 0; i < numParams; ++i)
    s += ", !transform.param<i64>";
  return s;
}

TaskHandles sketch::printPrologue(Printer &p, const SpaceShape &space,
                                  const Schedule &schedule,
                                  llvm::StringRef name,
                                  llvm::StringMap<std::string> &params) {
  llvm::raw_ostream &os = p.os;
  os << "  transform.named_sequence @" << name
     << "(%root: !transform.any_op {transform.readonly}) attributes "
        "{tcl.workload = \""
     << space.workloadKey << "\"} {\n";
  p.indent = 4;
  for (auto [knob, v] : llvm::zip(space.knobs, schedule.values)) {
    if (knob.kind != Knob::Kind::Value)
      continue;
    std::string ssa = "%" + knob.name;
    params[knob.name] = ssa;
    p.line() << ssa << " = transform.tune.knob<\"" << knob.name << "\"> = "
             << v << " from options = [";
    llvm::interleaveComma(knob.options, os);
    os << "] -> !transform.param<i64>\n";
  }
  p.line() << "%anchors = transform.structured.match attributes {tcl.task = \""
           << space.workloadKey << "\"} in %root : (!transform.any_op) -> "
           << "!transform.any_op\n";
  p.line() << "transform.foreach %anchors : !transform.any_op {\n";
  p.line() << "^bb0(" << (space.transposeFilter ? "%fhwc" : "%a")
           << ": !transform.any_op):\n";
  p.indent = 6;
  if (space.transposeFilter)
    p.line() << "%a = transform.structured.transpose_conv2d %fhwc : "
                "(!transform.any_op) -> !transform.any_op\n";

  TaskHandles handles;
  std::string prev = "%a";
  for (unsigned i = 0; i < space.numConsumers; ++i) {
    std::string c = p.fresh("consumer");
    p.line() << c << " = transform.get_consumers_of_result " << prev
             << "[0] : (!transform.any_op) -> !transform.any_op\n";
    handles.consumers.push_back(c);
    prev = c;
  }
  if (space.hasFill) {
    handles.fill = p.fresh("fill");
    p.line() << handles.fill << " = transform.get_producer_of_operand %a["
             << space.initOperandIndex
             << "] : (!transform.any_op) -> !transform.any_op\n";
  }
  handles.root = handles.consumers.empty() ? "%a" : handles.consumers.back();
  return handles;
}

FusedOps sketch::fuseIntoForall(Printer &p, const TaskHandles &task,
                                const std::string &tiledRoot,
                                std::string &forall,
                                llvm::StringRef forallPrefix) {
  auto fuse = [&](const std::string &producer) {
    std::string fused = p.fresh("fused"), next = p.fresh(forallPrefix);
    p.line() << fused << ", " << next
             << " = transform.structured.fuse_into_containing_op " << producer
             << " into " << forall
             << " : (!transform.any_op, !transform.any_op) -> "
                "(!transform.any_op, !transform.any_op)\n";
    forall = next;
    return fused;
  };
  FusedOps out;
  const auto &consumers = task.consumers;
  for (int i = static_cast<int>(consumers.size()) - 2; i >= 0; --i)
    out.consumers.insert(out.consumers.begin(), fuse(consumers[i]));
  out.anchor = consumers.empty() ? tiledRoot : fuse("%a");
  if (!consumers.empty())
    out.consumers.push_back(tiledRoot);
  out.fill = task.fill.empty() ? "" : fuse(task.fill);
  return out;
}
