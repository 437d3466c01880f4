//===- SequenceFeaturesTest.cpp - Primitive-sequence features -------------===//

#include "tcl/Features/SequenceFeatures.h"

#include "TaskFixture.h"

#include "mlir/Dialect/Transform/IR/TransformOps.h"

#include <cmath>
#include <random>

using namespace tcl;

namespace {

/// matmul + bias + ReLU: a fused consumer, a fill, the interchange and the
/// contraction-lowering alternatives.
constexpr const char *kDense = R"mlir(
func.func @dense(%a: tensor<128x256xf32>, %b: tensor<256x96xf32>,
                 %bias: tensor<96xf32>) -> tensor<128x96xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x96xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<128x96xf32>) -> tensor<128x96xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<128x256xf32>, tensor<256x96xf32>)
                      outs(%fill : tensor<128x96xf32>) -> tensor<128x96xf32>
  %e2 = tensor.empty() : tensor<128x96xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<128x96xf32>, tensor<96xf32>) outs(%e2 : tensor<128x96xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x96xf32>
  return %r : tensor<128x96xf32>
}
)mlir";

class SequenceFeaturesTest : public TaskFixture {
protected:
  void SetUp() override {
    setUpTask(kDense, "cpu:avx512,threads=2");
    if (HasFatalFailure())
      return;
    llvm::Expected<SequenceFeatureExtractor> e =
        SequenceFeatureExtractor::create(*space);
    ASSERT_TRUE(static_cast<bool>(e)) << llvm::toString(e.takeError());
    extractor = std::make_unique<SequenceFeatureExtractor>(std::move(*e));
  }

  /// Transform ops the printed schedule applies, counted by parsing it:
  /// every op except knobs, yields and the sequences, and except ops in
  /// non-selected regions of tune.alternatives.
  unsigned countAppliedOps(const Schedule &schedule) {
    std::string script = space->printScript(schedule);
    mlir::OwningOpRef<mlir::ModuleOp> parsed =
        mlir::parseSourceString<mlir::ModuleOp>(script, &context);
    EXPECT_TRUE(parsed);
    if (!parsed)
      return 0;
    auto sequence = parsed->lookupSymbol<mlir::transform::NamedSequenceOp>(
        ("tcl_" + space->getWorkloadKey()).str());
    unsigned count = 0;
    std::function<void(mlir::Operation *)> visit = [&](mlir::Operation *op) {
      llvm::StringRef name = op->getName().getStringRef();
      if (name == "transform.tune.knob")
        return;
      if (name != "transform.yield" && name != "transform.named_sequence")
        ++count;
      auto selected = op->getAttrOfType<mlir::IntegerAttr>("selected_region_attr");
      for (auto [i, region] : llvm::enumerate(op->getRegions())) {
        if (name == "transform.tune.alternatives" && selected &&
            static_cast<int64_t>(i) != selected.getInt())
          continue;
        for (mlir::Block &block : region)
          for (mlir::Operation &child : block)
            visit(&child);
      }
    };
    visit(sequence);
    return count;
  }

  /// The tokens of a schedule, and those of its tiling ops in order.
  struct Tokens {
    std::vector<std::string> names;
    std::vector<float> tokens, mask;
    std::vector<const float *> forall, tileFor;
  };
  Tokens extract(const Schedule &s) {
    constexpr unsigned kMax = 96;
    Tokens r;
    r.names = extractor->describe(s);
    r.tokens.resize(kMax * kNumTokenFeatures);
    r.mask.resize(kMax);
    extractor->extract(s, kMax, r.tokens.data(), r.mask.data());
    for (auto [i, name] : llvm::enumerate(r.names)) {
      const float *t = r.tokens.data() + i * kNumTokenFeatures;
      if (name == "structured.tile_using_forall")
        r.forall.push_back(t);
      if (name == "structured.tile_using_for")
        r.tileFor.push_back(t);
    }
    return r;
  }

