//===- ActiveSamplerTest.cpp - Rounds of batch active learning ------------===//

#include "tcl/CostModel/LearnedCostModel.h"
#include "tcl/Sampler/ActiveSampler.h"

#include "TaskFixture.h"

#include <cmath>
#include <random>
#include <set>

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

class ActiveSamplerTest : public TaskFixture {
protected:
  void SetUp() override {
    setUpTask(kMatmul, "cpu:avx512,threads=2");
    if (HasFatalFailure())
      return;
    setTorchThreads(1);
    std::mt19937_64 rng(11);
    std::set<std::vector<int64_t>> seen;
    while (candidates.size() < 60) {
      Schedule s = space->sample(rng);
      if (seen.insert({s.values.begin(), s.values.end()}).second)
        candidates.push_back(s);
    }
  }

  /// A sampler over two tasks (the matmul's candidates 0..29 and 30..59).
  std::unique_ptr<ActiveSampler> make(SamplerStrategy strategy,
                                      uint64_t seed = 0) {
    ActiveSamplerOptions options;
    options.sampler.strategy = strategy;
    options.sampler.seed = seed;
    options.seed = seed;
    options.ensemble = 2;
    options.epochs = 2;
    options.maxLength = 32;
    llvm::Expected<std::string> config =
        defaultModelConfig("mlp", R"({"hidden":16,"res_blocks":1})");
    EXPECT_TRUE(static_cast<bool>(config)) << llvm::toString(config.takeError());
    options.modelConfig = config ? *config : "";
    llvm::Expected<std::unique_ptr<ActiveSampler>> s =
        ActiveSampler::create(options);
    EXPECT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
    if (!s)
      return nullptr;
    for (int t = 0; t < 2; ++t) {
      llvm::Expected<int64_t> task = (*s)->addTask(
          "task" + std::to_string(t), "matmul", tasks[0], *space,
          llvm::ArrayRef(candidates).slice(30 * t, 30));
      EXPECT_TRUE(static_cast<bool>(task)) << llvm::toString(task.takeError());
      if (task)
        EXPECT_EQ(*task, t);
    }
    return std::move(*s);
  }

  /// A latency that depends on the schedule: the sum of its knob values.
  double latencyOf(int64_t candidate) const {
    double sum = 0;
    for (int64_t v : candidates[candidate].values)
      sum += static_cast<double>(v);
    return 1e-3 * (1 + std::log1p(std::abs(sum)));
  }

  /// Runs `rounds` rounds of `count`, observing each pick; returns the picks.
  std::vector<int64_t> runRounds(ActiveSampler &s, int rounds, int64_t count) {
    std::vector<int64_t> all;
    for (int r = 0; r < rounds; ++r) {
      llvm::Expected<std::vector<int64_t>> picks = s.chooseNext(count);
      EXPECT_TRUE(static_cast<bool>(picks)) << llvm::toString(picks.takeError());
      if (!picks)
        return all;
      EXPECT_EQ(static_cast<int64_t>(picks->size()), count);
      EXPECT_TRUE(std::is_sorted(picks->begin(), picks->end()));
      for (int64_t i : *picks) {
        EXPECT_FALSE(s.isObserved(i)) << "candidate " << i << " chosen twice";
        s.observe(i, i % 7 == 0 ? INFINITY : latencyOf(i));
        all.push_back(i);
      }
    }
    return all;
  }

  std::vector<Schedule> candidates;
};

