//===- DistillTest.cpp - Continual knowledge distillation -----------------===//

#include "tcl/CostModel/CostModel.h"
#include "tcl/CostModel/Ranking.h"
#include "tcl/Distill/Distill.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include "TensorTestUtils.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace tcl;

namespace {
constexpr int64_t kLength = 6, kSignal = 8;
constexpr const char *kTiny = R"({"d_model":16,"d_state":4,"layers":1,"head_hidden":16})";

/// `groups` tasks of `perGroup` programs with random sequence features.
/// A platform's landscape is a direction w: a program's throughput is
/// exp(w . mean of its tokens), normalized per task.
RankingData synthetic(int64_t groups, int64_t perGroup, const torch::Tensor &w,
                      uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t n = groups * perGroup;
  RankingData d;
  d.tokens = torch::randn({n, kLength, kNumTokenFeatures});
  d.mask = torch::ones({n, kLength});
  d.workload = torch::randn({groups, kNumTaskFeatures})
                   .repeat_interleave(perGroup, 0);
  d.groups = torch::arange(groups, torch::kInt64).repeat_interleave(perGroup);
  torch::Tensor logits = d.tokens.mean(1).matmul(w);
  torch::Tensor throughput = torch::exp(logits.view({groups, perGroup}));
  d.labels = (throughput / std::get<0>(throughput.max(1, true))).view({n});
  return d;
}

/// Pairwise accuracy of `model` at `slot` on `data`.
double pairwise(RankingModel &model, const RankingData &data, int64_t slot) {
  torch::Tensor scores = tcl::predict(model, withPlatformSlot(data, slot));
  return pairwiseAccuracy(tasksFromLabels(
      toIntVector(data.groups), toVector(data.labels), toVector(scores)));
}

class DistillTest : public ::testing::Test {
protected:
  void SetUp() override {
    setTorchThreads(1);
    llvm::Expected<std::string> c = continualModelConfig("mamba", kTiny);
    ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
    config = *c;
    // Landscapes on the first kSignal token features only: learnable from
    // the few synthetic programs, and the same whatever the build's token
    // width.
    torch::manual_seed(1);
    for (torch::Tensor *w : {&w1, &w2, &w3}) {
      *w = torch::zeros({kNumTokenFeatures});
      w->narrow(0, 0, kSignal).copy_(torch::randn({kSignal}));
    }
  }

  DistillOptions optionsFor(DistillMethod method, int64_t epochs) {
    DistillOptions o;
    o.method = method;
    o.kind = "mamba";
    o.config = config;
    o.maxLength = kLength;
    o.train.epochs = epochs;
    o.train.learningRate = 3e-3;
    o.train.seed = 7;
    return o;
  }

