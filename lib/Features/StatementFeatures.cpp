//===- StatementFeatures.cpp - TenSet/Ansor-style program features --------===//
//
// The task's ops are read once into a plain description (iteration dims,
// per-point op counts, affine access coefficients); each candidate's loop
// nest is then derived from its knob values, see StatementFeatures.h.
//
//===----------------------------------------------------------------------===//

#include "tcl/Features/StatementFeatures.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <array>
#include <cmath>

using namespace mlir;
using namespace tcl;

namespace {
/// Classes of body ops, in the order of the `...PerBody` features.
enum OpClass : unsigned {
  Mad,
  AddSub,
  Mul,
  Div,
  CmpSelect,
  Math,
  Other,
  kNumOpClasses
};

/// FLOPs per op of each class.
constexpr std::array<double, kNumOpClasses> kFlopsPerOp = {2, 1, 1, 1, 1, 1, 0};

/// One shaped operand of a statement.
struct Access {
  /// coefs[r][d]: coefficient of iteration dim d in operand dim r (affine
  /// maps with constant strides; other terms count as coefficient 1).
  SmallVector<SmallVector<int64_t>> coefs;
  SmallVector<int64_t> shape;
  unsigned elementBytes = 4;
  bool read = false;
  bool write = false;
  /// Coefficient of each iteration dim in the row-major linearized address,
  /// in elements.
  SmallVector<int64_t> linear;
};

/// A statement as read from the IR; independent of the schedule.
struct StatementInfo {
  StatementKind kind = StatementKind::Anchor;
  std::array<double, kNumOpClasses> opsPerPoint{};
  SmallVector<Access> accesses;
};

/// A materialized loop of a statement's nest.
struct Loop {
  unsigned dim;
  /// 0: scf.forall (thread tiles), 1: cache tiles, 2: register tiles.
  unsigned level;
  /// Average trip count.
  double trip;
};

} // namespace

/// Number of tiles along one dim at each tiling level: level 0 is the whole
/// extent, level k+1 splits every level-k tile by `sizes[k]`, the last tile
/// being partial when the size does not divide.
static std::array<double, 4> countTiles(int64_t extent,
                                        const std::array<int64_t, 3> &sizes) {
  // (tile size, number of tiles of that size)
  SmallVector<std::pair<int64_t, double>, 4> tiles = {{extent, 1.0}};
  std::array<double, 4> counts = {1, 0, 0, 0};
  for (unsigned k = 0; k < 3; ++k) {
    SmallVector<std::pair<int64_t, double>, 4> next;
    auto add = [&](int64_t size, double n) {
      for (auto &[s, c] : next)
        if (s == size) {
          c += n;
          return;
        }
      next.push_back({size, n});
    };
    for (auto [size, n] : tiles) {
      int64_t step = std::max<int64_t>(1, sizes[k]);
      if (size / step > 0)
        add(step, n * static_cast<double>(size / step));
      if (size % step > 0)
        add(size % step, n);
    }
    tiles = std::move(next);
    counts[k + 1] = 0;
    for (auto [size, n] : tiles)
      counts[k + 1] += n;
  }
  return counts;
}

/// Adds `scale` times the coefficients of the dims of `expr` to `coefs`;
/// terms that are not a constant multiple of a dim count as coefficient 1 of
/// their dims.
static void addCoefficients(AffineExpr expr, int64_t scale,
                            SmallVectorImpl<int64_t> &coefs) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    coefs[dim.getPosition()] += scale;
    return;
  }
  auto bin = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!bin)
    return;
  if (expr.getKind() == AffineExprKind::Add) {
    addCoefficients(bin.getLHS(), scale, coefs);
    addCoefficients(bin.getRHS(), scale, coefs);
    return;
  }
  if (expr.getKind() == AffineExprKind::Mul) {
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getRHS()))
      return addCoefficients(bin.getLHS(), scale * c.getValue(), coefs);
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getLHS()))
      return addCoefficients(bin.getRHS(), scale * c.getValue(), coefs);
  }
  // mod, floordiv, ceildiv, or a product of dims.
  expr.walk([&](AffineExpr sub) {
    if (auto dim = dyn_cast<AffineDimExpr>(sub))
      coefs[dim.getPosition()] = std::max<int64_t>(coefs[dim.getPosition()], 1);
  });
}

