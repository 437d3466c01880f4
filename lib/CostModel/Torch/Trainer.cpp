//===- Trainer.cpp - Training loop and batched prediction -------*- C++ -*-===//

#include "tcl/CostModel/Trainer.h"
#include "tcl/CostModel/Ranking.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>

using namespace tcl;

int64_t RankingData::size() const {
  if (labels.defined())
    return labels.size(0);
  if (tokens.defined())
    return tokens.size(0);
  if (groups.defined())
    return groups.size(0);
  if (segments.defined() && segments.numel() > 0)
    return segments.max().item<int64_t>() + 1;
  return 0;
}

std::string RankingData::validate(FeatureForm form, bool needLabels) const {
  const int64_t n = size();
  if (form == FeatureForm::Sequence) {
    if (!tokens.defined() || tokens.dim() != 3)
      return "data: tokens must be float [N, L, D]";
    if (tokens.size(0) != n)
      return "data: tokens have " + std::to_string(tokens.size(0)) +
             " rows for " + std::to_string(n) + " candidates";
    if (!mask.defined() || mask.dim() != 2 || mask.size(0) != n ||
        mask.size(1) != tokens.size(1))
      return "data: mask must be float [N, L] like tokens";
    if (workload.defined() && (workload.dim() != 2 || workload.size(0) != n))
      return "data: workload must be float [N, W]";
    if (!tokens.is_floating_point() || !mask.is_floating_point())
      return "data: tokens and mask must be floating point";
  } else {
    if (!statements.defined() || statements.dim() != 2 ||
        !statements.is_floating_point())
      return "data: statements must be float [S, F]";
    if (!segments.defined() || segments.dim() != 1 ||
        segments.size(0) != statements.size(0) ||
        segments.scalar_type() != torch::kLong)
      return "data: segments must be int64 [S] like statements";
    if (segments.numel() > 0 && (segments.min().item<int64_t>() < 0 ||
                                 segments.max().item<int64_t>() >= n))
      return "data: segments must lie in 0.." + std::to_string(n - 1);
  }
  if (!needLabels)
    return "";
  if (!labels.defined() || labels.dim() != 1 || !labels.is_floating_point())
    return "data: labels must be float [N]";
  if (!groups.defined() || groups.dim() != 1 || groups.size(0) != n ||
      groups.scalar_type() != torch::kLong)
    return "data: groups must be int64 [N] like labels";
  if (weights.defined() && (weights.dim() != 1 || weights.size(0) != n ||
                            !weights.is_floating_point()))
    return "data: weights must be float [N] like labels";
  return "";
}

namespace {

/// Cuts ModelInputs for subsets of the candidates of a RankingData.
class Batcher {
public:
  Batcher(const RankingData &data, FeatureForm form) : data(data), form(form) {
    if (form != FeatureForm::Statements)
      return;
    // Statements of each candidate, found through a stable sort by segment.
    const int64_t n = data.size();
    torch::Tensor segments = data.segments.to(torch::kCPU).contiguous();
    const int64_t *seg = segments.data_ptr<int64_t>();
    offsets.assign(n + 1, 0);
    for (int64_t s = 0, e = segments.numel(); s < e; ++s)
      ++offsets[seg[s] + 1];
    for (int64_t i = 0; i < n; ++i)
      offsets[i + 1] += offsets[i];
    order.resize(segments.numel());
    std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
    for (int64_t s = 0, e = segments.numel(); s < e; ++s)
      order[next[seg[s]]++] = s;
  }

  ModelInput make(const std::vector<int64_t> &samples) const {
    ModelInput input;
    input.batchSize = static_cast<int64_t>(samples.size());
    if (form == FeatureForm::Sequence) {
      torch::Tensor index = torch::tensor(samples, torch::kLong);
      input.tokens = data.tokens.index_select(0, index);
      input.mask = data.mask.index_select(0, index);
      if (data.workload.defined())
        input.workload = data.workload.index_select(0, index);
      return input;
    }
    std::vector<int64_t> rows, segments;
    for (int64_t b = 0; b < input.batchSize; ++b) {
      for (int64_t k = offsets[samples[b]]; k < offsets[samples[b] + 1]; ++k) {
        rows.push_back(order[k]);
        segments.push_back(b);
      }
    }
    input.statements =
        data.statements.index_select(0, torch::tensor(rows, torch::kLong));
    input.segments = torch::tensor(segments, torch::kLong);
    return input;
  }

