//===- TorchModelsTest.cpp - LibTorch cost models, losses, trainer --------===//

#include "tcl/CostModel/TorchModels.h"
#include "tcl/CostModel/Ranking.h"
#include "tcl/CostModel/Trainer.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "TensorTestUtils.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <strings.h>
#include <unistd.h>

using namespace tcl;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

class TorchModelsTest : public ::testing::Test {
protected:
  void SetUp() override {
    at::set_num_threads(1);
    torch::manual_seed(0);
  }
};

std::shared_ptr<RankingModel> makeModel(const std::string &config,
                                        uint64_t seed = 0) {
  ModelOrError model = createModel(config, seed);
  EXPECT_TRUE(model) << model.error;
  return model.model;
}

/// Scratch file path unique to this process.
std::string scratchPath(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("tcl-torch-test-" + std::to_string(getpid()) + "-" + name))
      .string();
}

//===----------------------------------------------------------------------===//
// Synthetic ranking problem
//===----------------------------------------------------------------------===//

constexpr int64_t kTokenDim = 6, kWorkloadDim = 3, kMaxLength = 12;
/// Scale of the log-throughput of the synthetic candidates.
constexpr double kSpread = 0.15;

/// `groups` tasks of `perGroup` candidates. Candidate log-throughput is
///   f = 0.5 * sum_t [tanh(a . x_t) + (b . x_t) * tanh(c . w)]
/// over its real tokens x_t (3..12 of them), w the task's workload; the
/// label is exp(f - max f of the task) = min latency / latency with
/// latency = exp(-f). Both sequence and statement forms are filled, one
/// statement per token with the workload appended.
RankingData syntheticData(int64_t groups, int64_t perGroup, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_int_distribution<int64_t> lengthDist(3, kMaxLength);
  const float a[kTokenDim] = {1.0f, -0.8f, 0.5f, 0.0f, 0.3f, -0.2f};
  const float b[kTokenDim] = {0.0f, 0.4f, -0.6f, 1.0f, 0.2f, 0.5f};
  const float c[kWorkloadDim] = {1.2f, -0.7f, 0.4f};

  const int64_t n = groups * perGroup;
  RankingData data;
  data.tokens = torch::zeros({n, kMaxLength, kTokenDim});
  data.mask = torch::zeros({n, kMaxLength});
  data.workload = torch::zeros({n, kWorkloadDim});
  data.labels = torch::zeros({n});
  data.groups = torch::zeros({n}, torch::kLong);
  std::vector<float> statementRows;
  std::vector<int64_t> segments;
  auto tokens = data.tokens.accessor<float, 3>();
  auto mask = data.mask.accessor<float, 2>();
  auto workload = data.workload.accessor<float, 2>();
  for (int64_t g = 0; g < groups; ++g) {
    float w[kWorkloadDim];
    float cw = 0;
    for (int64_t k = 0; k < kWorkloadDim; ++k) {
      w[k] = normal(rng);
      cw += c[k] * w[k];
    }
    std::vector<double> f(perGroup);
    for (int64_t j = 0; j < perGroup; ++j) {
      int64_t i = g * perGroup + j;
      data.groups[i] = g;
      for (int64_t k = 0; k < kWorkloadDim; ++k)
        workload[i][k] = w[k];
      int64_t length = lengthDist(rng);
      double value = 0;
      for (int64_t t = 0; t < length; ++t) {
        float ax = 0, bx = 0;
        for (int64_t k = 0; k < kTokenDim; ++k) {
          float x = normal(rng);
          tokens[i][t][k] = x;
          statementRows.push_back(x);
          ax += a[k] * x;
          bx += b[k] * x;
        }
        statementRows.insert(statementRows.end(), w, w + kWorkloadDim);
        segments.push_back(i);
        mask[i][t] = 1;
        value += kSpread * (std::tanh(ax) + bx * std::tanh(cw));
      }
      f[j] = value;
    }
    double best = *std::max_element(f.begin(), f.end());
    for (int64_t j = 0; j < perGroup; ++j)
      data.labels[g * perGroup + j] = std::exp(f[j] - best);
  }
  const int64_t statements = static_cast<int64_t>(segments.size());
  data.statements = torch::tensor(statementRows)
                        .reshape({statements, kTokenDim + kWorkloadDim});
  data.segments = torch::tensor(segments, torch::kLong);
  return data;
}

std::vector<double> ranks(const std::vector<double> &values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return values[x] < values[y]; });
  std::vector<double> result(values.size());
  for (size_t r = 0; r < order.size(); ++r)
    result[order[r]] = static_cast<double>(r);
  return result;
}

/// Mean over tasks of the Spearman correlation of scores and latencies'
/// inverse (no ties in the synthetic data).
double meanSpearman(const std::vector<TopKTask> &tasks) {
  double sum = 0;
  for (const TopKTask &task : tasks) {
    std::vector<double> speed;
    for (double latency : task.latencies)
      speed.push_back(1.0 / latency);
    std::vector<double> rs = ranks(task.scores), rl = ranks(speed);
    double n = static_cast<double>(rs.size()), d2 = 0;
    for (size_t i = 0; i < rs.size(); ++i)
      d2 += (rs[i] - rl[i]) * (rs[i] - rl[i]);
    sum += 1 - 6 * d2 / (n * (n * n - 1));
  }
  return sum / static_cast<double>(tasks.size());
}

/// Expected top-1 score of uniformly random scores, estimated over draws.
double randomTop1(std::vector<TopKTask> tasks) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0, 1);
  double sum = 0;
  const int draws = 200;
  for (int d = 0; d < draws; ++d) {
    for (TopKTask &task : tasks)
      for (double &score : task.scores)
        score = uniform(rng);
    sum += topKScore(tasks, 1);
  }
  return sum / draws;
}

//===----------------------------------------------------------------------===//
// Mamba internals
//===----------------------------------------------------------------------===//

TEST_F(TorchModelsTest, SelectiveScanMatchesNaiveLoop) {
  const int64_t B = 2, L = 7, E = 3, N = 4;
  torch::Tensor u = torch::randn({B, L, E});
  torch::Tensor delta = torch::rand({B, L, E}) * 0.5;
  torch::Tensor A = -torch::rand({E, N}) * 2 - 0.1;
  torch::Tensor Bm = torch::randn({B, L, N});
  torch::Tensor Cm = torch::randn({B, L, N});
  torch::Tensor D = torch::randn({E});
  // Without autograd the fused loop runs, with it the torch-op loop.
  torch::Tensor y = selectiveScan(u, delta, A, Bm, Cm, D);
  ASSERT_EQ(y.sizes(), u.sizes());
  torch::Tensor withGrad = u.clone().requires_grad_(true);
  torch::Tensor yGrad = selectiveScan(withGrad, delta, A, Bm, Cm, D);
  ASSERT_TRUE(yGrad.requires_grad());
  EXPECT_TRUE(torch::allclose(yGrad.detach(), y, 1e-5, 1e-5));

  auto uu = u.accessor<float, 3>(), dd = delta.accessor<float, 3>();
  auto aa = A.accessor<float, 2>();
  auto bb = Bm.accessor<float, 3>(), cc = Cm.accessor<float, 3>();
  auto skip = D.accessor<float, 1>();
  auto yy = y.accessor<float, 3>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t e = 0; e < E; ++e) {
      std::vector<double> h(N, 0.0);
      for (int64_t t = 0; t < L; ++t) {
        double out = 0;
        for (int64_t k = 0; k < N; ++k) {
          h[k] = std::exp(dd[b][t][e] * aa[e][k]) * h[k] +
                 dd[b][t][e] * bb[b][t][k] * uu[b][t][e];
          out += cc[b][t][k] * h[k];
        }
        out += skip[e] * uu[b][t][e];
        EXPECT_NEAR(yy[b][t][e], out, 1e-5)
            << "b=" << b << " t=" << t << " e=" << e;
      }
    }
  }
}

