//===- MeasureTest.cpp - Builder and runner tests -------------------------===//
//
// Builds small kernels from inline MLIR and measures them in child
// processes: correct, wrong, crashing, hanging and malformed candidates must
// each end as the right error code while the test process lives on.
//
//===----------------------------------------------------------------------===//

#include "tcl/Measure/Builder.h"
#include "tcl/Measure/Npy.h"
#include "tcl/Measure/Runner.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <cstring>
#include <string>
#include <vector>

using namespace tcl;

namespace {

/// `%out` is a destination: the reference accumulates into it, so a kernel
/// that ignored its initial values would fail the check.
constexpr const char *kMatmul = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                     outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";

/// The same matmul with an embedded schedule (tiling) that the builder must
/// apply before lowering.
constexpr const char *kTiledMatmul = R"mlir(
module attributes {transform.with_named_sequence} {
  func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                    %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
    %0 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                       outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
    return %0 : tensor<64x64xf32>
  }
  transform.named_sequence @__transform_main(
      %root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %tiled, %loops:2 = transform.structured.tile_using_for %mm
        tile_sizes [16, 32] : (!transform.any_op)
        -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}
)mlir";

/// The matmul split over threads: `scf.forall` becomes an OpenMP parallel
/// loop, so the kernel calls into libomp.
constexpr const char *kParallelMatmul = R"mlir(
module attributes {transform.with_named_sequence} {
  func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                    %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
    %0 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                       outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
    return %0 : tensor<64x64xf32>
  }
  transform.named_sequence @__transform_main(
      %root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %tiled, %forall = transform.structured.tile_using_forall %mm
        tile_sizes [32, 32]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
)mlir";

/// A schedule that fails when applied: functions cannot be tiled.
constexpr const char *kFailingSchedule = R"mlir(
module attributes {transform.with_named_sequence} {
  func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                    %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
    %0 = linalg.add ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                    outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
    return %0 : tensor<64x64xf32>
  }
  transform.named_sequence @__transform_main(
      %root: !transform.any_op {transform.readonly}) {
    %f = transform.structured.match ops{["func.func"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %tiled, %loop = transform.structured.tile_using_for %f tile_sizes [8]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
)mlir";

/// Overwrites `%out` with zeros before accumulating: differs from kMatmul
/// exactly when the runner fills destinations with data too.
constexpr const char *kMatmulZeroInit = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %init = linalg.fill ins(%zero : f32) outs(%out : tensor<64x64xf32>)
      -> tensor<64x64xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                     outs(%init : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";

constexpr const char *kAdd = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.add ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                  outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";

constexpr const char *kSub = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.sub ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                  outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";

/// Computes a + b into a fresh tensor instead of `%out`: the lowering turns
/// the result into a trailing out-parameter.
constexpr const char *kAddOutParam = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %init = tensor.empty() : tensor<64x64xf32>
  %0 = linalg.add ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                  outs(%init : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";

/// Stores through a wild pointer. The address is not null so that LLVM
/// cannot treat the store as undefined behaviour and delete it.
/// Already bufferized, no result: the C interface takes exactly one
/// descriptor per argument.
constexpr const char *kMemrefAdd = R"mlir(
func.func @kernel(%a: memref<64x64xf32>, %b: memref<64x64xf32>,
                  %out: memref<64x64xf32>) {
  linalg.add ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>)
             outs(%out : memref<64x64xf32>)
  return
}
)mlir";

/// One parameter more than the signature has arguments: the runner passes
/// a trailing out-parameter shaped like the result argument.
constexpr const char *kMemrefAddOutParam = R"mlir(
func.func @kernel(%a: memref<64x64xf32>, %b: memref<64x64xf32>,
                  %out: memref<64x64xf32>, %result: memref<64x64xf32>) {
  linalg.add ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>)
             outs(%result : memref<64x64xf32>)
  return
}
)mlir";

constexpr const char *kSegfault = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %addr = llvm.mlir.constant(16 : i64) : i64
  %p = llvm.inttoptr %addr : i64 to !llvm.ptr
  %one = llvm.mlir.constant(1.0 : f32) : f32
  llvm.store volatile %one, %p : f32, !llvm.ptr
  %0 = linalg.add ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                  outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";