  std::string config;
  torch::Tensor w1, w2, w3;
};

TEST_F(DistillTest, ParameterCountConstantAcrossThreePlatforms) {
  ContinualModel *previous = nullptr;
  std::vector<int64_t> counts;
  std::vector<ContinualModel> stages;
  stages.reserve(3);
  for (auto [id, w] : {std::pair{"P1", w1}, {"P2", w2}, {"P3", w3}}) {
    PlatformPrograms labeled{id, synthetic(4, 8, w, counts.size())};
    PlatformPrograms unlabeled{id, synthetic(4, 8, w, 100 + counts.size())};
    llvm::Expected<StageResult> stage =
        trainStage(previous, labeled, unlabeled, {},
                   optionsFor(DistillMethod::CKD, 2));
    ASSERT_TRUE(static_cast<bool>(stage)) << llvm::toString(stage.takeError());
    stages.push_back(std::move(stage->model));
    previous = &stages.back();
    counts.push_back(previous->model->parameterCount());
  }
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_EQ(counts[1], counts[2]);
  EXPECT_EQ(stages.back().platforms,
            (std::vector<std::string>{"P1", "P2", "P3"}));
  EXPECT_EQ(stages.back().slotOf("P2"), 1);
  EXPECT_EQ(stages.back().slotOf("P4"), -1);

  // MTL on all three: same architecture, so the same count too.
  std::vector<PlatformPrograms> all{{"P1", synthetic(4, 8, w1, 0)},
                                    {"P2", synthetic(4, 8, w2, 1)},
                                    {"P3", synthetic(4, 8, w3, 2)}};
  llvm::Expected<StageResult> mtl = trainStage(
      nullptr, all[2], {}, all, optionsFor(DistillMethod::MTL, 1));
  ASSERT_TRUE(static_cast<bool>(mtl)) << llvm::toString(mtl.takeError());
  EXPECT_EQ(mtl->model.model->parameterCount(), counts[0]);
  EXPECT_EQ(mtl->labeledPrograms, 96);
  EXPECT_EQ(mtl->model.platforms,
            (std::vector<std::string>{"P1", "P2", "P3"}));
}

TEST_F(DistillTest, CopiedPlatformSlotScoresLikeItsSource) {
  // Input standardisation (fitted on P1, so slot 0's column has a shift)
  // and a FiLM before the block: every path a slot enters by.
  llvm::Expected<std::string> c = continualModelConfig(
      "mamba", R"({"d_model":16,"d_state":4,"layers":1,"head_hidden":16,)"
               R"("input_norm":1,"platform_film":1})");
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  DistillOptions options = optionsFor(DistillMethod::FineTune, 3);
  options.config = *c;
  options.copyPreviousSlot = false;
  llvm::Expected<StageResult> first =
      trainStage(nullptr, {"P1", synthetic(4, 8, w1, 0)}, {}, {}, options);
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());
  llvm::Expected<StageResult> second = trainStage(
      &first->model, {"P2", synthetic(4, 8, w2, 1)}, {}, {}, options);
  ASSERT_TRUE(static_cast<bool>(second)) << llvm::toString(second.takeError());
  RankingModel &trained = *second->model.model;
  RankingData data = synthetic(6, 8, w3, 9);
  auto scoresAt = [&](RankingModel &m, int64_t slot) {
    return tcl::predict(m, withPlatformSlot(data, slot));
  };
  for (int64_t from : {0, 1}) {
    ModelOrError copy = createModel(trained.describeConfig());
    ASSERT_TRUE(copy.model) << copy.error;
    ASSERT_FALSE(static_cast<bool>(copyWeights(trained, *copy.model)));
    // Before: slot 2 (untrained, zero FiLM) differs from the source.
    ASSERT_GT((scoresAt(*copy.model, 2) - scoresAt(trained, from))
                  .abs()
                  .max()
                  .item<double>(),
              1e-3);
    ASSERT_TRUE(copy.model->copyPlatformSlot(from, 2));
    EXPECT_TRUE(torch::allclose(scoresAt(*copy.model, 2),
                                scoresAt(trained, from), 1e-4, 1e-5))
        << "from slot " << from;
    for (int64_t kept : {0, 1})
      EXPECT_TRUE(torch::allclose(scoresAt(*copy.model, kept),
                                  scoresAt(trained, kept)))
          << "slot " << kept << " changed";
    EXPECT_FALSE(copy.model->copyPlatformSlot(from, kPlatformSlots));
  }
  // Fine-tuning a new platform with the default starts from the copy, so
  // its first-epoch loss is the zero-shot model's, not the bare trunk's.
  DistillOptions copying = options;
  copying.copyPreviousSlot = true;
  copying.train.epochs = 1;
  options.train.epochs = 1;
  PlatformPrograms p3{"P3", synthetic(4, 8, w2, 3)};
  llvm::Expected<StageResult> zero =
      trainStage(&second->model, p3, {}, {}, options);
  llvm::Expected<StageResult> copied =
      trainStage(&second->model, p3, {}, {}, copying);
  ASSERT_TRUE(static_cast<bool>(zero)) << llvm::toString(zero.takeError());
  ASSERT_TRUE(static_cast<bool>(copied)) << llvm::toString(copied.takeError());
  EXPECT_NE(zero->epochLosses.front(), copied->epochLosses.front());
}

