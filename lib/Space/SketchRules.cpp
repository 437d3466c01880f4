//===- SketchRules.cpp - CPU sketch rules for Linalg tasks ----------------===//
//
// Builds the knobs of a task's search space and prints a resolved schedule as
// a transform-dialect script. See SearchSpace.h for the sketch structure.
//
//===----------------------------------------------------------------------===//

#include "tcl/Space/SearchSpace.h"

#include "GPUSketchRules.h"
#include "SketchPrinter.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace tcl;

/// `<prefix>_<index>`, the name of a per-dimension knob.
static std::string knobName(llvm::StringRef prefix, int64_t index) {
  return (prefix + "_" + llvm::Twine(index)).str();
}

namespace tcl {

/// Divisors of `n` in increasing order, at most `limit` (0: no limit).
static SmallVector<int64_t> divisors(int64_t n, int64_t limit = 0) {
  SmallVector<int64_t> result;
  for (int64_t d = 1; d <= n; ++d)
    if (n % d == 0 && (limit == 0 || d <= limit))
      result.push_back(d);
  return result;
}

/// Named convolution and pooling ops that `transform.structured.decompose`
/// turns into 1-D ops the vectorizer handles, with the anchor loops that
/// must have a unit register tile for that (output height and filter
/// height).
static std::optional<SmallVector<unsigned>> decomposableConv(Operation *op) {
  if (isa<linalg::Conv2DNhwcHwcfOp, linalg::DepthwiseConv2DNhwcHwcOp,
          linalg::PoolingNhwcMaxOp, linalg::PoolingNhwcSumOp>(op))
    return SmallVector<unsigned>{1, 4}; // (n, oh, ow, c|f, kh, kw, ...)
  if (isa<linalg::Conv2DNchwFchwOp>(op))
    return SmallVector<unsigned>{2, 5}; // (n, f, oh, ow, c, kh, kw)
  if (isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(op))
    return SmallVector<unsigned>{2, 4}; // (n, c, oh, ow, kh, kw)
  return std::nullopt;
}

/// Named convolutions without an upstream 1-D decomposition whose register
/// tile is vectorized as a generic contraction instead: once the window
/// loops have unit tiles and are folded away, every indexing map is a
/// projected permutation. Returns the anchor loops that need a unit register
/// tile for that: the window loops, and the output image loops with a
/// stride other than 1 (whose input index stays `stride * d`).
static std::optional<SmallVector<unsigned>>
generalizableConv(linalg::LinalgOp op, SmallVectorImpl<unsigned> &imageLoops) {
  // (n, oh, ow, g, f, kh, kw, c); the group dim is a batch dim of the
  // contraction, so grouped convolutions stay one op.
  if (!isa<linalg::Conv2DNhwgcGfhwcOp>(op))
    return std::nullopt;
  FailureOr<linalg::ConvolutionDimensions> dims =
      linalg::inferConvolutionDims(op);
  if (failed(dims) || dims->strides.size() != dims->outputImage.size())
    return std::nullopt;
  imageLoops.assign(dims->outputImage.begin(), dims->outputImage.end());
  SmallVector<unsigned> unit(dims->filterLoop.begin(), dims->filterLoop.end());
  for (auto [loop, stride] : llvm::zip(dims->outputImage, dims->strides))
    if (stride != 1)
      unit.push_back(loop);
  llvm::sort(unit);
  return unit;
}

class SketchBuilder {
public:
  static FailureOr<SearchSpace> build(const Task &task, const Target &target);
  static void print(const SearchSpace &space, const Schedule &schedule,
                    StringRef name, llvm::raw_ostream &os);
};

} // namespace tcl