static unsigned elementBytesOf(Type type) {
  return std::max<unsigned>(1, (type.getIntOrFloatBitWidth() + 7) / 8);
}

/// Per-point op counts of a Linalg op's body.
static std::array<double, kNumOpClasses> countOps(linalg::LinalgOp op) {
  std::array<double, kNumOpClasses> counts{};
  llvm::SmallPtrSet<Operation *, 4> fusedAdds;
  Block *body = op.getBlock();
  for (Operation &bodyOp : body->without_terminator()) {
    if (!isa<arith::MulFOp>(bodyOp) || !bodyOp.getResult(0).hasOneUse())
      continue;
    Operation *user = *bodyOp.getResult(0).getUsers().begin();
    if (isa<arith::AddFOp>(user)) {
      fusedAdds.insert(user);
      fusedAdds.insert(&bodyOp);
      counts[Mad] += 1;
    }
  }
  for (Operation &bodyOp : body->without_terminator()) {
    if (fusedAdds.contains(&bodyOp) ||
        isa<arith::ConstantOp, linalg::IndexOp>(bodyOp))
      continue;
    OpClass cls = Other;
    if (isa<math::FmaOp>(bodyOp))
      cls = Mad;
    else if (isa<arith::AddFOp, arith::SubFOp>(bodyOp))
      cls = AddSub;
    else if (isa<arith::MulFOp>(bodyOp))
      cls = Mul;
    else if (isa<arith::DivFOp, arith::RemFOp>(bodyOp))
      cls = Div;
    else if (isa<arith::CmpFOp, arith::SelectOp, arith::MaximumFOp,
                 arith::MinimumFOp, arith::MaxNumFOp, arith::MinNumFOp>(bodyOp))
      cls = CmpSelect;
    else if (isa_and_nonnull<math::MathDialect>(bodyOp.getDialect()))
      cls = Math;
    counts[cls] += 1;
  }
  return counts;
}

/// Reads the shaped operands of `op` as accesses over the statement's
/// iteration dims; `dimOfLoop[k]` is the statement dim of op loop k.
static SmallVector<Access> readAccesses(linalg::LinalgOp op,
                                        ArrayRef<unsigned> dimOfLoop,
                                        unsigned numDims) {
  SmallVector<Access> accesses;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<ShapedType>(operand.get().getType());
    if (!type)
      continue;
    Access access;
    access.shape.assign(type.getShape().begin(), type.getShape().end());
    access.elementBytes = elementBytesOf(type.getElementType());
    bool isInit = op.isDpsInit(&operand);
    access.write = isInit;
    access.read = !isInit || op.payloadUsesValueFromOperand(&operand);
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (AffineExpr expr : map.getResults()) {
      SmallVector<int64_t> loopCoefs(map.getNumDims(), 0);
      addCoefficients(expr, 1, loopCoefs);
      SmallVector<int64_t> dimCoefs(numDims, 0);
      for (auto [k, c] : llvm::enumerate(loopCoefs))
        dimCoefs[dimOfLoop[k]] += c;
      access.coefs.push_back(std::move(dimCoefs));
    }
    accesses.push_back(std::move(access));
  }
  return accesses;
}

/// Fills `Access::linear` from the coefficients and the row-major shape.
static void linearize(Access &access, unsigned numDims) {
  access.linear.assign(numDims, 0);
  int64_t stride = 1;
  for (int r = static_cast<int>(access.shape.size()) - 1; r >= 0; --r) {
    for (unsigned d = 0; d < numDims; ++d)
      access.linear[d] += stride * access.coefs[r][d];
    stride *= access.shape[r];
  }
}

