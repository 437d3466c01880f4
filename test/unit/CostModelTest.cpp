//===- CostModelTest.cpp - Statement features and the XGBoost cost model --===//

#include "tcl/CostModel/Evaluation.h"
#include "tcl/CostModel/XGBoostModel.h"
#include "tcl/Features/StatementFeatures.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <chrono>
#include <cmath>
#include <set>

using namespace tcl;

namespace {
constexpr llvm::StringLiteral kMatmul = R"mlir(
func.func @mm(%a: tensor<64x96xf32>, %b: tensor<96x128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x96xf32>, tensor<96x128xf32>) outs(%fill : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %mm : tensor<64x128xf32>
}
)mlir";

/// One task of a module, with its space and the context a cost model sees.
struct TaskFixture {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  Task task;
  std::unique_ptr<SearchSpace> space;
  TaskContext context;
};

/// Parses `mlir`, which must hold one task, for `target`.
std::unique_ptr<TaskFixture>
makeTask(mlir::MLIRContext &ctx, llvm::StringRef mlir, llvm::StringRef target) {
  auto f = std::make_unique<TaskFixture>();
  f->module = mlir::parseSourceString<mlir::ModuleOp>(mlir, &ctx);
  if (!f->module)
    return nullptr;
  llvm::SmallVector<Task> tasks = findTasks(*f->module);
  llvm::Expected<Target> t = Target::parse(target);
  if (tasks.size() != 1 || !t) {
    llvm::consumeError(t.takeError());
    return nullptr;
  }
  f->task = tasks.front();
  mlir::FailureOr<SearchSpace> space = SearchSpace::forTask(f->task, *t);
  mlir::FailureOr<TaskKernel> kernel = buildTaskKernel(f->task);
  if (failed(space) || failed(kernel))
    return nullptr;
  f->space = std::make_unique<SearchSpace>(std::move(*space));
  llvm::raw_string_ostream os(f->context.kernelText);
  kernel->module->print(os);
  f->context.space = f->space.get();
  f->context.flops = f->task.flops;
  return f;
}

