//===- TransformLibrary.cpp - Best schedules as a transform library -------===//

#include "tcl/Transforms/TransformLibrary.h"

#include "ScheduleApplication.h"

#include "tcl/Task/Task.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformTypes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

//===----------------------------------------------------------------------===//
// Matchers
//===----------------------------------------------------------------------===//

namespace {
constexpr llvm::StringLiteral kOp = "!transform.any_op";
constexpr llvm::StringLiteral kParam = "!transform.param<i64>";

/// Writes the text of the matcher of one task: a named sequence of upstream
/// match ops taking the task's last op and yielding its anchor. The checks
/// are listed in TransformLibrary.h.
class MatcherWriter {
public:
  explicit MatcherWriter(const tcl::Task &task) : task(task) {}

  std::string write(StringRef name);

private:
  /// A fresh SSA name `%<prefix><n>`.
  std::string fresh(StringRef prefix) {
    return ("%" + prefix + Twine(nextId++)).str();
  }
  std::string constant(int64_t value);
  /// Fails the match unless `param` holds exactly `values`, in order.
  void expectParam(StringRef param, ArrayRef<int64_t> values);
  /// Emits the checks of one Linalg op's structure on block argument `s` of
  /// a `transform.match.structured`.
  void checkStructure(linalg::LinalgOp op, StringRef s);
  void checkOperand(StringRef kind, unsigned position, OpOperand &operand,
                    linalg::LinalgOp op, StringRef s);
  /// Fails the match if the checks `body` emits on `handle` (inside a
  /// `transform.match.structured failures(suppress)`) all succeed. `body`
  /// returns the handle to yield from that op. It must be the result of an op
  /// that runs after all checks: a suppressed failure still forwards the
  /// terminator operands defined before it, block arguments included.
  void emitNot(StringRef handle,
               llvm::function_ref<std::string(StringRef)> body);
  /// Fails the match if the structured op `handle` has one of `names`.
  void emitNotNamed(StringRef handle, ArrayRef<StringRef> names);
  /// A fresh handle to the structured op `handle`, defined only if the
  /// checks before it succeeded.
  std::string rebind(StringRef handle);

  const tcl::Task &task;
  std::string text;
  llvm::raw_string_ostream os{text};
  unsigned nextId = 0;
};
} // namespace

std::string MatcherWriter::constant(int64_t value) {
  std::string name = fresh("c");
  os << name << " = transform.param.constant " << value << " : i64 -> "
     << kParam << "\n";
  return name;
}

void MatcherWriter::expectParam(StringRef param, ArrayRef<int64_t> values) {
  assert(!values.empty() && "a parameter list holds at least one value");
  SmallVector<std::string> constants;
  for (int64_t value : values)
    constants.push_back(constant(value));
  std::string reference = constants.front();
  if (constants.size() > 1) {
    reference = fresh("list");
    os << reference << " = transform.merge_handles "
       << llvm::join(constants, ", ") << " : " << kParam << "\n";
  }
  os << "transform.match.param.cmpi eq " << param << ", " << reference << " : "
     << kParam << "\n";
}

void MatcherWriter::checkOperand(StringRef kind, unsigned position,
                                 OpOperand &operand, linalg::LinalgOp op,
                                 StringRef s) {
  std::string matchOp = ("transform.match.structured." + kind).str();
  auto shaped = dyn_cast<ShapedType>(operand.get().getType());
  if (shaped && shaped.getElementType().isIntOrFloat()) {
    std::string value = fresh("value");
    os << value << " = " << matchOp << " " << s << "[" << position
       << "] : (" << kOp << ") -> !transform.any_value\n";
    std::string width = fresh("bitwidth");
    os << width << " = transform.match.structured.elemental_bitwidth "
       << value << " : (!transform.any_value) -> " << kParam << "\n";
    expectParam(width, {shaped.getElementType().getIntOrFloatBitWidth()});
  }
  AffineMap map = op.getMatchingIndexingMap(&operand);
  if (map.isPermutation())
    os << matchOp << " " << s << "[" << position << "] {permutation} : "
       << kOp << "\n";
  else if (map.isProjectedPermutation())
    os << matchOp << " " << s << "[" << position
       << "] {projected_permutation} : " << kOp << "\n";
}