// The fused float32 kernels against the torch-op loop (which runs in
// double): the register-blocked forward (channels a multiple of the vector
// width, 4, 8 or 16 states) and the row-wise one (any other shape).
TEST_F(TorchModelsTest, FusedSelectiveScanMatchesLoopForManyShapes) {
  const int64_t B = 3, L = 9;
  for (auto [E, N] : std::vector<std::pair<int64_t, int64_t>>{
           {32, 16}, {16, 8}, {64, 4}, {32, 5}, {20, 16}, {3, 7}}) {
    SCOPED_TRACE("E=" + std::to_string(E) + " N=" + std::to_string(N));
    torch::Tensor u = torch::randn({B, L, E});
    torch::Tensor delta = torch::rand({B, L, E}) * 0.5;
    delta[1].slice(0, 6, L) = 0; // padding: the state passes unchanged
    torch::Tensor A = -torch::rand({E, N}) * 3 - 0.05;
    torch::Tensor Bm = torch::randn({B, L, N});
    torch::Tensor Cm = torch::randn({B, L, N});
    torch::Tensor D = torch::randn({E});
    torch::Tensor fused = selectiveScan(u, delta, A, Bm, Cm, D);
    torch::Tensor reference =
        selectiveScan(u.to(torch::kDouble), delta.to(torch::kDouble),
                      A.to(torch::kDouble), Bm.to(torch::kDouble),
                      Cm.to(torch::kDouble), D.to(torch::kDouble));
    EXPECT_TRUE(torch::allclose(fused.to(torch::kDouble), reference, 1e-5,
                                1e-5))
        << (fused.to(torch::kDouble) - reference).abs().max();
  }
}

// The fused backward (float32, states recomputed per sample) against
// autograd through the torch-op loop in double, on 1 and 2 threads.
TEST_F(TorchModelsTest, FusedSelectiveScanGradientMatchesLoop) {
  const int64_t B = 5, L = 8, E = 24, N = 6;
  torch::Tensor u = torch::randn({B, L, E});
  torch::Tensor delta = torch::rand({B, L, E}) * 0.5;
  torch::Tensor A = -torch::rand({E, N}) * 2 - 0.1;
  torch::Tensor Bm = torch::randn({B, L, N});
  torch::Tensor Cm = torch::randn({B, L, N});
  torch::Tensor D = torch::randn({E});
  torch::Tensor weights = torch::randn({B, L, E});

  auto gradients = [&](torch::ScalarType type) {
    std::vector<torch::Tensor> inputs;
    for (const torch::Tensor &t : {u, delta, A, Bm, Cm, D})
      inputs.push_back(t.to(type).clone().requires_grad_(true));
    torch::Tensor y = selectiveScan(inputs[0], inputs[1], inputs[2],
                                    inputs[3], inputs[4], inputs[5]);
    (y * weights.to(type)).sum().backward();
    std::vector<torch::Tensor> grads;
    for (const torch::Tensor &t : inputs)
      grads.push_back(t.grad().to(torch::kDouble));
    return grads;
  };
  std::vector<torch::Tensor> reference = gradients(torch::kDouble);
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    std::vector<torch::Tensor> fused = gradients(torch::kFloat);
    const char *names[] = {"u", "delta", "A", "B", "C", "D"};
    for (size_t i = 0; i < fused.size(); ++i)
      EXPECT_TRUE(torch::allclose(fused[i], reference[i], 1e-4, 1e-4))
          << "threads " << threads << " d" << names[i] << " max error "
          << (fused[i] - reference[i]).abs().max();
  }
  at::set_num_threads(1);
}

// Inference (no grad: fused conv, softplus, RMSNorm and scan kernels, batch
// slices, trailing padding cropped) scores like the training path (torch
// ops and the autograd scan), on 1 and 2 threads.
TEST_F(TorchModelsTest, MambaInferencePathMatchesTrainingPath) {
  MambaConfig config;
  config.tokenDim = 6;
  config.workloadDim = 3;
  std::shared_ptr<RankingModel> model = makeModel(config.toJSON(), 3);
  model->eval();
  const int64_t B = 150, L = 40;
  ModelInput input;
  input.tokens = torch::randn({B, L, 6});
  input.mask = torch::zeros({B, L});
  for (int64_t b = 0; b < B; ++b)
    input.mask[b].slice(0, 0, 1 + (b * 7) % 30) = 1; // at most 30 real
  input.tokens *= input.mask.unsqueeze(-1);
  input.workload = torch::randn({B, 3});

  torch::Tensor training = model->score(input).detach();
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    torch::NoGradGuard noGrad;
    torch::Tensor inference = model->score(input);
    EXPECT_TRUE(torch::allclose(inference, training, 1e-4, 1e-4))
        << "threads " << threads << " max error "
        << (inference - training).abs().max();
  }
  at::set_num_threads(1);
}

TEST_F(TorchModelsTest, MambaParameterCountMatchesHandCount) {
  MambaConfig config;
  config.tokenDim = 5;
  config.workloadDim = 3;
  config.dModel = 8;
  config.dState = 4;
  config.dConv = 3;
  config.expand = 2;
  config.layers = 1;
  config.headHidden = 6;
  MambaCostModel model(config);
  // d_inner = 16, dt_rank = ceil(8 / 16) = 1.
  const int64_t input = (5 + 3) * 8 + 8;
  const int64_t block = 8                         // RMSNorm
                        + 8 * 32                  // in_proj, no bias
                        + 16 * 3 + 16             // depthwise conv1d + bias
                        + 16 * (1 + 2 * 4)        // x_proj, no bias
                        + 1 * 16 + 16             // dt_proj + bias
                        + 16 * 4                  // A_log
                        + 16                      // D
                        + 16 * 8;                 // out_proj, no bias
  const int64_t head = 8 + (8 * 6 + 6) + (6 + 1); // norm_f, head1, head2
  EXPECT_EQ(block, 712);
  EXPECT_EQ(model.parameterCount(), input + block + head);
  EXPECT_EQ(model.parameterCount(), 853);
}

TEST_F(TorchModelsTest, MambaPlatformFiLMPerBlock) {
  MambaConfig config;
  config.tokenDim = 5;
  config.workloadDim = 3;
  config.dModel = 8;
  config.dState = 4;
  config.layers = 2;
  config.headHidden = 6;
  config.platformSlots = 2;
  torch::manual_seed(3);
  MambaCostModel finalOnly(config);
  config.platformFilm = 1;
  torch::manual_seed(3);
  MambaCostModel perBlock(config);
  // One (slots -> 2 * d_model) map with bias per block on top of the final
  // one.
  EXPECT_EQ(perBlock.parameterCount() - finalOnly.parameterCount(),
            2 * (2 * 8 * 2 + 2 * 8));
  EXPECT_NE(config.toJSON().find(R"("platform_film":1)"), std::string::npos);

  // Zero-initialised, the block FiLMs change nothing until trained...
  torch::Tensor tokens = torch::randn({4, 6, 5});
  torch::Tensor mask = torch::ones({4, 6});
  mask.narrow(1, 4, 2).narrow(0, 0, 2).zero_();
  torch::Tensor workload = torch::zeros({4, 3});
  workload.select(1, 0).uniform_();
  workload.select(1, 1).fill_(1); // platform slot 0 of 2
  torch::NoGradGuard noGrad;
  EXPECT_TRUE(torch::allclose(perBlock.forward(tokens, mask, workload),
                              finalOnly.forward(tokens, mask, workload)));
  // ...and then one platform's block FiLM changes only that platform's
  // scores.
  for (auto &named : perBlock.named_parameters())
    if (named.key() == "film_block0.weight")
      named.value().select(1, 1).fill_(0.5); // slot 1
  EXPECT_TRUE(torch::allclose(perBlock.forward(tokens, mask, workload),
                              finalOnly.forward(tokens, mask, workload)));
  torch::Tensor other = workload.clone();
  other.select(1, 1).zero_();
  other.select(1, 2).fill_(1); // platform slot 1
  EXPECT_FALSE(torch::allclose(perBlock.forward(tokens, mask, other),
                               finalOnly.forward(tokens, mask, other)));

  MambaConfig bad;
  bad.tokenDim = 5;
  bad.platformFilm = 1;
  EXPECT_NE(bad.validate().find("platform_film needs platform_slots"),
            std::string::npos);
}

