//===- SequenceFeatures.cpp - Primitive-sequence features -----------------===//

#include "tcl/Features/SequenceFeatures.h"

#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Vector/TransformOps/VectorTransformOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>
#include <cstring>

using namespace tcl;
using namespace mlir;

llvm::ArrayRef<std::string> tcl::getPrimitiveKinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> k = {
        "structured.transpose_conv2d",
        "get_consumers_of_result",
        "get_producer_of_operand",
        "structured.match",
        "foreach",
        "structured.tile_using_forall",
        "structured.fuse_into_containing_op",
        "structured.tile_using_for",
        "tune.alternatives",
        "structured.decompose",
        "structured.vectorize",
        "apply_patterns",
        "apply_patterns.vector.lower_masked_transfers",
        "apply_patterns.vector.transfer_permutation_patterns",
        "apply_patterns.vector.reduction_to_contract",
        "apply_licm",
        "loop.hoist_loop_invariant_subsets",
        "apply_patterns.vector.lower_contraction:outerproduct",
        "apply_patterns.vector.lower_contraction:dot",
        "apply_patterns.vector.lower_masks",
        "apply_patterns.vector.materialize_masks",
        "apply_patterns.vector.lower_outerproduct",
        "apply_patterns.vector.lower_transpose",
        "apply_patterns.vector.lower_multi_reduction",
        "apply_patterns.vector.lower_transfer",
        "apply_patterns.canonicalization",
        "structured.generalize",
        "apply_patterns.linalg.fold_unit_extent_dims_via_slices",
        "structured.pad",
        "gpu.map_forall_to_blocks",
        "gpu.map_nested_forall_to_threads",
        "other",
    };
    return k;
  }();
  assert(kinds.size() == kNumPrimitiveKinds && "update kNumPrimitiveKinds");
  return kinds;
}

namespace {
/// A parameter of a primitive: a constant, or the value of a knob.
struct SizeEntry {
  int64_t constant = 0;
  int knob = -1;
  /// The anchor loop it tiles; -1 when unknown.
  int loop = -1;
};

/// One transform op of the script, with what its features depend on.
struct Primitive {
  std::string name;
  unsigned kind = kNumPrimitiveKinds - 1;
  unsigned depth = 0;
  bool interchanged = false;
  /// For `tune.alternatives`: the knob selecting the region.
  int alternativesKnob = -1;
  llvm::SmallVector<SizeEntry> sizes;
  /// The op is applied only if knob `first` selects region `second` of each
  /// enclosing `tune.alternatives`.
  llvm::SmallVector<std::pair<int, int64_t>> conditions;
};

float logScaled(double x) { return static_cast<float>(std::log2(1.0 + x)); }
} // namespace

struct SequenceFeatureExtractor::Impl {
  std::vector<Primitive> primitives;
  /// The anchor's loops, from the space.
  llvm::SmallVector<int64_t> extents;
  llvm::SmallVector<bool> isReduction;
  /// The output's innermost (contiguous) loop, or -1.
  int innermostLoop = -1;
  llvm::SmallVector<unsigned> outputToLoop;
  /// The anchor's input operands (SearchSpace::getInputAccess(), empty when
  /// unknown) and bytes per element, for the tile footprints.
  llvm::SmallVector<llvm::SmallVector<SearchSpace::AccessTerms>> inputAccess;
  llvm::SmallVector<int64_t> inputBytes;
  int64_t outputBytes = 4;

  /// The value of size entry `e` under schedule `s` (0: untiled).
  static int64_t sizeOf(const SizeEntry &e, const Schedule &s) {
    return e.knob >= 0 ? s.values[e.knob] : e.constant;
  }

  bool applies(const Primitive &p, const Schedule &s) const {
    return llvm::all_of(p.conditions, [&](const auto &c) {
      return s.values[c.first] == c.second;
    });
  }