  std::unique_ptr<SequenceFeatureExtractor> extractor;
};

TEST_F(SequenceFeaturesTest, OneTokenPerAppliedTransformOp) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) {
    Schedule s = i == 0 ? space->getDefault() : space->sample(rng);
    EXPECT_EQ(extractor->getLength(s), countAppliedOps(s)) << "sample " << i;
  }
}

TEST_F(SequenceFeaturesTest, TokensCarryKnobValuesAndLoopExtents) {
  Schedule s = space->getDefault();
  std::vector<std::string> names = extractor->describe(s);
  auto forall = llvm::find(names, "structured.tile_using_forall");
  ASSERT_NE(forall, names.end());
  unsigned index = static_cast<unsigned>(forall - names.begin());

  constexpr unsigned kMax = 96;
  std::vector<float> tokens(kMax * kNumTokenFeatures), mask(kMax);
  unsigned length = extractor->extract(s, kMax, tokens.data(), mask.data());
  ASSERT_EQ(length, names.size());
  ASSERT_LT(length, kMax);
  EXPECT_EQ(mask[length - 1], 1.0f);
  EXPECT_EQ(mask[length], 0.0f);
  const float *t = tokens.data() + index * kNumTokenFeatures;
  EXPECT_EQ(t[5], 1.0f) << "one-hot of structured.tile_using_forall";
  // The thread tile of the consumer's output dim 0 (extent 128).
  int64_t tile = s.values[space->findKnob("tile_par_0")];
  EXPECT_FLOAT_EQ(t[kTokenSizeBegin], std::log2(1.0 + tile));
  EXPECT_FLOAT_EQ(t[kTokenSizeBegin + 1], std::log2(129.0));
  EXPECT_FLOAT_EQ(t[kTokenSizeBegin + 2],
                  std::log2(1.0 + (128 + tile - 1) / tile));
  // Padding tokens are all zero.
  for (unsigned i = length * kNumTokenFeatures; i < tokens.size(); ++i)
    ASSERT_EQ(tokens[i], 0.0f);
}

TEST_F(SequenceFeaturesTest, TokensSplitTileSizesByLoopRole) {
  // A schedule whose reduction tile does not cover k (extent 256).
  std::mt19937_64 rng(3);
  Schedule s = space->getDefault();
  int red = space->findKnob("tile_red_2");
  ASSERT_GE(red, 0);
  for (int i = 0; i < 200 && s.values[red] >= 256; ++i)
    s = space->sample(rng);
  ASSERT_LT(s.values[red], 256);
  auto value = [&](const char *knob) {
    int k = space->findKnob(knob);
    EXPECT_GE(k, 0) << knob;
    return k >= 0 ? static_cast<double>(s.values[k]) : 0.0;
  };
  auto lg = [](double x) { return static_cast<float>(std::log2(1.0 + x)); };
  auto tiles = [](double extent, double size) {
    return std::ceil(extent / size);
  };

  Tokens seq = extract(s);
  const std::vector<const float *> &forall = seq.forall, &tileFor = seq.tileFor;
  ASSERT_EQ(forall.size(), 1u);
  ASSERT_GE(tileFor.size(), 2u);

  // Thread tiles of the output dims (loops i: 128, j: 96; j innermost).
  double p0 = value("tile_par_0"), p1 = value("tile_par_1");
  const float *t = forall[0];
  EXPECT_FLOAT_EQ(t[kTokenParallelVolume], lg(p0 * p1));
  EXPECT_FLOAT_EQ(t[kTokenParallelTiles],
                  lg(tiles(128, p0) * tiles(96, p1)));
  EXPECT_FLOAT_EQ(t[kTokenReductionVolume], 0.0f);
  EXPECT_FLOAT_EQ(t[kTokenReductionTiles], 0.0f);
  EXPECT_FLOAT_EQ(t[kTokenInnermostSize], lg(p1));

  // The reduction tiling [0, 0, r]: only k is tiled.
  double r = value("tile_red_2");
  t = tileFor[0];
  ASSERT_FLOAT_EQ(t[kTokenSizeBegin + 6], lg(r)) << "the k tiling token";
  EXPECT_FLOAT_EQ(t[kTokenReductionVolume], lg(r));
  EXPECT_FLOAT_EQ(t[kTokenReductionTiles], lg(tiles(256, r)));
  EXPECT_FLOAT_EQ(t[kTokenParallelVolume], 0.0f);
  EXPECT_FLOAT_EQ(t[kTokenInnermostSize], 0.0f);

  // The register tile [reg0, reg1, unroll]: both roles at once.
  double g0 = value("tile_reg_0"), g1 = value("tile_reg_1"),
         u = value("unroll_red_2");
  t = tileFor[1];
  ASSERT_FLOAT_EQ(t[kTokenSizeBegin], lg(g0)) << "the register tiling token";
  EXPECT_FLOAT_EQ(t[kTokenParallelVolume], lg(g0 * g1));
  EXPECT_FLOAT_EQ(t[kTokenParallelTiles],
                  lg(tiles(128, g0) * tiles(96, g1)));
  EXPECT_FLOAT_EQ(t[kTokenReductionVolume], lg(u));
  EXPECT_FLOAT_EQ(t[kTokenReductionTiles], lg(tiles(256, u)));
  EXPECT_FLOAT_EQ(t[kTokenInnermostSize], lg(g1));
}

