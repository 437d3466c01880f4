//===- SpaceTest.cpp - Search spaces: sampling, mutation, constraints -----===//

#include "TaskFixture.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include "gtest/gtest.h"

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

class SpaceTest : public TaskFixture {
protected:
  void SetUp() override { setUpTask(kMatmul, "cpu:avx2,threads=2"); }
};
} // namespace

TEST_F(SpaceTest, KnobsCoverTilingAndStructuralChoices) {
  llvm::SmallVector<std::string> names;
  for (const Knob &k : space->getKnobs())
    names.push_back(k.name);
  for (const char *expected :
       {"tile_par_0", "tile_reg_0", "tile_par_1", "tile_reg_1", "tile_red_2",
        "unroll_red_2", "interchange", "contraction_lowering"})
    EXPECT_TRUE(llvm::is_contained(names, expected)) << expected;
  // Options come from the shapes: thread tiles of dim 0 divide 64.
  const Knob &par0 = space->getKnobs()[space->findKnob("tile_par_0")];
  for (int64_t v : par0.options)
    EXPECT_EQ(64 % v, 0) << v;
}

TEST_F(SpaceTest, SamplesAreValidAndSeeded) {
  std::mt19937_64 a(7), b(7);
  llvm::SmallVector<Schedule> first, second;
  for (int i = 0; i < 200; ++i) {
    first.push_back(space->sample(a));
    second.push_back(space->sample(b));
    llvm::Error err = space->verify(first.back());
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }
  EXPECT_EQ(first, second);
  // 200 draws from a space this size are not all the same point.
  llvm::SmallVector<Schedule> distinct;
  for (const Schedule &s : first)
    if (!llvm::is_contained(distinct, s))
      distinct.push_back(s);
  EXPECT_GT(distinct.size(), 100u);
}

TEST_F(SpaceTest, MutationChangesOneKnobAndStaysValid) {
  std::mt19937_64 rng(1);
  Schedule s = space->getDefault();
  for (int i = 0; i < 100; ++i) {
    Schedule m = space->mutate(s, rng);
    unsigned changed = 0;
    for (auto [x, y] : llvm::zip(s.values, m.values))
      changed += x != y;
    EXPECT_EQ(changed, 1u);
    llvm::Error err = space->verify(m);
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    s = m;
  }
}

TEST_F(SpaceTest, VerifyNamesTheBrokenConstraint) {
  Schedule s = space->getDefault();
  s.values[space->findKnob("tile_par_0")] = 2;
  s.values[space->findKnob("tile_reg_0")] = 4;
  llvm::Error err = space->verify(s);
  ASSERT_TRUE(static_cast<bool>(err));
  std::string msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("tile_reg_0 = 4 does not divide"), std::string::npos)
      << msg;

  s = space->getDefault();
  s.values[space->findKnob("tile_par_1")] = 5;
  err = space->verify(s);
  ASSERT_TRUE(static_cast<bool>(err));
  msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("'tile_par_1' = 5 is not one of its options"),
            std::string::npos)
      << msg;
}

TEST_F(SpaceTest, PrintedScheduleReadsBackAndReplays) {
  std::mt19937_64 rng(3);
  Schedule s = space->sample(rng);
  std::string script = space->printScript(s);
  auto library = mlir::parseSourceString<mlir::ModuleOp>(script, &context);
  ASSERT_TRUE(library) << script;
  auto seq = library->lookupSymbol<mlir::transform::NamedSequenceOp>(
      "tcl_" + tasks[0].key);
  ASSERT_TRUE(seq);
  mlir::FailureOr<Schedule> read = space->readSchedule(seq);
  ASSERT_TRUE(mlir::succeeded(read));
  EXPECT_EQ(*read, s);
}