  /// Candidates [begin, end): slices instead of copies for sequences.
  ModelInput makeRange(int64_t begin, int64_t end) const {
    if (form == FeatureForm::Statements) {
      std::vector<int64_t> samples(end - begin);
      std::iota(samples.begin(), samples.end(), begin);
      return make(samples);
    }
    ModelInput input;
    input.batchSize = end - begin;
    input.tokens = data.tokens.slice(0, begin, end);
    input.mask = data.mask.slice(0, begin, end);
    if (data.workload.defined())
      input.workload = data.workload.slice(0, begin, end);
    return input;
  }

private:
  const RankingData &data;
  FeatureForm form;
  std::vector<int64_t> offsets, order;
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

std::vector<std::vector<int64_t>>
tcl::candidatesByGroup(const torch::Tensor &groups) {
  torch::Tensor g = groups.to(torch::kCPU).contiguous();
  const int64_t *ids = g.data_ptr<int64_t>();
  std::map<int64_t, std::vector<int64_t>> byGroup;
  for (int64_t i = 0, e = g.numel(); i < e; ++i)
    byGroup[ids[i]].push_back(i);
  std::vector<std::vector<int64_t>> out;
  for (auto &entry : byGroup)
    out.push_back(std::move(entry.second));
  return out;
}

std::vector<std::vector<int64_t>>
tcl::makeGroupBatches(std::vector<std::vector<int64_t>> &groups,
                      const TrainOptions &options, std::mt19937_64 &rng) {
  std::shuffle(groups.begin(), groups.end(), rng);
  std::vector<std::vector<int64_t>> batches;
  std::vector<int64_t> batch;
  int64_t groupsInBatch = 0;
  for (const std::vector<int64_t> &members : groups) {
    std::vector<int64_t> chosen = members;
    if (static_cast<int64_t>(chosen.size()) > options.maxGroupSize) {
      std::shuffle(chosen.begin(), chosen.end(), rng);
      chosen.resize(options.maxGroupSize);
    }
    if (!batch.empty() &&
        (groupsInBatch == options.groupsPerBatch ||
         static_cast<int64_t>(batch.size() + chosen.size()) >
             options.maxBatchSamples)) {
      batches.push_back(std::move(batch));
      batch.clear();
      groupsInBatch = 0;
    }
    batch.insert(batch.end(), chosen.begin(), chosen.end());
    ++groupsInBatch;
  }
  if (!batch.empty())
    batches.push_back(std::move(batch));
  return batches;
}

std::string tcl::validateTrainOptions(const TrainOptions &options) {
  if (!(options.lambdaGainScale > 0))
    return "train: lambdaGainScale must be > 0";
  if (!(options.emaDecay >= 0 && options.emaDecay < 1))
    return "train: emaDecay must be in [0, 1)";
  if (options.groupsPerBatch < 1 || options.maxBatchSamples < 2 ||
      options.maxGroupSize < 2)
    return "train: groupsPerBatch must be >= 1, maxBatchSamples and "
           "maxGroupSize >= 2";
  if (options.validate && options.emaDecay > 0)
    return "train: checkpoint selection (validate) and weight averaging "
           "(emaDecay > 0) are exclusive";
  return "";
}

OptimizerSteps::OptimizerSteps(RankingModel &model, const TrainOptions &options)
    : options(options), params(model.parameters()),
      optimizer(params, torch::optim::AdamOptions(options.learningRate)
                            .weight_decay(options.weightDecay)) {
  if (options.emaDecay > 0)
    for (const torch::Tensor &p : params)
      average.push_back(torch::zeros_like(p).detach());
}

void OptimizerSteps::beginEpoch(int64_t batches) {
  // Later epochs differ by at most a few batches when large groups are
  // subsampled afresh; the rate is clamped at >= 0.
  if (totalSteps == 0)
    totalSteps = options.epochs * batches;
}

void OptimizerSteps::step(const torch::Tensor &loss) {
  if (options.schedule == LRSchedule::Cosine && totalSteps > 0) {
    double progress =
        std::min(1.0, static_cast<double>(steps) / static_cast<double>(totalSteps));
    double rate = options.learningRate * 0.5 * (1.0 + std::cos(M_PI * progress));
    for (torch::optim::OptimizerParamGroup &group : optimizer.param_groups())
      static_cast<torch::optim::AdamOptions &>(group.options()).lr(rate);
  }
  ++steps;
  optimizer.zero_grad();
  loss.backward();
  if (options.gradClipNorm > 0)
    torch::nn::utils::clip_grad_norm_(params, options.gradClipNorm);
  optimizer.step();
  if (!average.empty()) {
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < params.size(); ++i)
      average[i].mul_(options.emaDecay).add_(params[i].detach(),
                                             1.0 - options.emaDecay);
    decayPower *= options.emaDecay;
  }
}

void OptimizerSteps::finish() {
  if (average.empty() || decayPower >= 1)
    return;
  torch::NoGradGuard noGrad;
  for (size_t i = 0; i < params.size(); ++i)
    params[i].copy_(average[i] / (1.0 - decayPower));
}

namespace {
/// Parameters then buffers, in registration order.
std::vector<torch::Tensor> stateTensors(RankingModel &model) {
  std::vector<torch::Tensor> state = model.parameters();
  for (const torch::Tensor &b : model.buffers())
    state.push_back(b);
  return state;
}
} // namespace

double CheckpointSelector::observe(RankingModel &model, int64_t epoch) {
  const bool wasTraining = model.is_training();
  model.eval();
  double score;
  {
    torch::NoGradGuard noGrad;
    score = validate(model);
  }
  model.train(wasTraining);
  history.push_back(score);
  if (score > bestScore) {
    bestScore = score;
    best = epoch;
    torch::NoGradGuard noGrad;
    weights.clear();
    for (const torch::Tensor &t : stateTensors(model))
      weights.push_back(t.detach().clone());
  }
  return score;
}

bool CheckpointSelector::restore(RankingModel &model) const {
  if (weights.empty())
    return false;
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> state = stateTensors(model);
  for (size_t i = 0; i < state.size(); ++i)
    state[i].copy_(weights[i]);
  return true;
}

TrainResult tcl::train(RankingModel &model, const RankingData &data,
                       const TrainOptions &options) {
  TrainResult result;
  auto start = std::chrono::steady_clock::now();
  if (std::string error = data.validate(model.form(), /*needLabels=*/true);
      !error.empty()) {
    result.error = error;
    return result;
  }
  if (std::string error = validateTrainOptions(options); !error.empty()) {
    result.error = error;
    return result;
  }

  try {
    torch::manual_seed(options.seed);
    std::mt19937_64 rng(options.seed);
    Batcher batcher(data, model.form());
    {
      ModelInput all;
      all.tokens = data.tokens;
      all.mask = data.mask;
      all.workload = data.workload;
      all.statements = data.statements;
      all.segments = data.segments;
      all.batchSize = data.size();
      model.fitInputs(all);
    }

    std::vector<std::vector<int64_t>> groups = candidatesByGroup(data.groups);

    OptimizerSteps optimizer(model, options);
    std::optional<CheckpointSelector> checkpoints;
    if (options.validate) {
      checkpoints.emplace(options.validate);
      checkpoints->observe(model, 0);
    }
    model.train();
    for (int64_t epoch = 1; epoch <= options.epochs && !result.timedOut;
         ++epoch) {
      std::vector<std::vector<int64_t>> batches =
          makeGroupBatches(groups, options, rng);
      optimizer.beginEpoch(static_cast<int64_t>(batches.size()));

      double lossSum = 0;
      int64_t steps = 0;
      for (const std::vector<int64_t> &samples : batches) {
        // A single candidate has nothing to rank, and BatchNorm cannot
        // train on it.
        if (samples.size() < 2)
          continue;
        ModelInput input = batcher.make(samples);
        torch::Tensor index = torch::tensor(samples, torch::kLong);
        torch::Tensor labels = data.labels.index_select(0, index);
        torch::Tensor scores = model.score(input);
        torch::Tensor loss =
            options.loss == LossKind::MSE
                ? mseLoss(scores, labels)
                : lambdaRankLoss(scores, labels,
                                 data.groups.index_select(0, index),
                                 options.lambdaSigma, options.lambdaGainScale,
                                 data.weights.defined()
                                     ? data.weights.index_select(0, index)
                                     : torch::Tensor());
        double value = loss.item<double>();
        if (!std::isfinite(value)) {
          result.error =
              "train: non-finite loss in epoch " + std::to_string(epoch);
          break;
        }
        optimizer.step(loss);
        lossSum += value;
        ++steps;
        if (options.timeLimitSeconds > 0 &&
            secondsSince(start) >= options.timeLimitSeconds) {
          result.timedOut = true;
          break;
        }
      }
      if (!result.error.empty())
        break;
      if (steps == 0)
        continue;
      result.epochLosses.push_back(lossSum / static_cast<double>(steps));
      double validation = checkpoints ? checkpoints->observe(model, epoch)
                                      : std::numeric_limits<double>::quiet_NaN();
      if (options.log) {
        EpochLog log;
        log.epoch = epoch;
        log.loss = result.epochLosses.back();
        log.elapsedSeconds = secondsSince(start);
        log.batches = steps;
        log.validation = validation;
        options.log(log);
      }
    }
    // After a failure the last step's weights stay (TrainResult::error).
    if (result.error.empty()) {
      optimizer.finish();
      if (checkpoints) {
        checkpoints->restore(model);
        result.bestEpoch = checkpoints->bestEpoch();
        result.validationScores = checkpoints->scores();
      }
    }
  } catch (const std::exception &e) {
    result.error = std::string("train: ") + e.what();
  }
  model.eval();
  result.seconds = secondsSince(start);
  return result;
}

namespace {
/// `apply` (score or embed) on all candidates of `data`, `batchSize` at a
/// time in eval mode without gradients, concatenated; `empty` for N = 0.
/// Errors are prefixed with `name`.
torch::Tensor applyBatched(
    RankingModel &model, const RankingData &data, int64_t batchSize,
    std::string *error, const std::string &name, torch::Tensor empty,
    torch::Tensor (RankingModel::*apply)(const ModelInput &)) {
  auto fail = [&](const std::string &message) {
    if (error)
      *error = message;
    return torch::Tensor();
  };
  if (std::string message = data.validate(model.form(), /*needLabels=*/false);
      !message.empty())
    return fail(message);
  if (batchSize < 1)
    return fail(name + ": batch size must be >= 1");
  try {
    model.eval();
    torch::NoGradGuard noGrad;
    Batcher batcher(data, model.form());
    const int64_t n = data.size();
    std::vector<torch::Tensor> parts;
    for (int64_t begin = 0; begin < n; begin += batchSize)
      parts.push_back((model.*apply)(
          batcher.makeRange(begin, std::min(n, begin + batchSize))));
    if (error)
      error->clear();
    return parts.empty() ? empty : torch::cat(parts);
  } catch (const std::exception &e) {
    return fail(name + ": " + e.what());
  }
}
} // namespace

RankingData tcl::selectRows(const RankingData &data,
                             const torch::Tensor &rows) {
  auto rowsOf = [&](const torch::Tensor &t) {
    return t.defined() ? t.index_select(0, rows) : torch::Tensor();
  };
  RankingData out;
  out.tokens = rowsOf(data.tokens);
  out.mask = rowsOf(data.mask);
  out.workload = rowsOf(data.workload);
  out.labels = rowsOf(data.labels);
  out.groups = rowsOf(data.groups);
  out.weights = rowsOf(data.weights);
  if (data.segments.defined() && data.statements.defined()) {
    torch::Tensor newIndex = torch::full({data.size()}, -1, torch::kInt64);
    newIndex.index_put_({rows}, torch::arange(rows.size(0), torch::kInt64));
    torch::Tensor segments = newIndex.index_select(0, data.segments);
    torch::Tensor keep = segments.ge(0);
    out.statements = data.statements.index({keep});
    out.segments = segments.index({keep});
  }
  return out;
}

torch::Tensor tcl::predict(RankingModel &model, const RankingData &data,
                           int64_t batchSize, std::string *error) {
  return applyBatched(model, data, batchSize, error, "predict",
                      torch::zeros({0}), &RankingModel::score);
}

torch::Tensor tcl::embed(RankingModel &model, const RankingData &data,
                         int64_t batchSize, std::string *error) {
  return applyBatched(model, data, batchSize, error, "embed",
                      torch::zeros({0, 0}), &RankingModel::embed);
}

double tcl::meanGroupTop1(RankingModel &model, const RankingData &data) {
  torch::Tensor scores = tcl::predict(model, data);
  if (!scores.defined() || !data.labels.defined() || !data.groups.defined())
    return std::numeric_limits<double>::quiet_NaN();
  auto toDoubles = [](const torch::Tensor &t) {
    torch::Tensor d = t.to(torch::kDouble).contiguous();
    return std::vector<double>(d.data_ptr<double>(),
                               d.data_ptr<double>() + d.numel());
  };
  torch::Tensor groups = data.groups.contiguous();
  std::vector<int64_t> ids(groups.data_ptr<int64_t>(),
                           groups.data_ptr<int64_t>() + groups.numel());
  return topKScore(
      tasksFromLabels(ids, toDoubles(data.labels), toDoubles(scores)), 1);
}
