//===- GPUBatchTest.cpp - GPU programs, batches and seeded inputs ---------===//

#include "tcl/Measure/Elements.h"
#include "tcl/Measure/GPUBatch.h"
#include "tcl/Transforms/GPUProgram.h"

#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

using namespace tcl;

namespace {

/// A program with a rank-2 and a rank-1 buffer and one launch of `kernel`
/// taking both and an i64 and f32 constant.
GPUProgram makeProgram(llvm::StringRef ptx) {
  GPUProgram p;
  p.function = "kernel";
  p.buffers.push_back({"f32", {4, 8}, 0});
  p.buffers.push_back({"f16", {8}, -1});
  GPULaunch launch;
  launch.module = "k";
  launch.kernel = "k";
  launch.grid = {2, 1, 1};
  launch.block = {32, 4, 1};
  GPUOperand b0, b1, i, f;
  b0.buffer = 0;
  b1.buffer = 1;
  i.kind = GPUOperand::Kind::Integer;
  i.intValue = -3;
  i.type = "i64";
  f.kind = GPUOperand::Kind::Float;
  f.floatValue = 0.5;
  f.type = "f32";
  launch.operands = {b0, i, b1, f};
  p.launches.push_back(launch);
  p.result = 1;
  p.ptx["k"] = ptx.str();
  return p;
}

std::string entryWithParams(int n) {
  std::string ptx = ".version 8.0\n.visible .entry k(\n";
  for (int i = 0; i < n; ++i)
    ptx += "\t.param .u64 k_param_" + std::to_string(i) +
           (i + 1 < n ? ",\n" : "\n");
  return ptx + ")\n{\n\tret;\n}\n";
}

TEST(GPUProgramTest, ParametersAreDescriptorFieldsAndScalars) {
  GPUProgram p = makeProgram("");
  // 3 + 2*2 for the rank-2 buffer, 1, 3 + 2*1 for the rank-1 buffer, 1.
  EXPECT_EQ(p.numParameters(p.launches[0]), 7 + 1 + 5 + 1);
}

TEST(GPUProgramTest, PTXParameterCountIsChecked) {
  EXPECT_FALSE(static_cast<bool>(
      checkPTXParameters(makeProgram(entryWithParams(14)))));
  llvm::Error fewer = checkPTXParameters(makeProgram(entryWithParams(13)));
  ASSERT_TRUE(static_cast<bool>(fewer));
  EXPECT_EQ(llvm::toString(std::move(fewer)),
            "kernel 'k' takes 13 parameters in its PTX, but its launch "
            "passes 14");
  llvm::Error missing = checkPTXParameters(makeProgram(".version 8.0\n"));
  ASSERT_TRUE(static_cast<bool>(missing));
  EXPECT_EQ(llvm::toString(std::move(missing)),
            "the PTX of module 'k' has no entry 'k'");
}

TEST(GPUProgramTest, JSONRoundTrip) {
  GPUProgram p = makeProgram(entryWithParams(14));
  llvm::Expected<GPUProgram> q = programFromJSON(toJSON(p));
  ASSERT_TRUE(static_cast<bool>(q)) << llvm::toString(q.takeError());
  EXPECT_EQ(q->function, "kernel");
  ASSERT_EQ(q->buffers.size(), 2u);
  EXPECT_EQ(q->buffers[1].elementType, "f16");
  EXPECT_EQ(q->buffers[0].argument, 0);
  EXPECT_EQ(q->buffers[1].argument, -1);
  EXPECT_EQ(llvm::ArrayRef(q->buffers[0].shape), llvm::ArrayRef<int64_t>({4, 8}));
  ASSERT_EQ(q->launches.size(), 1u);
  const GPULaunch &l = q->launches[0];
  EXPECT_EQ(l.grid, (std::array<int64_t, 3>{2, 1, 1}));
  EXPECT_EQ(l.block, (std::array<int64_t, 3>{32, 4, 1}));
  ASSERT_EQ(l.operands.size(), 4u);
  EXPECT_EQ(l.operands[1].kind, GPUOperand::Kind::Integer);
  EXPECT_EQ(l.operands[1].intValue, -3);
  EXPECT_EQ(l.operands[3].kind, GPUOperand::Kind::Float);
  EXPECT_EQ(l.operands[3].floatValue, 0.5);
  EXPECT_EQ(l.operands[2].buffer, 1);
  EXPECT_EQ(q->result, 1);
  EXPECT_EQ(q->ptx.at("k"), p.ptx.at("k"));
}

TEST(GPUProgramTest, BadProgramsNameTheProblem) {
  llvm::json::Value v = toJSON(makeProgram(""));
  (*v.getAsObject()->getArray("launches"))[0].getAsObject()->operator[](
      "block") = llvm::json::Array{32, 0, 1};
  llvm::Expected<GPUProgram> bad = programFromJSON(v);
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "must be positive at GPU program.launches[0].block[1]");

