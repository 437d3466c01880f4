//===- SpacePropertyTest.cpp - Sampled schedules compute the right thing --===//
//
// For every op kind the sketch rules cover: draw 50 schedules from the
// task's space with a fixed seed, build, run and compare each with the naive
// reference on random inputs. Every schedule must either pass or come back
// with a recorded error code, and at least 90% must pass.
//
//===----------------------------------------------------------------------===//

#include "tcl/Measure/TaskMeasurer.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"

#include "gtest/gtest.h"

#include <iostream>

using namespace tcl;

namespace {
struct OpCase {
  const char *name;
  const char *mlir;
};

const OpCase kCases[] = {
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
    {"matmul_non_dividing", R"mlir(
func.func @f(%a: tensor<30x96xf32>, %b: tensor<96x100xf32>, %c: tensor<30x100xf32>) -> tensor<30x100xf32> {
  %mm = linalg.matmul ins(%a, %b : tensor<30x96xf32>, tensor<96x100xf32>) outs(%c : tensor<30x100xf32>) -> tensor<30x100xf32>
  return %mm : tensor<30x100xf32>
})mlir"},
    {"matmul_transpose_b", R"mlir(
func.func @f(%a: tensor<64x96xf32>, %b: tensor<128x96xf32>, %c: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %mm = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<64x96xf32>, tensor<128x96xf32>) outs(%c : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %mm : tensor<64x128xf32>
})mlir"},
    {"batch_matmul", R"mlir(
func.func @f(%a: tensor<4x32x48xf32>, %b: tensor<4x48x64xf32>, %c: tensor<4x32x64xf32>) -> tensor<4x32x64xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x32x48xf32>, tensor<4x48x64xf32>) outs(%c : tensor<4x32x64xf32>) -> tensor<4x32x64xf32>
  return %r : tensor<4x32x64xf32>
})mlir"},
    {"conv_2d_nhwc_hwcf_stride2", R"mlir(
func.func @f(%i: tensor<1x17x17x16xf32>, %w: tensor<3x3x16x32xf32>) -> tensor<1x8x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x8x32xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%i, %w : tensor<1x17x17x16xf32>, tensor<3x3x16x32xf32>) outs(%fill : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %r : tensor<1x8x8x32xf32>
})mlir"},
    {"conv_2d_nchw_fchw", R"mlir(
func.func @f(%i: tensor<1x16x10x10xf32>, %w: tensor<32x16x3x3xf32>, %o: tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x16x10x10xf32>, tensor<32x16x3x3xf32>) outs(%o : tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
  return %r : tensor<1x32x8x8xf32>
})mlir"},
    {"conv_2d_nhwc_fhwc", R"mlir(
func.func @f(%i: tensor<1x10x10x16xf32>, %w: tensor<32x3x3x16xf32>, %o: tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32> {
  %r = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x10x10x16xf32>, tensor<32x3x3x16xf32>) outs(%o : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %r : tensor<1x8x8x32xf32>
})mlir"},
    {"depthwise_conv_2d_nhwc_hwc", R"mlir(
func.func @f(%i: tensor<1x10x10x32xf32>, %w: tensor<3x3x32xf32>, %o: tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32> {
  %r = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x10x10x32xf32>, tensor<3x3x32xf32>) outs(%o : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %r : tensor<1x8x8x32xf32>
})mlir"},
    {"conv_2d_nhwgc_gfhwc_relu", R"mlir(
func.func @f(%i: tensor<1x16x16x8x4xf32>, %w: tensor<8x4x3x3x4xf32>) -> tensor<1x14x14x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x14x14x8x4xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x14x14x8x4xf32>) -> tensor<1x14x14x8x4xf32>
  %c = linalg.conv_2d_nhwgc_gfhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %w : tensor<1x16x16x8x4xf32>, tensor<8x4x3x3x4xf32>) outs(%fill : tensor<1x14x14x8x4xf32>) -> tensor<1x14x14x8x4xf32>
  %e2 = tensor.empty() : tensor<1x14x14x8x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<1x14x14x8x4xf32>) outs(%e2 : tensor<1x14x14x8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x14x14x8x4xf32>
  return %r : tensor<1x14x14x8x4xf32>
})mlir"},
    {"conv_2d_nhwgc_gfhwc_stride2", R"mlir(
func.func @f(%i: tensor<1x15x15x4x8xf32>, %w: tensor<4x8x3x3x8xf32>, %o: tensor<1x7x7x4x8xf32>) -> tensor<1x7x7x4x8xf32> {
  %r = linalg.conv_2d_nhwgc_gfhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%i, %w : tensor<1x15x15x4x8xf32>, tensor<4x8x3x3x8xf32>) outs(%o : tensor<1x7x7x4x8xf32>) -> tensor<1x7x7x4x8xf32>
  return %r : tensor<1x7x7x4x8xf32>
})mlir"},
    {"pooling_nhwc_max", R"mlir(
func.func @f(%i: tensor<1x17x17x16xf32>, %o: tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32> {
  %win = tensor.empty() : tensor<3x3xf32>
  %r = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%i, %win : tensor<1x17x17x16xf32>, tensor<3x3xf32>) outs(%o : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
  return %r : tensor<1x8x8x16xf32>
})mlir"},
    {"pooling_nchw_sum", R"mlir(
func.func @f(%i: tensor<1x16x10x10xf32>, %o: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %win = tensor.empty() : tensor<3x3xf32>
  %r = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%i, %win : tensor<1x16x10x10xf32>, tensor<3x3xf32>) outs(%o : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %r : tensor<1x16x8x8xf32>
})mlir"},
    {"reduction_max", R"mlir(
func.func @f(%x: tensor<4x32x64xf32>, %init: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : tensor<4x32x64xf32>) outs(%init : tensor<4x32xf32>) {
  ^bb0(%a: f32, %m: f32):
    %v = arith.maximumf %a, %m : f32
    linalg.yield %v : f32
  } -> tensor<4x32xf32>
  return %r : tensor<4x32xf32>
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

class SpacePropertyTest : public ::testing::TestWithParam<OpCase> {};
} // namespace

TEST_P(SpacePropertyTest, SampledSchedulesPassOrReportAnError) {
  const OpCase &c = GetParam();
  mlir::DialectRegistry registry;
  registerTCLDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(c.mlir, &context);
  ASSERT_TRUE(module);
  llvm::SmallVector<Task> tasks = findTasks(*module);
  ASSERT_EQ(tasks.size(), 1u);

  llvm::Expected<Target> target = Target::parse("cpu,threads=2");
  ASSERT_TRUE(static_cast<bool>(target));
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("tcl-property", dir));
  Builder builder(*target, std::string(dir));
  RunnerOptions options;
  options.threads = 2;
  options.warmup = 0;
  options.minRepeats = 1;
  options.minRepeatSeconds = 0.001;
  options.timeoutSeconds = 30;
  auto measurer = TaskMeasurer::create(tasks[0], builder, options);
  ASSERT_TRUE(static_cast<bool>(measurer))
      << llvm::toString(measurer.takeError());
  llvm::Error refErr = (*measurer)->prepareReference();
  ASSERT_FALSE(static_cast<bool>(refErr)) << llvm::toString(std::move(refErr));

  std::mt19937_64 rng(2026);
  llvm::SmallVector<Schedule> schedules = {(*measurer)->getSpace().getDefault()};
  for (int i = 0; i < 50; ++i)
    schedules.push_back((*measurer)->getSpace().sample(rng));
  std::vector<Trial> trials = (*measurer)->measure(schedules);
  ASSERT_EQ(trials.size(), schedules.size());

  unsigned passed = 0;
  for (const Trial &t : trials) {
    ErrorCode error = t.build.ok() ? t.measure.error : t.build.error;
    if (error == ErrorCode::None) {
      ++passed;
      EXPECT_GT(t.measure.medianSeconds, 0);
      continue;
    }
    // A failure is recorded with its reason, never silent.
    std::string message = t.build.ok() ? t.measure.message : t.build.message;
    EXPECT_FALSE(message.empty()) << stringifyErrorCode(error).str();
    std::cerr << c.name << ": schedule failed ("
                  << stringifyErrorCode(error).str() << "): "
                  << message.substr(0, 500) << "\n"
                  << (*measurer)->getSpace().printScript(t.schedule);
  }
  // The default schedule must always work.
  EXPECT_TRUE(trials.front().build.ok() && trials.front().measure.ok());
  EXPECT_GE(passed * 10, trials.size() * 9)
      << passed << " of " << trials.size() << " passed";
  llvm::sys::fs::remove_directories(dir);
}

INSTANTIATE_TEST_SUITE_P(OpKinds, SpacePropertyTest,
                         ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<OpCase> &info) {
                           return std::string(info.param.name);
                         });