/// The footprint features of `t` for the iteration-space tile with
/// `iterations` points, `input` input and `output` output bytes.
static void expectFootprint(const float *t, double iterations, double input,
                            double output) {
  auto lg = [](double x) { return static_cast<float>(std::log2(1.0 + x)); };
  EXPECT_FLOAT_EQ(t[kTokenTileIterations], lg(iterations));
  EXPECT_FLOAT_EQ(t[kTokenInputTileBytes], lg(input));
  EXPECT_FLOAT_EQ(t[kTokenOutputTileBytes], lg(output));
  EXPECT_FLOAT_EQ(t[kTokenTileIntensity], lg(iterations / (input + output)));
}

TEST_F(SequenceFeaturesTest, TokensCarryTheTileFootprintOfEachLevel) {
  std::mt19937_64 rng(5);
  Schedule s = space->sample(rng);
  auto value = [&](const char *knob) {
    int k = space->findKnob(knob);
    EXPECT_GE(k, 0) << knob;
    return k >= 0 ? static_cast<double>(s.values[k]) : 0.0;
  };
  Tokens seq = extract(s);
  const std::vector<const float *> &forall = seq.forall, &tileFor = seq.tileFor;
  for (auto [i, name] : llvm::enumerate(seq.names)) {
    const float *t = seq.tokens.data() + i * kNumTokenFeatures;
    if (name == "structured.match") {
      EXPECT_EQ(t[kTokenTileIterations], 0.0f) << "no sizes, no footprint";
      EXPECT_EQ(t[kTokenOutputTileBytes], 0.0f);
    }
  }
  ASSERT_EQ(forall.size(), 1u);
  ASSERT_GE(tileFor.size(), 2u);
  // f32 matmul (i: 128, j: 96, k: 256): A [i, k] and B [k, j] tiles in,
  // C [i, j] out. The thread tile keeps all of k; the cache tile narrows k
  // and keeps the thread tile of i, j; the register tile narrows all three.
  auto matmul = [&](const float *t, double i, double j, double k) {
    expectFootprint(t, i * j * k, 4 * (i * k + k * j), 4 * i * j);
  };
  double p0 = value("tile_par_0"), p1 = value("tile_par_1");
  double r = value("tile_red_2");
  matmul(forall[0], p0, p1, 256);
  matmul(tileFor[0], p0, p1, r);
  matmul(tileFor[1], value("tile_reg_0"), value("tile_reg_1"),
         value("unroll_red_2"));
}