/// Never terminates, and writes the output on every iteration so the loop
/// has a side effect and cannot be removed.
constexpr const char *kInfiniteLoop = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %true = arith.constant true
  %r = scf.while (%t = %out) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
    scf.condition(%true) %t : tensor<64x64xf32>
  } do {
  ^bb0(%t: tensor<64x64xf32>):
    %n = linalg.add ins(%a, %t : tensor<64x64xf32>, tensor<64x64xf32>)
                    outs(%t : tensor<64x64xf32>) -> tensor<64x64xf32>
    scf.yield %n : tensor<64x64xf32>
  }
  return %r : tensor<64x64xf32>
}
)mlir";

constexpr const char *kMalformed = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.frobnicate %a : tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";

constexpr int64_t kMatmulFlops = 2 * 64 * 64 * 64;

KernelSignature binarySignature() {
  KernelSignature signature;
  TensorSpec spec;
  spec.shape = {64, 64};
  spec.elementType = "f32";
  signature.args = {spec, spec, spec};
  signature.resultArg = 2;
  return signature;
}

/// Sets the reference; on failure the assertion carries the error message.
::testing::AssertionResult setReference(Runner &runner,
                                        const BuildResult &reference) {
  if (llvm::Error error = runner.setReference(reference))
    return ::testing::AssertionFailure() << llvm::toString(std::move(error));
  return ::testing::AssertionSuccess();
}

class MeasureTest : public ::testing::Test {
protected:
  void SetUp() override {
    llvm::SmallString<128> dir;
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("tcl-measure-test", dir));
    workDir = dir.str().str();
    llvm::Expected<Target> parsed = Target::parse("cpu,threads=1");
    ASSERT_TRUE(static_cast<bool>(parsed))
        << llvm::toString(parsed.takeError());
    target = *parsed;
    options.minRepeatSeconds = 0.02;
    options.timeoutSeconds = 20;
  }

  void TearDown() override {
    if (!workDir.empty())
      llvm::sys::fs::remove_directories(workDir);
  }

  /// Builds `text` and expects success.
  BuildResult buildOk(Builder &builder, llvm::StringRef text,
                      llvm::StringRef name) {
    BuildResult result = builder.build(text, name);
    EXPECT_EQ(result.error, ErrorCode::None) << result.message;
    return result;
  }

  std::string workDir;
  Target target;
  RunnerOptions options;
};

TEST(ErrorCodeTest, Spellings) {
  EXPECT_EQ(stringifyErrorCode(ErrorCode::None), "none");
  EXPECT_EQ(stringifyErrorCode(ErrorCode::BuildError), "build_error");
  EXPECT_EQ(stringifyErrorCode(ErrorCode::RuntimeError), "runtime_error");
  EXPECT_EQ(stringifyErrorCode(ErrorCode::WrongAnswer), "wrong_answer");
  EXPECT_EQ(stringifyErrorCode(ErrorCode::Timeout), "timeout");
}

TEST_F(MeasureTest, BuildsSharedObject) {
  Builder builder(target, workDir, 1);
  BuildResult result = buildOk(builder, kMemrefAdd, "add");
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(result.message.empty());
  EXPECT_TRUE(llvm::sys::fs::exists(result.libraryPath));
  EXPECT_TRUE(llvm::sys::path::is_absolute(result.libraryPath));
  EXPECT_EQ(llvm::sys::path::filename(result.libraryPath), "add.so");
  EXPECT_EQ(result.numKernelArgs, 3u);
  EXPECT_FALSE(result.resultReturned);
  EXPECT_GT(result.buildSeconds, 0);
  // The object file is an intermediate.
  EXPECT_FALSE(llvm::sys::fs::exists(result.libraryPath + ".o"));

  BuildResult outParam = buildOk(builder, kMemrefAddOutParam, "out_param");
  EXPECT_EQ(outParam.numKernelArgs, 4u);
  EXPECT_FALSE(outParam.resultReturned);

  // A kernel on tensors has one C-interface parameter more than arguments:
  // its result, returned or turned into an out-parameter by the lowering.
  BuildResult onTensors = buildOk(builder, kMatmul, "matmul");
  EXPECT_EQ(onTensors.numKernelArgs, 4u);
}