/// Spearman rank correlation, ties given their average rank.
double spearman(llvm::ArrayRef<double> x, llvm::ArrayRef<double> y) {
  auto ranks = [](llvm::ArrayRef<double> v) {
    std::vector<size_t> order(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      order[i] = i;
    llvm::sort(order, [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < order.size();) {
      size_t j = i;
      while (j < order.size() && v[order[j]] == v[order[i]])
        ++j;
      for (size_t k = i; k < j; ++k)
        r[order[k]] = (i + j - 1) / 2.0;
      i = j;
    }
    return r;
  };
  std::vector<double> rx = ranks(x), ry = ranks(y);
  double n = x.size(), mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += rx[i] / n;
    my += ry[i] / n;
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

class CostModelTest : public ::testing::Test {
protected:
  void SetUp() override {
    mlir::DialectRegistry registry;
    registerTCLDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    matmul = makeTask(ctx, kMatmul, "cpu:avx2,threads=2");
    ASSERT_TRUE(matmul);
    std::mt19937_64 rng(11);
    std::set<llvm::SmallVector<int64_t>> seen;
    // Distinct schedules: the first 400 train, the rest are held out.
    while (schedules.size() < 600) {
      Schedule s = matmul->space->sample(rng);
      if (seen.insert(s.values).second)
        schedules.push_back(s);
    }
  }

  /// A known landscape: a bigger register tile is faster, the `dot`
  /// lowering is slower. Normalized to a maximum of 1 over all schedules.
  std::vector<double> syntheticThroughput(llvm::ArrayRef<Schedule> s) const {
    const SearchSpace &space = *matmul->space;
    int reg0 = space.findKnob("tile_reg_0"),
        reg1 = space.findKnob("tile_reg_1");
    int lowering = space.findKnob("contraction_lowering");
    std::vector<double> t;
    for (const Schedule &x : s)
      t.push_back(x.values[reg0] * x.values[reg1] *
                  (x.values[lowering] == 1 ? 0.5 : 1.0) /
                  SearchSpace::maxRegisterTileElements);
    return t;
  }

  Schedule
  fromKnobs(llvm::ArrayRef<std::pair<std::string, int64_t>> knobs) const {
    llvm::Expected<Schedule> s = matmul->space->fromKnobMap(knobs);
    EXPECT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
    return s ? *s : Schedule();
  }

  std::string tempDir() {
    llvm::SmallString<128> dir;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("tcl-costmodel", dir));
    dirs.push_back(dir.str().str());
    return dirs.back();
  }

  void TearDown() override {
    for (const std::string &dir : dirs)
      llvm::sys::fs::remove_directories(dir);
  }

  mlir::MLIRContext ctx;
  std::unique_ptr<TaskFixture> matmul;
  std::vector<Schedule> schedules;
  std::vector<std::string> dirs;
};

/// The value a feature holds for the quantity `x`.
float scaled(double x) { return static_cast<float>(std::log2(1.0 + x)); }
} // namespace

TEST_F(CostModelTest, FeaturesHaveTheDocumentedLayout) {
  auto extractor = StatementFeatureExtractor::createFromKernel(
      *matmul->space, matmul->context.kernelText);
  ASSERT_TRUE(static_cast<bool>(extractor))
      << llvm::toString(extractor.takeError());
  ASSERT_EQ(extractor->getNumStatements(), 2u);
  EXPECT_EQ(extractor->getStatementKind(0), StatementKind::Fill);
  EXPECT_EQ(extractor->getStatementKind(1), StatementKind::Anchor);
  EXPECT_EQ(extractor->getTaskFeatures().size(), kNumTaskFeatures);
  std::vector<float> statements =
      extractor->extractStatements(schedules.front());
  EXPECT_EQ(statements.size(), 2u * kNumStatementFeatures);
  std::vector<float> row(kNumProgramFeatures);
  extractor->extractProgram(schedules.front(), row.data());
  for (float v : row)
    EXPECT_TRUE(std::isfinite(v) && v >= 0) << v;
  // The row is the task embedding, then the anchor and fill statements.
  EXPECT_EQ(llvm::ArrayRef(row).take_front(kNumTaskFeatures),
            extractor->getTaskFeatures());
  EXPECT_EQ(
      llvm::ArrayRef(row).slice(kProgramAnchorBegin, kNumStatementFeatures),
      llvm::ArrayRef(statements)
          .slice(kNumStatementFeatures, kNumStatementFeatures));
  EXPECT_EQ(llvm::ArrayRef(row).slice(kProgramFillBegin, kNumStatementFeatures),
            llvm::ArrayRef(statements).take_front(kNumStatementFeatures));
  EXPECT_EQ(row[kProgramTaskBegin + kTaskFlops], scaled(2.0 * 64 * 96 * 128));
  EXPECT_EQ(row[kProgramTaskBegin + kTaskIsContraction], 1.0f);
}

// A hand-computed loop nest of the 64x128x96 matmul:
//   forall i (2) x j (2); for k (96/48); for i (32/4), j (64/16), k (48/4);
//   body: 4x16x4 register tile, 16 lanes = 2 AVX2 vectors per row.
TEST_F(CostModelTest, FeaturesFollowTheLoopNest) {
  auto extractor = StatementFeatureExtractor::createFromKernel(
      *matmul->space, matmul->context.kernelText);
  ASSERT_TRUE(static_cast<bool>(extractor));
  std::vector<std::pair<std::string, int64_t>> knobs = {
      {"tile_par_0", 32}, {"tile_reg_0", 4},          {"tile_par_1", 64},
      {"tile_reg_1", 16}, {"tile_red_2", 48},         {"unroll_red_2", 4},
      {"interchange", 0}, {"contraction_lowering", 0}};
  std::vector<float> f = extractor->extractStatements(fromKnobs(knobs));
  const float *a = f.data() + kNumStatementFeatures; // the anchor
  EXPECT_EQ(a[kParallelProduct], scaled(4));
  EXPECT_EQ(a[kParallelBalance], scaled(1));
  EXPECT_EQ(a[kNumLoops], scaled(6));
  EXPECT_EQ(a[kOuterProduct], scaled(2 * 2 * 2 * 8 * 4 * 12));
  EXPECT_EQ(a[kInnermostTrip], scaled(12));
  EXPECT_EQ(a[kMadPerBody], scaled(4 * 16 * 4));
  EXPECT_EQ(a[kFlopsTotal], scaled(2.0 * 64 * 96 * 128));
  EXPECT_EQ(a[kVectorLanes], scaled(16));
  EXPECT_EQ(a[kNativeVectorsPerBody], scaled(2 * 16));
  EXPECT_EQ(a[kVectorBytes], scaled(4 * 16 * 4));
  EXPECT_EQ(a[kLoweringOuterProduct], scaled(1));
  // Buffers by bytes: B (k x j, contiguous lanes), A (broadcast along the
  // lanes), C (accumulator, hoisted out of the register k loop).
  const float *b0 = a + kBufferBegin, *b1 = b0 + kNumBufferFeatures,
              *b2 = b1 + kNumBufferFeatures;
  EXPECT_EQ(b0[kBufferBytes], scaled(3072.0 * 4 * 16 * 4));
  EXPECT_EQ(b0[kBufferLaneStride], scaled(1));
  EXPECT_EQ(b0[kBufferReuseCount], scaled(8));
  EXPECT_EQ(b0[kBufferReuseDistanceIterations], scaled(4 * 12));
  EXPECT_EQ(b0[kBufferReuseDistanceBytes],
            scaled((4 * 48 + 48 * 64 + 4 * 64) * 4));
  EXPECT_EQ(b1[kBufferBytes], scaled(3072.0 * 4 * 4 * 4));
  EXPECT_EQ(b1[kBufferLaneStride], scaled(0));
  EXPECT_EQ(b1[kBufferReuseCount], scaled(4));
  EXPECT_EQ(b2[kBufferIsRead], scaled(1));
  EXPECT_EQ(b2[kBufferIsWrite], scaled(1));
  EXPECT_EQ(b2[kBufferExecutions], scaled(2 * 2 * 2 * 8 * 4));
  EXPECT_EQ(b2[kBufferReuseCount], scaled(2));
  EXPECT_EQ(b2[kBufferCacheTileBytes], scaled(32 * 64 * 4));
  EXPECT_EQ(b2[kBufferUniqueBytes], scaled(64 * 128 * 4));

  // Swapping the register loops of i and j (j outer, i inner) keeps the
  // reuse counts but moves the reuse distances: 12 body executions between
  // reuses of B (was 4 x 12), 8 x 12 between reuses of A (was 12).
  knobs[6].second = 1;
  std::vector<float> g = extractor->extractStatements(fromKnobs(knobs));
  const float *ga = g.data() + kNumStatementFeatures;
  const float *g0 = ga + kBufferBegin, *g1 = g0 + kNumBufferFeatures;
  EXPECT_EQ(ga[kInterchanged], scaled(1));
  EXPECT_EQ(g0[kBufferReuseCount], scaled(8));
  EXPECT_EQ(g0[kBufferReuseDistanceIterations], scaled(12));
  EXPECT_EQ(g1[kBufferReuseCount], scaled(4));
  EXPECT_EQ(g1[kBufferReuseDistanceIterations], scaled(8 * 12));

  // The whole cache tile of k unrolled: no register loop over k is left, so
  // the accumulator is accessed in every body; the slice of A, invariant in
  // the j loop, is still read in every body, as in the scheduled IR.
  knobs[6].second = 0;
  knobs[3].second = 8;
  knobs[4].second = 16;
  knobs[5].second = 16;
  std::vector<float> u = extractor->extractStatements(fromKnobs(knobs));
  const float *ua = u.data() + kNumStatementFeatures;
  const float *u1 = ua + kBufferBegin + kNumBufferFeatures,
              *u2 = u1 + kNumBufferFeatures;
  EXPECT_EQ(ua[kOuterProduct], scaled(2 * 2 * 6 * 8 * 8));
  EXPECT_EQ(u1[kBufferExecutions], scaled(2 * 2 * 6 * 8 * 8));
  EXPECT_EQ(u1[kBufferRegisterTileBytes], scaled(4 * 16 * 4));
  EXPECT_EQ(u2[kBufferExecutions], scaled(2 * 2 * 6 * 8 * 8));
  EXPECT_EQ(u2[kBufferReuseCount], scaled(6));
}

// Tiles that do not divide: j = 100 in thread tiles of 32 (32+32+32+4), each
// in masked register tiles of 16 (2+2+2+1 of them, 112 lanes for 100 points).
TEST_F(CostModelTest, FeaturesOfPartialTiles) {
  std::unique_ptr<TaskFixture> t = makeTask(ctx, R"mlir(
func.func @f(%a: tensor<30x96xf32>, %b: tensor<96x100xf32>, %c: tensor<30x100xf32>) -> tensor<30x100xf32> {
  %mm = linalg.matmul ins(%a, %b : tensor<30x96xf32>, tensor<96x100xf32>) outs(%c : tensor<30x100xf32>) -> tensor<30x100xf32>
  return %mm : tensor<30x100xf32>
})mlir",
                                            "cpu:avx2,threads=2");
  ASSERT_TRUE(t);
  auto extractor = StatementFeatureExtractor::createFromKernel(
      *t->space, t->context.kernelText);
  ASSERT_TRUE(static_cast<bool>(extractor));
  llvm::Expected<Schedule> s =
      t->space->fromKnobMap({{"tile_par_0", 30},
                             {"tile_reg_0", 6},
                             {"tile_par_1", 32},
                             {"tile_reg_1", 16},
                             {"tile_red_2", 96},
                             {"unroll_red_2", 8},
                             {"interchange", 0},
                             {"contraction_lowering", 0}});
  ASSERT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
  std::vector<float> f = extractor->extractStatements(*s);
  ASSERT_EQ(f.size(), kNumStatementFeatures); // no fill
  EXPECT_EQ(f[kParallelProduct], scaled(4));
  EXPECT_EQ(f[kOuterProduct], scaled(5 * 7 * 12));
  EXPECT_EQ(f[kRegisterLoopProduct], scaled(5 * 1.75 * 12));
  EXPECT_EQ(f[kVectorUtilization], scaled(100.0 / 112));
  EXPECT_EQ(f[kFlopsTotal], scaled(2.0 * 30 * 112 * 96));
}