  /// Narrows `tile` (a size per anchor loop) to the sizes > 0 `p` gives its
  /// known loops; returns whether it gives any.
  bool updateTile(const Primitive &p, const Schedule &s,
                  llvm::SmallVectorImpl<int64_t> &tile) const {
    bool any = false;
    for (const SizeEntry &e : p.sizes) {
      int64_t size = sizeOf(e, s);
      if (size <= 0 || e.loop < 0)
        continue;
      tile[e.loop] = std::min(size, extents[e.loop]);
      any = true;
    }
    return any;
  }

  /// The footprint features of the iteration-space tile `tile` into token
  /// `t` (see SequenceFeatures.h).
  void writeFootprint(llvm::ArrayRef<int64_t> tile, float *t) const {
    double iterations = 1;
    for (int64_t size : tile)
      iterations *= static_cast<double>(size);
    double outputElements = 1;
    for (unsigned loop : outputToLoop)
      outputElements *= static_cast<double>(tile[loop]);
    double output = outputElements * static_cast<double>(outputBytes);
    double input = 0;
    for (auto [access, bytes] : llvm::zip_equal(inputAccess, inputBytes)) {
      double elements = 1;
      for (int64_t extent : SearchSpace::getTileShape(access, tile))
        elements *= static_cast<double>(extent);
      input += elements * static_cast<double>(bytes);
    }
    t[kTokenTileIterations] = logScaled(iterations);
    t[kTokenOutputTileBytes] = logScaled(output);
    if (!inputAccess.empty()) {
      t[kTokenInputTileBytes] = logScaled(input);
      t[kTokenTileIntensity] = logScaled(iterations / (input + output));
    }
  }
};

