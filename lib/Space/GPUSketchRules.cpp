//===- GPUSketchRules.cpp - GPU sketch rules for Linalg tasks -------------===//
//
// Builds the knobs of a task's search space on an NVIDIA GPU target, checks
// schedules against the target's limits, and prints a resolved schedule as
// a transform-dialect script on tensors. See SearchSpace.h for the sketch
// and docs/gpu.md for the knobs.
//
//===----------------------------------------------------------------------===//

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

/// Divisors of `n` in increasing order, at most `limit` (0: no limit).
static SmallVector<int64_t> divisors(int64_t n, int64_t limit = 0) {
  SmallVector<int64_t> result;
  for (int64_t d = 1; d <= n; ++d)
    if (n % d == 0 && (limit == 0 || d <= limit))
      result.push_back(d);
  return result;
}

/// Largest divisor of `n` that is at most `limit`.
static int64_t largestDivisor(int64_t n, int64_t limit) {
  for (int64_t d = std::min(n, limit); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

/// Largest outputs per thread along a dim, and largest reduction step, the
/// knobs offer.
static constexpr int64_t kThreadTileCap = 16;
static constexpr int64_t kReductionTileCap = 64;
/// Registers per thread besides the accumulators, in the estimate.
static constexpr int64_t kRegisterOverhead = 32;

/// `0.0 : f32`, `0 : i32`: a zero of `type` as a transform attribute.
static std::string zeroOf(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << (isa<FloatType>(type) ? "0.0 : " : "0 : ") << type;
  return text;
}

namespace tcl {

class GPUSketchBuilder {
public:
  static FailureOr<SearchSpace> build(const Task &task, const Target &target);
  static Schedule getDefault(const SearchSpace &space);
  static llvm::Error verify(const SearchSpace &space, const Schedule &s);
  static void print(const SearchSpace &space, const Schedule &schedule,
                    StringRef name, llvm::raw_ostream &os);
  static void printEntryPoint(const SearchSpace &space,
                              const Schedule &schedule, StringRef name,
                              llvm::raw_ostream &os);

  /// Tile of each anchor loop in one block and one reduction step: block
  /// tiles on distributed output loops, the whole extent on the other
  /// output loops, reduction tiles on reduction loops.
  static SmallVector<int64_t> blockStepTile(const SearchSpace &space,
                                            const Schedule &s);
  /// Shape of the tile of input operand `i` that one block reads in one
  /// reduction step.
  static SmallVector<int64_t> inputFootprint(const SearchSpace &space,
                                             const Schedule &s, unsigned i);
  /// Tile sizes (0: untiled) that spread a copy of `shape` over at most
  /// `threads` threads, innermost dim first, with a run of 4 contiguous
  /// elements per thread along it where 4 divides it (neighbouring threads
  /// copy neighbouring runs).
  static SmallVector<int64_t> copyTiles(ArrayRef<int64_t> shape,
                                        int64_t threads);
};

} // namespace tcl

FailureOr<SearchSpace> GPUSketchBuilder::build(const Task &task,
                                               const Target &target) {
  auto anchor = dyn_cast<linalg::LinalgOp>(task.anchor);
  if (!anchor || anchor.hasDynamicShape() || anchor->getNumResults() != 1)
    return task.anchor->emitError(
        "tcl: unsupported op for the GPU sketch rules: expected a Linalg op "
        "with static shapes and one result");
  if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv2DNhwcHwcfOp>(
          *anchor))
    return anchor.emitError("tcl: unsupported op for the GPU sketch rules: '")
           << anchor->getName()
           << "' (expected linalg.matmul, linalg.batch_matmul or "
              "linalg.conv_2d_nhwc_hwcf)";
  SearchSpace space;
  space.device = DeviceKind::CUDA;
  space.targetName = target.str();
  space.gpuLimits = target.gpu;
  space.workloadKey = task.key;
  space.vectorWidth = target.vectorWidthF32;
  space.threads = 1;
  space.numConsumers = task.consumers.size();
  space.hasFill = task.fill != nullptr;
  space.initOperandIndex = anchor.getNumDpsInputs();
  space.loopExtents = anchor.getStaticLoopRanges();
  for (utils::IteratorType it : anchor.getIteratorTypesArray())
    space.isReduction.push_back(it == utils::IteratorType::reduction);
  space.category = isa<linalg::Conv2DNhwcHwcfOp>(*anchor)
                       ? SearchSpace::Category::Convolution
                       : SearchSpace::Category::Contraction;

  AffineMap outMap = anchor.getIndexingMapMatchingResult(
      cast<OpResult>(anchor->getResult(0)));
  for (unsigned j = 0; j < outMap.getNumResults(); ++j)
    space.outputToLoop.push_back(outMap.getDimPosition(j));
  unsigned rank = space.outputToLoop.size();
  for (unsigned j = rank > 3 ? rank - 3 : 0; j < rank; ++j)
    space.gpuDims.push_back(j);

  if (failed(space.recordOperandAccess(anchor)))
    return anchor.emitError("tcl: unsupported indexing maps for the GPU "
                            "sketch rules: ")
           << anchor.getIndexingMaps();
  for (OpOperand *input : anchor.getDpsInputOperands())
    space.zeroValues.push_back(
        zeroOf(getElementTypeOrSelf(input->get().getType())));
  auto outType = cast<ShapedType>(anchor->getResult(0).getType());
  space.zeroValues.push_back(zeroOf(outType.getElementType()));

  auto add = [&](std::string name, SmallVector<int64_t> options,
                 std::string doc) {
    Knob knob;
    knob.name = std::move(name);
    knob.options = std::move(options);
    knob.doc = std::move(doc);
    space.knobs.push_back(std::move(knob));
  };
  static constexpr char kDim[] = "zyx";
  for (auto [i, j] : llvm::enumerate(space.gpuDims)) {
    int64_t extent = space.loopExtents[space.outputToLoop[j]];
    char dim = kDim[3 - space.gpuDims.size() + i];
    add(knobName("block_tile", j), divisors(extent),
        llvm::formatv("block tile of output dim {0} (extent {1}, blocks "
                      "along {2})",
                      j, extent, dim));
    add(knobName("thread_tile", j), divisors(extent, kThreadTileCap),
        llvm::formatv("outputs per thread along output dim {0} (threads "
                      "along {1})",
                      j, dim));
  }
  for (auto [l, extent] : llvm::enumerate(space.loopExtents))
    if (space.isReduction[l])
      add(knobName("red_tile", l), divisors(extent, kReductionTileCap),
          llvm::formatv("reduction step of loop {0} (extent {1})", l, extent));
  Knob promote;
  promote.kind = Knob::Kind::Alternatives;
  promote.name = "promote";
  promote.options = {0, 1};
  promote.labels = {"none", "shared"};
  promote.doc = "copy the operand tiles of each reduction step into shared "
                "memory";
  space.knobs.push_back(promote);
  return space;
}

SmallVector<int64_t> GPUSketchBuilder::blockStepTile(const SearchSpace &space,
                                                     const Schedule &s) {
  SmallVector<int64_t> tile(space.loopExtents.begin(),
                            space.loopExtents.end());
  for (unsigned j : space.gpuDims)
    tile[space.outputToLoop[j]] = space.value(s, knobName("block_tile", j));
  for (unsigned l = 0; l < tile.size(); ++l)
    if (space.isReduction[l])
      tile[l] = space.value(s, knobName("red_tile", l));
  return tile;
}

SmallVector<int64_t> GPUSketchBuilder::inputFootprint(const SearchSpace &space,
                                                      const Schedule &s,
                                                      unsigned i) {
  return SearchSpace::getTileShape(space.inputAccess[i],
                                   blockStepTile(space, s));
}

SmallVector<int64_t> GPUSketchBuilder::copyTiles(ArrayRef<int64_t> shape,
                                                 int64_t threads) {
  SmallVector<int64_t> tiles(shape.size(), 0);
  int64_t remaining = threads;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0 && remaining > 1;
       --d) {
    int64_t perThread = 1;
    if (d + 1 == static_cast<int>(shape.size()))
      perThread = shape[d] % 4 == 0 ? 4 : shape[d] % 2 == 0 ? 2 : 1;
    int64_t n = largestDivisor(shape[d] / perThread, remaining);
    if (n > 1)
      tiles[d] = shape[d] / n;
    remaining /= n;
  }
  return tiles;
}

