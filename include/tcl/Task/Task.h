//===- Task.h - Workloads, tasks and task kernels --------------*- C++ -*-===//
//
// A task is one tunable unit of a network: an anchor Linalg op (contraction,
// convolution, pooling, reduction, or an elementwise op that no anchor
// absorbs), the `linalg.fill` that initializes its output, and the chain of
// elementwise consumers fused with it. Its workload key is a structural hash,
// so identical layers share one key and are tuned once (TenSet, NeurIPS'21,
// Sec. 3: "tasks" are deduplicated subgraphs).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_TASK_TASK_H
#define TCL_TASK_TASK_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace tcl {

/// Attribute names written by `--tcl-extract-tasks`.
inline constexpr llvm::StringLiteral kTaskAttr = "tcl.task";
inline constexpr llvm::StringLiteral kFlopsAttr = "tcl.flops";
inline constexpr llvm::StringLiteral kFusedAttr = "tcl.fused";

/// One task instance in a module.
struct Task {
  /// The anchor Linalg op (carries `tcl.task`).
  mlir::Operation *anchor = nullptr;
  /// `linalg.fill` producing the anchor's output init, if it has no other
  /// use; part of the task.
  mlir::Operation *fill = nullptr;
  /// Elementwise consumers fused with the anchor, in order; each consumes the
  /// result of the previous one (or of the anchor) as its only use.
  llvm::SmallVector<mlir::Operation *> consumers;
  /// Short op kind: the Linalg op name without `linalg.` for named ops
  /// ("matmul", "conv_2d_nhwc_hwcf", ...), "reduction" or "elementwise" for
  /// `linalg.generic`.
  std::string kind;
  /// Workload key: `<kind>_<16 hex digits>`.
  std::string key;
  /// Floating-point operations of one execution of the whole task
  /// (multiply-add = 2).
  int64_t flops = 0;

  /// The last op of the task: the last consumer, or the anchor.
  mlir::Operation *root() const {
    return consumers.empty() ? anchor : consumers.back();
  }
};

/// Finds the tasks of `module` in program order. Linalg ops with dynamic
/// shapes are skipped with a warning on the op. Identical workloads get the
/// same key; instances are not merged here.
llvm::SmallVector<Task> findTasks(mlir::ModuleOp module);

/// A distinct workload of a module: the tasks sharing one key.
struct Workload {
  /// The first instance.
  const Task *task = nullptr;
  /// Name of the function holding each instance ("" outside functions).
  llvm::SmallVector<std::string> functions;
  /// How often the workload runs per network execution: the sum over its
  /// instances of the enclosing function's `tcl.weight` (1 when absent).
  int64_t weight = 0;
};

/// Groups `tasks` by workload key, in order of first appearance. The result
/// points into `tasks`.
std::vector<Workload> groupWorkloads(llvm::ArrayRef<Task> tasks);

/// Re-collects tasks from a module annotated by `--tcl-extract-tasks`
/// (`tcl.task` / `tcl.fused` / `tcl.flops` attributes), in program order.
llvm::SmallVector<Task> collectAnnotatedTasks(mlir::ModuleOp module);

/// Floating-point operations of one execution of a Linalg op with static
/// shapes: product of its loop ranges times the arithmetic ops of its body
/// (casts and index ops count 0). Returns 0 for dynamic shapes.
int64_t countFlops(mlir::Operation *linalgOp);

/// Shape and element type of one kernel argument.
struct TensorSpec {
  llvm::SmallVector<int64_t> shape;
  /// "f32", "f64", "f16", "bf16", "i8", "i32" or "i64".
  std::string elementType;
  int64_t numElements() const;
  /// Size of one element in bytes.
  unsigned elementBytes() const;
  /// `128x768xf32`.
  std::string str() const;
};

/// Calling convention of a task kernel `@kernel`: one ranked tensor argument
/// per input and per destination; the result is written in place into
/// argument `resultArg` (the root's destination). A function that returns a
/// new tensor instead (e.g. a whole network's `@forward`) has `result` set;
/// `resultArg` is then unused.
struct KernelSignature {
  std::string name = "kernel";
  llvm::SmallVector<TensorSpec> args;
  unsigned resultArg = 0;
  std::optional<TensorSpec> result;

  /// The shape and type of the output: `*result` or `args[resultArg]`.
  const TensorSpec &getResult() const {
    return result ? *result : args[resultArg];
  }
};

/// The signature of `func`, a function whose arguments are statically
/// shaped tensors and which returns one statically shaped tensor (e.g. the
/// `@forward` of an imported network). Fails with a message naming the
/// function and the offending argument or result otherwise.
llvm::Expected<KernelSignature> getFunctionSignature(mlir::func::FuncOp func);

/// A standalone module holding one task as `func.func @kernel`, with the
/// anchor still carrying `tcl.task` so schedules match it.
struct TaskKernel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  KernelSignature signature;
};

/// Builds the kernel module of `task` in `task.anchor`'s context: values
/// defined outside the task become arguments, except constants, which are
/// cloned; `tensor.empty` destinations become arguments (destination-passing
/// style). Fails with a diagnostic on the anchor for non-tensor operands.
mlir::FailureOr<TaskKernel> buildTaskKernel(const Task &task);

} // namespace tcl

#endif // TCL_TASK_TASK_H