/// log2(1 + x), the scaling of every feature.
static float scale(double x) {
  return static_cast<float>(std::log2(1.0 + std::max(0.0, x)));
}

struct StatementFeatureExtractor::Impl {
  SmallVector<int64_t> loopExtents;
  SmallVector<bool> isReduction;
  SmallVector<unsigned> outputToLoop;
  unsigned vectorWidth = 1;
  unsigned threads = 1;
  std::vector<StatementInfo> statements;
  /// Knob indices: per output dim j, per anchor loop l (-1 for parallel
  /// loops), and the alternatives (-1 when absent).
  SmallVector<int> tilePar, tileReg, tileRed, unrollRed;
  int interchange = -1;
  int lowering = -1;
  size_t numKnobs = 0;
  std::array<float, kNumTaskFeatures> task{};

  void computeRaw(const Schedule &schedule, const StatementInfo &statement,
                  double *raw) const;
};

void StatementFeatureExtractor::Impl::computeRaw(const Schedule &schedule,
                                                 const StatementInfo &statement,
                                                 double *raw) const {
  assert(schedule.values.size() == numKnobs &&
         "schedule of another search space");
  std::fill(raw, raw + kNumStatementFeatures, 0.0);
  auto knob = [&](int index) { return schedule.values[index]; };
  bool isAnchor = statement.kind == StatementKind::Anchor;
  unsigned rank = outputToLoop.size();
  unsigned numDims = isAnchor ? loopExtents.size() : rank;

  // Extent and tile sizes at the thread, cache and register levels.
  SmallVector<int64_t> extent(numDims);
  SmallVector<std::array<int64_t, 3>> tiles(numDims);
  SmallVector<bool> forallDim(numDims, false);
  if (isAnchor) {
    for (unsigned l = 0; l < numDims; ++l) {
      extent[l] = loopExtents[l];
      if (isReduction[l])
        tiles[l] = {extent[l], knob(tileRed[l]), knob(unrollRed[l])};
      else
        tiles[l] = {extent[l], extent[l], 1};
    }
    for (unsigned j = 0; j < rank; ++j) {
      unsigned l = outputToLoop[j];
      int64_t par = knob(tilePar[j]);
      tiles[l] = {par, par, knob(tileReg[j])};
      forallDim[l] = true;
    }
  } else {
    for (unsigned j = 0; j < rank; ++j) {
      extent[j] = loopExtents[outputToLoop[j]];
      int64_t par = knob(tilePar[j]);
      tiles[j] = {par, par, knob(tileReg[j])};
      forallDim[j] = true;
    }
  }
  SmallVector<std::array<double, 4>> counts(numDims);
  // tileOf[d][k]: size of a level-k tile of dim d (level 0: the extent).
  SmallVector<std::array<int64_t, 4>> tileOf(numDims);
  for (unsigned d = 0; d < numDims; ++d) {
    counts[d] = countTiles(extent[d], tiles[d]);
    tileOf[d] = {extent[d], std::min(extent[d], tiles[d][0]),
                 std::min(extent[d], tiles[d][1]),
                 std::min(extent[d], tiles[d][2])};
  }

  // The loop nest, outermost first; loops of one iteration are left out.
  SmallVector<Loop> loops;
  auto addLoop = [&](unsigned d, unsigned level) {
    double trip = counts[d][level + 1] / counts[d][level];
    if (counts[d][level + 1] != counts[d][level])
      loops.push_back({d, level, trip});
  };
  for (unsigned d = 0; d < numDims; ++d)
    if (forallDim[d])
      addLoop(d, 0);
  unsigned numForall = loops.size();
  if (isAnchor)
    for (unsigned d = 0; d < numDims; ++d)
      if (isReduction[d])
        addLoop(d, 1);
  SmallVector<unsigned> order =
      llvm::to_vector(llvm::seq<unsigned>(0, numDims));
  bool interchanged = isAnchor && interchange >= 0 && knob(interchange) == 1;
  if (interchanged) {
    SmallVector<unsigned> parallel;
    for (unsigned d = 0; d < numDims; ++d)
      if (forallDim[d])
        parallel.push_back(d);
    std::swap(order[parallel[parallel.size() - 2]],
              order[parallel[parallel.size() - 1]]);
  }
  for (unsigned d : order)
    addLoop(d, 2);

  // The vectorized dim.
  bool dot = isAnchor && lowering >= 0 && knob(lowering) == 1;
  int vectorDim = -1;
  if (dot) {
    for (unsigned d = 0; d < numDims; ++d)
      if (isReduction[d])
        vectorDim = d;
  } else if (rank > 0) {
    vectorDim = isAnchor ? outputToLoop[rank - 1] : rank - 1;
  }

  double bodyPoints = 1, executions = 1, useful = 1;
  for (unsigned d = 0; d < numDims; ++d) {
    bodyPoints *= tileOf[d][3];
    useful *= extent[d];
  }
  for (const Loop &loop : loops)
    executions *= loop.trip;

  double flopsPerPoint = 0;
  for (unsigned c = 0; c < kNumOpClasses; ++c) {
    raw[kMadPerBody + c] = statement.opsPerPoint[c] * bodyPoints;
    raw[kMadTotal + c] = raw[kMadPerBody + c] * executions;
    flopsPerPoint += statement.opsPerPoint[c] * kFlopsPerOp[c];
  }
  raw[kFlopsPerBody] = flopsPerPoint * bodyPoints;
  raw[kFlopsTotal] = raw[kFlopsPerBody] * executions;

  double lanes = vectorDim >= 0 ? tileOf[vectorDim][3] : 1;
  raw[kVectorLanes] = lanes;
  raw[kNativeVectorsPerBody] =
      std::ceil(lanes / vectorWidth) * (bodyPoints / lanes);
  raw[kVectorUtilization] = useful / (bodyPoints * executions);
  raw[kVectorLanesPerNative] = lanes / vectorWidth;
  raw[kUnrollProduct] = bodyPoints / lanes;
  for (unsigned d = 0; d < numDims; ++d)
    if (static_cast<int>(d) != vectorDim && tileOf[d][3] > 1)
      raw[kUnrollDims] += 1;

  double parallel = 1, cacheProduct = 1, registerProduct = 1;
  for (const Loop &loop : loops) {
    if (loop.level == 0)
      parallel *= loop.trip;
    else if (loop.level == 1)
      cacheProduct *= loop.trip;
    else
      registerProduct *= loop.trip;
  }
  raw[kParallelProduct] = parallel;
  raw[kParallelDims] = numForall;
  raw[kParallelInnermost] = numForall ? loops[numForall - 1].trip : 1;
  double waves = std::ceil(parallel / threads);
  raw[kParallelBalance] = parallel / (waves * threads);
  raw[kNumLoops] = loops.size();
  raw[kOuterProduct] = executions;
  raw[kCacheLoopProduct] = cacheProduct;
  raw[kRegisterLoopProduct] = registerProduct;
  raw[kInnermostTrip] = loops.empty() ? 1 : loops.back().trip;
  raw[kIsFill] = statement.kind == StatementKind::Fill;
  raw[kIsAnchor] = isAnchor;
  raw[kIsConsumer] = statement.kind == StatementKind::Consumer;
  raw[kLoweringOuterProduct] = isAnchor && lowering >= 0 && !dot;
  raw[kLoweringDot] = dot;
  raw[kInterchanged] = interchanged;

  // Buffers.
  auto indexes = [](const Access &a, unsigned d) {
    return llvm::any_of(a.coefs,
                        [&](ArrayRef<int64_t> row) { return row[d] != 0; });
  };
  // Extent of each operand dim over a box of iteration-space tiles.
  auto extents = [](const Access &a, ArrayRef<int64_t> box) {
    SmallVector<int64_t, 6> ext;
    for (auto [r, row] : llvm::enumerate(a.coefs)) {
      int64_t e = 1;
      for (auto [d, c] : llvm::enumerate(row))
        e += std::abs(c) * (box[d] - 1);
      ext.push_back(std::min(e, a.shape[r]));
    }
    return ext;
  };
  auto footprintBytes = [&](const Access &a, ArrayRef<int64_t> box) {
    double n = a.elementBytes;
    for (int64_t e : extents(a, box))
      n *= e;
    return n;
  };
  auto lines = [&](const Access &a, ArrayRef<int64_t> box) {
    SmallVector<int64_t, 6> ext = extents(a, box);
    if (ext.empty())
      return 1.0;
    double n = std::ceil(ext.back() * a.elementBytes / 64.0);
    for (int64_t e : ArrayRef(ext).drop_back())
      n *= e;
    return n;
  };
  auto levelBox = [&](unsigned level) {
    SmallVector<int64_t, 8> box;
    for (unsigned d = 0; d < numDims; ++d)
      box.push_back(tileOf[d][level]);
    return box;
  };
  SmallVector<int64_t, 8> wholeBox = levelBox(0), threadBox = levelBox(1),
                          cacheBox = levelBox(2), registerBox = levelBox(3);
  // The tiles one iteration of loop `q` covers.
  auto boxInside = [&](unsigned q) {
    SmallVector<int64_t, 8> box = wholeBox;
    for (unsigned i = 0; i <= q; ++i)
      box[loops[i].dim] = tileOf[loops[i].dim][loops[i].level + 1];
    return box;
  };

  std::array<double, kNumBufferFeatures> zero{};
  SmallVector<std::array<double, kNumBufferFeatures>, 4> buffers;
  double registerBytes = 0, threadBytes = 0, cacheBytes = 0, totalBytes = 0;
  for (const Access &a : statement.accesses) {
    std::array<double, kNumBufferFeatures> f = zero;
    // Written tiles (the accumulator) are hoisted out of the scf.for loops
    // that do not index them; reads of inputs stay in the innermost loop.
    unsigned placement = a.write ? numForall : loops.size();
    if (a.write)
      for (unsigned i = 0; i < loops.size(); ++i)
        if (indexes(a, loops[i].dim))
          placement = std::max(placement, i + 1);
    double accessExecutions = 1;
    for (unsigned i = 0; i < placement; ++i)
      accessExecutions *= loops[i].trip;
    f[kBufferIsRead] = a.read;
    f[kBufferIsWrite] = a.write;
    f[kBufferRegisterTileBytes] = footprintBytes(a, registerBox);
    f[kBufferBytes] = f[kBufferRegisterTileBytes] * accessExecutions;
    f[kBufferUniqueBytes] = footprintBytes(a, wholeBox);
    f[kBufferLines] = lines(a, registerBox) * accessExecutions;
    f[kBufferUniqueLines] = lines(a, wholeBox);
    f[kBufferThreadTileBytes] = footprintBytes(a, threadBox);
    f[kBufferCacheTileBytes] = footprintBytes(a, cacheBox);
    f[kBufferLaneStride] = vectorDim >= 0 ? std::abs(a.linear[vectorDim]) : 0;
    if (placement > 0) {
      const Loop &inner = loops[placement - 1];
      f[kBufferLoopStride] =
          std::abs(a.linear[inner.dim]) * tileOf[inner.dim][inner.level + 1];
    }
    for (int q = static_cast<int>(placement) - 1; q >= 0; --q) {
      if (indexes(a, loops[q].dim))
        continue;
      f[kBufferReuseCount] = loops[q].trip;
      double between = 1;
      for (unsigned i = q + 1; i < loops.size(); ++i)
        between *= loops[i].trip;
      f[kBufferReuseDistanceIterations] = between;
      SmallVector<int64_t, 8> box = boxInside(q);
      for (const Access &other : statement.accesses)
        f[kBufferReuseDistanceBytes] += footprintBytes(other, box);
      break;
    }
    f[kBufferExecutions] = accessExecutions;
    registerBytes += f[kBufferRegisterTileBytes];
    threadBytes += f[kBufferThreadTileBytes];
    cacheBytes += f[kBufferCacheTileBytes];
    totalBytes += f[kBufferBytes];
    if (a.write)
      raw[kVectorBytes] = f[kBufferRegisterTileBytes];
    buffers.push_back(f);
  }
  llvm::stable_sort(buffers, [](const auto &x, const auto &y) {
    return x[kBufferBytes] > y[kBufferBytes];
  });
  for (auto [b, f] : llvm::enumerate(ArrayRef(buffers).take_front(kMaxBuffers)))
    std::copy(f.begin(), f.end(), raw + kBufferBegin + b * kNumBufferFeatures);
  raw[kNumBuffers] = buffers.size();

  auto ratio = [](double x, double y) { return y > 0 ? x / y : 0.0; };
  double threadPoints = 1, cachePoints = 1;
  for (unsigned d = 0; d < numDims; ++d) {
    threadPoints *= tileOf[d][1];
    cachePoints *= tileOf[d][2];
  }
  raw[kIntensityRegisterTile] = ratio(raw[kFlopsPerBody], registerBytes);
  raw[kIntensityThreadTile] = ratio(flopsPerPoint * threadPoints, threadBytes);
  raw[kIntensityCacheTile] = ratio(flopsPerPoint * cachePoints, cacheBytes);
  raw[kIntensityTotal] = ratio(raw[kFlopsTotal], totalBytes);
}