std::array<int64_t, 3> SearchSpace::getBlockDims(const Schedule &s) const {
  std::array<int64_t, 3> dims = {1, 1, 1};
  for (auto [i, j] : llvm::enumerate(gpuDims)) {
    // gpuDims are ordered z, y, x with x last.
    unsigned d = gpuDims.size() - 1 - i;
    dims[d] = value(s, knobName("block_tile", j)) /
              std::max<int64_t>(1, value(s, knobName("thread_tile", j)));
  }
  return dims;
}

int64_t SearchSpace::getSharedMemoryBytes(const Schedule &s) const {
  int64_t bytes = 0;
  if (s.values[findKnob("promote")] == 1)
    for (unsigned i = 0; i < inputAccess.size(); ++i) {
      int64_t elements = 1;
      for (int64_t e : GPUSketchBuilder::inputFootprint(*this, s, i))
        elements *= e;
      bytes += elements * inputBytes[i];
    }
  if (numConsumers > 0) {
    SmallVector<int64_t> tile = GPUSketchBuilder::blockStepTile(*this, s);
    int64_t elements = 1;
    for (unsigned loop : outputToLoop)
      elements *= tile[loop];
    bytes += elements * outputBytes;
  }
  return bytes;
}

int64_t SearchSpace::getEstimatedRegisters(const Schedule &s) const {
  int64_t accumulators = 1;
  for (unsigned j : gpuDims)
    accumulators *= value(s, knobName("thread_tile", j));
  for (unsigned j = 0; j < outputToLoop.size(); ++j)
    if (!llvm::is_contained(gpuDims, j))
      accumulators *= loopExtents[outputToLoop[j]];
  return accumulators + kRegisterOverhead;
}