TEST_F(ActiveSamplerTest, RoundsChooseDistinctUnobservedCandidatesPerTask) {
  std::unique_ptr<ActiveSampler> s = make(SamplerStrategy::RDU);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->poolSize(), 60);
  EXPECT_EQ(s->numTasks(), 2);
  EXPECT_EQ(s->firstCandidate(1), 30);
  EXPECT_EQ(s->taskOf(45), 1);
  std::vector<int64_t> picks = runRounds(*s, 3, 8);
  EXPECT_EQ(s->numObserved(), 24);
  EXPECT_EQ(std::set<int64_t>(picks.begin(), picks.end()).size(), 24u);
  // Equal pools: each round gives each task half of the batch.
  int64_t inTask0 = 0;
  for (int64_t i : picks)
    inTask0 += s->taskOf(i) == 0;
  EXPECT_EQ(inTask0, 12);
  // Round 1 had nothing to learn from: random, nothing trained. Later
  // rounds trained the ensemble and embedded the pool.
  ASSERT_EQ(s->rounds().size(), 3u);
  EXPECT_EQ(s->rounds()[0].trainSeconds, 0.0);
  EXPECT_GT(s->rounds()[1].trainSeconds, 0.0);
  EXPECT_GT(s->rounds()[2].embedSeconds, 0.0);
  // The rest of the pool can be taken, no more.
  llvm::Expected<std::vector<int64_t>> rest = s->chooseNext(36);
  ASSERT_TRUE(static_cast<bool>(rest)) << llvm::toString(rest.takeError());
  EXPECT_EQ(rest->size(), 36u);
  for (int64_t i : *rest)
    s->observe(i, latencyOf(i));
  llvm::Expected<std::vector<int64_t>> none = s->chooseNext(1);
  ASSERT_FALSE(static_cast<bool>(none));
  EXPECT_NE(llvm::toString(none.takeError())
                .find("cannot choose 1 of 0 unobserved candidates"),
            std::string::npos);
}

TEST_F(ActiveSamplerTest, SameSeedSameSelection) {
  for (SamplerStrategy strategy :
       {SamplerStrategy::RDU, SamplerStrategy::Uncertainty,
        SamplerStrategy::Random}) {
    std::unique_ptr<ActiveSampler> a = make(strategy, 5), b = make(strategy, 5);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(runRounds(*a, 3, 6), runRounds(*b, 3, 6))
        << stringifySamplerStrategy(strategy).str();
  }
  std::unique_ptr<ActiveSampler> c = make(SamplerStrategy::RDU, 5),
                                 d = make(SamplerStrategy::RDU, 6);
  EXPECT_NE(runRounds(*c, 2, 6), runRounds(*d, 2, 6));
}

TEST_F(ActiveSamplerTest, EarlierObservationsAreNotChosenAgain) {
  std::unique_ptr<ActiveSampler> s = make(SamplerStrategy::Diversity);
  ASSERT_TRUE(s);
  // As tcl-dataset does on resume: records from an earlier run first.
  for (int64_t i = 0; i < 10; ++i)
    s->observe(i, latencyOf(i));
  llvm::Expected<std::vector<int64_t>> picks = s->chooseNext(20);
  ASSERT_TRUE(static_cast<bool>(picks)) << llvm::toString(picks.takeError());
  for (int64_t i : *picks)
    EXPECT_GE(i, 10);
  // Observations trained the first round's models.
  EXPECT_GT(s->rounds()[0].trainSeconds, 0.0);
}

TEST_F(ActiveSamplerTest, BadOptionsAreErrors) {
  ActiveSamplerOptions options;
  options.ensemble = 0;
  llvm::Expected<std::unique_ptr<ActiveSampler>> zero =
      ActiveSampler::create(options);
  ASSERT_FALSE(static_cast<bool>(zero));
  EXPECT_NE(llvm::toString(zero.takeError()).find("at least one model"),
            std::string::npos);

  options.ensemble = 1;
  options.sampler.weightDiversity = -1;
  llvm::Expected<std::unique_ptr<ActiveSampler>> weight =
      ActiveSampler::create(options);
  ASSERT_FALSE(static_cast<bool>(weight));
  EXPECT_NE(llvm::toString(weight.takeError()).find("diversity"),
            std::string::npos);

  options.sampler.weightDiversity = 1;
  llvm::Expected<std::unique_ptr<ActiveSampler>> noModel =
      ActiveSampler::create(options);
  ASSERT_FALSE(static_cast<bool>(noModel));
  EXPECT_NE(llvm::toString(noModel.takeError()).find("model config"),
            std::string::npos);

  options.pretrainedPath = "/nonexistent/model.pt";
  llvm::Expected<std::unique_ptr<ActiveSampler>> missing =
      ActiveSampler::create(options);
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(llvm::toString(missing.takeError()).find("model.pt"),
            std::string::npos);

  // Random needs no model.
  options.pretrainedPath.clear();
  options.sampler.strategy = SamplerStrategy::Random;
  EXPECT_TRUE(static_cast<bool>(ActiveSampler::create(options)));
}
} // namespace