TEST_F(TorchModelsTest, MambaInitialization) {
  MambaConfig config;
  config.tokenDim = 4;
  config.dModel = 16;
  config.dState = 5;
  MambaCostModel model(config);
  auto named = model.named_parameters();
  torch::Tensor ALog = named["block0.A_log"];
  ASSERT_EQ(ALog.sizes(), torch::IntArrayRef({32, 5}));
  for (int64_t k = 0; k < 5; ++k)
    EXPECT_NEAR(ALog[3][k].item<float>(), std::log(k + 1.0), 1e-6);
  torch::Tensor dt = torch::softplus(named["block1.dt_proj.bias"]);
  EXPECT_GE(dt.min().item<float>(), 1e-3 * 0.999);
  EXPECT_LE(dt.max().item<float>(), 1e-1 * 1.001);
}

TEST_F(TorchModelsTest, MambaGradientMatchesFiniteDifferences) {
  MambaConfig config;
  config.tokenDim = 3;
  config.workloadDim = 2;
  config.dModel = 8;
  config.dState = 4;
  config.layers = 2;
  config.headHidden = 8;
  MambaCostModel model(config);
  model.to(torch::kDouble);
  torch::Tensor tokens =
      torch::randn({2, 5, 3}, torch::kDouble).requires_grad_(true);
  torch::Tensor mask = torch::ones({2, 5}, torch::kDouble);
  mask[1][4] = 0;
  torch::Tensor workload = torch::randn({2, 2}, torch::kDouble);
  model.forward(tokens, mask, workload).sum().backward();
  torch::Tensor grad = tokens.grad().clone();

  torch::NoGradGuard noGrad;
  const double eps = 1e-6;
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 5; t += 2) {
      for (int64_t k = 0; k < 3; ++k) {
        torch::Tensor plus = tokens.detach().clone(),
                      minus = tokens.detach().clone();
        plus[b][t][k] += eps;
        minus[b][t][k] -= eps;
        double numeric =
            (model.forward(plus, mask, workload).sum().item<double>() -
             model.forward(minus, mask, workload).sum().item<double>()) /
            (2 * eps);
        EXPECT_NEAR(grad[b][t][k].item<double>(), numeric, 1e-6)
            << "b=" << b << " t=" << t << " k=" << k;
      }
    }
  }
  // The padded position of the second sequence has no influence at all.
  for (int64_t k = 0; k < 3; ++k)
    EXPECT_EQ(grad[1][4][k].item<double>(), 0.0);
}

//===----------------------------------------------------------------------===//
// Padding and configs
//===----------------------------------------------------------------------===//

TEST_F(TorchModelsTest, PaddingDoesNotChangeSequenceScores) {
  for (const std::string &config :
       {std::string(R"({"model":"mamba","token_dim":4,"workload_dim":2,)"
                    R"("d_model":16,"d_state":4,"layers":2})"),
        std::string(R"({"model":"tlp","token_dim":4,"workload_dim":2,)"
                    R"("hidden":16,"heads":4})")}) {
    SCOPED_TRACE(config);
    std::shared_ptr<RankingModel> model = makeModel(config);
    model->eval();
    ModelInput shortInput;
    shortInput.tokens = torch::randn({3, 5, 4});
    shortInput.mask = torch::ones({3, 5});
    shortInput.mask[1].slice(0, 3, 5) = 0;
    shortInput.tokens[1].slice(0, 3, 5) = 0;
    shortInput.workload = torch::randn({3, 2});

    // The same sequences with 6 more padded positions holding garbage, and
    // a fourth, empty sequence.
    ModelInput longInput;
    longInput.tokens = torch::randn({4, 11, 4}) * 10;
    longInput.tokens.slice(0, 0, 3).slice(1, 0, 5) = shortInput.tokens;
    longInput.mask = torch::zeros({4, 11});
    longInput.mask.slice(0, 0, 3).slice(1, 0, 5) = shortInput.mask;
    longInput.tokens[1].slice(0, 3, 5) = 5.0;
    longInput.workload = torch::randn({4, 2});
    longInput.workload.slice(0, 0, 3) = shortInput.workload;

    torch::Tensor shortScores = model->score(shortInput);
    torch::Tensor longScores = model->score(longInput);
    ASSERT_EQ(shortScores.sizes(), torch::IntArrayRef({3}));
    ASSERT_EQ(longScores.sizes(), torch::IntArrayRef({4}));
    EXPECT_TRUE(torch::allclose(shortScores, longScores.slice(0, 0, 3),
                                /*rtol=*/1e-5, /*atol=*/1e-5))
        << shortScores << longScores;
    EXPECT_TRUE(std::isfinite(longScores[3].item<float>()));
    EXPECT_EQ(longScores[3].item<float>(), 0.0f);
  }
}

TEST_F(TorchModelsTest, ConfigJSONRoundTripAndErrors) {
  MambaConfig mamba;
  mamba.tokenDim = 7;
  mamba.dState = 9;
  EXPECT_EQ(
      mamba.toJSON(),
      R"({"model":"mamba","token_dim":7,"workload_dim":0,"d_model":64,)"
      R"("d_state":9,"d_conv":4,"expand":2,"layers":2,"head_hidden":64})");
  MambaConfig parsed;
  EXPECT_EQ(parsed.fromJSON(" { \"d_state\" : 9, \"token_dim\":7 } "), "");
  EXPECT_EQ(parsed.toJSON(), mamba.toJSON());
  EXPECT_NE(parsed.fromJSON(R"({"model":"tlp"})").find("is not 'mamba'"),
            std::string::npos);
  EXPECT_NE(parsed.fromJSON(R"({"d_stat":3})").find("unknown key 'd_stat'"),
            std::string::npos);
  EXPECT_NE(parsed.fromJSON(R"({"d_state":3.5})"), "");
  // input_norm appears only when set, and only 0 or 1 is valid.
  MambaConfig normalised = mamba;
  normalised.inputNorm = 1;
  EXPECT_NE(normalised.toJSON().find(R"("input_norm":1)"), std::string::npos);
  EXPECT_EQ(mamba.toJSON().find("input_norm"), std::string::npos);
  normalised.inputNorm = 2;
  EXPECT_NE(normalised.validate().find("input_norm must be 0 or 1"),
            std::string::npos);
  EXPECT_NE(parsed.fromJSON(R"({"d_state":3)"), "");

  ModelOrError bad =
      createModel(R"({"model":"tlp","token_dim":4,"hidden":10})");
  EXPECT_FALSE(bad);
  EXPECT_NE(bad.error.find("must divide hidden"), std::string::npos)
      << bad.error;
  EXPECT_FALSE(createModel(R"({"model":"lstm","token_dim":4})"));
  EXPECT_FALSE(createModel(R"({"token_dim":4})"));
  EXPECT_FALSE(createModel(R"({"model":"mamba"})")); // token_dim 0

  for (const std::string &config :
       {TLPConfig{4, 2}.toJSON(), MLPConfig{9}.toJSON(), mamba.toJSON()}) {
    std::shared_ptr<RankingModel> model = makeModel(config);
    ASSERT_TRUE(model);
    EXPECT_EQ(model->describeConfig(), config);
  }
}

//===----------------------------------------------------------------------===//
// Losses and metrics
//===----------------------------------------------------------------------===//