void MatcherWriter::checkStructure(linalg::LinalgOp op, StringRef s) {
  if (op.getNumLoops() == 0) {
    std::string rank = fresh("rank");
    os << rank << " = transform.match.structured.rank " << s << " : ("
       << kOp << ") -> " << kParam << "\n";
    expectParam(rank, {0});
  } else {
    std::string dims = fresh("dims");
    os << dims << " = transform.match.structured.dim " << s << "[all] : ("
       << kOp << ") -> " << kParam << "\n";
    expectParam(dims, op.getStaticLoopRanges());
  }
  SmallVector<int64_t> parallel, reduction;
  for (auto [i, type] : llvm::enumerate(op.getIteratorTypesArray()))
    (type == utils::IteratorType::parallel ? parallel : reduction)
        .push_back(i);
  if (!parallel.empty())
    os << "transform.match.structured.dim " << s << "["
       << llvm::join(llvm::map_range(parallel,
                                     [](int64_t i) { return Twine(i).str(); }),
                     ", ")
       << "] {parallel} : " << kOp << "\n";
  if (!reduction.empty())
    os << "transform.match.structured.dim " << s << "["
       << llvm::join(llvm::map_range(reduction,
                                     [](int64_t i) { return Twine(i).str(); }),
                     ", ")
       << "] {reduction} : " << kOp << "\n";

  std::string numInputs = fresh("inputs");
  os << numInputs << " = transform.match.structured.num_inputs " << s
     << " : (" << kOp << ") -> " << kParam << "\n";
  expectParam(numInputs, {op.getNumDpsInputs()});
  std::string numInits = fresh("inits");
  os << numInits << " = transform.match.structured.num_inits " << s << " : ("
     << kOp << ") -> " << kParam << "\n";
  expectParam(numInits, {op.getNumDpsInits()});
  for (auto [i, operand] : llvm::enumerate(op.getDpsInputOperands()))
    checkOperand("input", i, *operand, op, s);
  for (auto [i, operand] : llvm::enumerate(op.getDpsInitsMutable()))
    checkOperand("init", i, operand, op, s);

  // The same predicate as `transform.match.structured.body {contraction}`.
  std::string elementwiseOp, reductionOp;
  if (linalg::detail::isContractionBody(
          *op.getBlock(), [&](Operation *elem, Operation *red) {
            elementwiseOp = elem->getName().getStringRef().str();
            reductionOp = red->getName().getStringRef().str();
            return true;
          }))
    os << "transform.match.structured.body " << s << " {contraction = [\""
       << elementwiseOp << "\", \"" << reductionOp << "\"]} : " << kOp
       << "\n";
  else if (linalg::isElementwise(op))
    os << "transform.match.structured.body " << s << " {elementwise} : " << kOp
       << "\n";
  // Tells a transpose (a body that only forwards inputs, read through a
  // permutation) from an elementwise op: maps are only checked for being
  // permutations.
  if (op.getNumReductionLoops() == 0) {
    // The same predicate as `transform.match.structured.body {passthrough}`.
    if (op.getBlock()->getTerminator()->getOperands() ==
        op.getRegionInputArgs())
      os << "transform.match.structured.body " << s << " {passthrough} : "
         << kOp << "\n";
    else
      emitNot(s, [&](StringRef candidate) {
        os << "transform.match.structured.body " << candidate
           << " {passthrough} : " << kOp << "\n";
        return rebind(candidate);
      });
  }

  FailureOr<linalg::ConvolutionDimensions> conv =
      linalg::inferConvolutionDims(op);
  if (succeeded(conv) && !conv->strides.empty()) {
    std::string strides = fresh("strides"), dilations = fresh("dilations");
    SmallVector<std::string> results;
    for (int i = 0; i < 6; ++i)
      results.push_back(fresh("conv"));
    results.push_back(strides);
    results.push_back(dilations);
    os << llvm::join(results, ", ")
       << " = transform.match.structured.classify_convolution_dims " << s
       << " : (" << kOp << ") -> (" << kParam;
    for (int i = 1; i < 8; ++i)
      os << ", " << kParam;
    os << ")\n";
    expectParam(strides, SmallVector<int64_t>(conv->strides.begin(),
                                              conv->strides.end()));
    expectParam(dilations, SmallVector<int64_t>(conv->dilations.begin(),
                                                conv->dilations.end()));
  }
}