Schedule GPUSketchBuilder::getDefault(const SearchSpace &space) {
  Schedule s;
  s.workloadKey = space.workloadKey;
  s.values.resize(space.knobs.size(), 0);
  auto set = [&](StringRef name, int64_t v) {
    s.values[space.findKnob(name)] = v;
  };
  unsigned n = space.gpuDims.size();
  for (auto [i, j] : llvm::enumerate(space.gpuDims)) {
    int64_t extent = space.loopExtents[space.outputToLoop[j]];
    // x and y: 4 outputs per thread, up to 16 threads and 64 outputs per
    // block; a third (batch, image row) dim: one per block.
    bool xy = i + 2 >= n;
    int64_t thread = xy ? largestDivisor(extent, 4) : 1;
    int64_t block = thread;
    if (xy)
      for (int64_t d : divisors(extent, 64))
        if (d % thread == 0 && d / thread <= 16)
          block = d;
    set(knobName("block_tile", j), block);
    set(knobName("thread_tile", j), thread);
  }
  int innermostRed = -1;
  for (unsigned l = 0; l < space.loopExtents.size(); ++l)
    if (space.isReduction[l])
      innermostRed = l;
  for (unsigned l = 0; l < space.loopExtents.size(); ++l)
    if (space.isReduction[l])
      set(knobName("red_tile", l),
          static_cast<int>(l) == innermostRed
              ? largestDivisor(space.loopExtents[l], 16)
              : 1);
  set("promote", 1);
  if (space.getSharedMemoryBytes(s) > space.gpuLimits.sharedMemoryPerBlock)
    set("promote", 0);
  return s;
}