TEST_F(TorchModelsTest, LambdaRankHandComputedPair) {
  // Labels 1 and 0, scores ordered the wrong way round: G = (1, 0),
  // IDCG = 1, ranks (2, 1), |dNDCG| = 1 - 1/log2(3),
  // L = |dNDCG| * log(1 + e), dL/ds_0 = -|dNDCG| * sigmoid(1).
  torch::Tensor scores = torch::tensor({0.0f, 1.0f}).requires_grad_(true);
  torch::Tensor labels = torch::tensor({1.0f, 0.0f});
  torch::Tensor groups = torch::tensor({int64_t(4), int64_t(4)});
  torch::Tensor loss = lambdaRankLoss(scores, labels, groups);
  loss.backward();
  const double weight = 1 - 1 / std::log2(3.0);
  const double sigmoid1 = 1 / (1 + std::exp(-1.0));
  EXPECT_NEAR(loss.item<double>(), weight * std::log1p(std::exp(1.0)), 1e-6);
  EXPECT_NEAR(scores.grad()[0].item<double>(), -weight * sigmoid1, 1e-6);
  EXPECT_NEAR(scores.grad()[1].item<double>(), weight * sigmoid1, 1e-6);
  // A gradient step moves the pair toward the right order.
  EXPECT_LT(scores.grad()[0].item<float>(), 0);
  EXPECT_GT(scores.grad()[1].item<float>(), 0);
}

TEST_F(TorchModelsTest, LambdaRankGainScaleHandComputed) {
  // Labels (1, 0.5, 0), scores in the reverse order (0, 1, 2): ranks
  // (3, 2, 1), discounts D = (1/2, 1/log2(3), 1). With k = 4 the gains are
  // G = 2^{4y} - 1 = (15, 3, 0) and IDCG = 15 + 3 / log2(3).
  torch::Tensor labels = torch::tensor({1.0f, 0.5f, 0.0f});
  torch::Tensor groups = torch::tensor({int64_t(1), int64_t(1), int64_t(1)});
  auto loss = [&](double k) {
    torch::Tensor scores = torch::tensor({0.0f, 1.0f, 2.0f});
    return lambdaRankLoss(scores, labels, groups, 1.0, k).item<double>();
  };
  const double D[3] = {0.5, 1 / std::log2(3.0), 1.0};
  auto expected = [&](const double (&G)[3]) {
    const double idcg = G[0] + G[1] / std::log2(3.0) + G[2] / 2;
    const double s[3] = {0, 1, 2};
    double total = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        if (G[i] > G[j])
          total += std::abs(G[i] - G[j]) * std::abs(D[i] - D[j]) / idcg *
                   std::log1p(std::exp(-(s[i] - s[j])));
    return total;
  };
  const double sqrt2 = std::sqrt(2.0);
  EXPECT_NEAR(loss(1.0), expected({1.0, sqrt2 - 1, 0.0}), 1e-6);
  EXPECT_NEAR(loss(4.0), expected({15.0, 3.0, 0.0}), 1e-6);
  // The larger scale moves weight to the pairs of the best candidate.
  EXPECT_NE(loss(1.0), loss(4.0));
  EXPECT_THROW(loss(0.0), c10::Error);
}

TEST_F(TorchModelsTest, LambdaRankVanishesWhenOrderedWithMargin) {
  torch::Tensor labels = torch::tensor({0.2f, 1.0f, 0.0f, 0.5f, 0.7f, 0.1f});
  torch::Tensor groups = torch::tensor(std::vector<int64_t>{0, 0, 0, 1, 1, 1});
  torch::Tensor scores = torch::tensor({20.0f, 40.0f, 0.0f, 30.0f, 60.0f, 0.0f})
                             .requires_grad_(true);
  torch::Tensor loss = lambdaRankLoss(scores, labels, groups);
  loss.backward();
  EXPECT_LT(loss.item<double>(), 1e-6);
  EXPECT_LT(scores.grad().abs().max().item<double>(), 1e-6);

  // Reversing one pair inside group 1 brings back a loss and a gradient
  // that only touches group 1.
  torch::Tensor swapped =
      torch::tensor({20.0f, 40.0f, 0.0f, 60.0f, 30.0f, 0.0f})
          .requires_grad_(true);
  torch::Tensor swappedLoss = lambdaRankLoss(swapped, labels, groups);
  swappedLoss.backward();
  EXPECT_GT(swappedLoss.item<double>(), 1.0);
  EXPECT_GT(swapped.grad()[3].item<float>(), 0); // label 0.5 scored too high
  EXPECT_LT(swapped.grad()[4].item<float>(), 0); // label 0.7 scored too low
  EXPECT_LT(swapped.grad().slice(0, 0, 3).abs().max().item<double>(), 1e-6);
}

TEST_F(TorchModelsTest, LambdaRankWeightsGroups) {
  torch::Tensor labels = torch::tensor({0.2f, 1.0f, 0.5f, 0.7f});
  torch::Tensor groups = torch::tensor(std::vector<int64_t>{0, 0, 1, 1});
  torch::Tensor scores = torch::tensor({1.0f, 0.0f, 2.0f, 0.5f});
  auto lossOf = [&](torch::Tensor s, torch::Tensor l, torch::Tensor g,
                    torch::Tensor w = torch::Tensor()) {
    return lambdaRankLoss(s, l, g, 1.0, 1.0, w).item<double>();
  };
  double first = lossOf(scores.slice(0, 0, 2), labels.slice(0, 0, 2),
                        groups.slice(0, 0, 2));
  double second = lossOf(scores.slice(0, 2, 4), labels.slice(0, 2, 4),
                         groups.slice(0, 2, 4));
  ASSERT_GT(first, 0.1);
  ASSERT_GT(second, 0.1);
  // Unit weights are the unweighted mean; weights 3 and 0.5 give
  // (3 L_0 + 0.5 L_1) / 2.
  EXPECT_NEAR(lossOf(scores, labels, groups, torch::ones({4})),
              (first + second) / 2, 1e-6);
  EXPECT_NEAR(lossOf(scores, labels, groups), (first + second) / 2, 1e-6);
  EXPECT_NEAR(
      lossOf(scores, labels, groups, torch::tensor({3.0f, 3.0f, 0.5f, 0.5f})),
      (3 * first + 0.5 * second) / 2, 1e-6);
  EXPECT_THROW(lossOf(scores, labels, groups, torch::ones({3})), c10::Error);
}

TEST_F(TorchModelsTest, LambdaRankIgnoresPairsAcrossGroups) {
  torch::Tensor scores = torch::tensor({0.0f, 5.0f}).requires_grad_(true);
  torch::Tensor loss = lambdaRankLoss(scores, torch::tensor({1.0f, 0.0f}),
                                      torch::tensor({int64_t(0), int64_t(1)}));
  loss.backward();
  EXPECT_EQ(loss.item<float>(), 0.0f);
  EXPECT_EQ(scores.grad().abs().sum().item<float>(), 0.0f);
}

TEST_F(TorchModelsTest, MSELoss) {
  torch::Tensor loss =
      mseLoss(torch::tensor({1.0f, 0.0f}), torch::tensor({0.5f, 0.5f}));
  EXPECT_NEAR(loss.item<double>(), 0.25, 1e-7);
}

