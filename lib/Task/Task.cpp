//===- Task.cpp - Workloads, tasks and task kernels -----------------------===//

#include "tcl/Task/Task.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;
using namespace tcl;

int64_t tcl::countFlops(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.hasDynamicShape())
    return 0;
  int64_t iterations = 1;
  for (int64_t range : linalgOp.getStaticLoopRanges())
    iterations *= range;
  int64_t opsPerIteration = 0;
  for (Operation &bodyOp : linalgOp.getBlock()->without_terminator()) {
    if (isa<arith::IndexCastOp, arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp,
            arith::UIToFPOp, arith::FPToSIOp, arith::ExtSIOp, arith::ExtUIOp,
            arith::TruncIOp, arith::BitcastOp, arith::ConstantOp,
            linalg::IndexOp>(bodyOp))
      continue;
    ++opsPerIteration;
  }
  return iterations * opsPerIteration;
}

/// Anchors are Linalg ops with a reduction loop (contractions, convolutions,
/// pooling, reductions).
static bool isAnchor(linalg::LinalgOp op) {
  return !isa<linalg::FillOp>(op) && op.getNumReductionLoops() > 0;
}

/// An elementwise Linalg op: all loops parallel, one result. Fills, copies
/// and pure data movement are not tasks of their own.
static bool isElementwise(linalg::LinalgOp op) {
  return op.getNumReductionLoops() == 0 && op->getNumResults() == 1 &&
         !isa<linalg::FillOp, linalg::CopyOp>(op);
}

/// Can `consumer` be fused into the tiled loops of a task whose root result
/// is `value`? It must be elementwise over the same iteration space, read
/// `value` through an identity map, and `value` must have no other use.
static bool isFusableConsumer(linalg::LinalgOp consumer, Value value) {
  if (!isElementwise(consumer) || !value.hasOneUse())
    return false;
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || consumer.getNumLoops() != type.getRank())
    return false;
  for (OpOperand &operand : consumer->getOpOperands())
    if (operand.get() == value &&
        !consumer.getMatchingIndexingMap(&operand).isIdentity())
      return false;
  for (OpOperand &init : consumer.getDpsInitsMutable())
    if (!consumer.getMatchingIndexingMap(&init).isIdentity())
      return false;
  return true;
}

/// Canonical text of one op for the workload key: name, operand and result
/// types, the attributes that define the computation, and the body ops.
static void describeOp(Operation *op, llvm::raw_ostream &os) {
  os << op->getName() << "(";
  llvm::interleaveComma(op->getOperandTypes(), os);
  os << ")->(";
  llvm::interleaveComma(op->getResultTypes(), os);
  os << ")";
  for (NamedAttribute attr : op->getAttrs()) {
    if (attr.getName().strref().starts_with("tcl.") ||
        attr.getName() == "operandSegmentSizes")
      continue;
    os << " " << attr.getName() << "=" << attr.getValue();
  }
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    os << " maps=";
    llvm::interleaveComma(linalgOp.getIndexingMapsArray(), os);
    os << " body{";
    for (Operation &bodyOp : linalgOp.getBlock()->getOperations()) {
      os << bodyOp.getName() << "(";
      for (Value v : bodyOp.getOperands())
        if (auto arg = dyn_cast<BlockArgument>(v))
          os << "%" << arg.getArgNumber() << ",";
        else if (auto cst = v.getDefiningOp<arith::ConstantOp>())
          os << cst.getValue() << ",";
        else
          os << "v,";
      os << ");";
    }
    os << "}";
  }
  os << "\n";
}

static std::string taskKind(linalg::LinalgOp anchor) {
  if (isa<linalg::GenericOp>(anchor))
    return anchor.getNumReductionLoops() > 0 ? "reduction" : "elementwise";
  return anchor->getName().stripDialect().str();
}

static void finishTask(Task &task) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (task.fill)
    describeOp(task.fill, os);
  describeOp(task.anchor, os);
  for (Operation *consumer : task.consumers)
    describeOp(consumer, os);
  task.key = task.kind + "_" + llvm::utohexstr(llvm::xxh3_64bits(text),
                                               /*LowerCase=*/true, 16);
  task.flops = countFlops(task.anchor);
  for (Operation *consumer : task.consumers)
    task.flops += countFlops(consumer);
}