TEST_F(MeasureTest, CorrectCandidateIsTimed) {
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, kMatmul, "reference");
  BuildResult candidate = buildOk(builder, kTiledMatmul, "tiled");
  ASSERT_TRUE(reference.ok() && candidate.ok());

  Runner runner(binarySignature(), options);
  ASSERT_TRUE(setReference(runner, reference));
  EXPECT_TRUE(runner.hasReference());

  MeasureResult result = runner.measure(candidate, kMatmulFlops);
  ASSERT_EQ(result.error, ErrorCode::None) << result.message;
  EXPECT_TRUE(result.message.empty());
  ASSERT_GE(result.latencies.size(), options.minRepeats);
  double total = 0;
  for (double latency : result.latencies) {
    EXPECT_GT(latency, 0);
    total += latency;
  }
  EXPECT_GE(total, options.minRepeatSeconds);
  EXPECT_GT(result.minSeconds, 0);
  EXPECT_LE(result.minSeconds, result.medianSeconds);
  EXPECT_GT(result.gflops, 0);
  EXPECT_NEAR(result.gflops, kMatmulFlops / result.medianSeconds / 1e9,
              1e-9 * result.gflops);
  EXPECT_LE(result.maxAbsError, 1e-3);
  EXPECT_GE(result.runSeconds, total);
}

TEST(RunnerOptionsTest, OpenMPEnvironmentPinsThreadsOnlyWhenAsked) {
  using Env = std::vector<std::pair<std::string, std::string>>;
  RunnerOptions options;
  options.threads = 0;
  EXPECT_EQ(openMPEnvironment(options), (Env{{"OMP_NUM_THREADS", "1"}}));
  options.threads = 2;
  options.bindThreads = true;
  EXPECT_EQ(openMPEnvironment(options), (Env{{"OMP_NUM_THREADS", "2"},
                                             {"OMP_PROC_BIND", "close"},
                                             {"OMP_PLACES", "cores"}}));
}

TEST_F(MeasureTest, ParallelKernelUsesOpenMPPinnedOrNot) {
  for (const char *spelling : {"cpu,threads=2", "cpu,threads=2,bind"}) {
    SCOPED_TRACE(spelling);
    llvm::Expected<Target> target = Target::parse(spelling);
    ASSERT_TRUE(static_cast<bool>(target))
        << llvm::toString(target.takeError());
    Builder builder(*target, workDir, 1);
    BuildResult reference = buildOk(builder, kMatmul, "reference");
    BuildResult candidate = buildOk(builder, kParallelMatmul, "parallel");
    ASSERT_TRUE(candidate.ok());

    RunnerOptions parallel = options;
    parallel.threads = target->threads;
    parallel.bindThreads = target->bindThreads;
    Runner runner(binarySignature(), parallel);
    ASSERT_TRUE(setReference(runner, reference));
    MeasureResult result = runner.measure(candidate, kMatmulFlops);
    EXPECT_EQ(result.error, ErrorCode::None) << result.message;
    EXPECT_GT(result.gflops, 0);
    EXPECT_LE(result.maxAbsError, 1e-3);
  }
}

TEST_F(MeasureTest, SameKernelReproducesReferenceExactly) {
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, kMatmul, "reference");
  BuildResult candidate = buildOk(builder, kMatmul, "candidate");
  RunnerOptions exact = options;
  exact.rtol = 0;
  exact.atol = 0;
  Runner runner(binarySignature(), exact);
  ASSERT_TRUE(setReference(runner, reference));
  MeasureResult result = runner.measure(candidate, kMatmulFlops);
  EXPECT_EQ(result.error, ErrorCode::None) << result.message;
  EXPECT_EQ(result.maxAbsError, 0);
}

TEST_F(MeasureTest, ResultConventions) {
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, kAdd, "add");
  Runner runner(binarySignature(), options);
  ASSERT_TRUE(setReference(runner, reference));

  // In place into the result argument, into a trailing out-parameter, and
  // into a buffer the kernel allocates itself: all compute a + b.
  for (const char *text : {kMemrefAdd, kMemrefAddOutParam, kAddOutParam}) {
    BuildResult candidate = buildOk(builder, text, "candidate");
    MeasureResult result = runner.measure(candidate, 64 * 64);
    EXPECT_EQ(result.error, ErrorCode::None) << result.message << "\n" << text;
    EXPECT_EQ(result.maxAbsError, 0) << text;
  }
}