llvm::Error GPUSketchBuilder::verify(const SearchSpace &space,
                                     const Schedule &s) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("schedule for workload '" +
                                   space.workloadKey + "': " + why);
  };
  for (unsigned j : space.gpuDims) {
    int64_t block = space.value(s, knobName("block_tile", j));
    int64_t thread = space.value(s, knobName("thread_tile", j));
    if (block % thread != 0)
      return fail("thread tile thread_tile_" + llvm::Twine(j) + " = " +
                  llvm::Twine(thread) + " does not divide block tile " +
                  "block_tile_" + llvm::Twine(j) + " = " + llvm::Twine(block));
  }
  const GPULimits &limits = space.gpuLimits;
  std::array<int64_t, 3> blockDims = space.getBlockDims(s);
  int64_t threads = blockDims[0] * blockDims[1] * blockDims[2];
  std::string dims = llvm::formatv("{0}x{1}x{2}", blockDims[0], blockDims[1],
                                   blockDims[2]);
  if (threads > limits.maxThreadsPerBlock)
    return fail(llvm::Twine(threads) + " threads per block (" + dims +
                "), more than the limit of " +
                llvm::Twine(limits.maxThreadsPerBlock) + " on " +
                space.targetName);
  static constexpr char kDims[] = "xyz";
  for (unsigned d = 0; d < 3; ++d)
    if (blockDims[d] > limits.maxBlockDims[d])
      return fail(llvm::Twine(blockDims[d]) + " threads along " +
                  llvm::Twine(kDims[d]) + ", more than the limit of " +
                  llvm::Twine(limits.maxBlockDims[d]) + " on " +
                  space.targetName);
  for (auto [i, j] : llvm::enumerate(space.gpuDims)) {
    unsigned d = space.gpuDims.size() - 1 - i;
    int64_t blocks = space.loopExtents[space.outputToLoop[j]] /
                     space.value(s, knobName("block_tile", j));
    if (blocks > limits.maxGridDims[d])
      return fail(llvm::Twine(blocks) + " blocks along " +
                  llvm::Twine(kDims[d]) + ", more than the limit of " +
                  llvm::Twine(limits.maxGridDims[d]) + " on " +
                  space.targetName);
  }
  int64_t shared = space.getSharedMemoryBytes(s);
  if (shared > limits.sharedMemoryPerBlock)
    return fail(llvm::Twine(shared) +
                " bytes of shared memory per block, more than the limit of " +
                llvm::Twine(limits.sharedMemoryPerBlock) + " on " +
                space.targetName);
  int64_t registers = space.getEstimatedRegisters(s);
  if (registers > limits.maxRegistersPerThread)
    return fail("about " + llvm::Twine(registers) +
                " registers per thread, more than the limit of " +
                llvm::Twine(limits.maxRegistersPerThread) + " on " +
                space.targetName);
  if (registers * threads > limits.registersPerSM)
    return fail("about " + llvm::Twine(registers * threads) +
                " registers per block (" + llvm::Twine(registers) + " x " +
                llvm::Twine(threads) + " threads), more than the " +
                llvm::Twine(limits.registersPerSM) + " of an SM on " +
                space.targetName);
  return llvm::Error::success();
}


/// `!transform.any_op, ...`, `n` times.
static std::string anyOps(unsigned n) {
  return llvm::join(SmallVector<std::string>(n, "!transform.any_op"), ", ");
}

/// `[#gpu.<kind><z>, #gpu.<kind><y>, #gpu.<kind><x>]` for `n` dims.
static std::string mapping(StringRef kind, unsigned n) {
  static constexpr StringLiteral kIds[] = {"z", "y", "x"};
  SmallVector<std::string> entries;
  for (unsigned i = 3 - n; i < 3; ++i)
    entries.push_back(("#gpu." + kind + "<" + kIds[i] + ">").str());
  return "[" + llvm::join(entries, ", ") + "]";
}