TEST_F(CostModelTest, FeaturesDifferBetweenTiles) {
  auto extractor = StatementFeatureExtractor::createFromKernel(
      *matmul->space, matmul->context.kernelText);
  ASSERT_TRUE(static_cast<bool>(extractor));
  std::vector<std::pair<std::string, int64_t>> knobs = {
      {"tile_par_0", 32}, {"tile_reg_0", 4},          {"tile_par_1", 64},
      {"tile_reg_1", 16}, {"tile_red_2", 48},         {"unroll_red_2", 4},
      {"interchange", 0}, {"contraction_lowering", 0}};
  std::vector<float> base = extractor->extractStatements(fromKnobs(knobs));
  for (auto [knob, other] : {std::pair<size_t, int64_t>{1, 8},
                             {3, 8},
                             {0, 16},
                             {2, 32},
                             {4, 96},
                             {5, 2},
                             {7, 1}}) {
    auto changed = knobs;
    changed[knob].second = other;
    std::vector<float> f = extractor->extractStatements(fromKnobs(changed));
    EXPECT_NE(f, base) << changed[knob].first << " = " << other;
  }
  // Nearly every distinct schedule has a distinct program row.
  std::set<std::vector<float>> rows;
  for (const Schedule &s : schedules) {
    std::vector<float> row(kNumProgramFeatures);
    extractor->extractProgram(s, row.data());
    rows.insert(row);
  }
  EXPECT_GT(rows.size(), schedules.size() * 9 / 10);
}

