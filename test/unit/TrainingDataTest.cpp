//===- TrainingDataTest.cpp - Measure records as model inputs -------------===//

#include "tcl/CostModel/TrainingData.h"
#include "tcl/Features/SequenceFeatures.h"
#include "tcl/Features/StatementFeatures.h"

#include "TaskFixture.h"

#include "llvm/Support/FileSystem.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace tcl;

namespace {
constexpr const char *kMatmul = R"mlir(
func.func @mm(%a: tensor<64x96xf32>, %b: tensor<96x128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x96xf32>, tensor<96x128xf32>) outs(%fill : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %mm : tensor<64x128xf32>
}
)mlir";

class TrainingDataTest : public TaskFixture {
protected:
  void SetUp() override {
    setUpTask(kMatmul, "cpu:avx512,threads=2");
    if (HasFatalFailure())
      return;
    llvm::SmallString<128> path;
    ASSERT_FALSE(
        llvm::sys::fs::createTemporaryFile("tcl-training", "jsonl", path));
    dbPath = path.str().str();
    llvm::sys::fs::remove(dbPath);
  }
  void TearDown() override { llvm::sys::fs::remove(dbPath); }

  /// A database with the task's workload and `n` records on platform "p":
  /// record i has latency (i + 1) ms, except record 1, which failed.
  void writeDatabase(unsigned n) {
    llvm::Expected<Database> db = Database::open(dbPath, /*create=*/true);
    ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
    mlir::FailureOr<TaskKernel> kernel = buildTaskKernel(tasks[0]);
    ASSERT_TRUE(mlir::succeeded(kernel));
    std::string text;
    llvm::raw_string_ostream os(text);
    kernel->module->print(os);
    ASSERT_FALSE(static_cast<bool>(db->addWorkload(
        {tasks[0].key, tasks[0].kind, tasks[0].flops, text})));
    std::mt19937_64 rng(3);
    for (unsigned i = 0; i < n; ++i) {
      Schedule s = i == 0 ? space->getDefault() : space->sample(rng);
      schedules.push_back(s);
      MeasureRecord r;
      r.workloadKey = tasks[0].key;
      r.platform = "p";
      r.target = "cpu:avx512,threads=2";
      r.knobs = space->toKnobMap(s);
      if (i == 1) {
        r.error = "wrong_answer";
      } else {
        r.medianSeconds = r.minSeconds = (i + 1) * 1e-3;
        r.latencies = {r.medianSeconds};
      }
      ASSERT_FALSE(static_cast<bool>(db->append(r)));
    }
  }

  std::string dbPath;
  std::vector<Schedule> schedules;
};

TEST_F(TrainingDataTest, LabelsShapesAndFeatures) {
  writeDatabase(6);
  llvm::Expected<Database> db = Database::open(dbPath, false);
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  TrainingDataOptions options;
  options.platform = "p";
  options.maxLength = 48;
  unsigned skipped = 99;
  llvm::Expected<TrainingData> data = loadTrainingData(*db, options, &skipped);
  ASSERT_TRUE(static_cast<bool>(data)) << llvm::toString(data.takeError());
  EXPECT_EQ(skipped, 0u);
  ASSERT_EQ(data->size(), 6u);
  EXPECT_EQ(data->groupKeys, std::vector<std::string>{tasks[0].key});
  EXPECT_EQ(data->groups, std::vector<int64_t>(6, 0));
  // Normalized throughput: the fastest (1 ms) is 1, 3 ms is 1/3, failed 0.
  EXPECT_FLOAT_EQ(data->labels[0], 1.0f);
  EXPECT_FLOAT_EQ(data->labels[1], 0.0f);
  EXPECT_FLOAT_EQ(data->labels[2], 1.0f / 3);
  EXPECT_TRUE(std::isinf(data->latencies[1]));
  EXPECT_DOUBLE_EQ(data->latencies[4], 5e-3);

  EXPECT_EQ(data->tokens.size(), 6u * 48 * kNumTokenFeatures);
  EXPECT_EQ(data->mask.size(), 6u * 48);
  EXPECT_EQ(data->workload.size(), 6u * kNumTaskFeatures);
  // Fill and anchor: two statements per program.
  EXPECT_EQ(data->statements.size(), 12u * kNumStatementFeatures);
  EXPECT_EQ(data->segments, (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4,
                                                  5, 5}));

  // The rows are the extractors' output for each record's schedule.
  llvm::Expected<SequenceFeatureExtractor> seq =
      SequenceFeatureExtractor::create(*space);
  ASSERT_TRUE(static_cast<bool>(seq));
  std::vector<float> tokens(48 * kNumTokenFeatures), mask(48);
  seq->extract(schedules[3], 48, tokens.data(), mask.data());
  EXPECT_TRUE(std::equal(tokens.begin(), tokens.end(),
                         data->tokens.begin() + 3 * 48 * kNumTokenFeatures));

  // Another platform has no records; a filter can leave the workload out.
  options.platform = "other";
  llvm::Expected<TrainingData> none = loadTrainingData(*db, options);
  ASSERT_TRUE(static_cast<bool>(none));
  EXPECT_EQ(none->size(), 0u);
  options.platform = "p";
  options.workloads.insert("not-this-one");
  llvm::Expected<TrainingData> filtered = loadTrainingData(*db, options);
  ASSERT_TRUE(static_cast<bool>(filtered));
  EXPECT_EQ(filtered->size(), 0u);
}