TEST_F(TorchModelsTest, TopKScoreHandBuilt) {
  std::vector<TopKTask> tasks(3);
  // Best 1.0; the model ranks 1 (2.0), then the failed 2, then 3 (4.0),
  // then 0 (1.0).
  tasks[0] = {2.0, {1.0, 2.0, kInf, 4.0}, {0.1, 0.9, 0.5, 0.3}};
  // Best 3.0; the model prefers the slower one.
  tasks[1] = {1.0, {3.0, 6.0}, {0.2, 0.8}};
  // Everything failed: no best, skipped.
  tasks[2] = {5.0, {kInf, std::nan("")}, {0.0, 1.0}};
  std::string error;
  EXPECT_DOUBLE_EQ(topKScore(tasks, 1, &error),
                   (2 * 1.0 + 3.0) / (2 * 2.0 + 6.0));
  EXPECT_EQ(error, "");
  EXPECT_DOUBLE_EQ(topKScore(tasks, 2), (2 * 1.0 + 3.0) / (2 * 2.0 + 3.0));
  EXPECT_DOUBLE_EQ(topKScore(tasks, 3), (2 * 1.0 + 3.0) / (2 * 2.0 + 3.0));
  EXPECT_DOUBLE_EQ(topKScore(tasks, 4), 1.0);
  EXPECT_DOUBLE_EQ(topKScore(tasks, 100), 1.0);

  // A top-1 pick that failed counts as infinitely slow.
  std::vector<TopKTask> failedPick = {{1.0, {1.0, kInf}, {0.0, 1.0}}};
  EXPECT_DOUBLE_EQ(topKScore(failedPick, 1), 0.0);
  EXPECT_DOUBLE_EQ(topKScore(failedPick, 2), 1.0);

  // Pairs of task 0: only (1,2) and (1,3) right; task 1: wrong; task 2: no
  // pair with different latencies.
  EXPECT_DOUBLE_EQ(pairwiseAccuracy(tasks), 2.0 / 7.0);

  EXPECT_TRUE(std::isnan(topKScore(tasks, 0, &error)));
  EXPECT_NE(error.find("k must be"), std::string::npos);
  std::vector<TopKTask> ragged = {{1.0, {1.0, 2.0}, {0.5}}};
  EXPECT_TRUE(std::isnan(topKScore(ragged, 1, &error)));
  EXPECT_NE(error.find("2 latencies but 1 scores"), std::string::npos);
  EXPECT_TRUE(std::isnan(topKScore({tasks[2]}, 1, &error)));

  std::vector<TopKTask> fromLabels = tasksFromLabels(
      {7, 3, 7, 3}, {1.0, 0.5, 0.25, 1.0}, {0.0, 1.0, 2.0, 3.0});
  ASSERT_EQ(fromLabels.size(), 2u);
  EXPECT_EQ(fromLabels[0].latencies, (std::vector<double>{2.0, 1.0}));
  EXPECT_EQ(fromLabels[1].scores, (std::vector<double>{0.0, 2.0}));
  EXPECT_DOUBLE_EQ(topKScore(fromLabels, 1), (1.0 + 1.0) / (1.0 + 4.0));
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

struct LearnCase {
  std::string config;
  int64_t epochs;
};

/// Trains on 20 synthetic tasks x 32 candidates and evaluates on 10 unseen
/// tasks of the same generator. With these seeds every model reaches top-1
/// 0.84-0.93, top-5 >= 0.96 and Spearman ~0.87 (printed; 0.97-1.0 and ~0.9
/// with other seeds), against 0.38 top-1 for random scores and Spearman 0:
/// the thresholds leave room for a different BLAS or ISA changing the
/// trajectory, yet a model that does not learn, or learns the wrong order,
/// fails all three.
class LearnsToRank : public TorchModelsTest,
                     public ::testing::WithParamInterface<LearnCase> {};

TEST_P(LearnsToRank, BeatsRandomOnHeldOutTasks) {
  RankingData trainData = syntheticData(20, 32, 1);
  RankingData evalData = syntheticData(10, 32, 2);
  std::shared_ptr<RankingModel> model = makeModel(GetParam().config, 3);
  ASSERT_TRUE(model);

  TrainOptions options;
  options.epochs = GetParam().epochs;
  options.groupsPerBatch = 2;
  options.seed = 5;
  TrainResult result = train(*model, trainData, options);
  ASSERT_EQ(result.error, "");
  ASSERT_EQ(static_cast<int64_t>(result.epochLosses.size()), options.epochs);

  std::string error;
  torch::Tensor scores = predict(*model, evalData, 64, &error);
  ASSERT_TRUE(scores.defined()) << error;
  std::vector<TopKTask> tasks =
      tasksFromLabels(toIntVector(evalData.groups), toVector(evalData.labels),
                      toVector(scores));
  double top1 = topKScore(tasks, 1), top5 = topKScore(tasks, 5);
  double spearman = meanSpearman(tasks), random = randomTop1(tasks);
  std::printf("%s\n  params %lld, %.2f s/epoch, loss %.4f -> %.4f, top-1 "
              "%.3f (random %.3f), top-5 %.3f, Spearman %.3f, pairwise %.3f\n",
              model->describeConfig().c_str(),
              static_cast<long long>(model->parameterCount()),
              result.seconds / options.epochs, result.epochLosses.front(),
              result.epochLosses.back(), top1, random, top5, spearman,
              pairwiseAccuracy(tasks));
  EXPECT_LT(result.epochLosses.back(), 0.5 * result.epochLosses.front());
  EXPECT_LT(random, 0.5);
  EXPECT_GT(top1, 0.75);
  EXPECT_GT(top5, 0.9);
  EXPECT_GT(spearman, 0.75);
}

INSTANTIATE_TEST_SUITE_P(
    Models, LearnsToRank,
    ::testing::Values(
        LearnCase{R"({"model":"mamba","token_dim":6,"workload_dim":3,)"
                  R"("d_model":32,"d_state":8,"layers":2,"head_hidden":32})",
                  20},
        LearnCase{R"({"model":"tlp","token_dim":6,"workload_dim":3,)"
                  R"("hidden":64,"heads":4,"decoder_hidden":32})",
                  20},
        LearnCase{R"({"model":"mlp","statement_dim":9,"hidden":64})", 20}));

TEST_F(TorchModelsTest, TrainingIsDeterministicForASeed) {
  RankingData data = syntheticData(6, 16, 11);
  auto run = [&] {
    std::shared_ptr<RankingModel> model = makeModel(
        R"({"model":"mamba","token_dim":6,"workload_dim":3,"d_model":8,)"
        R"("d_state":4,"layers":1,"head_hidden":8})",
        9);
    TrainOptions options;
    options.epochs = 3;
    options.groupsPerBatch = 2;
    options.maxGroupSize = 10; // exercises the seeded subsampling
    options.seed = 4;
    std::vector<int64_t> logged;
    options.log = [&](const EpochLog &log) { logged.push_back(log.epoch); };
    TrainResult result = train(*model, data, options);
    EXPECT_EQ(result.error, "");
    EXPECT_EQ(logged, (std::vector<int64_t>{1, 2, 3}));
    return std::make_pair(result.epochLosses, predict(*model, data));
  };
  auto [lossesA, scoresA] = run();
  auto [lossesB, scoresB] = run();
  EXPECT_EQ(lossesA, lossesB);
  EXPECT_TRUE(torch::equal(scoresA, scoresB));
}

TEST_F(TorchModelsTest, WeightAverageIsBiasCorrectedEMAOfSteps) {
  // 4 tasks x 8 candidates form one batch, so epoch t is step t and a run of
  // t epochs ends with the weights w_t of step t of any longer run (same
  // initial weights and seed; the average does not change the trajectory).
  RankingData data = syntheticData(4, 8, 13);
  const char *config =
      R"({"model":"mamba","token_dim":6,"workload_dim":3,"d_model":8,)"
      R"("d_state":4,"layers":1,"head_hidden":8})";
  auto weightsAfter = [&](int64_t epochs, double decay) {
    std::shared_ptr<RankingModel> model = makeModel(config, 9);
    TrainOptions options;
    options.epochs = epochs;
    options.seed = 4;
    options.emaDecay = decay;
    TrainResult result = train(*model, data, options);
    EXPECT_EQ(result.error, "");
    EXPECT_EQ(static_cast<int64_t>(result.epochLosses.size()), epochs);
    std::vector<torch::Tensor> weights;
    for (const torch::Tensor &p : model->parameters())
      weights.push_back(p.detach().clone());
    return weights;
  };
  const double d = 0.5;
  std::vector<std::vector<torch::Tensor>> steps;
  for (int64_t t = 1; t <= 3; ++t)
    steps.push_back(weightsAfter(t, 0));
  std::vector<torch::Tensor> averaged = weightsAfter(3, d);
  ASSERT_EQ(averaged.size(), steps[0].size());
  // m_3 / (1 - d^3) with m_3 = (1-d) (d^2 w_1 + d w_2 + w_3).
  const double norm = 1 - d * d * d;
  bool anyDiffers = false;
  for (size_t i = 0; i < averaged.size(); ++i) {
    torch::Tensor expected = (1 - d) *
                             (d * d * steps[0][i] + d * steps[1][i] +
                              steps[2][i]) /
                             norm;
    EXPECT_TRUE(torch::allclose(averaged[i], expected, 1e-5, 1e-6))
        << "parameter " << i;
    anyDiffers |= !torch::allclose(averaged[i], steps[2][i], 1e-5, 1e-6);
  }
  EXPECT_TRUE(anyDiffers) << "the average equals the last step's weights";

  std::shared_ptr<RankingModel> model = makeModel(config, 9);
  for (double bad : {-0.1, 1.0}) {
    TrainOptions options;
    options.emaDecay = bad;
    EXPECT_EQ(train(*model, data, options).error,
              "train: emaDecay must be in [0, 1)");
  }
}

TEST_F(TorchModelsTest, CheckpointSelectionKeepsBestValidatedEpoch) {
  // One batch per epoch (see above): a run of t epochs ends with the weights
  // of epoch t of any longer run. `validation` holds the scores to return
  // for the initial weights and after each of the epochs.
  RankingData data = syntheticData(4, 8, 13);
  const char *config =
      R"({"model":"mamba","token_dim":6,"workload_dim":3,"d_model":8,)"
      R"("d_state":4,"layers":1,"head_hidden":8})";
  auto weightsOf = [](RankingModel &model) {
    std::vector<torch::Tensor> weights;
    for (const torch::Tensor &p : model.parameters())
      weights.push_back(p.detach().clone());
    return weights;
  };
  auto run = [&](int64_t epochs, std::vector<double> validation,
                 TrainResult *out = nullptr) {
    std::shared_ptr<RankingModel> model = makeModel(config, 9);
    TrainOptions options;
    options.epochs = epochs;
    options.seed = 4;
    size_t calls = 0;
    bool alwaysEval = true;
    if (!validation.empty())
      options.validate = [&](RankingModel &m) {
        alwaysEval &= !m.is_training() && !torch::GradMode::is_enabled();
        return validation.at(calls++);
      };
    std::vector<double> logged;
    options.log = [&](const EpochLog &log) {
      logged.push_back(log.validation);
    };
    TrainResult result = train(*model, data, options);
    EXPECT_EQ(result.error, "");
    EXPECT_EQ(calls, validation.size());
    EXPECT_TRUE(alwaysEval) << "validate ran in training mode or with grads";
    if (!validation.empty()) {
      EXPECT_EQ(result.validationScores.size(), validation.size());
      EXPECT_EQ(logged.size() + 1, validation.size());
      for (size_t i = 0; i < logged.size(); ++i)
        EXPECT_TRUE(logged[i] == validation[i + 1] ||
                    (std::isnan(logged[i]) && std::isnan(validation[i + 1])))
            << "epoch " << i + 1 << " logged " << logged[i];
    }
    if (out)
      *out = result;
    return weightsOf(*model);
  };
  auto same = [](const std::vector<torch::Tensor> &a,
                 const std::vector<torch::Tensor> &b) {
    if (a.size() != b.size())
      return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!torch::equal(a[i], b[i]))
        return false;
    return true;
  };
  std::vector<torch::Tensor> initial = weightsOf(*makeModel(config, 9));
  std::vector<torch::Tensor> epoch2 = run(2, {}), epoch4 = run(4, {});
  ASSERT_FALSE(same(epoch2, epoch4));
  ASSERT_FALSE(same(initial, epoch2));

  // Best at epoch 2, tied later by epoch 4: the earlier one is kept.
  TrainResult result;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(same(run(4, {0.1, 0.2, 0.9, nan, 0.9}, &result), epoch2));
  EXPECT_EQ(result.bestEpoch, 2);
  EXPECT_TRUE(same(run(4, {0.0, 0.1, 0.2, 0.3, 0.4}, &result), epoch4));
  EXPECT_EQ(result.bestEpoch, 4);
  // The initial weights can win (e.g. a pretrained model that fine-tuning
  // only makes worse).
  EXPECT_TRUE(same(run(4, {0.9, 0.1, 0.2, 0.3, 0.4}, &result), initial));
  EXPECT_EQ(result.bestEpoch, 0);
  // No usable score: the last weights stay.
  EXPECT_TRUE(same(run(4, {nan, nan, nan, nan, nan}, &result), epoch4));
  EXPECT_EQ(result.bestEpoch, -1);

  std::shared_ptr<RankingModel> model = makeModel(config, 9);
  TrainOptions options;
  options.emaDecay = 0.5;
  options.validate = [](RankingModel &) { return 0.0; };
  EXPECT_EQ(train(*model, data, options).error,
            "train: checkpoint selection (validate) and weight averaging "
            "(emaDecay > 0) are exclusive");
}