StatementFeatureExtractor::StatementFeatureExtractor(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
StatementFeatureExtractor::StatementFeatureExtractor(
    StatementFeatureExtractor &&) = default;
StatementFeatureExtractor &
StatementFeatureExtractor::operator=(StatementFeatureExtractor &&) = default;
StatementFeatureExtractor::~StatementFeatureExtractor() = default;

llvm::Expected<StatementFeatureExtractor>
StatementFeatureExtractor::create(const SearchSpace &space, const Task &task) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("features of task '" +
                                   space.getWorkloadKey() + "': " + why);
  };
  auto anchor = dyn_cast_or_null<linalg::LinalgOp>(task.anchor);
  if (!anchor || anchor.hasDynamicShape())
    return fail("the anchor is not a Linalg op with static shapes");
  auto impl = std::make_unique<Impl>();
  impl->loopExtents.assign(space.getLoopExtents().begin(),
                           space.getLoopExtents().end());
  impl->isReduction.assign(space.getReductionLoops().begin(),
                           space.getReductionLoops().end());
  impl->outputToLoop.assign(space.getOutputToLoop().begin(),
                            space.getOutputToLoop().end());
  impl->vectorWidth = std::max(1u, space.getVectorWidth());
  impl->threads = std::max(1u, space.getThreads());
  unsigned numLoops = impl->loopExtents.size();
  unsigned rank = impl->outputToLoop.size();
  SmallVector<int64_t> ranges = anchor.getStaticLoopRanges();
  if (ArrayRef<int64_t>(ranges) != ArrayRef<int64_t>(impl->loopExtents))
    return fail("the anchor's loop ranges differ from the search space's");
  if ((task.fill != nullptr) != space.hasFusedFill() ||
      task.consumers.size() != space.getNumConsumers())
    return fail("the fill or the consumers differ from the search space's");

  // Knob indices.
  auto find = [&](StringRef prefix, unsigned i) -> FailureOr<int> {
    int k = space.findKnob((prefix + "_" + llvm::Twine(i)).str());
    if (k < 0)
      return failure();
    return k;
  };
  impl->tileRed.assign(numLoops, -1);
  impl->unrollRed.assign(numLoops, -1);
  for (unsigned j = 0; j < rank; ++j) {
    FailureOr<int> par = find("tile_par", j), reg = find("tile_reg", j);
    if (failed(par) || failed(reg))
      return fail("the search space has no knob tile_par_" + llvm::Twine(j) +
                  " or tile_reg_" + llvm::Twine(j));
    impl->tilePar.push_back(*par);
    impl->tileReg.push_back(*reg);
  }
  for (unsigned l = 0; l < numLoops; ++l) {
    if (!impl->isReduction[l])
      continue;
    FailureOr<int> red = find("tile_red", l), unroll = find("unroll_red", l);
    if (failed(red) || failed(unroll))
      return fail("the search space has no knob tile_red_" + llvm::Twine(l) +
                  " or unroll_red_" + llvm::Twine(l));
    impl->tileRed[l] = *red;
    impl->unrollRed[l] = *unroll;
  }
  impl->numKnobs = space.getKnobs().size();
  impl->interchange = space.findKnob("interchange");
  impl->lowering = space.findKnob("contraction_lowering");

  // Statements over the output dims (fill, consumers): loop k of the op is
  // the output dim its output map sends it to.
  auto outputDimsOf =
      [&](linalg::LinalgOp op) -> FailureOr<SmallVector<unsigned>> {
    if (op.getNumDpsInits() != 1 || op.hasDynamicShape())
      return failure();
    AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
    if (!out.isPermutation() || out.getNumResults() != rank)
      return failure();
    SmallVector<unsigned> dimOfLoop(out.getNumDims());
    for (unsigned j = 0; j < rank; ++j)
      dimOfLoop[out.getDimPosition(j)] = j;
    return dimOfLoop;
  };
  auto addOutputStatement = [&](Operation *op,
                                StatementKind kind) -> llvm::Error {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    FailureOr<SmallVector<unsigned>> dimOfLoop = failure();
    if (linalgOp)
      dimOfLoop = outputDimsOf(linalgOp);
    if (failed(dimOfLoop))
      return fail("'" + op->getName().getStringRef() +
                  "' is not an elementwise Linalg op over the task's output");
    StatementInfo s;
    s.kind = kind;
    s.opsPerPoint = countOps(linalgOp);
    s.accesses = readAccesses(linalgOp, *dimOfLoop, rank);
    impl->statements.push_back(std::move(s));
    return llvm::Error::success();
  };

  if (task.fill)
    if (llvm::Error err = addOutputStatement(task.fill, StatementKind::Fill))
      return std::move(err);
  StatementInfo a;
  a.kind = StatementKind::Anchor;
  a.opsPerPoint = countOps(anchor);
  a.accesses = readAccesses(
      anchor, llvm::to_vector(llvm::seq<unsigned>(0, numLoops)), numLoops);
  // The schedule turns a FHWC filter into HWCF before tiling.
  if (isa<linalg::Conv2DNhwcFhwcOp>(*anchor)) {
    Access &filter = a.accesses[1];
    std::rotate(filter.shape.begin(), filter.shape.begin() + 1,
                filter.shape.end());
    std::rotate(filter.coefs.begin(), filter.coefs.begin() + 1,
                filter.coefs.end());
  }
  impl->statements.push_back(std::move(a));
  for (Operation *consumer : task.consumers)
    if (llvm::Error err = addOutputStatement(consumer, StatementKind::Consumer))
      return std::move(err);
  for (StatementInfo &s : impl->statements)
    for (Access &access : s.accesses)
      linearize(access, s.kind == StatementKind::Anchor ? numLoops : rank);

  // The task embedding.
  std::array<double, kNumTaskFeatures> t{};
  StringRef category = space.getCategoryName();
  t[kTaskIsContraction] = category == "contraction";
  t[kTaskIsConvolution] = category == "convolution";
  t[kTaskIsElementwise] = category == "elementwise";
  t[kTaskNumLoops] = numLoops;
  t[kTaskNumReductionLoops] = llvm::count(impl->isReduction, true);
  for (unsigned l = 0; l < std::min(numLoops, kMaxTaskLoops); ++l)
    t[kTaskLoopExtentBegin + l] = impl->loopExtents[l];
  SmallVector<Operation *> ops;
  if (task.fill)
    ops.push_back(task.fill);
  ops.push_back(task.anchor);
  ops.append(task.consumers.begin(), task.consumers.end());
  int64_t flops = task.flops;
  if (flops == 0)
    for (Operation *op : ops)
      flops += countFlops(op);
  llvm::SmallPtrSet<Operation *, 8> inTask(ops.begin(), ops.end());
  llvm::SmallPtrSet<Value, 8> arguments;
  double bytes = 0;
  for (Operation *op : ops)
    for (Value v : op->getOperands()) {
      auto type = dyn_cast<ShapedType>(v.getType());
      if (!type || inTask.contains(v.getDefiningOp()) ||
          !arguments.insert(v).second)
        continue;
      bytes += static_cast<double>(type.getNumElements()) *
               elementBytesOf(type.getElementType());
    }
  t[kTaskFlops] = flops;
  t[kTaskBytes] = bytes;
  t[kTaskIntensity] = bytes > 0 ? flops / bytes : 0;
  t[kTaskNumConsumers] = task.consumers.size();
  t[kTaskHasFill] = task.fill != nullptr;
  t[kTaskVectorWidth] = impl->vectorWidth;
  t[kTaskThreads] = impl->threads;
  for (unsigned i = 0; i < kNumTaskFeatures; ++i)
    impl->task[i] = scale(t[i]);
  return StatementFeatureExtractor(std::move(impl));
}