namespace {
constexpr llvm::StringLiteral kGPUMatmul = R"mlir(
func.func @mm(%a: tensor<256x512xf32>, %b: tensor<512x384xf32>) -> tensor<256x384xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x384xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<256x384xf32>) -> tensor<256x384xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<256x512xf32>, tensor<512x384xf32>) outs(%fill : tensor<256x384xf32>) -> tensor<256x384xf32>
  return %mm : tensor<256x384xf32>
}
)mlir";

constexpr llvm::StringLiteral kGPUConv = R"mlir(
func.func @conv(%in: tensor<1x58x58x64xf32>, %w: tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x56x56x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%in, %w : tensor<1x58x58x64xf32>, tensor<3x3x64x64xf32>) outs(%fill : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  return %c : tensor<1x56x56x64xf32>
}
)mlir";

class GPUSpaceTest : public TaskFixture {
protected:
  void SetUp() override { setUpTask(kGPUMatmul, "cuda:sm_90"); }
};

class GPUConvSpaceTest : public TaskFixture {
protected:
  void SetUp() override { setUpTask(kGPUConv, "cuda:sm_80"); }
};
} // namespace

TEST_F(GPUSpaceTest, KnobsCoverBlockThreadReductionAndPromotion) {
  EXPECT_TRUE(space->isGPU());
  llvm::SmallVector<std::string> names;
  for (const Knob &k : space->getKnobs())
    names.push_back(k.name);
  EXPECT_EQ(names,
            (llvm::SmallVector<std::string>{"block_tile_0", "thread_tile_0",
                                            "block_tile_1", "thread_tile_1",
                                            "red_tile_2", "promote"}));
  const Knob &promote = space->getKnobs()[space->findKnob("promote")];
  EXPECT_EQ(promote.kind, Knob::Kind::Alternatives);
  EXPECT_EQ(promote.labels,
            (llvm::SmallVector<std::string>{"none", "shared"}));
}

TEST_F(GPUSpaceTest, DefaultIsBlocksOf64With256ThreadsAndSharedMemory) {
  Schedule s = space->getDefault();
  llvm::Error err = space->verify(s);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  auto value = [&](llvm::StringRef knob) {
    return s.values[space->findKnob(knob)];
  };
  EXPECT_EQ(value("block_tile_0"), 64);
  EXPECT_EQ(value("block_tile_1"), 64);
  EXPECT_EQ(value("thread_tile_0"), 4);
  EXPECT_EQ(value("thread_tile_1"), 4);
  EXPECT_EQ(value("red_tile_2"), 16);
  EXPECT_EQ(value("promote"), 1);
  EXPECT_EQ(space->getBlockDims(s), (std::array<int64_t, 3>{16, 16, 1}));
  // A 64x16 and a 16x64 f32 tile per reduction step.
  EXPECT_EQ(space->getSharedMemoryBytes(s), 2 * 64 * 16 * 4);
}

TEST_F(GPUSpaceTest, SamplesAndMutationsRespectTheLimits) {
  std::mt19937_64 rng(11);
  llvm::SmallVector<Schedule> distinct;
  for (int i = 0; i < 200; ++i) {
    Schedule s = space->sample(rng);
    llvm::Error err = space->verify(s);
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    std::array<int64_t, 3> dims = space->getBlockDims(s);
    EXPECT_LE(dims[0] * dims[1] * dims[2], 1024);
    EXPECT_LE(space->getSharedMemoryBytes(s), 48 * 1024);
    if (!llvm::is_contained(distinct, s))
      distinct.push_back(s);
    Schedule m = space->mutate(s, rng);
    err = space->verify(m);
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }
  EXPECT_GT(distinct.size(), 100u);
}