TEST_F(MeasureTest, DifferentFunctionIsWrongAnswer) {
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, kAdd, "add");
  BuildResult candidate = buildOk(builder, kSub, "sub");

  Runner runner(binarySignature(), options);
  ASSERT_TRUE(setReference(runner, reference));
  MeasureResult result = runner.measure(candidate, 64 * 64);
  EXPECT_EQ(result.error, ErrorCode::WrongAnswer);
  EXPECT_NE(result.message.find("max abs error"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("index"), std::string::npos) << result.message;
  // a + b and a - b differ by 2|b|, up to 2 for inputs in [-1, 1].
  EXPECT_GT(result.maxAbsError, 0.5);
  EXPECT_LE(result.maxAbsError, 2.0);
  EXPECT_TRUE(result.latencies.empty());
}

TEST_F(MeasureTest, DestinationsAreInitialized) {
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, kMatmul, "accumulate");
  BuildResult candidate = buildOk(builder, kMatmulZeroInit, "zero_init");
  Runner runner(binarySignature(), options);
  ASSERT_TRUE(setReference(runner, reference));
  MeasureResult result = runner.measure(candidate, kMatmulFlops);
  EXPECT_EQ(result.error, ErrorCode::WrongAnswer) << result.message;
}

TEST_F(MeasureTest, WithoutReferenceTheCheckIsSkipped) {
  Builder builder(target, workDir, 1);
  BuildResult candidate = buildOk(builder, kSub, "sub");
  Runner runner(binarySignature(), options);
  EXPECT_FALSE(runner.hasReference());
  MeasureResult result = runner.measure(candidate, 64 * 64);
  EXPECT_EQ(result.error, ErrorCode::None) << result.message;
  EXPECT_FALSE(result.latencies.empty());
}

TEST_F(MeasureTest, CrashIsRuntimeErrorAndRunnerSurvives) {
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, kAdd, "add");
  BuildResult crashing = buildOk(builder, kSegfault, "segfault");

  Runner runner(binarySignature(), options);
  ASSERT_TRUE(setReference(runner, reference));
  MeasureResult result = runner.measure(crashing, 64 * 64);
  EXPECT_EQ(result.error, ErrorCode::RuntimeError);
  EXPECT_NE(result.message.find("SIGSEGV"), std::string::npos)
      << result.message;

  // The runner, and this process, carry on measuring.
  MeasureResult good = runner.measure(reference, 64 * 64);
  EXPECT_EQ(good.error, ErrorCode::None) << good.message;
}

TEST_F(MeasureTest, CrashingReferenceIsAnError) {
  Builder builder(target, workDir, 1);
  BuildResult crashing = buildOk(builder, kSegfault, "segfault");
  Runner runner(binarySignature(), options);
  llvm::Error error = runner.setReference(crashing);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("SIGSEGV"),
            std::string::npos);
  EXPECT_FALSE(runner.hasReference());
}

TEST_F(MeasureTest, HangIsTimeout) {
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, kAdd, "add");
  BuildResult hanging = buildOk(builder, kInfiniteLoop, "loop");

  RunnerOptions shortLimit = options;
  shortLimit.timeoutSeconds = 1;
  Runner runner(binarySignature(), shortLimit);
  ASSERT_TRUE(setReference(runner, reference));
  MeasureResult result = runner.measure(hanging, 64 * 64);
  EXPECT_EQ(result.error, ErrorCode::Timeout) << result.message;
  EXPECT_GE(result.runSeconds, 1.0);
  EXPECT_LT(result.runSeconds, 10.0);

  MeasureResult good = runner.measure(reference, 64 * 64);
  EXPECT_EQ(good.error, ErrorCode::None) << good.message;
}

TEST_F(MeasureTest, MalformedModuleIsBuildError) {
  Builder builder(target, workDir, 1);
  BuildResult result = builder.build(kMalformed, "malformed");
  EXPECT_EQ(result.error, ErrorCode::BuildError);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.message.find("linalg.frobnicate"), std::string::npos)
      << result.message;
  EXPECT_TRUE(result.libraryPath.empty());

  // A failed build measures as itself, without running anything.
  Runner runner(binarySignature(), options);
  MeasureResult measured = runner.measure(result, 1);
  EXPECT_EQ(measured.error, ErrorCode::BuildError);
  EXPECT_EQ(measured.message, result.message);
  EXPECT_FALSE(setReference(runner, result));
}

TEST_F(MeasureTest, FailingScheduleIsBuildError) {
  Builder builder(target, workDir, 1);
  BuildResult result = builder.build(kFailingSchedule, "bad_schedule");
  EXPECT_EQ(result.error, ErrorCode::BuildError);
  EXPECT_NE(result.message.find("schedule"), std::string::npos)
      << result.message;
}