namespace {
/// Tasks of every category, with fused consumers.
const std::pair<const char *, const char *> kOtherTasks[] = {
    {"matmul_bias_relu", R"mlir(
func.func @f(%a: tensor<64x96xf32>, %b: tensor<96x128xf32>, %bias: tensor<128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x96xf32>, tensor<96x128xf32>) outs(%fill : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x128xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<64x128xf32>, tensor<128xf32>) outs(%e2 : tensor<64x128xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
})mlir"},
    {"conv_2d_nhwc_fhwc", R"mlir(
func.func @f(%i: tensor<1x10x10x16xf32>, %w: tensor<32x3x3x16xf32>, %o: tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32> {
  %r = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x10x10x16xf32>, tensor<32x3x3x16xf32>) outs(%o : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %r : tensor<1x8x8x32xf32>
})mlir"},
    {"pooling_nhwc_max", R"mlir(
func.func @f(%i: tensor<1x17x17x16xf32>, %o: tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32> {
  %win = tensor.empty() : tensor<3x3xf32>
  %r = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%i, %win : tensor<1x17x17x16xf32>, tensor<3x3xf32>) outs(%o : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
  return %r : tensor<1x8x8x16xf32>
})mlir"},
    {"elementwise_exp", R"mlir(
func.func @f(%x: tensor<4x32x64xf32>, %m: tensor<4x32xf32>, %out: tensor<4x32x64xf32>) -> tensor<4x32x64xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %m : tensor<4x32x64xf32>, tensor<4x32xf32>) outs(%out : tensor<4x32x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<4x32x64xf32>
  return %r : tensor<4x32x64xf32>
})mlir"},
};
} // namespace

TEST_F(CostModelTest, FeaturesOfEveryCategory) {
  for (auto [name, mlir] : kOtherTasks) {
    SCOPED_TRACE(name);
    std::unique_ptr<TaskFixture> t = makeTask(ctx, mlir, "cpu,threads=2");
    ASSERT_TRUE(t);
    auto extractor = StatementFeatureExtractor::createFromKernel(
        *t->space, t->context.kernelText);
    ASSERT_TRUE(static_cast<bool>(extractor))
        << llvm::toString(extractor.takeError());
    EXPECT_EQ(extractor->getNumStatements(),
              1 + t->task.consumers.size() + (t->task.fill ? 1 : 0));
    std::mt19937_64 rng(5);
    std::set<std::vector<float>> rows;
    for (int i = 0; i < 50; ++i) {
      std::vector<float> row(kNumProgramFeatures);
      extractor->extractProgram(t->space->sample(rng), row.data());
      for (float v : row)
        ASSERT_TRUE(std::isfinite(v) && v >= 0) << v;
      EXPECT_GT(row[kProgramAnchorBegin + kFlopsTotal], 0);
      EXPECT_EQ(row[kProgramConsumersBegin + kIsConsumer] > 0,
                !t->task.consumers.empty());
      rows.insert(row);
    }
    EXPECT_GT(rows.size(), 1u);
  }
  // The bias+relu consumer: one add and one max per point, 3 buffers.
  std::unique_ptr<TaskFixture> t =
      makeTask(ctx, kOtherTasks[0].second, "cpu:avx2,threads=2");
  ASSERT_TRUE(t);
  auto extractor = StatementFeatureExtractor::createFromKernel(
      *t->space, t->context.kernelText);
  ASSERT_TRUE(static_cast<bool>(extractor));
  std::vector<float> f = extractor->extractStatements(t->space->getDefault());
  const float *c = f.data() + 2 * kNumStatementFeatures;
  EXPECT_EQ(extractor->getStatementKind(2), StatementKind::Consumer);
  EXPECT_EQ(c[kAddSubTotal], scaled(64 * 128));
  EXPECT_EQ(c[kCmpSelectTotal], scaled(64 * 128));
  EXPECT_EQ(c[kNumBuffers], scaled(3));
}

TEST_F(CostModelTest, FeatureCost) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto extractor = StatementFeatureExtractor::createFromKernel(
      *matmul->space, matmul->context.kernelText);
  ASSERT_TRUE(static_cast<bool>(extractor));
  double createSeconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<float> row(kNumProgramFeatures);
  constexpr int kRepeats = 20;
  start = Clock::now();
  for (int r = 0; r < kRepeats; ++r)
    for (const Schedule &s : schedules)
      extractor->extractProgram(s, row.data());
  double perCandidate =
      std::chrono::duration<double>(Clock::now() - start).count() /
      (kRepeats * schedules.size());
  std::printf("feature extraction: %.1f us per candidate, %.2f ms to read "
              "the kernel once per task\n",
              perCandidate * 1e6, createSeconds * 1e3);
  // The search scores thousands of candidates per round.
  EXPECT_LT(perCandidate, 1e-3);
}

