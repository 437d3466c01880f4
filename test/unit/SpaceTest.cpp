//===- SpaceTest.cpp - Search spaces: sampling, mutation, constraints -----===//

#include "TaskFixture.h"

#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

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