SmallVector<Task> tcl::findTasks(ModuleOp module) {
  SmallVector<Task> tasks;
  llvm::DenseSet<Operation *> claimed;
  module.walk([&](linalg::LinalgOp op) {
    if (claimed.contains(op) || !(isAnchor(op) || isElementwise(op)))
      return;
    if (op.hasDynamicShape() || !op.hasPureTensorSemantics()) {
      op.emitWarning("tcl: Linalg op with dynamic shapes or buffer operands "
                     "is not a task");
      return;
    }
    Task task;
    task.anchor = op;
    task.kind = taskKind(op);
    claimed.insert(op);
    if (op.getNumDpsInits() == 1)
      if (auto fill =
              op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
          fill && fill->getResult(0).hasOneUse())
        task.fill = fill;
    if (op->getNumResults() == 1) {
      Value current = op->getResult(0);
      while (current.hasOneUse()) {
        auto consumer =
            dyn_cast<linalg::LinalgOp>(*current.getUsers().begin());
        // A consumer of two anchors (e.g. a residual add of two convs)
        // belongs to the first one only.
        if (!consumer || claimed.contains(consumer) ||
            !isFusableConsumer(consumer, current) ||
            consumer.hasDynamicShape())
          break;
        task.consumers.push_back(consumer);
        claimed.insert(consumer);
        current = consumer->getResult(0);
      }
    }
    finishTask(task);
    tasks.push_back(std::move(task));
  });
  return tasks;
}

std::vector<Workload> tcl::groupWorkloads(ArrayRef<Task> tasks) {
  std::vector<Workload> workloads;
  llvm::StringMap<size_t> index;
  for (const Task &task : tasks) {
    auto [it, inserted] = index.insert({task.key, workloads.size()});
    if (inserted)
      workloads.push_back({&task, {}, 0});
    Workload &w = workloads[it->second];
    auto func = task.anchor->getParentOfType<func::FuncOp>();
    w.functions.push_back(func ? func.getSymName().str() : "");
    int64_t weight = 1;
    if (func)
      if (auto attr = func->getAttrOfType<IntegerAttr>("tcl.weight"))
        weight = attr.getInt();
    w.weight += weight;
  }
  return workloads;
}

SmallVector<Task> tcl::collectAnnotatedTasks(ModuleOp module) {
  SmallVector<Task> tasks;
  module.walk([&](linalg::LinalgOp op) {
    auto key = op->getAttrOfType<StringAttr>(kTaskAttr);
    if (!key)
      return;
    Task task;
    task.anchor = op;
    task.kind = taskKind(op);
    task.key = key.str();
    if (auto flops = op->getAttrOfType<IntegerAttr>(kFlopsAttr))
      task.flops = flops.getInt();
    if (op.getNumDpsInits() == 1)
      if (auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
          fill && fill->getResult(0).hasOneUse())
        task.fill = fill;
    Value current = op->getResult(0);
    while (current.hasOneUse()) {
      Operation *user = *current.getUsers().begin();
      auto fused = user->getAttrOfType<StringAttr>(kFusedAttr);
      if (!fused || fused.getValue() != task.key)
        break;
      task.consumers.push_back(user);
      current = user->getResult(0);
    }
    tasks.push_back(std::move(task));
  });
  return tasks;
}

//===----------------------------------------------------------------------===//
// Tensor specs and kernels
//===----------------------------------------------------------------------===//

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

unsigned TensorSpec::elementBytes() const {
  llvm::StringRef t = elementType;
  if (t == "f64" || t == "i64")
    return 8;
  if (t == "f16" || t == "bf16")
    return 2;
  if (t == "i8")
    return 1;
  return 4;
}

std::string TensorSpec::str() const {
  std::string s;
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + elementType;
}

static FailureOr<TensorSpec> specOf(Type type, Operation *where) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType || !tensorType.hasStaticShape())
    return where->emitError("tcl: task operand of type ")
           << type << " is not a statically shaped tensor";
  TensorSpec spec;
  spec.shape.assign(tensorType.getShape().begin(),
                    tensorType.getShape().end());
  llvm::raw_string_ostream os(spec.elementType);
  os << tensorType.getElementType();
  return spec;
}