TEST_F(CostModelTest, XGBoostRanksHeldOutCandidates) {
  std::vector<double> truth = syntheticThroughput(schedules);
  llvm::ArrayRef<Schedule> train = llvm::ArrayRef(schedules).take_front(400);
  llvm::ArrayRef<Schedule> test = llvm::ArrayRef(schedules).drop_front(400);
  llvm::ArrayRef<double> testTruth = llvm::ArrayRef(truth).drop_front(400);

  XGBoostModel xgb(1);
  // Two online updates, as the search does them.
  xgb.update(matmul->context, train.take_front(200),
             llvm::ArrayRef(truth).take_front(200));
  xgb.update(matmul->context, train.drop_front(200),
             llvm::ArrayRef(truth).slice(200, 200));
  ASSERT_TRUE(xgb.isTrained());
  EXPECT_EQ(xgb.getNumRecords(), 400u);
  double rho = spearman(xgb.predict(matmul->context, test), testTruth);

  std::unique_ptr<CostModel> random = createRandomCostModel(1);
  double randomRho =
      spearman(random->predict(matmul->context, test), testTruth);
  std::printf("Spearman on %zu held-out candidates: xgb %.3f, random %.3f\n",
              test.size(), rho, randomRho);
  EXPECT_GT(rho, 0.8);
  EXPECT_LT(std::abs(randomRho), 0.25);
}