void MatcherWriter::emitNot(StringRef handle,
                            llvm::function_ref<std::string(StringRef)> body) {
  std::string result = fresh("found");
  std::string arg = fresh("candidate");
  os << result << " = transform.match.structured failures(suppress) "
     << handle << " : (" << kOp << ") -> " << kOp << " {\n^bb0(" << arg
     << ": " << kOp << "):\n";
  std::string yielded = body(arg);
  os << "transform.match.structured.yield " << yielded << " : " << kOp
     << "\n}\n";
  os << "transform.match.operation_empty " << result << " : " << kOp << "\n";
}

std::string MatcherWriter::rebind(StringRef handle) {
  std::string result = fresh("checked"), arg = fresh("t");
  os << result << " = transform.match.structured " << handle << " : ("
     << kOp << ") -> " << kOp << " {\n^bb0(" << arg << ": " << kOp
     << "):\ntransform.match.structured.yield " << arg << " : " << kOp
     << "\n}\n";
  return result;
}

void MatcherWriter::emitNotNamed(StringRef handle, ArrayRef<StringRef> names) {
  emitNot(handle, [&](StringRef candidate) {
    os << "transform.match.operation_name " << candidate << " [";
    llvm::interleaveComma(names, os,
                          [&](StringRef name) { os << "\"" << name << "\""; });
    os << "] : " << kOp << "\n";
    return rebind(candidate);
  });
}

