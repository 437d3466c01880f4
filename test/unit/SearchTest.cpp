//===- SearchTest.cpp - Evolutionary search and task scheduler ------------===//

#include "tcl/Search/EvolutionarySearch.h"
#include "tcl/Search/TaskScheduler.h"
#include "TaskFixture.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <set>

using namespace tcl;

namespace {
constexpr llvm::StringLiteral kMatmul = R"mlir(
func.func @mm(%a: tensor<128x192xf32>, %b: tensor<192x256xf32>, %c: tensor<128x256xf32>) -> tensor<128x256xf32> {
  %mm = linalg.matmul ins(%a, %b : tensor<128x192xf32>, tensor<192x256xf32>) outs(%c : tensor<128x256xf32>) -> tensor<128x256xf32>
  return %mm : tensor<128x256xf32>
}
)mlir";

/// A cost model that knows the answer: schedules are better the closer
/// their register tile is to 8x32. Stands in for a trained model.
class OracleModel : public CostModel {
public:
  explicit OracleModel(const SearchSpace &space) : space(space) {}
  llvm::StringRef getName() const override { return "oracle"; }
  double truth(const Schedule &s) const {
    int64_t m = s.values[space.findKnob("tile_reg_0")];
    int64_t n = s.values[space.findKnob("tile_reg_1")];
    return -std::abs(std::log2(double(m)) - 3) -
           std::abs(std::log2(double(n)) - 5);
  }
  std::vector<double> predict(const TaskContext &,
                              llvm::ArrayRef<Schedule> c) override {
    ++calls;
    std::vector<double> r;
    for (const Schedule &s : c)
      r.push_back(truth(s));
    return r;
  }
  void update(const TaskContext &, llvm::ArrayRef<Schedule>,
              llvm::ArrayRef<double>) override {}
  llvm::Error save(llvm::StringRef) const override {
    return llvm::Error::success();
  }
  llvm::Error load(llvm::StringRef) override { return llvm::Error::success(); }
  const SearchSpace &space;
  unsigned calls = 0;
};

class SearchTest : public TaskFixture {
protected:
  void SetUp() override {
    setUpTask(kMatmul, "cpu:avx512,threads=2");
    task.space = space.get();
  }
  TaskContext task;
};
} // namespace

TEST_F(SearchTest, BatchIsDistinctUnmeasuredValidAndSeeded) {
  OracleModel model(*space);
  std::vector<MeasuredSchedule> measured;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20; ++i)
    measured.push_back({space->sample(rng), 0.5});
  SearchOptions options;
  options.populationSize = 64;
  EvolutionarySearch a(*space, options, 11), b(*space, options, 11);
  std::vector<Schedule> x = a.proposeBatch(model, task, measured, 16);
  std::vector<Schedule> y = b.proposeBatch(model, task, measured, 16);
  ASSERT_EQ(x.size(), 16u);
  EXPECT_EQ(x, y);
  std::set<std::vector<int64_t>> seen;
  for (const Schedule &s : x) {
    llvm::Error err = space->verify(s);
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    EXPECT_TRUE(seen.insert({s.values.begin(), s.values.end()}).second);
    for (const MeasuredSchedule &m : measured)
      EXPECT_FALSE(m.schedule == s);
  }
  // One prediction per generation plus the final population, per search.
  EXPECT_EQ(model.calls, 2 * (options.generations + 1));
}

TEST_F(SearchTest, ModelGuidesTheBatchTowardsGoodSchedules) {
  OracleModel model(*space);
  SearchOptions options;
  options.populationSize = 128;
  options.epsilonGreedy = 0;
  EvolutionarySearch search(*space, options, 3);
  std::vector<Schedule> batch = search.proposeBatch(model, task, {}, 16);
  std::mt19937_64 rng(3);
  double batchMean = 0, randomMean = 0;
  for (const Schedule &s : batch)
    batchMean += model.truth(s) / batch.size();
  for (int i = 0; i < 200; ++i)
    randomMean += model.truth(space->sample(rng)) / 200;
  // The optimum scores 0; random samples are far from it on average.
  EXPECT_GT(batchMean, randomMean + 1.5) << batchMean << " vs " << randomMean;
  EXPECT_EQ(model.truth(batch.front()), 0);
}

TEST_F(SearchTest, CrossoverKeepsConstraints) {
  EvolutionarySearch search(*space, {}, 1);
  std::mt19937_64 rng(9);
  for (int i = 0; i < 200; ++i) {
    Schedule c = search.crossover(space->sample(rng), space->sample(rng));
    llvm::Error err = space->verify(c);
    EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }
}

TEST(TaskSchedulerTest, WarmsUpThenFavoursTheTaskStillImproving) {
  // Two equal tasks: A has converged at 10 ms; B starts at 40 ms and gains
  // 10% a round, staying the larger part of the network's latency.
  TaskScheduler scheduler({{1, 1e9, "matmul"}, {1, 1e9, "conv"}},
                          TaskScheduler::Strategy::Gradient, 0, 0.2, 2, 3,
                          /*epsilon=*/0);
  double a = 0.010, b = 0.040;
  for (int round = 0; round < 20; ++round) {
    unsigned t = scheduler.next();
    if (round < 2)
      EXPECT_EQ(t, static_cast<unsigned>(round)) << "warm-up in order";
    if (t == 1)
      b = std::max(0.011, b * 0.9);
    scheduler.record(t, t == 0 ? a : b);
  }
  EXPECT_GT(scheduler.getRounds()[1], scheduler.getRounds()[0]);
}

TEST(TaskSchedulerTest, WeightsSteerTheBudget) {
  // Identical curves, but task 1 occurs ten times in the network.
  TaskScheduler scheduler({{1, 1e9, "matmul"}, {10, 1e9, "matmul"}},
                          TaskScheduler::Strategy::Gradient, 0, 0.2, 2, 3, 0);
  std::vector<double> best = {0.05, 0.05};
  for (int round = 0; round < 30; ++round) {
    unsigned t = scheduler.next();
    best[t] *= 0.9;
    scheduler.record(t, best[t]);
  }
  EXPECT_GE(scheduler.getRounds()[1], 2 * scheduler.getRounds()[0]);
}

TEST(TaskSchedulerTest, RoundRobinAlternates) {
  TaskScheduler scheduler({{1, 1, "a"}, {5, 1, "b"}, {1, 1, "c"}},
                          TaskScheduler::Strategy::RoundRobin, 0);
  for (int round = 0; round < 9; ++round) {
    unsigned t = scheduler.next();
    EXPECT_EQ(t, static_cast<unsigned>(round % 3));
    scheduler.record(t, 0.01);
  }
}