TEST_F(GPUSpaceTest, VerifyNamesTheLimitAndTheValue) {
  Schedule s = space->getDefault();
  s.values[space->findKnob("thread_tile_0")] = 1;
  s.values[space->findKnob("thread_tile_1")] = 1;
  s.values[space->findKnob("block_tile_0")] = 64;
  s.values[space->findKnob("block_tile_1")] = 64;
  llvm::Error err = space->verify(s);
  ASSERT_TRUE(static_cast<bool>(err));
  std::string msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("4096 threads per block (64x64x1), more than the limit "
                     "of 1024 on cuda:sm_90"),
            std::string::npos)
      << msg;

  s = space->getDefault();
  s.values[space->findKnob("block_tile_0")] = 256;
  s.values[space->findKnob("block_tile_1")] = 128;
  s.values[space->findKnob("thread_tile_0")] = 16;
  s.values[space->findKnob("thread_tile_1")] = 8;
  s.values[space->findKnob("red_tile_2")] = 64;
  err = space->verify(s);
  ASSERT_TRUE(static_cast<bool>(err));
  msg = llvm::toString(std::move(err));
  // (256x64 + 64x128) f32.
  EXPECT_NE(msg.find("98304 bytes of shared memory per block, more than the "
                     "limit of 49152 on cuda:sm_90"),
            std::string::npos)
      << msg;
  // Without promotion the same tiles need no shared memory.
  s.values[space->findKnob("promote")] = 0;
  err = space->verify(s);
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));

  s = space->getDefault();
  s.values[space->findKnob("thread_tile_1")] = 3;
  err = space->verify(s);
  ASSERT_TRUE(static_cast<bool>(err));
  msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("thread_tile_1 = 3 does not divide block tile "
                     "block_tile_1 = 64"),
            std::string::npos)
      << msg;
}

TEST_F(GPUSpaceTest, PrintedScheduleReadsBackAndMapsToTheGPU) {
  std::mt19937_64 rng(5);
  Schedule s = space->sample(rng);
  std::string script = space->printScript(s);
  auto library = mlir::parseSourceString<mlir::ModuleOp>(script, &context);
  ASSERT_TRUE(library) << script;
  auto seq = library->lookupSymbol<mlir::transform::NamedSequenceOp>(
      "tcl_" + tasks[0].key);
  ASSERT_TRUE(seq);
  mlir::FailureOr<Schedule> read = space->readSchedule(seq);
  ASSERT_TRUE(mlir::succeeded(read));
  EXPECT_EQ(*read, s);
  for (const char *op :
       {"#gpu.block<y>, #gpu.block<x>", "#gpu.thread<y>, #gpu.thread<x>",
        "transform.bufferization.one_shot_bufferize",
        "transform.gpu.map_forall_to_blocks", "generate_gpu_launch",
        "transform.gpu.map_nested_forall_to_threads"})
    EXPECT_NE(script.find(op), std::string::npos) << op;
}

TEST_F(GPUConvSpaceTest, ConvDistributesImageAndFilterDims) {
  // (n, oh, ow, f): n stays in each block; oh, ow, f map to z, y, x.
  EXPECT_EQ(space->getGPUDims(), (llvm::ArrayRef<unsigned>{1, 2, 3}));
  for (const char *knob : {"red_tile_4", "red_tile_5", "red_tile_6"})
    EXPECT_GE(space->findKnob(knob), 0) << knob;
  Schedule s = space->getDefault();
  llvm::Error err = space->verify(s);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  EXPECT_EQ(space->getBlockDims(s), (std::array<int64_t, 3>{16, 14, 1}));
  // Input patch 1x1x56x16 and filter tile 1x1x16x64, f32.
  EXPECT_EQ(space->getSharedMemoryBytes(s), (56 * 16 + 16 * 64) * 4);
}

namespace {
/// Tasks of each kind the GPU sketch covers, for the lowering property.
constexpr llvm::StringLiteral kGPUCases[] = {
    kGPUMatmul,
    R"mlir(
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
})mlir",
    R"mlir(
func.func @f(%a: tensor<4x32x48xf32>, %b: tensor<4x48x64xf32>, %c: tensor<4x32x64xf32>) -> tensor<4x32x64xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x32x48xf32>, tensor<4x48x64xf32>) outs(%c : tensor<4x32x64xf32>) -> tensor<4x32x64xf32>
  return %r : tensor<4x32x64xf32>
})mlir",
    R"mlir(