std::string MatcherWriter::write(StringRef name) {
  SmallVector<Operation *> chain{task.anchor};
  chain.append(task.consumers.begin(), task.consumers.end());

  os << "transform.named_sequence @" << name << "(%root: " << kOp
     << " {transform.readonly}) -> " << kOp << " {\n";
  // Walk from the last op of the task back to the anchor.
  std::string current = "%root";
  std::string anchor, fill;
  for (int i = chain.size() - 1; i >= 0; --i) {
    auto op = cast<linalg::LinalgOp>(chain[i]);
    os << "transform.match.operation_name " << current << " [\""
       << op->getName() << "\"] : " << kOp << "\n";
    std::string self = fresh("op"), previous;
    std::string s = fresh("s");
    bool yieldsPrevious = i > 0 || task.fill;
    if (yieldsPrevious)
      previous = fresh(i > 0 ? "producer" : "fill");
    os << self << (yieldsPrevious ? ", " + previous : "")
       << " = transform.match.structured " << current << " : (" << kOp
       << ") -> (" << kOp << (yieldsPrevious ? ", " + kOp.str() : "")
       << ") {\n^bb0(" << s << ": " << kOp << "):\n";
    checkStructure(op, s);
    if (i + 1 < static_cast<int>(chain.size())) {
      // Fused: the next op of the chain is the only user.
      os << fresh("user") << " = transform.match.structured.result " << s
         << "[0] single : (" << kOp << ") -> " << kOp << "\n";
    }
    if (i > 0) {
      Value produced = chain[i - 1]->getResult(0);
      auto [kind, position] = [&]() -> std::pair<StringRef, unsigned> {
        for (auto [j, operand] : llvm::enumerate(op.getDpsInputOperands()))
          if (operand->get() == produced)
            return {"input", j};
        for (auto [j, operand] : llvm::enumerate(op.getDpsInitsMutable()))
          if (operand.get() == produced)
            return {"init", j};
        llvm_unreachable("a fused consumer uses the previous op's result");
      }();
      os << previous << "_op = transform.match.structured." << kind << " " << s
         << "[" << position << "] : (" << kOp << ") -> " << kOp << "\n";
      os << "transform.match.structured.yield " << s << ", " << previous
         << "_op : " << kOp << ", " << kOp << "\n}\n";
    } else if (task.fill) {
      os << previous << "_op = transform.match.structured.init " << s
         << "[0] : (" << kOp << ") -> " << kOp << "\n";
      os << "transform.match.structured.yield " << s << ", " << previous
         << "_op : " << kOp << ", " << kOp << "\n}\n";
    } else {
      os << "transform.match.structured.yield " << s << " : " << kOp
         << "\n}\n";
    }
    if (i == 0) {
      anchor = current;
      fill = previous;
    }
    current = previous;
  }

  auto anchorOp = cast<linalg::LinalgOp>(task.anchor);
  if (task.fill) {
    // The fill initializing the anchor's output is part of the task.
    os << "transform.match.operation_name " << fill << " [\"linalg.fill\"] : "
       << kOp << "\n";
    std::string s = fresh("s");
    os << fresh("fill") << " = transform.match.structured " << fill << " : ("
       << kOp << ") -> " << kOp << " {\n^bb0(" << s << ": " << kOp << "):\n"
       << fresh("user") << " = transform.match.structured.result " << s
       << "[0] single : (" << kOp << ") -> " << kOp << "\n"
       << "transform.match.structured.yield " << s << " : " << kOp << "\n}\n";
  } else if (anchorOp.getNumDpsInits() == 1) {
    // A task without fill: a single-use fill would have been fused.
    emitNot(anchor, [&](StringRef candidate) {
      std::string producer = fresh("init");
      os << producer << " = transform.match.structured.init " << candidate
         << "[0] : (" << kOp << ") -> " << kOp << "\n";
      os << "transform.match.operation_name " << producer
         << " [\"linalg.fill\"] : " << kOp << "\n";
      std::string used = fresh("used"), t = fresh("t");
      os << used << " = transform.match.structured " << producer << " : ("
         << kOp << ") -> " << kOp << " {\n^bb0(" << t << ": " << kOp
         << "):\n"
         << fresh("user") << " = transform.match.structured.result " << t
         << "[0] single : (" << kOp << ") -> " << kOp << "\n"
         << "transform.match.structured.yield " << t << " : " << kOp
         << "\n}\n";
      return used;
    });
  }

  if (anchorOp.getNumReductionLoops() == 0) {
    // An elementwise anchor is a task of its own only if no producer would
    // have absorbed it as a fused consumer, through an operand read with the
    // identity map.
    unsigned numInputs = anchorOp.getNumDpsInputs();
    for (unsigned i = 0, e = anchorOp->getNumOperands(); i < e; ++i) {
      OpOperand &operand = anchorOp->getOpOperand(i);
      if (!isa<ShapedType>(operand.get().getType()) ||
          !anchorOp.getMatchingIndexingMap(&operand).isIdentity())
        continue;
      emitNot(anchor, [&](StringRef candidate) {
        std::string producer = fresh("producer");
        os << producer << " = transform.match.structured."
           << (i < numInputs ? "input " : "init ") << candidate << "["
           << (i < numInputs ? i : i - numInputs) << "] : (" << kOp
           << ") -> " << kOp << "\n";
        std::string absorbs = fresh("absorbs"), t = fresh("t");
        os << absorbs << " = transform.match.structured " << producer
           << " : (" << kOp << ") -> " << kOp << " {\n^bb0(" << t << ": "
           << kOp << "):\n";
        emitNotNamed(t, {"linalg.fill", "linalg.copy"});
        os << fresh("user") << " = transform.match.structured.result " << t
           << "[0] single : (" << kOp << ") -> " << kOp << "\n"
           << "transform.match.structured.yield " << t << " : " << kOp
           << "\n}\n";
        return absorbs;
      });
    }
  }

  Operation *last = chain.back();
  if (last->getNumResults() == 1) {
    // The task ends here: its result is not the only input of another op
    // that `--tcl-extract-tasks` would have fused.
    auto rank = cast<ShapedType>(last->getResult(0).getType()).getRank();
    emitNot("%root", [&](StringRef candidate) {
      std::string user = fresh("user");
      os << user << " = transform.match.structured.result " << candidate
         << "[0] single : (" << kOp << ") -> " << kOp << "\n";
      std::string fusable = fresh("fusable"), t = fresh("t");
      os << fusable << " = transform.match.structured " << user << " : ("
         << kOp << ") -> " << kOp << " {\n^bb0(" << t << ": " << kOp
         << "):\n";
      os << "transform.match.structured.dim " << t << "[all] {parallel} : "
         << kOp << "\n";
      std::string numInits = fresh("inits");
      os << numInits << " = transform.match.structured.num_inits " << t
         << " : (" << kOp << ") -> " << kParam << "\n";
      expectParam(numInits, {1});
      std::string loops = fresh("rank");
      os << loops << " = transform.match.structured.rank " << t << " : ("
         << kOp << ") -> " << kParam << "\n";
      expectParam(loops, {rank});
      // Not fused: fills and copies, and transposes (a generic that only
      // moves data is taken for one).
      emitNotNamed(t, {"linalg.fill", "linalg.copy", "linalg.transpose"});
      emitNot(t, [&](StringRef candidate) {
        os << "transform.match.structured.body " << candidate
           << " {passthrough} : " << kOp << "\n";
        return rebind(candidate);
      });
      os << "transform.match.structured.yield " << t << " : " << kOp
         << "\n}\n";
      return fusable;
    });
  }
  os << "transform.yield " << anchor << " : " << kOp << "\n}\n";
  return text;
}