FailureOr<SearchSpace> SketchBuilder::build(const Task &task,
                                            const Target &target) {
  auto anchor = dyn_cast<linalg::LinalgOp>(task.anchor);
  if (!anchor || anchor.hasDynamicShape() || anchor->getNumResults() != 1)
    return task.anchor->emitError(
        "tcl: unsupported op for the CPU sketch rules: expected a Linalg op "
        "with static shapes and one result");
  SearchSpace space;
  space.workloadKey = task.key;
  space.vectorWidth = target.vectorWidthF32;
  space.threads = target.threads;
  space.numConsumers = task.consumers.size();
  space.hasFill = task.fill != nullptr;
  space.genericAnchor = isa<linalg::GenericOp>(*anchor);
  space.initOperandIndex = anchor.getNumDpsInputs();
  space.loopExtents = anchor.getStaticLoopRanges();
  for (utils::IteratorType it : anchor.getIteratorTypesArray())
    space.isReduction.push_back(it == utils::IteratorType::reduction);

  AffineMap outMap = anchor.getIndexingMapMatchingResult(
      cast<OpResult>(anchor->getResult(0)));
  if (!outMap.isProjectedPermutation())
    return anchor.emitError("tcl: unsupported op for the CPU sketch rules: "
                            "output indexing map is not a projected "
                            "permutation");
  for (unsigned j = 0; j < outMap.getNumResults(); ++j)
    space.outputToLoop.push_back(outMap.getDimPosition(j));
  // Only for features: an op whose maps are not sums of scaled loops keeps
  // an empty getInputAccess().
  (void)space.recordOperandAccess(anchor);

  if (isa<linalg::Conv2DNhwcFhwcOp>(*anchor)) {
    // Same loops as conv_2d_nhwc_hwcf; transposed to it before tiling.
    space.category = SearchSpace::Category::Convolution;
    space.unitRegisterLoops = {1, 4};
    space.transposeFilter = true;
  } else if (auto unit = decomposableConv(anchor)) {
    space.category = SearchSpace::Category::Convolution;
    space.unitRegisterLoops = *unit;
  } else if (auto unit = generalizableConv(anchor, space.imageLoops)) {
    space.category = SearchSpace::Category::Convolution;
    space.unitRegisterLoops = *unit;
    space.generalizeConv = true;
  } else if (isa<linalg::ConvolutionOpInterface>(*anchor)) {
    return anchor.emitError("tcl: unsupported convolution for the CPU sketch "
                            "rules: no 1-D decomposition for '")
           << anchor->getName() << "'";
  } else if (anchor.getNumReductionLoops() > 0) {
    space.category = SearchSpace::Category::Contraction;
  }

  auto add = [&](std::string name, SmallVector<int64_t> options,
                 std::string doc) {
    Knob knob;
    knob.name = std::move(name);
    knob.options = std::move(options);
    knob.doc = std::move(doc);
    space.knobs.push_back(std::move(knob));
  };
  int64_t regLimit = 8 * space.vectorWidth;
  int64_t vw = space.vectorWidth;
  // Tiles that do not divide the innermost output dim are vectorized with
  // masks; upstream masks contractions and elementwise ops, not the 1-D
  // convolutions decomposed from 2-D ones.
  bool maskable = space.category != SearchSpace::Category::Convolution;
  unsigned rank = space.outputToLoop.size();
  for (auto [j, loop] : llvm::enumerate(space.outputToLoop)) {
    int64_t extent = space.loopExtents[loop];
    SmallVector<int64_t> par = divisors(extent);
    SmallVector<int64_t> reg = llvm::is_contained(space.unitRegisterLoops, loop)
                                   ? SmallVector<int64_t>{1}
                                   : divisors(extent, regLimit);
    if (maskable && j + 1 == rank && extent > vw) {
      for (int64_t m = vw; m < extent; m *= 2)
        par.push_back(m);
      for (int64_t k = 1; k <= 4 && k * vw < extent; ++k)
        reg.push_back(k * vw);
      llvm::sort(par);
      par.erase(llvm::unique(par), par.end());
      llvm::sort(reg);
      reg.erase(llvm::unique(reg), reg.end());
    }
    add(knobName("tile_par", j), par,
        llvm::formatv("thread-level tile of output dim {0} (extent {1})", j,
                      extent));
    add(knobName("tile_reg", j), reg,
        llvm::formatv("register tile of output dim {0}", j));
  }
  for (auto [l, extent] : llvm::enumerate(space.loopExtents)) {
    if (!space.isReduction[l])
      continue;
    add(knobName("tile_red", l), divisors(extent),
        llvm::formatv("cache-level tile of reduction loop {0} (extent {1})", l,
                      extent));
    SmallVector<int64_t> unroll = llvm::is_contained(space.unitRegisterLoops, l)
                                      ? SmallVector<int64_t>{1}
                                      : divisors(extent, 16);
    add(knobName("unroll_red", l), unroll,
        llvm::formatv("register tile (unroll) of reduction loop {0}", l));
  }
  if (space.outputToLoop.size() >= 2) {
    Knob knob;
    knob.kind = Knob::Kind::Alternatives;
    knob.name = "interchange";
    knob.options = {0, 1};
    knob.labels = {"identity", "swap-inner-parallel"};
    knob.doc = "order of the two innermost parallel register-tile loops";
    space.knobs.push_back(knob);
  }
  if (space.category != SearchSpace::Category::Elementwise) {
    Knob knob;
    knob.kind = Knob::Kind::Alternatives;
    knob.name = "contraction_lowering";
    knob.options = {0, 1};
    knob.labels = {"outerproduct", "dot"};
    knob.doc = "lowering of vector.contract";
    space.knobs.push_back(knob);
  }
  return space;
}