TEST_F(CostModelTest, TrainingIsDeterministic) {
  std::vector<double> truth = syntheticThroughput(schedules);
  llvm::ArrayRef<Schedule> train = llvm::ArrayRef(schedules).take_front(200);
  XGBoostModel a(3), b(3);
  a.update(matmul->context, train, llvm::ArrayRef(truth).take_front(200));
  b.update(matmul->context, train, llvm::ArrayRef(truth).take_front(200));
  EXPECT_EQ(a.predict(matmul->context, schedules),
            b.predict(matmul->context, schedules));
}

TEST_F(CostModelTest, UntrainedModelScoresAtRandomWithItsSeed) {
  llvm::ArrayRef<Schedule> some = llvm::ArrayRef(schedules).take_front(50);
  XGBoostModel a(5), b(5), c(6);
  std::vector<double> scores = a.predict(matmul->context, some);
  EXPECT_EQ(scores, b.predict(matmul->context, some));
  EXPECT_NE(scores, c.predict(matmul->context, some));
  EXPECT_EQ(std::set<double>(scores.begin(), scores.end()).size(), 50u);

  // One distinct label teaches nothing: the model stays untrained.
  std::vector<double> constant(50, 0.5);
  a.update(matmul->context, some, constant);
  b.update(matmul->context, some, constant);
  EXPECT_FALSE(a.isTrained());
  EXPECT_EQ(a.predict(matmul->context, some), b.predict(matmul->context, some));
  llvm::Error err = a.save(tempDir() + "/m.json");
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("has not been trained"),
            std::string::npos);
}