//===----------------------------------------------------------------------===//
// Library
//===----------------------------------------------------------------------===//

/// Parses `text`, a module of one transform named sequence, and moves the
/// sequence to the end of `library`.
static FailureOr<transform::NamedSequenceOp>
parseSequenceInto(ModuleOp library, StringRef text, StringRef bufferName,
                  Operation *diagAnchor) {
  std::string source =
      ("module attributes {transform.with_named_sequence} {\n" + text + "}\n")
          .str();
  ParserConfig config(library.getContext());
  OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(
      source, config, bufferName);
  if (!parsed)
    return diagAnchor->emitError()
           << "internal error: the generated " << bufferName
           << " does not parse";
  auto sequence = cast<transform::NamedSequenceOp>(
      parsed->getBody()->getOperations().front());
  sequence->moveBefore(library.getBody(), library.getBody()->end());
  return sequence;
}

/// The action of one workload: its printed schedule, with the per-anchor
/// body of the schedule's `transform.foreach` over the anchors moved into
/// the sequence and applied to the sequence's argument instead.
static FailureOr<transform::NamedSequenceOp>
buildAction(ModuleOp library, const tcl::detail::WorkloadPlan &plan,
            Operation *diagAnchor) {
  auto internalError = [&](const Twine &what) {
    return diagAnchor->emitError()
           << "internal error: the schedule of workload '" << plan.key
           << "' " << what;
  };
  ParserConfig config(library.getContext());
  OwningOpRef<ModuleOp> script = parseSourceString<ModuleOp>(
      plan.space.printScript(plan.schedule), config, "generated-schedule");
  if (!script)
    return internalError("does not parse");
  auto sequence = script->lookupSymbol<transform::NamedSequenceOp>(
      ("tcl_" + plan.key).str());
  if (!sequence)
    return internalError("has no sequence @tcl_" + plan.key);

  // The schedule is `knobs; %anchors = match(%root); foreach %anchors {...}`;
  // %root may have no other use, since it becomes the anchor.
  SmallVector<transform::ForeachOp> loops(
      sequence.getBody().front().getOps<transform::ForeachOp>());
  BlockArgument root = sequence.getArgument(0);
  if (loops.size() != 1 || loops.front().getTargets().size() != 1 ||
      loops.front()->getNumResults() != 0 || !root.hasOneUse())
    return internalError("is not a single transform.foreach over its "
                         "anchors");
  transform::ForeachOp loop = loops.front();
  Operation *anchors = loop.getTargets().front().getDefiningOp();
  if (!anchors || *root.getUsers().begin() != anchors ||
      !anchors->hasOneUse())
    return internalError("does not iterate over the anchors it matches");

  Block &body = loop.getBody().front();
  body.getArgument(0).replaceAllUsesWith(root);
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator()))
    op.moveBefore(loop);
  loop.erase();
  anchors->erase();

  // Most schedules consume the anchor handle (tiling replaces the anchor).
  llvm::SmallDenseSet<unsigned> consumed;
  transform::getConsumedBlockArguments(sequence.getBody().front(), consumed);
  Builder b(library.getContext());
  sequence.setArgAttrs(
      0, b.getDictionaryAttr(b.getNamedAttr(
             consumed.contains(0)
                 ? transform::TransformDialect::kArgConsumedAttrName
                 : transform::TransformDialect::kArgReadOnlyAttrName,
             b.getUnitAttr())));
  sequence->setAttr("tcl.schedule",
                    b.getStringAttr(plan.record ? "tuned" : "default"));
  if (plan.record)
    sequence->setAttr("tcl.median_s",
                      b.getF64FloatAttr(plan.record->medianSeconds));
  sequence->moveBefore(library.getBody(), library.getBody()->end());
  return sequence;
}