TEST_F(DistillTest, DistillationLossZeroWhenStudentEqualsTeacher) {
  torch::Tensor groups = torch::tensor({0, 0, 0, 1, 1, 2}, torch::kInt64);
  torch::Tensor teacher = torch::tensor({0.5f, -1.0f, 2.0f, 0.0f, 3.0f, 1.0f});
  EXPECT_NEAR(distillationLoss(teacher, teacher, groups, 1.0).item<double>(),
              0.0, 1e-7);
  // A shift per task changes nothing: the ranking distribution is the same.
  torch::Tensor shifted =
      teacher + torch::tensor({4.0f, 4.0f, 4.0f, -2.0f, -2.0f, 9.0f});
  EXPECT_NEAR(distillationLoss(shifted, teacher, groups, 2.0).item<double>(),
              0.0, 1e-6);
  // Reversed order within task 0 costs something, and it has a gradient.
  torch::Tensor student =
      torch::tensor({2.0f, -1.0f, 0.5f, 0.0f, 3.0f, 1.0f}).requires_grad_();
  torch::Tensor loss = distillationLoss(student, teacher, groups, 1.0);
  EXPECT_GT(loss.item<double>(), 0.1);
  loss.backward();
  EXPECT_GT(student.grad().abs().sum().item<double>(), 0.0);
  // Hand-computed for one task of two: p = softmax(0, 1), q = softmax(1, 0):
  // KL = (p1 - p0) * 1 ... = sum p (log p - log q) = (2 p1 - 1) * 1.
  torch::Tensor two = torch::tensor({0, 0}, torch::kInt64);
  double p1 = 1.0 / (1.0 + std::exp(-1.0));
  EXPECT_NEAR(distillationLoss(torch::tensor({1.0f, 0.0f}),
                               torch::tensor({0.0f, 1.0f}), two, 1.0)
                  .item<double>(),
              2 * p1 - 1, 1e-6);
}

TEST_F(DistillTest, UnknownPlatformFailsClearly) {
  llvm::Expected<StageResult> stage =
      trainStage(nullptr, {"P1", synthetic(3, 6, w1, 0)}, {}, {},
                 optionsFor(DistillMethod::Scratch, 1));
  ASSERT_TRUE(static_cast<bool>(stage)) << llvm::toString(stage.takeError());
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("tcl-distill", dir));
  std::string path = (dir + "/m.pt").str();
  ASSERT_FALSE(static_cast<bool>(saveContinualModel(stage->model, path)));

  llvm::Expected<std::unique_ptr<CostModel>> ok =
      createCostModel("mamba:" + path, 0, "P1");
  ASSERT_TRUE(static_cast<bool>(ok)) << llvm::toString(ok.takeError());
  EXPECT_NE((*ok)->getName().find("for P1"), llvm::StringRef::npos);

  llvm::Expected<std::unique_ptr<CostModel>> bad =
      createCostModel("mamba:" + path, 0, "cpu:sse4.2,threads=1@Other");
  ASSERT_FALSE(static_cast<bool>(bad));
  std::string message = llvm::toString(bad.takeError());
  EXPECT_NE(message.find("has no part for platform "
                         "'cpu:sse4.2,threads=1@Other'; it was trained for "
                         "'P1'"),
            std::string::npos)
      << message;

  llvm::Expected<ContinualModel> loaded = loadContinualModel(path);
  ASSERT_TRUE(static_cast<bool>(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ(loaded->platforms, std::vector<std::string>{"P1"});
  llvm::sys::fs::remove_directories(dir);
}

TEST_F(DistillTest, DistillationReducesForgettingVersusFineTuning) {
  // Platform 1, then platform 2 with an unrelated landscape; platform 1 is
  // scored on programs neither stage saw.
  RankingData p1 = synthetic(24, 16, w1, 1), p1Test = synthetic(12, 16, w1, 2);
  llvm::Expected<StageResult> first = trainStage(
      nullptr, {"P1", p1}, {}, {}, optionsFor(DistillMethod::Scratch, 40));
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());
  const double before = pairwise(*first->model.model, p1Test, 0);
  ASSERT_GT(before, 0.75) << "platform 1 not learned";

  PlatformPrograms p2{"P2", synthetic(24, 16, w2, 3)};
  PlatformPrograms p2Unlabeled{"P2", synthetic(12, 16, w2, 4)};
  RankingData p2Test = synthetic(12, 16, w2, 5);
  DistillOptions fine = optionsFor(DistillMethod::FineTune, 120);
  DistillOptions ckd = optionsFor(DistillMethod::CKD, 120);
  ckd.beta = 0; // The landscapes are unrelated: no prior from platform 1.
  llvm::Expected<StageResult> tuned =
      trainStage(&first->model, p2, p2Unlabeled, {}, fine);
  llvm::Expected<StageResult> distilled =
      trainStage(&first->model, p2, p2Unlabeled, {}, ckd);
  ASSERT_TRUE(static_cast<bool>(tuned)) << llvm::toString(tuned.takeError());
  ASSERT_TRUE(static_cast<bool>(distilled))
      << llvm::toString(distilled.takeError());
  const double forgotFine = before - pairwise(*tuned->model.model, p1Test, 0);
  const double forgotCKD =
      before - pairwise(*distilled->model.model, p1Test, 0);
  EXPECT_GT(forgotFine, forgotCKD + 0.05)
      << "fine-tuning forgot " << forgotFine << ", CKD " << forgotCKD;
  // Both learned platform 2 (random ranking: 0.5).
  EXPECT_GT(pairwise(*tuned->model.model, p2Test, 1), 0.6);
  EXPECT_GT(pairwise(*distilled->model.model, p2Test, 1), 0.6);
  // The teacher is untouched.
  EXPECT_DOUBLE_EQ(pairwise(*first->model.model, p1Test, 0), before);
}