static std::string resultTypes(unsigned n) {
  SmallVector<std::string> types(n, "!transform.any_op");
  return llvm::join(types, ", ");
}

void SketchBuilder::print(const SearchSpace &space, const Schedule &schedule,
                          StringRef name, llvm::raw_ostream &os) {
  sketch::Printer p(os);
  llvm::StringMap<std::string> params;
  sketch::TaskHandles task =
      sketch::printPrologue(p,
                            {space.workloadKey, space.knobs,
                             space.numConsumers, space.hasFill,
                             space.initOperandIndex, space.transposeFilter},
                            schedule, name, params);
  const SmallVector<std::string> &consumers = task.consumers;
  const std::string &root = task.root;
  unsigned numLoops = space.loopExtents.size();
  unsigned rank = space.outputToLoop.size();

  // Level S: thread tiles over the root's output dims.
  sketch::TileSizes parSizes;
  if (consumers.empty()) {
    for (unsigned l = 0; l < numLoops; ++l) {
      auto it = llvm::find(space.outputToLoop, l);
      if (it == space.outputToLoop.end())
        parSizes.constant(0);
      else
        parSizes.param(params.lookup(
            knobName("tile_par", it - space.outputToLoop.begin())));
    }
  } else {
    for (unsigned j = 0; j < rank; ++j)
      parSizes.param(params.lookup(knobName("tile_par", j)));
  }
  std::string tiledRoot = p.fresh("tiled"), forall = p.fresh("forall");
  p.line() << tiledRoot << ", " << forall
           << " = transform.structured.tile_using_forall " << root
           << " tile_sizes " << parSizes.str() << " : (" << parSizes.operandTypes()
           << ") -> (!transform.any_op, !transform.any_op)\n";

  // Fuse producers into the forall, last consumer first.
  sketch::FusedOps fused =
      sketch::fuseIntoForall(p, task, tiledRoot, forall, "forall");
  std::string anchor = fused.anchor;
  const SmallVector<std::string> &tiledConsumers = fused.consumers;
  const std::string &tiledFill = fused.fill;

  // Level R: cache tiles of the reduction loops.
  bool hasReduction = llvm::is_contained(space.isReduction, true);
  if (hasReduction) {
    sketch::TileSizes redSizes;
    for (unsigned l = 0; l < numLoops; ++l) {
      if (space.isReduction[l])
        redSizes.param(params.lookup(knobName("tile_red", l)));
      else
        redSizes.constant(0);
    }
    std::string tiled = p.fresh("tiled");
    SmallVector<std::string> loops;
    for (unsigned i = 0; i < redSizes.numTiled(); ++i)
      loops.push_back(p.fresh("cache_loop"));
    p.line() << tiled << ", " << llvm::join(loops, ", ")
             << " = transform.structured.tile_using_for " << anchor
             << " tile_sizes " << redSizes.str() << " : ("
             << redSizes.operandTypes() << ") -> ("
             << resultTypes(1 + loops.size()) << ")\n";
    anchor = tiled;
  }

  // Levels S and R: the register tile, in one tiling with an optional
  // interchange of the two innermost parallel loops.
  sketch::TileSizes regSizes;
  SmallVector<unsigned> parallelLoops;
  unsigned numRed = 0; // reduction loops, i.e. loop nesting to hoist from
  for (unsigned l = 0; l < numLoops; ++l) {
    if (space.isReduction[l]) {
      regSizes.param(params.lookup(knobName("unroll_red", l)));
      ++numRed;
      continue;
    }
    auto it = llvm::find(space.outputToLoop, l);
    if (it == space.outputToLoop.end()) {
      regSizes.constant(1);
      continue;
    }
    parallelLoops.push_back(l);
    regSizes.param(params.lookup(
        knobName("tile_reg", it - space.outputToLoop.begin())));
  }
  // Loops whose tile covers the whole extent are not materialized, so the
  // loop handles of tile_using_for do not line up with loop dims; only the
  // tiled op is used below.
  std::string regTiled = p.fresh("reg");
  auto emitRegisterTiling = [&](ArrayRef<int64_t> interchange) {
    SmallVector<std::string> loops;
    for (unsigned i = 0; i < numLoops; ++i)
      loops.push_back(p.fresh("loop"));
    std::string t = p.fresh("t");
    p.line() << t << ", " << llvm::join(loops, ", ")
             << " = transform.structured.tile_using_for " << anchor
             << " tile_sizes " << regSizes.str();
    if (!interchange.empty()) {
      os << " interchange = [";
      llvm::interleaveComma(interchange, os);
      os << "]";
    }
    os << " : (" << regSizes.operandTypes() << ") -> ("
       << resultTypes(1 + numLoops) << ")\n";
    return t;
  };
  int interchangeKnob = space.findKnob("interchange");
  if (interchangeKnob >= 0) {
    p.line() << regTiled << " = transform.tune.alternatives<\"interchange\">"
             << " selected_region = " << schedule.values[interchangeKnob]
             << " -> !transform.any_op {\n";
    p.indent += 2;
    for (unsigned region = 0; region < 2; ++region) {
      SmallVector<int64_t> perm;
      if (region == 1) {
        perm = llvm::to_vector(llvm::seq<int64_t>(0, numLoops));
        unsigned n = parallelLoops.size();
        std::swap(perm[parallelLoops[n - 2]], perm[parallelLoops[n - 1]]);
      }
      std::string t = emitRegisterTiling(perm);
      p.line() << "transform.yield " << t << " : !transform.any_op\n";
      p.indent -= 2;
      p.line() << (region == 0 ? "}, {\n" : "}\n");
      p.indent += 2;
    }
    p.indent -= 2;
  } else {
    regTiled = emitRegisterTiling({});
  }

  std::string vectorOp = regTiled;
  if (space.category == SearchSpace::Category::Convolution &&
      !space.generalizeConv) {
    vectorOp = p.fresh("decomposed");
    p.line() << vectorOp << " = transform.structured.decompose " << regTiled
             << " : (!transform.any_op) -> !transform.any_op\n";
  }
  // Contractions and elementwise ops get explicit vector sizes (the
  // register tile), so that tiles at the boundary of a dimension the tiles
  // do not divide are vectorized with masks.
  bool masked = space.category != SearchSpace::Category::Convolution;
  auto vectorize = [&](const std::string &op, const sketch::TileSizes &sizes) {
    p.line() << "transform.structured.vectorize " << op;
    if (masked) {
      os << " vector_sizes " << sizes.str() << " : "
         << sizes.operandTypes() << "\n";
      return;
    }
    os << " : !transform.any_op\n";
  };
  if (!space.generalizeConv)
    vectorize(vectorOp, regSizes);

  // Fill and consumers: register tiles over the output dims, vectorized.
  auto tileAndVectorizeElementwise = [&](const std::string &op) {
    sketch::TileSizes sizes;
    for (unsigned j = 0; j < rank; ++j)
      sizes.param(params.lookup(knobName("tile_reg", j)));
    std::string t = p.fresh("t");
    SmallVector<std::string> loops;
    for (unsigned j = 0; j < rank; ++j)
      loops.push_back(p.fresh("loop"));
    p.line() << t << ", " << llvm::join(loops, ", ")
             << " = transform.structured.tile_using_for " << op
             << " tile_sizes " << sizes.str() << " : ("
             << sizes.operandTypes() << ") -> (" << resultTypes(1 + rank)
             << ")\n";
    vectorize(t, sizes);
  };
  if (!tiledFill.empty())
    tileAndVectorizeElementwise(tiledFill);
  for (const std::string &c : tiledConsumers)
    tileAndVectorizeElementwise(c);

  // A convolution without a 1-D decomposition: its register tile, with unit
  // window loops, becomes a generic whose unit loops are folded away, which
  // leaves a (batched) contraction with projected-permutation maps. Folding
  // rewrites every linalg.generic in the forall, so it comes after the fill
  // and the consumers are vectorized, and the folded op is matched anew.
  if (space.generalizeConv) {
    std::string generic = p.fresh("generic");
    p.line() << generic << " = transform.structured.generalize " << regTiled
             << " : (!transform.any_op) -> !transform.any_op\n";
    p.line() << "transform.apply_patterns to " << forall << " {\n";
    p.line() << "  transform.apply_patterns.linalg."
                "fold_unit_extent_dims_via_slices\n";
    p.line() << "} : !transform.any_op\n";
    std::string folded = p.fresh("folded");
    p.line() << folded
             << " = transform.structured.match ops{[\"linalg.generic\"]} in "
             << forall << " : (!transform.any_op) -> !transform.any_op\n";
    vectorize(folded, regSizes);
  }

  // Vector-level cleanups. No canonicalization before the contraction is
  // lowered: it folds unit-reduction contractions into mul+add, which then
  // no longer lower to outer products.
  p.line() << "transform.apply_patterns to " << forall << " {\n";
  p.line() << "  transform.apply_patterns.vector.lower_masked_transfers\n";
  p.line() << "  transform.apply_patterns.vector.transfer_permutation_patterns\n";
  p.line() << "  transform.apply_patterns.vector.reduction_to_contract\n";
  p.line() << "} : !transform.any_op\n";
  // Hoist loop-invariant transfers (the accumulator) out of the reduction
  // loops. A loop can only be hoisted from once the loops inside it have
  // been, so the loops are matched and hoisted once per nesting level. LICM
  // first moves the constants the vectorizer created inside the loop out of
  // it; subsets with loop-variant indices are not hoisted.
  for (unsigned level = 0; level <= numRed; ++level) {
    std::string loops = p.fresh("for");
    p.line() << loops << " = transform.structured.match ops{[\"scf.for\"]} in "
             << forall << " : (!transform.any_op) -> !transform.any_op\n";
    p.line() << "transform.foreach " << loops << " : !transform.any_op {\n";
    p.line() << "^bb0(%l: !transform.any_op):\n";
    p.line() << "  transform.apply_licm to %l : !transform.any_op\n";
    p.line() << "  transform.loop.hoist_loop_invariant_subsets %l : "
                "!transform.any_op\n";
    p.line() << "}\n";
  }

  int loweringKnob = space.findKnob("contraction_lowering");
  if (loweringKnob >= 0) {
    const Knob &knob = space.knobs[loweringKnob];
    p.line() << "transform.tune.alternatives<\"contraction_lowering\"> "
                "selected_region = "
             << schedule.values[loweringKnob] << " {\n";
    for (auto [i, label] : llvm::enumerate(knob.labels)) {
      p.line() << "  transform.apply_patterns to " << forall << " {\n";
      p.line() << "    transform.apply_patterns.vector.lower_contraction "
                  "lowering_strategy = \""
               << label << "\"\n";
      p.line() << "  } : !transform.any_op\n";
      p.line() << (i + 1 == knob.labels.size() ? "}\n" : "}, {\n");
    }
  }
  p.line() << "transform.apply_patterns to " << forall << " {\n";
  p.line() << "  transform.apply_patterns.vector.lower_masks\n";
  p.line() << "  transform.apply_patterns.vector.materialize_masks\n";
  p.line() << "  transform.apply_patterns.vector.lower_outerproduct\n";
  p.line() << "  transform.apply_patterns.vector.lower_transpose\n";
  p.line() << "  transform.apply_patterns.vector.lower_multi_reduction "
              "lowering_strategy = \"innerreduction\"\n";
  p.line() << "  transform.apply_patterns.vector.lower_transfer "
              "max_transfer_rank = 1\n";
  p.line() << "  transform.apply_patterns.canonicalization\n";
  p.line() << "} : !transform.any_op\n";
  p.indent = 4;
  p.line() << "}\n";
  p.line() << "transform.yield\n";
  os << "  }\n";
}

FailureOr<SearchSpace> SearchSpace::forTask(const Task &task,
                                            const Target &target) {
  if (target.isGPU())
    return buildGPUSearchSpace(task, target);
  return SketchBuilder::build(task, target);
}

void SearchSpace::printSequence(const Schedule &schedule, StringRef name,
                                llvm::raw_ostream &os) const {
  if (isGPU())
    return printGPUSequence(*this, schedule, name, os);
  SketchBuilder::print(*this, schedule, name, os);
}