TEST_F(TorchModelsTest, OpenBLASDoesNotKeepGenericKernelsOnAVX2CPUs) {
  std::string core = useNativeBLASKernels();
  if (core.empty())
    GTEST_SKIP() << "LibTorch does not use OpenBLAS here";
  // useNativeBLASKernels sets it only to a faster core than Prescott.
  if (const char *forced = std::getenv("OPENBLAS_CORETYPE");
      forced && strcasecmp(forced, "prescott") == 0)
    GTEST_SKIP() << "OPENBLAS_CORETYPE=Prescott is set by the user";
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "no AVX2/FMA: the generic kernels are right";
  std::string lower = core;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_NE(lower, "prescott") << "OpenBLAS kept its SSE3 kernels";
  EXPECT_EQ(useNativeBLASKernels(), core) << "not idempotent";
}

TEST_F(TorchModelsTest, TrainingReportsBadData) {
  std::shared_ptr<RankingModel> model =
      makeModel(R"({"model":"mlp","statement_dim":9,"hidden":8})");
  RankingData data = syntheticData(2, 4, 1);
  data.groups = torch::zeros({3}, torch::kLong);
  TrainResult result = train(*model, data, TrainOptions());
  EXPECT_NE(result.error.find("groups must be int64 [N]"), std::string::npos)
      << result.error;

  std::shared_ptr<RankingModel> mamba = makeModel(
      R"({"model":"mamba","token_dim":5,"workload_dim":3,"d_model":8})");
  std::string error;
  EXPECT_FALSE(predict(*mamba, syntheticData(2, 4, 1), 8, &error).defined());
  EXPECT_NE(error.find("tokens must be [B, L, 5]"), std::string::npos) << error;
}

TEST_F(TorchModelsTest, TimeLimitStopsTraining) {
  std::shared_ptr<RankingModel> model =
      makeModel(R"({"model":"mlp","statement_dim":9,"hidden":8})");
  TrainOptions options;
  options.epochs = 1000000;
  options.timeLimitSeconds = 0.2;
  TrainResult result = train(*model, syntheticData(4, 8, 1), options);
  EXPECT_EQ(result.error, "");
  EXPECT_TRUE(result.timedOut);
  EXPECT_LT(result.seconds, 5.0);
}

//===----------------------------------------------------------------------===//
// Save and load
//===----------------------------------------------------------------------===//