TEST_F(DistillTest, ValidationKeepsTheBestCheckpointOfEveryMethod) {
  RankingData p1 = synthetic(12, 8, w1, 1);
  llvm::Expected<StageResult> first = trainStage(
      nullptr, {"P1", p1}, {}, {}, optionsFor(DistillMethod::Scratch, 10));
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());
  EXPECT_TRUE(first->validationTop1.empty());
  EXPECT_EQ(first->bestEpoch, -1);

  PlatformPrograms p2{"P2", synthetic(12, 8, w2, 3)};
  PlatformPrograms p2Unlabeled{"P2", synthetic(6, 8, w2, 4)};
  RankingData p2Valid = synthetic(6, 8, w2, 5);
  std::vector<PlatformPrograms> all{{"P1", p1}, p2};
  for (DistillMethod method : {DistillMethod::CKD, DistillMethod::FineTune,
                               DistillMethod::Scratch, DistillMethod::MTL}) {
    DistillOptions o = optionsFor(method, 6);
    o.validation = p2Valid;
    llvm::Expected<StageResult> stage =
        trainStage(&first->model, p2, p2Unlabeled, all, o);
    ASSERT_TRUE(static_cast<bool>(stage)) << llvm::toString(stage.takeError());
    const std::string name = stringifyDistillMethod(method).str();
    // The start and each of the 6 epochs, and the kept weights score what
    // their epoch scored.
    ASSERT_EQ(stage->validationTop1.size(), 7u) << name;
    ASSERT_GE(stage->bestEpoch, 0) << name;
    const int64_t slot = 1;
    const double kept = stage->validationTop1[stage->bestEpoch];
    EXPECT_EQ(kept, *std::max_element(stage->validationTop1.begin(),
                                       stage->validationTop1.end()))
        << name;
    EXPECT_NEAR(meanGroupTop1(*stage->model.model,
                              withPlatformSlot(p2Valid, slot)),
                kept, 1e-6)
        << name;
  }
}