TEST_F(CostModelTest, SaveLoadRoundTrip) {
  std::vector<double> truth = syntheticThroughput(schedules);
  XGBoostModel trained(7);
  trained.update(matmul->context, llvm::ArrayRef(schedules).take_front(300),
                 llvm::ArrayRef(truth).take_front(300));
  std::string path = tempDir() + "/model.json";
  llvm::Error err = trained.save(path);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));

  auto loaded = createCostModel("xgb:" + path, /*seed=*/99);
  ASSERT_TRUE(static_cast<bool>(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ((*loaded)->getName(), "xgb");
  EXPECT_EQ((*loaded)->predict(matmul->context, schedules),
            trained.predict(matmul->context, schedules));

  auto meta = llvm::MemoryBuffer::getFile(XGBoostModel::sidecarPath(path));
  ASSERT_TRUE(static_cast<bool>(meta));
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*meta)->getBuffer());
  ASSERT_TRUE(static_cast<bool>(json));
  const llvm::json::Object *o = json->getAsObject();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->getInteger("feature_version"), int64_t(kFeatureVersion));
  EXPECT_EQ(o->getInteger("num_features"), int64_t(kNumProgramFeatures));
  EXPECT_EQ(o->getInteger("num_records"), 300);
}

TEST_F(CostModelTest, LoadFailsWithAClearMessage) {
  std::vector<double> truth = syntheticThroughput(schedules);
  XGBoostModel model(2);
  model.update(matmul->context, llvm::ArrayRef(schedules).take_front(100),
               llvm::ArrayRef(truth).take_front(100));
  std::vector<double> before = model.predict(matmul->context, schedules);
  std::string dir = tempDir();

  auto expectError = [&](llvm::StringRef path, llvm::StringRef message) {
    llvm::Error err = model.load(path);
    ASSERT_TRUE(static_cast<bool>(err)) << path.str();
    std::string msg = llvm::toString(std::move(err));
    EXPECT_NE(msg.find(message.str()), std::string::npos) << msg;
  };
  std::string missing = dir + "/missing.json";
  expectError(missing, "cannot read '" + missing + "'");

  // A valid sidecar next to a corrupt model.
  std::string good = dir + "/good.json";
  ASSERT_FALSE(static_cast<bool>(model.save(good)));
  std::string corrupt = dir + "/corrupt.json";
  ASSERT_FALSE(llvm::sys::fs::copy_file(XGBoostModel::sidecarPath(good),
                                        XGBoostModel::sidecarPath(corrupt)));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(corrupt, ec);
    os << "{\"learner\": 42";
  }
  expectError(corrupt, "'" + corrupt + "' is not a valid XGBoost model");

  // A model without its sidecar, and a sidecar of another feature version.
  std::string lonely = dir + "/lonely.json";
  ASSERT_FALSE(llvm::sys::fs::copy_file(good, lonely));
  expectError(lonely, "cannot read '" + XGBoostModel::sidecarPath(lonely));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(XGBoostModel::sidecarPath(lonely), ec);
    os << R"({"model": "xgb", "feature_version": 0, "num_features": 3,
              "num_records": 1})";
  }
  expectError(lonely, "saved with feature version 0");

  // Failed loads keep the model.
  EXPECT_EQ(model.predict(matmul->context, schedules), before);
}