/// A stride-2 3x3 convolution: input rows of a tile overlap (halo).
constexpr const char *kStridedConv = R"mlir(
func.func @conv(%in: tensor<1x17x17x8xf32>, %w: tensor<3x3x8x16xf32>,
                %out: tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32> {
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>,
                                 strides = dense<2> : tensor<2xi64>}
      ins(%in, %w : tensor<1x17x17x8xf32>, tensor<3x3x8x16xf32>)
      outs(%out : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
  return %c : tensor<1x8x8x16xf32>
}
)mlir";

class StridedConvFeaturesTest : public TaskFixture {
protected:
  void SetUp() override { setUpTask(kStridedConv, "cpu:avx512,threads=2"); }
};

TEST_F(StridedConvFeaturesTest, InputTileFootprintCountsTheWindowHalo) {
  llvm::Expected<SequenceFeatureExtractor> e =
      SequenceFeatureExtractor::create(*space);
  ASSERT_TRUE(static_cast<bool>(e)) << llvm::toString(e.takeError());
  ASSERT_EQ(space->getInputAccess().size(), 2u);
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 8; ++trial) {
    Schedule s = space->sample(rng);
    std::vector<std::string> names = e->describe(s);
    std::vector<float> tokens(96 * kNumTokenFeatures), mask(96);
    e->extract(s, 96, tokens.data(), mask.data());
    auto it = llvm::find(names, "structured.tile_using_forall");
    ASSERT_NE(it, names.end());
    const float *t =
        tokens.data() + (it - names.begin()) * kNumTokenFeatures;
    // Loops (n, oh, ow, f, kh, kw, c); thread tiles on n, oh, ow, f, the
    // window and channels whole.
    double n = s.values[space->findKnob("tile_par_0")],
           oh = s.values[space->findKnob("tile_par_1")],
           ow = s.values[space->findKnob("tile_par_2")],
           f = s.values[space->findKnob("tile_par_3")];
    double rows = 1 + 2 * (oh - 1) + 2, cols = 1 + 2 * (ow - 1) + 2;
    double input = 4 * (n * rows * cols * 8 + 3 * 3 * 8 * f);
    expectFootprint(t, n * oh * ow * f * 3 * 3 * 8, input,
                    4 * n * oh * ow * f);
  }
}

TEST_F(SequenceFeaturesTest, AlternativesChangeTheSequence) {
  Schedule outer = space->getDefault();
  int lowering = space->findKnob("contraction_lowering");
  ASSERT_GE(lowering, 0);
  outer.values[lowering] = 0;
  Schedule dot = outer;
  dot.values[lowering] = 1;
  std::vector<std::string> a = extractor->describe(outer);
  std::vector<std::string> b = extractor->describe(dot);
  EXPECT_NE(llvm::find(a, "apply_patterns.vector.lower_contraction:outerproduct"),
            a.end());
  EXPECT_EQ(llvm::find(a, "apply_patterns.vector.lower_contraction:dot"),
            a.end());
  EXPECT_NE(llvm::find(b, "apply_patterns.vector.lower_contraction:dot"),
            b.end());
  EXPECT_EQ(llvm::count(a, "other"), 0) << "every primitive is in the vocabulary";
}

TEST_F(SequenceFeaturesTest, CroppingKeepsThePrefix) {
  Schedule s = space->getDefault();
  std::vector<float> full(64 * kNumTokenFeatures), fullMask(64);
  std::vector<float> cropped(8 * kNumTokenFeatures), croppedMask(8);
  unsigned n = extractor->extract(s, 64, full.data(), fullMask.data());
  EXPECT_EQ(extractor->extract(s, 8, cropped.data(), croppedMask.data()), n);
  for (unsigned i = 0; i < 8 * kNumTokenFeatures; ++i)
    ASSERT_EQ(cropped[i], full[i]);
  EXPECT_EQ(croppedMask[7], 1.0f);
}
} // namespace