SequenceFeatureExtractor::SequenceFeatureExtractor(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
SequenceFeatureExtractor::SequenceFeatureExtractor(
    SequenceFeatureExtractor &&) = default;
SequenceFeatureExtractor &
SequenceFeatureExtractor::operator=(SequenceFeatureExtractor &&) = default;
SequenceFeatureExtractor::~SequenceFeatureExtractor() = default;

llvm::Expected<SequenceFeatureExtractor>
SequenceFeatureExtractor::create(const SearchSpace &space) {
  DialectRegistry registry;
  registerTCLDialects(registry);
  MLIRContext context(registry);
  context.allowUnregisteredDialects(false);
  std::string script = space.printScript(space.getDefault());
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    diagnostics += d.str() + "; ";
    return success();
  });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(script, ParserConfig(&context));
  std::string name = ("tcl_" + space.getWorkloadKey()).str();
  Operation *sequence =
      module ? SymbolTable::lookupSymbolIn(*module, name) : nullptr;
  if (!sequence)
    return llvm::createStringError(
        "internal error: the schedule script of '" + space.getWorkloadKey() +
        "' does not parse: " + diagnostics);

  // Knob params by SSA value.
  llvm::ArrayRef<Knob> knobs = space.getKnobs();
  DenseMap<Value, int> knobOf;
  auto knobIndex = [&](Operation *op) -> int {
    auto nameAttr = op->getAttrOfType<StringAttr>("name");
    return nameAttr ? space.findKnob(nameAttr.getValue()) : -1;
  };
  auto impl = std::make_unique<Impl>();
  impl->extents.assign(space.getLoopExtents().begin(),
                       space.getLoopExtents().end());
  impl->isReduction.assign(space.getReductionLoops().begin(),
                           space.getReductionLoops().end());
  impl->outputToLoop.assign(space.getOutputToLoop().begin(),
                            space.getOutputToLoop().end());
  impl->innermostLoop = impl->outputToLoop.empty()
                            ? -1
                            : static_cast<int>(impl->outputToLoop.back());
  impl->inputAccess.assign(space.getInputAccess().begin(),
                           space.getInputAccess().end());
  impl->inputBytes.assign(space.getInputBytes().begin(),
                          space.getInputBytes().end());
  impl->outputBytes = space.getOutputBytes();
  llvm::ArrayRef<int64_t> extents = impl->extents;
  llvm::ArrayRef<unsigned> outputToLoop = impl->outputToLoop;
  // The anchor loop a knob's size applies to; -1 when unknown. CPU knobs
  // (tile_par_j, tile_reg_j: output dim j; tile_red_l, unroll_red_l: loop l)
  // and GPU knobs (block_tile_j, thread_tile_j; red_tile_l).
  auto loopOfKnob = [&](int knob) -> int64_t {
    llvm::StringRef n = knobs[knob].name;
    unsigned index;
    llvm::StringRef prefix = n.rsplit('_').first, suffix = n.rsplit('_').second;
    if (suffix.getAsInteger(10, index))
      return -1;
    if ((prefix == "tile_par" || prefix == "tile_reg" ||
         prefix == "block_tile" || prefix == "thread_tile") &&
        index < outputToLoop.size())
      return outputToLoop[index];
    if ((prefix == "tile_red" || prefix == "unroll_red" ||
         prefix == "red_tile") &&
        index < extents.size())
      return index;
    return -1;
  };
  auto setLoop = [&](SizeEntry &e, int64_t loop) {
    if (loop >= 0 && loop < static_cast<int64_t>(extents.size()))
      e.loop = static_cast<int>(loop);
  };

  llvm::ArrayRef<std::string> vocabulary = getPrimitiveKinds();
  // Pre-order walk with the alternatives regions each op sits in.
  std::function<void(Operation *, unsigned,
                     llvm::SmallVector<std::pair<int, int64_t>>)>
      visit = [&](Operation *op, unsigned depth,
                  llvm::SmallVector<std::pair<int, int64_t>> conditions) {
        llvm::StringRef opName = op->getName().getStringRef();
        if (opName == "transform.tune.knob") {
          knobOf[op->getResult(0)] = knobIndex(op);
          return;
        }
        bool structural = opName == "transform.yield" ||
                          opName == "transform.named_sequence";
        int alternativesKnob = -1;
        if (opName == "transform.tune.alternatives")
          alternativesKnob = knobIndex(op);
        if (!structural) {
          Primitive p;
          p.name = opName.drop_front(llvm::StringRef("transform.").size()).str();
          // The contraction lowering strategy is part of the primitive.
          if (auto lowering =
                  dyn_cast<transform::ApplyLowerContractionPatternsOp>(op))
            p.name += ":" + vector::stringifyVectorContractLowering(
                                lowering.getLoweringStrategy())
                                .str();
          auto it = llvm::find(vocabulary, p.name);
          p.kind = static_cast<unsigned>(it == vocabulary.end()
                                             ? vocabulary.size() - 1
                                             : it - vocabulary.begin());
          p.depth = depth;
          p.conditions = conditions;
          p.alternativesKnob = alternativesKnob;
          if (auto interchange =
                  op->getAttrOfType<DenseI64ArrayAttr>("interchange")) {
            for (auto [i, v] : llvm::enumerate(interchange.asArrayRef()))
              p.interchanged |= v != static_cast<int64_t>(i);
          }
          // Tile / vector sizes: the static sizes attribute, with dynamic
          // entries taken from the op's param operands in order.
          DenseI64ArrayAttr staticSizes;
          for (NamedAttribute attr : op->getAttrs())
            if (attr.getName().strref().starts_with("static_") &&
                attr.getName().strref().ends_with("sizes"))
              staticSizes = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
          if (staticSizes) {
            llvm::SmallVector<int> params;
            for (Value operand : op->getOperands())
              if (auto found = knobOf.find(operand); found != knobOf.end())
                params.push_back(found->second);
            unsigned nextParam = 0;
            unsigned n = staticSizes.size();
            for (auto [pos, v] : llvm::enumerate(staticSizes.asArrayRef())) {
              SizeEntry e;
              if (ShapedType::isDynamic(v)) {
                if (nextParam < params.size())
                  e.knob = params[nextParam];
                ++nextParam;
                if (e.knob >= 0)
                  setLoop(e, loopOfKnob(e.knob));
              } else {
                e.constant = v;
                if (n == extents.size())
                  setLoop(e, static_cast<int64_t>(pos));
                else if (n == outputToLoop.size())
                  setLoop(e, outputToLoop[pos]);
              }
              p.sizes.push_back(e);
            }
          }
          impl->primitives.push_back(std::move(p));
        }
        unsigned childDepth = structural ? depth : depth + 1;
        for (auto [regionIndex, region] : llvm::enumerate(op->getRegions())) {
          auto inner = conditions;
          if (alternativesKnob >= 0)
            inner.push_back({alternativesKnob, static_cast<int64_t>(regionIndex)});
          for (Block &block : region)
            for (Operation &child : block)
              visit(&child, childDepth, inner);
        }
      };
  visit(sequence, 0, {});
  return SequenceFeatureExtractor(std::move(impl));
}