void GPUSketchBuilder::print(const SearchSpace &space,
                             const Schedule &schedule, StringRef name,
                             llvm::raw_ostream &os) {
  sketch::Printer p(os);
  llvm::StringMap<std::string> params;
  sketch::TaskHandles task =
      sketch::printPrologue(p,
                            {space.workloadKey, space.knobs,
                             space.numConsumers, space.hasFill,
                             space.initOperandIndex, space.transposeFilter},
                            schedule, name, params);
  const SmallVector<std::string> &consumers = task.consumers;
  unsigned numLoops = space.loopExtents.size();
  unsigned rank = space.outputToLoop.size();
  unsigned numGpuDims = space.gpuDims.size();
  auto isGpuDim = [&](unsigned j) {
    return llvm::is_contained(space.gpuDims, j);
  };

  // Block tiles over the root's output dims (the anchor's loops when no
  // consumer is fused).
  auto outputSizes = [&](StringRef prefix, bool overLoops) {
    sketch::TileSizes sizes;
    unsigned n = overLoops ? numLoops : rank;
    for (unsigned k = 0; k < n; ++k) {
      unsigned j = k;
      if (overLoops) {
        auto it = llvm::find(space.outputToLoop, k);
        if (it == space.outputToLoop.end()) {
          sizes.constant(0);
          continue;
        }
        j = it - space.outputToLoop.begin();
      }
      if (isGpuDim(j))
        sizes.param(params.lookup(knobName(prefix, j)));
      else
        sizes.constant(0);
    }
    return sizes;
  };
  const std::string &root = task.root;
  sketch::TileSizes blockSizes = outputSizes("block_tile", consumers.empty());
  std::string tiledRoot = p.fresh("tiled"), forall = p.fresh("blocks");
  p.line() << tiledRoot << ", " << forall
           << " = transform.structured.tile_using_forall " << root
           << " tile_sizes " << blockSizes.str() << " (mapping = "
           << mapping("block", numGpuDims) << ") : ("
           << blockSizes.operandTypes()
           << ") -> (!transform.any_op, !transform.any_op)\n";
  sketch::FusedOps fused =
      sketch::fuseIntoForall(p, task, tiledRoot, forall, "blocks");
  std::string anchor = fused.anchor;
  const SmallVector<std::string> &tiledConsumers = fused.consumers;
  const std::string &tiledFill = fused.fill;
  // With consumers, the anchor's output tile is an intermediate inside the
  // block: keep it in shared memory rather than a per-block allocation in
  // global memory.
  if (!consumers.empty()) {
    std::string init = p.fresh("init"), promoted = p.fresh("acc");
    p.line() << init << " = transform.get_operand "
             << (tiledFill.empty() ? anchor : tiledFill) << "["
             << (tiledFill.empty() ? space.initOperandIndex : 1)
             << "] : (!transform.any_op) -> !transform.any_value\n";
    p.line() << promoted
             << " = transform.structured.promote_tensor to "
                "#gpu.address_space<workgroup> "
             << init << " : !transform.any_value\n";
  }

  // Reduction steps.
  sketch::TileSizes redSizes;
  for (unsigned l = 0; l < numLoops; ++l) {
    if (space.isReduction[l])
      redSizes.param(params.lookup(knobName("red_tile", l)));
    else
      redSizes.constant(0);
  }
  std::string stepped = p.fresh("step");
  SmallVector<std::string> loops;
  for (unsigned i = 0; i < redSizes.numParams; ++i)
    loops.push_back(p.fresh("red_loop"));
  p.line() << stepped << ", " << llvm::join(loops, ", ")
           << " = transform.structured.tile_using_for " << anchor
           << " tile_sizes " << redSizes.str() << " : ("
           << redSizes.operandTypes() << ") -> ("
           << anyOps(1 + loops.size()) << ")\n";

  // Promotion: pad the step's inputs without folding (the tiles divide the
  // dims, so the pads add nothing), turn the pads into copies into fresh
  // tensors that live in workgroup memory, and spread each copy over the
  // block's threads.
  std::array<int64_t, 3> blockDims = space.getBlockDims(schedule);
  int64_t threads = blockDims[0] * blockDims[1] * blockDims[2];
  std::string staged = p.fresh("staged");
  int promoteKnob = space.findKnob("promote");
  p.line() << staged << " = transform.tune.alternatives<\"promote\"> "
           << "selected_region = " << schedule.values[promoteKnob]
           << " -> !transform.any_op {\n";
  p.line() << "  transform.yield " << stepped << " : !transform.any_op\n";
  p.line() << "}, {\n";
  p.indent += 2;
  {
    std::string padded = p.fresh("padded"), pads = p.fresh("pads"),
                copyBack = p.fresh("copy_back");
    SmallVector<std::string> nofold(space.inputAccess.size(), "1");
    nofold.push_back("0");
    p.line() << padded << ", " << pads << ", " << copyBack
             << " = transform.structured.pad " << stepped
             << " {padding_values = [" << llvm::join(space.zeroValues, ", ")
             << "], padding_dimensions = [";
    llvm::interleaveComma(llvm::seq<unsigned>(0, numLoops), os);
    os << "], nofold_flags = [" << llvm::join(nofold, ", ")
       << "], copy_back_op = \"none\"} : (!transform.any_op) -> "
          "(!transform.any_op, !transform.any_op, !transform.any_op)\n";
    std::string copies = p.fresh("copies");
    p.line() << copies
             << " = transform.structured.rewrite_in_destination_passing_style "
             << pads << " : (!transform.any_op) -> !transform.any_op\n";
    SmallVector<std::string> copy;
    for (unsigned i = 0; i < space.inputAccess.size(); ++i)
      copy.push_back(p.fresh("copy"));
    p.line() << llvm::join(copy, ", ") << " = transform.split_handle "
             << copies << " : (!transform.any_op) -> (" << anyOps(copy.size())
             << ")\n";
    for (auto [i, c] : llvm::enumerate(copy)) {
      std::string dest = p.fresh("dest"), shared = p.fresh("shared");
      p.line() << dest << " = transform.get_operand " << c
               << "[1] : (!transform.any_op) -> !transform.any_value\n";
      p.line() << shared
               << " = transform.structured.promote_tensor to "
                  "#gpu.address_space<workgroup> "
               << dest << " : !transform.any_value\n";
      SmallVector<int64_t> tiles =
          copyTiles(inputFootprint(space, schedule, i), threads);
      unsigned numTiled = llvm::count_if(tiles, [](int64_t t) { return t; });
      if (numTiled == 0)
        continue;
      SmallVector<std::string> linear;
      for (unsigned k = numTiled; k-- > 0;)
        linear.push_back("#gpu.thread<linear_dim_" + std::to_string(k) + ">");
      std::string t = p.fresh("copy_thread"), f = p.fresh("copy_forall");
      p.line() << t << ", " << f << " = transform.structured.tile_using_forall "
               << c << " tile_sizes [";
      llvm::interleaveComma(tiles, os);
      os << "] (mapping = [" << llvm::join(linear, ", ")
         << "]) : (!transform.any_op) -> (!transform.any_op, "
            "!transform.any_op)\n";
    }
    p.line() << "transform.yield " << padded << " : !transform.any_op\n";
  }
  p.indent -= 2;
  p.line() << "}\n";

  // Thread tiles of the anchor (within a reduction step), the fill and the
  // consumers.
  auto threadTile = [&](const std::string &op, bool overLoops) {
    sketch::TileSizes sizes = outputSizes("thread_tile", overLoops);
    std::string t = p.fresh("thread"), f = p.fresh("threads");
    p.line() << t << ", " << f << " = transform.structured.tile_using_forall "
             << op << " tile_sizes " << sizes.str() << " (mapping = "
             << mapping("thread", numGpuDims) << ") : ("
             << sizes.operandTypes()
             << ") -> (!transform.any_op, !transform.any_op)\n";
  };
  if (!tiledFill.empty())
    threadTile(tiledFill, /*overLoops=*/false);
  threadTile(staged, /*overLoops=*/true);
  for (const std::string &c : tiledConsumers)
    threadTile(c, /*overLoops=*/false);
  p.line() << "transform.apply_patterns to " << forall << " {\n";
  p.line() << "  transform.apply_patterns.canonicalization\n";
  p.line() << "} : !transform.any_op\n";
  p.indent = 4;
  p.line() << "}\n";
  p.line() << "transform.yield\n";
  os << "  }\n";
}