  llvm::json::Value w = toJSON(makeProgram(""));
  w.getAsObject()->getObject("ptx")->erase("k");
  bad = programFromJSON(w);
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "no PTX for this kernel module at GPU program.launches[0].module");
}

TEST(ElementsTest, SeededInputsDependOnSeedAndArgument) {
  float a[64], b[64], c[64], d[64];
  fillUniform(ElementKind::F32, a, 64, 7, 0);
  fillUniform(ElementKind::F32, b, 64, 7, 0);
  fillUniform(ElementKind::F32, c, 64, 7, 1);
  fillUniform(ElementKind::F32, d, 64, 8, 0);
  EXPECT_EQ(std::memcmp(a, b, sizeof(a)), 0);
  EXPECT_NE(std::memcmp(a, c, sizeof(a)), 0);
  EXPECT_NE(std::memcmp(a, d, sizeof(a)), 0);
  for (float x : a) {
    EXPECT_GE(x, -1.0f);
    EXPECT_LE(x, 1.0f);
  }
}

TEST(ElementsTest, Tolerance) {
  double error = 0;
  EXPECT_TRUE(withinTolerance(1.0005, 1.0, 1e-3, 0, error));
  EXPECT_NEAR(error, 5e-4, 1e-12);
  EXPECT_FALSE(withinTolerance(1.002, 1.0, 1e-3, 0, error));
  EXPECT_TRUE(withinTolerance(NAN, NAN, 1e-3, 0, error));
  EXPECT_EQ(error, 0);
  EXPECT_FALSE(withinTolerance(NAN, 1.0, 1e-3, 0, error));
  EXPECT_TRUE(std::isinf(error));
}

TEST(GPUBatchTest, ReferenceSamplesAreSpreadOverTheOutput) {
  std::vector<float> out(10000);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<float>(i);
  GPUReference ref = sampleReference(ElementKind::F32, out.data(), out.size(), 5);
  EXPECT_EQ(ref.indices, (std::vector<int64_t>{0, 2499, 4999, 7499, 9999}));
  EXPECT_EQ(ref.values, (std::vector<double>{0, 2499, 4999, 7499, 9999}));
  GPUReference all = sampleReference(ElementKind::F32, out.data(), 3, 5);
  EXPECT_EQ(all.indices, (std::vector<int64_t>{0, 1, 2}));
}

TEST(GPUBatchTest, WriteReadRoundTripAndPositionsInsideTheResult) {
  GPUBatch batch;
  batch.target = "cuda:sm_90";
  batch.seed = 3;
  batch.version = "0.1.0";
  batch.timing.minRepeats = 4;
  GPUTask task;
  task.workload.key = "w";
  task.workload.kind = "matmul";
  task.workload.flops = 64;
  task.workload.kernel = "module {}";
  task.reference.indices = {0, 7};
  task.reference.values = {1.5, -2};
  task.candidates.push_back({{{"tile", 4}}, makeProgram(entryWithParams(14))});
  batch.tasks.push_back(task);
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("batch", "json", path));
  ASSERT_FALSE(static_cast<bool>(writeGPUBatch(batch, path)));
  llvm::Expected<GPUBatch> read = readGPUBatch(path);
  ASSERT_TRUE(static_cast<bool>(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->seed, 3u);
  EXPECT_EQ(read->timing.minRepeats, 4u);
  ASSERT_EQ(read->tasks.size(), 1u);
  EXPECT_EQ(read->tasks[0].workload.kind, "matmul");
  EXPECT_EQ(read->tasks[0].reference.values, (std::vector<double>{1.5, -2}));
  EXPECT_EQ(read->tasks[0].candidates[0].knobs[0].second, 4);

  // The result buffer (f16[8]) has no element 8.
  batch.tasks[0].reference.indices = {0, 8};
  ASSERT_FALSE(static_cast<bool>(writeGPUBatch(batch, path)));
  llvm::Expected<GPUBatch> bad = readGPUBatch(path);
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_NE(llvm::toString(bad.takeError())
                .find("a reference position is outside the result buffer at "
                      "batch.tasks[0].candidates[0].program"),
            std::string::npos);
  llvm::sys::fs::remove(path);
}

} // namespace