/// Adds `@__transform_main` applying each (matcher, action) pair with one
/// `transform.foreach_match`.
static void buildEntryPoint(ModuleOp library, ArrayRef<Attribute> matchers,
                            ArrayRef<Attribute> actions) {
  OpBuilder b = OpBuilder::atBlockEnd(library.getBody());
  Location loc = library.getLoc();
  Type anyOp = transform::AnyOpType::get(library.getContext());
  // foreach_match consumes the root; with no pairs nothing is consumed.
  StringRef effect = matchers.empty()
                         ? transform::TransformDialect::kArgReadOnlyAttrName
                         : transform::TransformDialect::kArgConsumedAttrName;
  auto entry = transform::NamedSequenceOp::create(
      b, loc, transform::TransformDialect::kTransformEntryPointSymbolName,
      anyOp, TypeRange{},
      [&](OpBuilder &b, Location loc, BlockArgument root) {
        if (!matchers.empty())
          transform::ForeachMatchOp::create(
              b, loc, anyOp, TypeRange{}, root, ValueRange{},
              /*restrict_root=*/false, /*flatten_results=*/false,
              b.getArrayAttr(matchers), b.getArrayAttr(actions));
        transform::YieldOp::create(b, loc);
      });
  entry.setArgAttrs(
      0, b.getDictionaryAttr(b.getNamedAttr(effect, b.getUnitAttr())));
}

/// Runs the matchers of `library` as stock mlir-opt would, on a copy of
/// `payload`, with actions that only record which matcher fired, and warns
/// on every task whose anchor would get another workload's schedule or
/// none. `exported` holds the keys the library has a sequence for.
static LogicalResult checkMatchers(ModuleOp payload, ModuleOp library,
                                   ArrayRef<std::string> keys,
                                   const llvm::StringSet<> &exported) {
  if (keys.empty())
    return success();
  MLIRContext *ctx = payload.getContext();
  OwningOpRef<ModuleOp> check = ModuleOp::create(library.getLoc());
  (*check)->setAttr(transform::TransformDialect::kWithNamedSequenceAttrName,
                    UnitAttr::get(ctx));
  SmallVector<Attribute> matchers, actions;
  for (auto [i, key] : llvm::enumerate(keys)) {
    auto matcher =
        library.lookupSymbol<transform::NamedSequenceOp>("match_" + key);
    check->getBody()->push_back(matcher->clone());
    std::string mark = "mark_" + std::to_string(i);
    std::string text =
        "transform.named_sequence @" + mark +
        "(%a: !transform.any_op {transform.readonly}) {\n"
        "%key = transform.param.constant \"" + key +
        "\" -> !transform.any_param\n"
        "transform.annotate %a \"tcl.matched\" = %key : !transform.any_op, "
        "!transform.any_param\ntransform.yield\n}\n";
    if (failed(parseSequenceInto(*check, text, "matcher check", payload)))
      return failure();
    matchers.push_back(SymbolRefAttr::get(ctx, "match_" + key));
    actions.push_back(SymbolRefAttr::get(ctx, mark));
  }
  buildEntryPoint(*check, matchers, actions);

  OwningOpRef<ModuleOp> copy = cast<ModuleOp>(payload->clone());
  auto entry = check->lookupSymbol<transform::NamedSequenceOp>(
      transform::TransformDialect::kTransformEntryPointSymbolName);
  if (failed(tcl::detail::reportOn(
          payload, "internal error: the exported matchers do not apply", [&] {
            return tcl::detail::applySequence(*copy, entry, *check);
          })))
    return failure();

  copy->walk([&](Operation *op) {
    auto task = op->getAttrOfType<StringAttr>(tcl::kTaskAttr);
    auto matched = op->getAttrOfType<StringAttr>("tcl.matched");
    if (!matched && task && exported.contains(task.getValue()))
      op->emitWarning() << "the exported matcher of workload '"
                        << task.getValue()
                        << "' does not match this task; stock mlir-opt "
                           "leaves it unscheduled";
    if (matched && (!task || task.getValue() != matched.getValue()))
      op->emitWarning() << "stock mlir-opt would apply the schedule of "
                           "workload '"
                        << matched.getValue() << "' to this op ("
                        << (task ? "workload '" + task.getValue().str() + "'"
                                 : std::string("not a task anchor"))
                        << "): the matcher cannot tell them apart";
  });
  return success();
}