llvm::Expected<StatementFeatureExtractor>
StatementFeatureExtractor::createFromKernel(const SearchSpace &space,
                                            StringRef kernelText) {
  DialectRegistry registry;
  registerTCLDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(kernelText, ParserConfig(&context));
  if (!module)
    return llvm::createStringError(
        "features of task '" + space.getWorkloadKey() +
        "': cannot parse the kernel: " + diagnostics);
  SmallVector<Task> tasks = collectAnnotatedTasks(*module);
  if (tasks.size() != 1)
    return llvm::createStringError(
        "features of task '" + space.getWorkloadKey() +
        "': expected one annotated task in the kernel, found " +
        llvm::Twine(tasks.size()));
  return create(space, tasks.front());
}

unsigned StatementFeatureExtractor::getNumStatements() const {
  return impl->statements.size();
}

StatementKind
StatementFeatureExtractor::getStatementKind(unsigned statement) const {
  return impl->statements[statement].kind;
}

llvm::ArrayRef<float> StatementFeatureExtractor::getTaskFeatures() const {
  return impl->task;
}

std::vector<float>
StatementFeatureExtractor::extractStatements(const Schedule &schedule) const {
  std::vector<float> out(impl->statements.size() * kNumStatementFeatures);
  std::array<double, kNumStatementFeatures> raw;
  for (auto [i, s] : llvm::enumerate(impl->statements)) {
    impl->computeRaw(schedule, s, raw.data());
    for (unsigned f = 0; f < kNumStatementFeatures; ++f)
      out[i * kNumStatementFeatures + f] = scale(raw[f]);
  }
  return out;
}

void StatementFeatureExtractor::extractProgram(const Schedule &schedule,
                                               float *row) const {
  std::fill(row, row + kNumProgramFeatures, 0.0f);
  std::copy(impl->task.begin(), impl->task.end(), row + kProgramTaskBegin);
  std::array<double, kNumStatementFeatures> raw, consumers{};
  bool anyConsumer = false;
  for (const StatementInfo &s : impl->statements) {
    impl->computeRaw(schedule, s, raw.data());
    if (s.kind == StatementKind::Consumer) {
      anyConsumer = true;
      for (unsigned f = 0; f < kNumStatementFeatures; ++f)
        consumers[f] += raw[f];
      continue;
    }
    unsigned begin = s.kind == StatementKind::Anchor ? kProgramAnchorBegin
                                                     : kProgramFillBegin;
    for (unsigned f = 0; f < kNumStatementFeatures; ++f)
      row[begin + f] = scale(raw[f]);
  }
  if (anyConsumer)
    for (unsigned f = 0; f < kNumStatementFeatures; ++f)
      row[kProgramConsumersBegin + f] = scale(consumers[f]);
}