TEST_F(TorchModelsTest, SaveLoadRoundTrip) {
  RankingData data = syntheticData(3, 8, 21);
  for (const std::string &config :
       {std::string(R"({"model":"mamba","token_dim":6,"workload_dim":3,)"
                    R"("d_model":16,"d_state":4})"),
        std::string(R"({"model":"mamba","token_dim":6,"workload_dim":3,)"
                    R"("d_model":16,"d_state":4,"input_norm":1})"),
        std::string(R"({"model":"tlp","token_dim":6,"workload_dim":3,)"
                    R"("hidden":16,"heads":2})"),
        std::string(R"({"model":"mlp","statement_dim":9,"hidden":16,)"
                    R"("batch_norm":1})")}) {
    SCOPED_TRACE(config);
    std::shared_ptr<RankingModel> model = makeModel(config, 1);
    // A short fit, so that weights and BatchNorm statistics differ from a
    // fresh model's.
    TrainOptions options;
    options.epochs = 2;
    ASSERT_EQ(train(*model, data, options).error, "");
    torch::Tensor expected = predict(*model, data);

    std::string path = scratchPath("model.pt");
    ASSERT_EQ(saveModel(*model, path), "");

    ModelOrError loaded = loadModel(path);
    ASSERT_TRUE(loaded) << loaded.error;
    EXPECT_EQ(loaded.model->describeConfig(), model->describeConfig());
    EXPECT_TRUE(torch::equal(predict(*loaded.model, data), expected));

    std::shared_ptr<RankingModel> other = makeModel(config, 99);
    EXPECT_FALSE(torch::equal(predict(*other, data), expected));
    EXPECT_EQ(loadWeights(*other, path), "");
    EXPECT_TRUE(torch::equal(predict(*other, data), expected));

    ModelOrError expectedMatch = loadModel(path, config);
    EXPECT_TRUE(expectedMatch) << expectedMatch.error;
    std::remove(path.c_str());
  }
}

TEST_F(TorchModelsTest, LoadWithMismatchedConfigFails) {
  const std::string saved =
      R"({"model":"mamba","token_dim":6,"workload_dim":3,"d_model":16})";
  std::shared_ptr<RankingModel> model = makeModel(saved);
  std::string path = scratchPath("mismatch.pt");
  ASSERT_EQ(saveModel(*model, path), "");

  // Another feature width: same kind, different token_dim.
  std::shared_ptr<RankingModel> wider = makeModel(
      R"({"model":"mamba","token_dim":7,"workload_dim":3,"d_model":16})");
  std::string error = loadWeights(*wider, path);
  EXPECT_NE(error.find("does not match the requested"), std::string::npos)
      << error;
  EXPECT_NE(error.find("\"token_dim\":7"), std::string::npos) << error;

  // Another kind.
  std::shared_ptr<RankingModel> tlp = makeModel(
      R"({"model":"tlp","token_dim":6,"workload_dim":3,"hidden":16})");
  EXPECT_NE(loadWeights(*tlp, path), "");

  ModelOrError expected = loadModel(
      path, R"({"model":"mamba","token_dim":6,"workload_dim":3,"d_model":32})");
  EXPECT_FALSE(expected);
  EXPECT_NE(expected.error.find("does not match the expected"),
            std::string::npos)
      << expected.error;
  // Key order and spacing do not matter.
  EXPECT_TRUE(loadModel(path, R"({"d_model": 16, "workload_dim": 3,
                                 "token_dim": 6, "model": "mamba"})"));

  ModelOrError missing = loadModel(scratchPath("no-such-file.pt"));
  EXPECT_FALSE(missing);
  EXPECT_NE(missing.error.find("cannot load model"), std::string::npos)
      << missing.error;
  std::remove(path.c_str());
}

TEST_F(TorchModelsTest, DefaultConfigsTrainOnSyntheticData) {
  // Parameter counts and the time of one epoch (640 candidates, 1 thread)
  // of the default architectures, for the record; each must train.
  RankingData data = syntheticData(20, 32, 1);
  for (const std::string &config :
       {MambaConfig{kTokenDim, kWorkloadDim}.toJSON(),
        TLPConfig{kTokenDim, kWorkloadDim}.toJSON(),
        MLPConfig{kTokenDim + kWorkloadDim}.toJSON()}) {
    std::shared_ptr<RankingModel> model = makeModel(config);
    TrainOptions options;
    options.epochs = 1;
    TrainResult result = train(*model, data, options);
    EXPECT_EQ(result.error, "");
    auto start = std::chrono::steady_clock::now();
    torch::Tensor scores = predict(*model, data, 512);
    double predictSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    EXPECT_EQ(scores.size(0), data.size());
    std::printf("%s\n  params %lld, epoch %.3f s, predict %.0f candidates/s "
                "(L = %lld)\n",
                config.c_str(), static_cast<long long>(model->parameterCount()),
                result.seconds, data.size() / predictSeconds,
                static_cast<long long>(kMaxLength));
  }
}


//===----------------------------------------------------------------------===//
// Embeddings
//===----------------------------------------------------------------------===//

// tcl::embed gives [N, H] with H the width the score is computed from, the
// same rows whatever the batch size, different rows for different programs,
// and the usual error convention.
TEST_F(TorchModelsTest, EmbedShapesForEveryKind) {
  RankingData data = syntheticData(3, 10, 4);
  const int64_t n = data.size();
  struct Case {
    std::string config;
    int64_t width;
  };
  for (const Case &c :
       {Case{R"({"model":"mamba","token_dim":6,"workload_dim":3,)"
             R"("d_model":16,"d_state":4})",
             16},
        Case{R"({"model":"tlp","token_dim":6,"workload_dim":3,)"
             R"("hidden":16,"heads":4})",
             16},
        Case{R"({"model":"mlp","statement_dim":9,"hidden":24})", 24}}) {
    SCOPED_TRACE(c.config);
    std::shared_ptr<RankingModel> model = makeModel(c.config);
    std::string error = "unset";
    torch::Tensor embeddings = embed(*model, data, 512, &error);
    ASSERT_TRUE(embeddings.defined()) << error;
    EXPECT_EQ(error, "");
    ASSERT_EQ(embeddings.sizes(), torch::IntArrayRef({n, c.width}));
    EXPECT_TRUE(torch::isfinite(embeddings).all().item<bool>());
    EXPECT_GT((embeddings[0] - embeddings[1]).abs().max().item<float>(), 0);
    torch::Tensor batched = embed(*model, data, 7, &error);
    ASSERT_TRUE(batched.defined()) << error;
    EXPECT_TRUE(torch::allclose(batched, embeddings, 1e-5, 1e-5));
    // Scores are unchanged by the shared code path.
    torch::Tensor scores = predict(*model, data, 512, &error);
    ASSERT_TRUE(scores.defined()) << error;
    EXPECT_EQ(scores.sizes(), torch::IntArrayRef({n}));

    RankingData bad = data;
    bad.tokens = torch::zeros({n, kMaxLength});
    bad.statements = torch::zeros({3});
    EXPECT_FALSE(embed(*model, bad, 512, &error).defined());
    EXPECT_NE(error.find("data: "), std::string::npos) << error;
    EXPECT_FALSE(embed(*model, data, 0, &error).defined());
    EXPECT_EQ(error, "embed: batch size must be >= 1");
  }
}

// Trailing padding, with garbage in it, does not move a sequence's
// embedding: neither when the batch's padding is cropped (all rows shorter)
// nor when a longer row keeps it; an empty sequence embeds to zeros.
TEST_F(TorchModelsTest, MambaEmbeddingIgnoresTrailingPadding) {
  std::shared_ptr<RankingModel> model =
      makeModel(R"({"model":"mamba","token_dim":4,"workload_dim":2,)"
                R"("d_model":16,"d_state":4,"layers":2})");
  model->eval();
  ModelInput shortInput;
  shortInput.tokens = torch::randn({3, 5, 4});
  shortInput.mask = torch::ones({3, 5});
  shortInput.mask[1].slice(0, 3, 5) = 0;
  shortInput.tokens[1].slice(0, 3, 5) = 0;
  shortInput.workload = torch::randn({3, 2});
  torch::Tensor shortEmbeddings = model->embed(shortInput);
  ASSERT_EQ(shortEmbeddings.sizes(), torch::IntArrayRef({3, 16}));

  for (bool longerRow : {false, true}) {
    SCOPED_TRACE(longerRow ? "a longer row" : "padding only");
    ModelInput longInput;
    longInput.tokens = torch::randn({4, 11, 4}) * 10;
    longInput.tokens.slice(0, 0, 3).slice(1, 0, 5) = shortInput.tokens;
    longInput.tokens[1].slice(0, 3, 5) = 5.0;
    longInput.mask = torch::zeros({4, 11});
    longInput.mask.slice(0, 0, 3).slice(1, 0, 5) = shortInput.mask;
    if (longerRow)
      longInput.mask[3] = 1;
    longInput.workload = torch::randn({4, 2});
    longInput.workload.slice(0, 0, 3) = shortInput.workload;
    torch::Tensor longEmbeddings = model->embed(longInput);
    ASSERT_EQ(longEmbeddings.sizes(), torch::IntArrayRef({4, 16}));
    EXPECT_TRUE(torch::allclose(shortEmbeddings, longEmbeddings.slice(0, 0, 3),
                                /*rtol=*/1e-5, /*atol=*/1e-5))
        << shortEmbeddings << longEmbeddings;
    if (!longerRow)
      EXPECT_EQ(longEmbeddings[3].abs().max().item<float>(), 0.0f);
  }
}