void GPUSketchBuilder::printEntryPoint(const SearchSpace &space,
                                       const Schedule &schedule,
                                       StringRef name, llvm::raw_ostream &os) {
  std::array<int64_t, 3> dims = space.getBlockDims(schedule);
  os << "  transform.named_sequence @__transform_main(%root: "
        "!transform.any_op {transform.consumed}) {\n"
     << "    transform.include @" << name
     << " failures(propagate) (%root) : (!transform.any_op) -> ()\n"
     << "    %module = transform.bufferization.one_shot_bufferize "
        "layout{IdentityLayoutMap} %root {bufferize_function_boundaries = "
        "true} : (!transform.any_op) -> !transform.any_op\n"
     << "    transform.apply_cse to %module : !transform.any_op\n"
     << "    transform.apply_patterns to %module {\n"
     << "      transform.apply_patterns.canonicalization\n"
     << "    } : !transform.any_op\n"
     << "    %tasks = transform.structured.match attributes {tcl.task = \""
     << space.workloadKey
     << "\"} in %module : (!transform.any_op) -> !transform.any_op\n"
     << "    transform.foreach %tasks : !transform.any_op {\n"
     << "    ^bb0(%t: !transform.any_op):\n"
     << "      %blocks = transform.get_parent_op %t {op_name = "
        "\"scf.forall\", nth_parent = 2} : (!transform.any_op) -> "
        "!transform.any_op\n"
     << "      %launch = transform.gpu.map_forall_to_blocks %blocks "
        "generate_gpu_launch : (!transform.any_op) -> !transform.any_op\n"
     << "      transform.gpu.map_nested_forall_to_threads %launch block_dims "
        "= ["
     << dims[0] << ", " << dims[1] << ", " << dims[2]
     << "] : (!transform.any_op) -> !transform.any_op\n"
     << "    }\n"
     << "    transform.yield\n  }\n";
}

FailureOr<SearchSpace> tcl::buildGPUSearchSpace(const Task &task,
                                                const Target &target) {
  return GPUSketchBuilder::build(task, target);
}

Schedule tcl::getDefaultGPUSchedule(const SearchSpace &space) {
  return GPUSketchBuilder::getDefault(space);
}

llvm::Error tcl::verifyGPUSchedule(const SearchSpace &space,
                                   const Schedule &schedule) {
  return GPUSketchBuilder::verify(space, schedule);
}

void tcl::printGPUSequence(const SearchSpace &space, const Schedule &schedule,
                           StringRef name, llvm::raw_ostream &os) {
  GPUSketchBuilder::print(space, schedule, name, os);
}

void tcl::printGPUEntryPoint(const SearchSpace &space,
                             const Schedule &schedule, StringRef name,
                             llvm::raw_ostream &os) {
  GPUSketchBuilder::printEntryPoint(space, schedule, name, os);
}