func.func @f(%in: tensor<1x17x17x32xf32>, %w: tensor<3x3x32x64xf32>) -> tensor<1x8x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x8x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x8x64xf32>) -> tensor<1x8x8x64xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%in, %w : tensor<1x17x17x32xf32>, tensor<3x3x32x64xf32>) outs(%fill : tensor<1x8x8x64xf32>) -> tensor<1x8x8x64xf32>
  return %c : tensor<1x8x8x64xf32>
})mlir",
};

class GPULoweringTest : public TaskFixture {};
} // namespace

// Sampled GPU schedules apply and lower to PTX: every kernel gets an entry
// and its launch bounds, within the target's limits.
TEST_F(GPULoweringTest, SampledSchedulesLowerToPTX) {
  registerTCLPasses();
  std::mt19937_64 rng(17);
  for (llvm::StringRef mlir : kGPUCases) {
    mlir::MLIRContext ctx;
    mlir::DialectRegistry registry;
    registerTCLDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    llvm::Expected<Target> target = Target::parse("cuda:sm_90");
    ASSERT_TRUE(static_cast<bool>(target)) << llvm::toString(target.takeError());
    for (int i = 0; i < 6; ++i) {
      auto module = mlir::parseSourceString<mlir::ModuleOp>(mlir, &ctx);
      ASSERT_TRUE(module);
      llvm::SmallVector<Task> found = findTasks(*module);
      ASSERT_EQ(found.size(), 1u);
      for (const Task &task : found) {
        task.anchor->setAttr(kTaskAttr,
                             mlir::StringAttr::get(&ctx, task.key));
        for (mlir::Operation *c : task.consumers)
          c->setAttr(kFusedAttr, mlir::StringAttr::get(&ctx, task.key));
      }
      auto gpuSpace = SearchSpace::forTask(found[0], *target);
      ASSERT_TRUE(mlir::succeeded(gpuSpace));
      Schedule s = i == 0 ? gpuSpace->getDefault() : gpuSpace->sample(rng);
      std::string script = gpuSpace->printScript(s);
      auto library = mlir::parseSourceString<mlir::ModuleOp>(script, &ctx);
      ASSERT_TRUE(library) << script;
      auto seq = library->lookupSymbol<mlir::transform::NamedSequenceOp>(
          "tcl_" + found[0].key);
      ASSERT_TRUE(seq);
      mlir::transform::TransformOptions options;
      ASSERT_TRUE(mlir::succeeded(mlir::transform::applyTransformNamedSequence(
          *module, seq, *library, options)))
          << script;
      mlir::PassManager pm(&ctx);
      TCLLowerToNVVMOptions lowerOptions;
      lowerOptions.target = "cuda:sm_90";
      pm.addPass(createTCLLowerToNVVM(lowerOptions));
      ASSERT_TRUE(mlir::succeeded(pm.run(*module))) << script;
      unsigned binaries = 0;
      std::array<int64_t, 3> dims = gpuSpace->getBlockDims(s);
      std::string bounds =
          llvm::formatv(".maxntid {0}, {1}, {2}", dims[0], dims[1], dims[2]);
      for (auto binary : module->getOps<mlir::gpu::BinaryOp>()) {
        ++binaries;
        auto object =
            llvm::cast<mlir::gpu::ObjectAttr>(binary.getObjects()[0]);
        llvm::StringRef ptx = object.getObject().getValue();
        EXPECT_TRUE(ptx.contains(".entry")) << ptx.str();
        EXPECT_TRUE(ptx.contains(bounds)) << bounds << "\n" << script;
        EXPECT_EQ(ptx.contains(".shared"),
                  gpuSpace->getSharedMemoryBytes(s) > 0)
            << script;
      }
      EXPECT_EQ(binaries, 1u);
    }
  }
}