unsigned SequenceFeatureExtractor::getLength(const Schedule &schedule) const {
  return static_cast<unsigned>(
      llvm::count_if(impl->primitives, [&](const Primitive &p) {
        return impl->applies(p, schedule);
      }));
}

std::vector<std::string>
SequenceFeatureExtractor::describe(const Schedule &schedule) const {
  std::vector<std::string> names;
  for (const Primitive &p : impl->primitives)
    if (impl->applies(p, schedule))
      names.push_back(p.name);
  return names;
}

unsigned SequenceFeatureExtractor::extract(const Schedule &schedule,
                                           unsigned maxLength, float *tokens,
                                           float *mask) const {
  std::memset(tokens, 0, sizeof(float) * maxLength * kNumTokenFeatures);
  std::memset(mask, 0, sizeof(float) * maxLength);
  llvm::SmallVector<int64_t> tile(impl->extents);
  unsigned length = 0;
  for (const Primitive &p : impl->primitives) {
    if (!impl->applies(p, schedule))
      continue;
    if (length < maxLength) {
      float *t = tokens + static_cast<size_t>(length) * kNumTokenFeatures;
      mask[length] = 1;
      t[p.kind] = 1;
      t[kTokenDepth] = logScaled(p.depth);
      if (p.alternativesKnob >= 0)
        t[kTokenSelected] =
            static_cast<float>(schedule.values[p.alternativesKnob]);
      t[kTokenInterchanged] = p.interchanged;
      t[kTokenNumSizes] = logScaled(static_cast<double>(p.sizes.size()));
      // Products over the tiled (size > 0) loops of known role, all of
      // them, not only the first kMaxTokenSizes.
      double volume[2] = {1, 1}, tiles[2] = {1, 1};
      bool any[2] = {false, false};
      for (auto [i, e] : llvm::enumerate(p.sizes)) {
        int64_t size = Impl::sizeOf(e, schedule);
        if (size <= 0)
          continue;
        int64_t extent = e.loop >= 0 ? impl->extents[e.loop] : 0;
        if (extent > 0) {
          int role = impl->isReduction[e.loop] ? 1 : 0;
          volume[role] *= static_cast<double>(size);
          tiles[role] *= static_cast<double>((extent + size - 1) / size);
          any[role] = true;
          if (e.loop == impl->innermostLoop)
            t[kTokenInnermostSize] = logScaled(static_cast<double>(size));
        }
        if (i >= kMaxTokenSizes)
          continue;
        float *slot = t + kTokenSizeBegin + 3 * i;
        slot[0] = logScaled(static_cast<double>(size));
        if (extent > 0) {
          slot[1] = logScaled(static_cast<double>(extent));
          slot[2] = logScaled(static_cast<double>((extent + size - 1) / size));
        }
      }
      if (any[0]) {
        t[kTokenParallelVolume] = logScaled(volume[0]);
        t[kTokenParallelTiles] = logScaled(tiles[0]);
      }
      if (any[1]) {
        t[kTokenReductionVolume] = logScaled(volume[1]);
        t[kTokenReductionTiles] = logScaled(tiles[1]);
      }
    }
    // The tile every later op works on, whether or not this token is kept.
    if (impl->updateTile(p, schedule, tile) && length < maxLength)
      impl->writeFootprint(tile,
                     tokens + static_cast<size_t>(length) * kNumTokenFeatures);
    ++length;
  }
  return length;
}