TEST_F(MeasureTest, MissingKernelIsBuildError) {
  Builder builder(target, workDir, 1);
  BuildResult result = builder.build(kAdd, "add", "not_there");
  EXPECT_EQ(result.error, ErrorCode::BuildError);
  EXPECT_NE(result.message.find("_mlir_ciface_not_there"), std::string::npos)
      << result.message;
}

TEST_F(MeasureTest, BuildAllKeepsInputOrder) {
  Builder builder(target, workDir, 2);
  llvm::SmallVector<std::string> texts = {kMemrefAdd, kMalformed,
                                          kMemrefAddOutParam};
  llvm::SmallVector<BuildResult> results = builder.buildAll(texts, "batch");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].error, ErrorCode::None) << results[0].message;
  EXPECT_EQ(results[1].error, ErrorCode::BuildError);
  EXPECT_EQ(results[2].error, ErrorCode::None) << results[2].message;
  EXPECT_EQ(llvm::sys::path::filename(results[0].libraryPath), "batch_0.so");
  EXPECT_EQ(llvm::sys::path::filename(results[2].libraryPath), "batch_2.so");
  EXPECT_EQ(results[0].numKernelArgs, 3u);
  EXPECT_EQ(results[2].numKernelArgs, 4u);
}

TEST_F(MeasureTest, UnsupportedElementTypeIsRuntimeError) {
  Builder builder(target, workDir, 1);
  BuildResult candidate = buildOk(builder, kAdd, "add");
  KernelSignature signature = binarySignature();
  signature.args[0].elementType = "complex<f32>";
  Runner runner(signature, options);
  MeasureResult result = runner.measure(candidate, 1);
  EXPECT_EQ(result.error, ErrorCode::RuntimeError);
  EXPECT_NE(result.message.find("unsupported element type"), std::string::npos)
      << result.message;
}

} // namespace

//===----------------------------------------------------------------------===//
// Whole functions: many arguments, a returned tensor, .npy inputs and output
//===----------------------------------------------------------------------===//

/// `@forward` returns the sum of its `n` 4x8 arguments as a new tensor:
/// more arguments than a fixed-arity caller would support.
static std::string sumOfArguments(unsigned n) {
  std::string text = "func.func @forward(";
  for (unsigned i = 0; i < n; ++i)
    text += (i ? ", %a" : "%a") + std::to_string(i) + ": tensor<4x8xf32>";
  text += ") -> tensor<4x8xf32> {\n";
  std::string acc = "%a0";
  for (unsigned i = 1; i < n; ++i) {
    std::string next = "%s" + std::to_string(i);
    text += "  %e" + std::to_string(i) + " = tensor.empty() : tensor<4x8xf32>\n";
    text += "  " + next + " = linalg.add ins(" + acc + ", %a" +
            std::to_string(i) +
            " : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e" + std::to_string(i) +
            " : tensor<4x8xf32>) -> tensor<4x8xf32>\n";
    acc = next;
  }
  return text + "  return " + acc + " : tensor<4x8xf32>\n}\n";
}

TEST_F(MeasureTest, ManyArgumentsFromFilesToFile) {
  constexpr unsigned kArgs = 20;
  Builder builder(target, workDir, 1);
  BuildResult build = builder.build(sumOfArguments(kArgs), "sum", "forward");
  ASSERT_TRUE(build.ok()) << build.message;

  // Argument i holds i + j / 100 at flat index j.
  std::string inputs = workDir + "/inputs";
  ASSERT_FALSE(llvm::sys::fs::create_directory(inputs));
  for (unsigned i = 0; i < kArgs; ++i) {
    std::vector<float> values(32);
    for (unsigned j = 0; j < 32; ++j)
      values[j] = static_cast<float>(i) + static_cast<float>(j) / 100;
    ASSERT_FALSE(static_cast<bool>(
        writeNpy(inputs + "/arg" + std::to_string(i) + ".npy", "f32", {4, 8},
                 values.data())));
  }

  KernelSignature signature;
  signature.name = "forward";
  signature.args.assign(kArgs, TensorSpec{{4, 8}, "f32"});
  signature.result = TensorSpec{{4, 8}, "f32"};
  RunnerOptions fileOptions = options;
  fileOptions.inputDirectory = inputs;
  fileOptions.outputPath = workDir + "/out.npy";
  Runner runner(signature, fileOptions);
  MeasureResult result = runner.measure(build, 0);
  ASSERT_EQ(result.error, ErrorCode::None) << result.message;

  llvm::Expected<NpyArray> out = readNpy(fileOptions.outputPath);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_EQ(out->elementType, "f32");
  EXPECT_EQ(out->shape, (llvm::SmallVector<int64_t>{4, 8}));
  ASSERT_EQ(out->data.size(), 32 * sizeof(float));
  const float *got = reinterpret_cast<const float *>(out->data.data());
  for (unsigned j = 0; j < 32; ++j)
    EXPECT_NEAR(got[j], 190.0 + 20.0 * j / 100, 1e-3) << "element " << j;

  // An input of the wrong shape is named in the error.
  std::vector<float> small(8, 1.0f);
  ASSERT_FALSE(static_cast<bool>(
      writeNpy(inputs + "/arg7.npy", "f32", {8}, small.data())));
  MeasureResult bad = runner.measure(build, 0);
  EXPECT_EQ(bad.error, ErrorCode::RuntimeError);
  EXPECT_NE(bad.message.find("arg7.npy' holds 8xf32, the argument is 4x8xf32"),
            std::string::npos)
      << bad.message;
}