FailureOr<OwningOpRef<ModuleOp>>
tcl::buildTransformLibrary(ModuleOp payload, const Database &db,
                           StringRef databaseName, const Target &target,
                           StringRef platformId,
                           const TransformLibraryOptions &options) {
  MLIRContext *ctx = payload.getContext();
  ctx->getOrLoadDialect<transform::TransformDialect>();
  SmallVector<Task> tasks = collectAnnotatedTasks(payload);
  FailureOr<std::vector<detail::WorkloadPlan>> plans =
      detail::planBestSchedules(payload, tasks, db, databaseName, target,
                                platformId, options.defaultSchedules);
  if (failed(plans))
    return failure();

  OwningOpRef<ModuleOp> library = ModuleOp::create(payload.getLoc());
  Builder b(ctx);
  (*library)->setAttr(transform::TransformDialect::kWithNamedSequenceAttrName,
                      b.getUnitAttr());
  (*library)->setAttr("tcl.database", b.getStringAttr(databaseName));
  (*library)->setAttr("tcl.platform", b.getStringAttr(platformId));

  // Larger tasks first, so that a task is not taken for a smaller workload
  // whose matcher also accepts it.
  std::vector<const detail::WorkloadPlan *> order;
  for (const detail::WorkloadPlan &plan : *plans)
    if (plan.record || options.defaultSchedules)
      order.push_back(&plan);
  auto size = [](const detail::WorkloadPlan *plan) {
    return (plan->task->fill ? 2 : 1) + plan->task->consumers.size();
  };
  llvm::stable_sort(order, [&](const auto *a, const auto *b) {
    return size(a) > size(b);
  });

  SmallVector<Attribute> matchers, actions;
  SmallVector<std::string> keys;
  llvm::StringSet<> exported;
  for (const detail::WorkloadPlan *plan : order) {
    std::string matcherName = ("match_" + plan->key).str();
    if (failed(parseSequenceInto(*library,
                                 MatcherWriter(*plan->task).write(matcherName),
                                 "matcher of workload '" + plan->key.str() +
                                     "'",
                                 payload)) ||
        failed(buildAction(*library, *plan, payload)))
      return failure();
    matchers.push_back(SymbolRefAttr::get(ctx, matcherName));
    actions.push_back(SymbolRefAttr::get(ctx, ("tcl_" + plan->key).str()));
    keys.push_back(plan->key.str());
    exported.insert(plan->key);
  }
  buildEntryPoint(*library, matchers, actions);
  if (failed(verify(*library)))
    return payload.emitError(
        "internal error: the generated transform library does not verify");
  if (failed(checkMatchers(payload, *library, keys, exported)))
    return failure();

  if (options.report)
    detail::printPlanReport(*options.report, options.reportHeading,
                            databaseName, platformId, *plans,
                            options.defaultSchedules);
  return library;
}

llvm::Error tcl::writeTransformLibrary(ModuleOp library, StringRef path) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &error);
  if (!out)
    return llvm::createStringError("cannot write the transform library '" +
                                   path + "': " + error);
  llvm::raw_ostream &os = out->os();
  auto attr = [&](StringRef name) {
    auto value = library->getAttrOfType<StringAttr>(name);
    return value ? value.getValue() : StringRef("?");
  };
  os << "// TCL transform library: best schedules from database '"
     << attr("tcl.database") << "' for platform '" << attr("tcl.platform")
     << "'.\n// Apply with: mlir-opt payload.mlir "
        "--transform-preload-library=transform-library-paths="
     << path << " --transform-interpreter\n";
  library->print(os);
  os.flush();
  if (std::error_code ec = out->os().error()) {
    out->os().clear_error();
    return llvm::createStringError("cannot write the transform library '" +
                                   path + "': " + ec.message());
  }
  out->keep();
  return llvm::Error::success();
}