TEST_F(TrainingDataTest, BrokenKernelNamesTheWorkload) {
  {
    llvm::Expected<Database> db = Database::open(dbPath, true);
    ASSERT_TRUE(static_cast<bool>(db));
    ASSERT_FALSE(static_cast<bool>(
        db->addWorkload({"matmul_broken", "matmul", 1, "func.func @k("})));
    MeasureRecord r;
    r.workloadKey = "matmul_broken";
    r.platform = "p";
    r.target = "cpu";
    r.medianSeconds = r.minSeconds = 1e-3;
    r.latencies = {1e-3};
    ASSERT_FALSE(static_cast<bool>(db->append(r)));
  }
  llvm::Expected<Database> db = Database::open(dbPath, false);
  ASSERT_TRUE(static_cast<bool>(db));
  TrainingDataOptions options;
  options.platform = "p";
  llvm::Expected<TrainingData> data = loadTrainingData(*db, options);
  ASSERT_FALSE(static_cast<bool>(data));
  std::string message = llvm::toString(data.takeError());
  EXPECT_NE(message.find("workload 'matmul_broken': cannot parse the kernel"),
            std::string::npos)
      << message;
}

TEST(TrainingDataSplitTest, LatencyWeightsAverageOneOverTasks) {
  // Three tasks with best latencies 1 ms, 4 ms and none (all failed).
  TrainingData d;
  d.groupKeys = {"a", "b", "c"};
  d.groups = {0, 0, 1, 1, 2};
  d.latencies = {2e-3, 1e-3, 4e-3, std::numeric_limits<double>::infinity(),
                 std::numeric_limits<double>::infinity()};
  d.labels.assign(d.groups.size(), 0.5f);
  // p = 1: 1 : 4, scaled to mean 1 over the two tasks with a best.
  std::vector<float> linear = latencyWeights(d, 1.0);
  ASSERT_EQ(linear.size(), 5u);
  const std::vector<float> expected = {0.4f, 0.4f, 1.6f, 1.6f, 0.0f};
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(linear[i], expected[i], 1e-6) << "program " << i;
  // p = 0.5: 1 : 2 -> 2/3, 4/3.
  std::vector<float> root = latencyWeights(d, 0.5);
  EXPECT_NEAR(root[0], 2.0 / 3, 1e-6);
  EXPECT_NEAR(root[3], 4.0 / 3, 1e-6);
  // p = 0: every task with a successful program counts 1.
  std::vector<float> uniform = latencyWeights(d, 0.0);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(uniform[i], 1.0f);
}

TEST(TrainingDataSplitTest, ValidationGroupsAreASeededDisjointFraction) {
  // 10 groups of 3 programs (only the fields selectGroups copies per
  // program and group matter here).
  auto make = [] {
    TrainingData d;
    d.maxLength = 1;
    for (int64_t g = 0; g < 10; ++g) {
      d.groupKeys.push_back("task" + std::to_string(g));
      d.groupKinds.push_back("matmul");
      for (int i = 0; i < 3; ++i) {
        d.groups.push_back(g);
        d.labels.push_back(0.5f);
        d.latencies.push_back(1.0);
        d.tokens.insert(d.tokens.end(), kNumTokenFeatures,
                        static_cast<float>(g));
        d.mask.push_back(1);
        d.workload.insert(d.workload.end(), kNumTaskFeatures, 0.0f);
      }
    }
    return d;
  };
  TrainingData a = make(), b = make(), c = make();
  llvm::Expected<TrainingData> va = takeValidationGroups(a, 0.2, 5);
  llvm::Expected<TrainingData> vb = takeValidationGroups(b, 0.2, 5);
  ASSERT_TRUE(static_cast<bool>(va)) << llvm::toString(va.takeError());
  ASSERT_TRUE(static_cast<bool>(vb)) << llvm::toString(vb.takeError());
  EXPECT_EQ(va->groupKeys.size(), 2u);
  EXPECT_EQ(va->size(), 6u);
  EXPECT_EQ(a.groupKeys.size(), 8u);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(va->groupKeys, vb->groupKeys) << "not reproducible for a seed";
  for (const std::string &key : va->groupKeys)
    EXPECT_EQ(std::count(a.groupKeys.begin(), a.groupKeys.end(), key), 0)
        << key << " is in both parts";
  // Programs follow their group: task g's tokens are all g.
  for (size_t i = 0; i < va->size(); ++i)
    EXPECT_EQ(va->groupKeys[va->groups[i]],
              "task" + std::to_string(static_cast<int>(
                           va->tokens[i * kNumTokenFeatures])));
  // At least one group, at most all but one.
  llvm::Expected<TrainingData> tiny = takeValidationGroups(c, 0.01, 5);
  ASSERT_TRUE(static_cast<bool>(tiny));
  EXPECT_EQ(tiny->groupKeys.size(), 1u);
  TrainingData d = make();
  llvm::Expected<TrainingData> most = takeValidationGroups(d, 0.99, 5);
  ASSERT_TRUE(static_cast<bool>(most));
  EXPECT_EQ(d.groupKeys.size(), 1u);

  TrainingData e = make();
  for (double bad : {0.0, 1.0, -0.5}) {
    llvm::Expected<TrainingData> r = takeValidationGroups(e, bad, 5);
    ASSERT_FALSE(static_cast<bool>(r));
    EXPECT_NE(llvm::toString(r.takeError()).find("must be in (0, 1)"),
              std::string::npos);
  }
  EXPECT_EQ(e.groupKeys.size(), 10u);
  TrainingData one;
  one.groupKeys = {"only"};
  one.groupKinds = {"matmul"};
  llvm::Expected<TrainingData> r = takeValidationGroups(one, 0.5, 5);
  ASSERT_FALSE(static_cast<bool>(r));
  EXPECT_NE(llvm::toString(r.takeError()).find("at least two tasks, got 1"),
            std::string::npos);
}
} // namespace