// The batched inference path (slices, fused kernels) embeds like the
// training path.
TEST_F(TorchModelsTest, MambaEmbedInferencePathMatchesTrainingPath) {
  std::shared_ptr<RankingModel> model =
      makeModel(R"({"model":"mamba","token_dim":6,"workload_dim":3,)"
                R"("d_model":16,"d_state":4})",
                3);
  model->eval();
  const int64_t B = 150, L = 40;
  ModelInput input;
  input.tokens = torch::randn({B, L, 6});
  input.mask = torch::zeros({B, L});
  for (int64_t b = 0; b < B; ++b)
    input.mask[b].slice(0, 0, 1 + (b * 7) % 30) = 1;
  input.tokens *= input.mask.unsqueeze(-1);
  input.workload = torch::randn({B, 3});
  torch::Tensor training = model->embed(input).detach();
  torch::NoGradGuard noGrad;
  torch::Tensor inference = model->embed(input);
  ASSERT_EQ(inference.sizes(), torch::IntArrayRef({B, 16}));
  EXPECT_TRUE(torch::allclose(inference, training, 1e-4, 1e-4))
      << (inference - training).abs().max();
}

//===----------------------------------------------------------------------===//
// Input standardisation (MambaConfig::inputNorm)
//===----------------------------------------------------------------------===//

torch::Tensor namedBuffer(RankingModel &model, const std::string &name) {
  for (const auto &item : model.named_buffers())
    if (item.key() == name)
      return item.value();
  ADD_FAILURE() << "no buffer '" << name << "'";
  return torch::Tensor();
}

/// syntheticData with its real token features shifted and scaled per
/// feature (feature k: x * (k + 1) + 2k), so the statistics are not 0 / 1.
RankingData skewedData(int64_t groups, int64_t perGroup, uint64_t seed) {
  RankingData data = syntheticData(groups, perGroup, seed);
  torch::Tensor scale = torch::arange(1, kTokenDim + 1, torch::kFloat);
  torch::Tensor shift = 2 * torch::arange(0, kTokenDim, torch::kFloat);
  data.tokens = (data.tokens * scale + shift) * data.mask.unsqueeze(-1);
  data.workload = data.workload * 4 - 3;
  return data;
}

const char *kNormalisedMamba =
    R"({"model":"mamba","token_dim":6,"workload_dim":3,)"
    R"("d_model":16,"d_state":4,"input_norm":1})";

// train() fits the mean and std of every input feature over the real
// tokens once, and never again.
TEST_F(TorchModelsTest, MambaInputNormFitsStatisticsOnce) {
  RankingData data = skewedData(4, 8, 21);
  std::shared_ptr<RankingModel> model = makeModel(kNormalisedMamba, 1);
  ASSERT_TRUE(model);
  EXPECT_EQ(namedBuffer(*model, "input_fitted").item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(namedBuffer(*model, "input_scale"),
                           torch::ones({kTokenDim + kWorkloadDim})));
  TrainOptions options;
  options.epochs = 1;
  ASSERT_EQ(train(*model, data, options).error, "");
  EXPECT_EQ(namedBuffer(*model, "input_fitted").item<float>(), 1.0f);

  // The statistics by hand: every real position counts its token and its
  // program's workload once.
  std::vector<double> sum(kTokenDim + kWorkloadDim, 0),
      sumSq(kTokenDim + kWorkloadDim, 0);
  double count = 0;
  auto tokens = data.tokens.accessor<float, 3>();
  auto mask = data.mask.accessor<float, 2>();
  auto workload = data.workload.accessor<float, 2>();
  for (int64_t i = 0; i < data.size(); ++i)
    for (int64_t t = 0; t < kMaxLength; ++t) {
      if (mask[i][t] == 0)
        continue;
      ++count;
      for (int64_t k = 0; k < kTokenDim + kWorkloadDim; ++k) {
        double x = k < kTokenDim ? tokens[i][t][k]
                                 : workload[i][k - kTokenDim];
        sum[k] += x;
        sumSq[k] += x * x;
      }
    }
  torch::Tensor shift = namedBuffer(*model, "input_shift");
  torch::Tensor scale = namedBuffer(*model, "input_scale");
  for (int64_t k = 0; k < kTokenDim + kWorkloadDim; ++k) {
    double mean = sum[k] / count;
    double std = std::sqrt(std::max(0.0, sumSq[k] / count - mean * mean));
    SCOPED_TRACE("feature " + std::to_string(k));
    EXPECT_NEAR(shift[k].item<float>(), mean, 1e-3 * (1 + std::abs(mean)));
    EXPECT_NEAR(scale[k].item<float>(), 1.0 / std, 1e-3 / std);
  }
  // Fine-tuning on other data keeps them.
  torch::Tensor before = shift.clone();
  ASSERT_EQ(train(*model, syntheticData(3, 8, 5), options).error, "");
  EXPECT_TRUE(torch::equal(namedBuffer(*model, "input_shift"), before));
}

// A fitted model scores raw inputs exactly as the same weights without
// fitted statistics score the standardised inputs, on the training path and
// on the fused inference path; padding stays invisible.
TEST_F(TorchModelsTest, MambaInputNormIsStandardisation) {
  RankingData data = skewedData(4, 8, 22);
  std::shared_ptr<RankingModel> fitted = makeModel(kNormalisedMamba, 2);
  std::shared_ptr<RankingModel> plain = makeModel(kNormalisedMamba, 2);
  ASSERT_TRUE(fitted && plain);
  ModelInput raw;
  raw.tokens = data.tokens;
  raw.mask = data.mask;
  raw.workload = data.workload;
  fitted->fitInputs(raw);
  torch::Tensor shift = namedBuffer(*fitted, "input_shift");
  torch::Tensor scale = namedBuffer(*fitted, "input_scale");
  ASSERT_GT((scale - 1).abs().max().item<float>(), 0.1f);

  ModelInput standardised;
  standardised.mask = data.mask;
  standardised.tokens =
      (data.tokens - shift.narrow(0, 0, kTokenDim)) *
      scale.narrow(0, 0, kTokenDim);
  standardised.workload =
      (data.workload - shift.narrow(0, kTokenDim, kWorkloadDim)) *
      scale.narrow(0, kTokenDim, kWorkloadDim);
  // Padded rows become non-zero after the shift: they must still not count.
  ASSERT_GT(standardised.tokens.abs().sum().item<float>(), 0.0f);

  fitted->eval();
  plain->eval();
  torch::Tensor expected = plain->score(standardised).detach();
  EXPECT_TRUE(torch::allclose(fitted->score(raw).detach(), expected, 1e-4,
                              1e-4));
  torch::NoGradGuard noGrad;
  EXPECT_TRUE(torch::allclose(fitted->score(raw), expected, 1e-4, 1e-4));
  EXPECT_TRUE(
      torch::allclose(fitted->embed(raw), plain->embed(standardised), 1e-4,
                      1e-4));
}

} // namespace