TEST_F(MeasureTest, NpyRoundTripAndErrors) {
  std::string path = workDir + "/a.npy";
  int32_t values[6] = {1, -2, 3, -4, 5, -6};
  ASSERT_FALSE(static_cast<bool>(writeNpy(path, "i32", {2, 3}, values)));
  llvm::Expected<NpyArray> back = readNpy(path);
  ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->elementType, "i32");
  EXPECT_EQ(back->shape, (llvm::SmallVector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(back->data.data(), values, sizeof(values)), 0);

  // One-dimensional shapes are written as Python 1-tuples, `(5,)`.
  float five[5] = {0, 1, 2, 3, 4};
  ASSERT_FALSE(static_cast<bool>(writeNpy(path, "f32", {5}, five)));
  llvm::Expected<NpyArray> vector = readNpy(path);
  ASSERT_TRUE(static_cast<bool>(vector)) << llvm::toString(vector.takeError());
  EXPECT_EQ(vector->shape, (llvm::SmallVector<int64_t>{5}));

  auto errorOf = [](llvm::Expected<NpyArray> array) {
    return array ? std::string() : llvm::toString(array.takeError());
  };
  EXPECT_NE(errorOf(readNpy(workDir + "/missing.npy")).find("missing.npy"),
            std::string::npos);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(workDir + "/bad.npy", ec);
    os << "not numpy at all";
  }
  EXPECT_NE(errorOf(readNpy(workDir + "/bad.npy")).find("bad magic"),
            std::string::npos);
  // Cut the data of a valid file short.
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(workDir + "/short.npy", ec);
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> full =
        llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(static_cast<bool>(full));
    os << (*full)->getBuffer().drop_back(4);
  }
  EXPECT_NE(errorOf(readNpy(workDir + "/short.npy")).find("needs 20"),
            std::string::npos);
}

TEST_F(MeasureTest, NaNWhereTheReferenceHasNaNIsRight) {
  // sqrt of the uniform [-1, 1] inputs: NaN for half of them, in the
  // reference and in the candidate alike.
  const char *sqrtKernel = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.sqrt ins(%a : tensor<64x64xf32>)
                   outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
)mlir";
  const char *absKernel = R"mlir(
func.func @kernel(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                  %out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.abs ins(%a : tensor<64x64xf32>)
                  outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
  %1 = linalg.sqrt ins(%0 : tensor<64x64xf32>)
                   outs(%out : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %1 : tensor<64x64xf32>
}
)mlir";
  Builder builder(target, workDir, 1);
  BuildResult reference = buildOk(builder, sqrtKernel, "sqrt_ref");
  BuildResult same = buildOk(builder, sqrtKernel, "sqrt_same");
  BuildResult noNaN = buildOk(builder, absKernel, "sqrt_abs");
  Runner runner(binarySignature(), options);
  ASSERT_TRUE(setReference(runner, reference));
  MeasureResult ok = runner.measure(same, 1);
  EXPECT_EQ(ok.error, ErrorCode::None) << ok.message;
  // A number where the reference has NaN is wrong.
  MeasureResult wrong = runner.measure(noNaN, 1);
  EXPECT_EQ(wrong.error, ErrorCode::WrongAnswer) << wrong.message;
}