llvm::Expected<KernelSignature>
tcl::getFunctionSignature(func::FuncOp func) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("function '@" + func.getSymName() +
                                   "': " + why);
  };
  auto specOfType = [](Type type) -> std::optional<TensorSpec> {
    auto tensorType = dyn_cast<RankedTensorType>(type);
    if (!tensorType || !tensorType.hasStaticShape())
      return std::nullopt;
    TensorSpec spec;
    spec.shape.assign(tensorType.getShape().begin(),
                      tensorType.getShape().end());
    llvm::raw_string_ostream os(spec.elementType);
    os << tensorType.getElementType();
    return spec;
  };
  auto describe = [](Type type) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << type;
    return text;
  };
  if (func.isExternal())
    return fail("is a declaration without a body");
  KernelSignature signature;
  signature.name = func.getSymName().str();
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    std::optional<TensorSpec> spec = specOfType(type);
    if (!spec)
      return fail("argument " + llvm::Twine(i) + " has type " +
                  describe(type) + ", expected a statically shaped tensor");
    signature.args.push_back(*spec);
  }
  if (func.getNumResults() != 1)
    return fail("returns " + llvm::Twine(func.getNumResults()) +
                " values, expected one tensor");
  signature.result = specOfType(func.getResultTypes()[0]);
  if (!signature.result)
    return fail("returns " + describe(func.getResultTypes()[0]) +
                ", expected a statically shaped tensor");
  return signature;
}

FailureOr<TaskKernel> tcl::buildTaskKernel(const Task &task) {
  MLIRContext *ctx = task.anchor->getContext();
  Location loc = task.anchor->getLoc();
  SmallVector<Operation *> ops;
  if (task.fill)
    ops.push_back(task.fill);
  ops.push_back(task.anchor);
  ops.append(task.consumers.begin(), task.consumers.end());
  llvm::SmallPtrSet<Operation *, 8> inTask(ops.begin(), ops.end());

  // Values from outside the task, in order of first use. Constants are
  // cloned instead; destinations (tensor.empty) become arguments.
  llvm::SetVector<Value> arguments;
  SmallVector<Operation *> constants;
  for (Operation *op : ops) {
    // Operands, and values captured by regions (e.g. a constant used in a
    // linalg.generic body).
    llvm::SetVector<Value> used(op->getOperands().begin(),
                                op->getOperands().end());
    for (Region &region : op->getRegions())
      mlir::getUsedValuesDefinedAbove(region, used);
    for (Value operand : used) {
      Operation *def = operand.getDefiningOp();
      if (def && inTask.contains(def))
        continue;
      if (def && def->hasTrait<OpTrait::ConstantLike>()) {
        if (!llvm::is_contained(constants, def))
          constants.push_back(def);
        continue;
      }
      arguments.insert(operand);
    }
  }

  TaskKernel kernel;
  Value rootResult = task.root()->getResult(0);
  auto rootLinalg = cast<linalg::LinalgOp>(task.root());
  // The buffer the result is written to: follow destinations through the
  // task (a consumer may write in place into the anchor's result, the anchor
  // into its fill) to the value that enters from outside.
  Value rootInit = rootLinalg.getDpsInits()[0];
  while (Operation *def = rootInit.getDefiningOp()) {
    if (!inTask.contains(def))
      break;
    auto dps = dyn_cast<DestinationStyleOpInterface>(def);
    if (!dps || dps.getNumDpsInits() != 1)
      break;
    rootInit = dps.getDpsInits()[0];
  }
  SmallVector<Type> argTypes;
  for (auto [i, value] : llvm::enumerate(arguments)) {
    FailureOr<TensorSpec> spec = specOf(value.getType(), task.anchor);
    if (failed(spec))
      return failure();
    kernel.signature.args.push_back(*spec);
    argTypes.push_back(value.getType());
    if (value == rootInit)
      kernel.signature.resultArg = i;
  }
  if (!arguments.contains(rootInit))
    return task.anchor->emitError(
        "tcl: the task's destination is computed inside the task");

  OpBuilder b(ctx);
  kernel.module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(kernel.module->getBody());
  auto func = func::FuncOp::create(
      b, loc, kernel.signature.name,
      b.getFunctionType(argTypes, {rootResult.getType()}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  IRMapping mapping;
  for (auto [value, arg] : llvm::zip(arguments, entry->getArguments()))
    mapping.map(value, arg);
  for (Operation *cst : constants)
    b.clone(*cst, mapping);
  // The clones carry the task's attributes so schedules match them.
  for (Operation *op : ops) {
    Operation *clone = b.clone(*op, mapping);
    if (op == task.anchor) {
      clone->setAttr(kTaskAttr, b.getStringAttr(task.key));
      clone->setAttr(kFlopsAttr, b.getI64IntegerAttr(task.flops));
    } else if (op != task.fill) {
      clone->setAttr(kFusedAttr, b.getStringAttr(task.key));
    }
  }
  func::ReturnOp::create(b, loc, mapping.lookup(rootResult));
  return kernel;
}