TEST_F(DistillTest, ActiveColumnPullsTheNewPlatformTowardsItsFineTuning) {
  RankingData p1 = synthetic(24, 16, w1, 1);
  llvm::Expected<StageResult> first = trainStage(
      nullptr, {"P1", p1}, {}, {}, optionsFor(DistillMethod::Scratch, 40));
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());

  // A small labelled sample of platform 2, many unlabelled programs.
  PlatformPrograms p2{"P2", synthetic(24, 4, w2, 3)};
  PlatformPrograms p2Unlabeled{"P2", synthetic(24, 16, w2, 4)};
  // The active column is the fine-tuned model of the same options.
  llvm::Expected<StageResult> tuned = trainStage(
      &first->model, p2, p2Unlabeled, {}, optionsFor(DistillMethod::FineTune, 40));
  ASSERT_TRUE(static_cast<bool>(tuned)) << llvm::toString(tuned.takeError());
  torch::Tensor activeScores =
      tcl::predict(*tuned->model.model, withPlatformSlot(p2Unlabeled.data, 1));

  std::vector<std::string> phases[2];
  double distance[2];
  for (int withActive : {0, 1}) {
    DistillOptions o = optionsFor(DistillMethod::CKD, 40);
    o.beta = 0;
    o.gamma = withActive ? 4.0 : 0.0;
    o.phase = [&, withActive](llvm::StringRef name) {
      phases[withActive].push_back(name.str());
    };
    llvm::Expected<StageResult> stage =
        trainStage(&first->model, p2, p2Unlabeled, {}, o);
    ASSERT_TRUE(static_cast<bool>(stage)) << llvm::toString(stage.takeError());
    torch::Tensor scores = tcl::predict(
        *stage->model.model, withPlatformSlot(p2Unlabeled.data, 1));
    distance[withActive] =
        distillationLoss(scores, activeScores, p2Unlabeled.data.groups, 1.0)
            .item<double>();
  }
  EXPECT_TRUE(phases[0].empty());
  EXPECT_EQ(phases[1], (std::vector<std::string>{"active column", "compress"}));
  // The gamma term brings the shared model's platform-2 ranking of the
  // unlabelled programs towards the active column's.
  EXPECT_LT(distance[1], 0.5 * distance[0])
      << "KD to the active column: " << distance[1] << " with it, "
      << distance[0] << " without";
}

TEST_F(DistillTest, ContinualDefaultsFillTheKeysOverridesLeaveOut) {
  auto configOf = [](llvm::StringRef overrides) {
    llvm::Expected<std::string> c = continualModelConfig("mamba", overrides);
    EXPECT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
    llvm::Expected<llvm::json::Value> v = llvm::json::parse(c ? *c : "{}");
    EXPECT_TRUE(static_cast<bool>(v)) << llvm::toString(v.takeError());
    return v ? *v->getAsObject() : llvm::json::Object();
  };
  llvm::json::Object plain = configOf("");
  EXPECT_EQ(plain.getInteger("d_model"), 32);
  EXPECT_EQ(plain.getInteger("d_state"), 8);
  EXPECT_EQ(plain.getInteger("input_norm"), 1);
  EXPECT_EQ(plain.getInteger("platform_film"), 1);
  EXPECT_EQ(plain.getInteger("platform_slots"), kPlatformSlots);
  llvm::json::Object wider = configOf(R"({"d_model":64,"platform_film":0})");
  EXPECT_EQ(wider.getInteger("d_model"), 64);
  EXPECT_EQ(wider.getInteger("platform_film"), 0);
  EXPECT_EQ(wider.getInteger("input_norm"), 1);
  EXPECT_EQ(wider.getInteger("d_state"), 8);
  // Malformed overrides are still reported.
  llvm::Expected<std::string> bad = continualModelConfig("mamba", "[1]");
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("must be a JSON object"),
            std::string::npos);
}

TEST_F(DistillTest, BadInputIsAnError) {
  llvm::Expected<std::string> mlp = continualModelConfig("mlp");
  ASSERT_FALSE(static_cast<bool>(mlp));
  EXPECT_NE(llvm::toString(mlp.takeError()).find("'mlp' is not supported"),
            std::string::npos);
  llvm::Expected<DistillMethod> method = parseDistillMethod("ewc");
  ASSERT_FALSE(static_cast<bool>(method));
  EXPECT_NE(llvm::toString(method.takeError()).find("unknown method 'ewc'"),
            std::string::npos);
  RankingData empty = synthetic(1, 2, w1, 0);
  empty = {};
  llvm::Expected<StageResult> none =
      trainStage(nullptr, {"P1", empty}, {}, {},
                 optionsFor(DistillMethod::Scratch, 1));
  ASSERT_FALSE(static_cast<bool>(none));
  EXPECT_NE(llvm::toString(none.takeError()).find("no labelled programs"),
            std::string::npos);
}
} // namespace