TEST_F(CostModelTest, FactoryNamesTheKnownModels) {
  auto random = createCostModel("random", 1);
  ASSERT_TRUE(static_cast<bool>(random));
  EXPECT_EQ((*random)->getName(), "random");
  auto xgb = createCostModel("xgb", 1);
  ASSERT_TRUE(static_cast<bool>(xgb));
  EXPECT_EQ((*xgb)->getName(), "xgb");

  auto nope = createCostModel("nope", 1);
  ASSERT_FALSE(static_cast<bool>(nope));
  std::string msg = llvm::toString(nope.takeError());
  EXPECT_NE(msg.find("unknown cost model 'nope'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("random, xgb, xgb:<path>"), std::string::npos) << msg;
}

TEST_F(CostModelTest, RandomModelIsSeededAndSavesItsSeed) {
  llvm::ArrayRef<Schedule> some = llvm::ArrayRef(schedules).take_front(20);
  std::unique_ptr<CostModel> a = createRandomCostModel(4);
  std::unique_ptr<CostModel> b = createRandomCostModel(4);
  std::string path = tempDir() + "/random.json";
  ASSERT_FALSE(static_cast<bool>(a->save(path)));
  std::vector<double> first = a->predict(matmul->context, some);
  EXPECT_EQ(first, b->predict(matmul->context, some));
  std::unique_ptr<CostModel> c = createRandomCostModel(8);
  ASSERT_FALSE(static_cast<bool>(c->load(path)));
  EXPECT_EQ(c->predict(matmul->context, some), first);
}

TEST(EvaluationTest, PerTaskScoresShowWhichTaskLowersTheNetworkScore) {
  // Two tasks: "a" (weight 2, best 1 s) picked right, "b" (weight 1, best
  // 2 s) picked at its 8 s program; "c" has no finite latency.
  TrainingData data;
  data.groupKeys = {"a", "b", "c"};
  data.groups = {0, 0, 1, 1, 2};
  data.latencies = {1.0, 3.0, 8.0, 2.0,
                    std::numeric_limits<double>::infinity()};
  data.labels.assign(5, 0.5f);
  std::vector<float> scores = {0.9f, 0.1f, 0.9f, 0.1f, 0.5f};
  NetworkTasks networks = {{"net", {{"a", 2}, {"b", 1}, {"c", 1}}}};
  auto result = scoreNetworks(data, scores, networks);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  ASSERT_EQ(result->size(), 1u);
  const NetworkScore &net = result->front();
  // (2 * 1 + 1 * 2) / (2 * 1 + 1 * 8).
  EXPECT_DOUBLE_EQ(net.top1, 4.0 / 10.0);
  ASSERT_EQ(net.taskScores.size(), 2u) << "c has no finite latency";
  EXPECT_EQ(net.taskScores[0].workload, "a");
  EXPECT_DOUBLE_EQ(net.taskScores[0].top1, 1.0);
  EXPECT_DOUBLE_EQ(net.taskScores[0].share, 0.5);
  EXPECT_EQ(net.taskScores[1].workload, "b");
  EXPECT_DOUBLE_EQ(net.taskScores[1].weight, 1.0);
  EXPECT_DOUBLE_EQ(net.taskScores[1].top1, 0.25);
  EXPECT_DOUBLE_EQ(net.taskScores[1].share, 0.5);
  EXPECT_DOUBLE_EQ(net.taskScores[1].bestLatency, 2.0);
  EXPECT_DOUBLE_EQ(net.taskScores[1].pickedLatency, 8.0);
  llvm::json::Object json = toJSON(*result);
  const llvm::json::Array *perTask =
      json.getObject("net")->getArray("per_task");
  ASSERT_TRUE(perTask);
  EXPECT_EQ(perTask->size(), 2u);
}
