//===- Ranking.cpp - Ranking losses and ranking metrics ---------*- C++ -*-===//

#include "tcl/CostModel/Ranking.h"

#include <torch/nn/functional/activation.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

using namespace tcl;

torch::Tensor tcl::lambdaRankLoss(const torch::Tensor &scores,
                                  const torch::Tensor &labels,
                                  const torch::Tensor &groups, double sigma,
                                  double gainScale,
                                  const torch::Tensor &weights) {
  TORCH_CHECK(scores.dim() == 1 && labels.sizes() == scores.sizes() &&
                  groups.sizes() == scores.sizes(),
              "lambdaRankLoss: scores, labels and groups must be [B]");
  TORCH_CHECK(groups.scalar_type() == torch::kLong,
              "lambdaRankLoss: groups must be int64");
  TORCH_CHECK(!weights.defined() || weights.sizes() == scores.sizes(),
              "lambdaRankLoss: weights must be [B] like scores");
  TORCH_CHECK(gainScale > 0, "lambdaRankLoss: gainScale must be > 0, got ",
              gainScale);

  torch::Tensor groupIds = groups.to(torch::kCPU).contiguous();
  const int64_t *ids = groupIds.data_ptr<int64_t>();
  std::map<int64_t, std::vector<int64_t>> members;
  for (int64_t i = 0, e = groupIds.numel(); i < e; ++i)
    members[ids[i]].push_back(i);

  torch::Tensor target = labels.detach().to(scores.dtype());
  std::vector<torch::Tensor> groupLosses;
  for (const auto &[id, indices] : members) {
    const int64_t n = static_cast<int64_t>(indices.size());
    if (n < 2)
      continue;
    torch::Tensor index = torch::tensor(indices, torch::kLong);
    torch::Tensor s = scores.index_select(0, index);
    torch::Tensor gains = torch::pow(2.0, gainScale * target.index_select(0, index)) - 1;

    // discount[k] = 1 / log2(2 + k) for the 0-based rank k.
    torch::Tensor discount =
        1.0 / torch::log2(torch::arange(n, scores.options()) + 2.0);
    torch::Tensor idealGains = std::get<0>(
        torch::sort(gains, /*stable=*/true, 0, /*descending=*/true));
    double idcg = (idealGains * discount).sum().item<double>();
    if (!(idcg > 0))
      continue;

    torch::Tensor order = std::get<1>(
        torch::sort(s.detach(), /*stable=*/true, 0, /*descending=*/true));
    torch::Tensor itemDiscount =
        torch::empty_like(discount).index_put_({order}, discount);

    torch::Tensor preferred =
        gains.unsqueeze(1) > gains.unsqueeze(0); // [n, n]: y_i > y_j
    torch::Tensor weight =
        (gains.unsqueeze(1) - gains.unsqueeze(0)).abs() *
        (itemDiscount.unsqueeze(1) - itemDiscount.unsqueeze(0)).abs() / idcg;
    weight = weight * preferred.to(weight.dtype());
    torch::Tensor margin = s.unsqueeze(1) - s.unsqueeze(0); // s_i - s_j
    torch::Tensor loss =
        (weight * torch::nn::functional::softplus(-sigma * margin)).sum();
    if (weights.defined())
      loss = loss * weights[indices.front()].to(loss.dtype());
    groupLosses.push_back(loss);
  }
  if (groupLosses.empty())
    return (scores * 0).sum();
  return torch::stack(groupLosses).mean();
}

torch::Tensor tcl::mseLoss(const torch::Tensor &scores,
                           const torch::Tensor &labels) {
  TORCH_CHECK(scores.dim() == 1 && labels.sizes() == scores.sizes(),
              "mseLoss: scores and labels must be [B]");
  return (scores - labels.to(scores.dtype())).pow(2).mean();
}

namespace {
double latencyOrInf(double latency) {
  return std::isfinite(latency) ? latency
                                : std::numeric_limits<double>::infinity();
}

/// Candidate indices by descending score, NaN last, ties by index.
std::vector<size_t> byScore(const std::vector<double> &scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    double sa = scores[a], sb = scores[b];
    if (std::isnan(sb))
      return !std::isnan(sa);
    return sa > sb;
  });
  return order;
}
} // namespace

double tcl::topKScore(const std::vector<TopKTask> &tasks, int64_t k,
                      std::string *error) {
  auto fail = [&](const std::string &message) {
    if (error)
      *error = message;
    return std::numeric_limits<double>::quiet_NaN();
  };
  if (k < 1)
    return fail("topKScore: k must be >= 1");
  double numerator = 0, denominator = 0;
  bool anyTask = false;
  for (size_t t = 0; t < tasks.size(); ++t) {
    const TopKTask &task = tasks[t];
    if (task.latencies.size() != task.scores.size())
      return fail("topKScore: task " + std::to_string(t) + " has " +
                  std::to_string(task.latencies.size()) + " latencies but " +
                  std::to_string(task.scores.size()) + " scores");
    if (!(task.weight >= 0))
      return fail("topKScore: task " + std::to_string(t) +
                  " has a negative weight");
    double best = std::numeric_limits<double>::infinity();
    for (double latency : task.latencies)
      best = std::min(best, latencyOrInf(latency));
    if (!std::isfinite(best) || task.weight == 0)
      continue;
    std::vector<size_t> order = byScore(task.scores);
    double picked = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < order.size() && i < static_cast<size_t>(k); ++i)
      picked = std::min(picked, latencyOrInf(task.latencies[order[i]]));
    numerator += task.weight * best;
    denominator += task.weight * picked;
    anyTask = true;
  }
  if (!anyTask)
    return fail("topKScore: no task with a positive weight and a finite "
                "latency");
  if (error)
    error->clear();
  return std::isfinite(denominator) ? numerator / denominator : 0.0;
}

double tcl::pairwiseAccuracy(const std::vector<TopKTask> &tasks) {
  double correct = 0;
  int64_t pairs = 0;
  for (const TopKTask &task : tasks) {
    size_t n = std::min(task.latencies.size(), task.scores.size());
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 1; j < n; ++j) {
        double li = latencyOrInf(task.latencies[i]);
        double lj = latencyOrInf(task.latencies[j]);
        if (li == lj)
          continue;
        ++pairs;
        double faster = li < lj ? task.scores[i] : task.scores[j];
        double slower = li < lj ? task.scores[j] : task.scores[i];
        if (faster > slower)
          correct += 1;
        else if (faster == slower)
          correct += 0.5;
      }
    }
  }
  return pairs ? correct / static_cast<double>(pairs)
               : std::numeric_limits<double>::quiet_NaN();
}

std::vector<TopKTask> tcl::tasksFromLabels(const std::vector<int64_t> &groups,
                                           const std::vector<double> &labels,
                                           const std::vector<double> &scores) {
  std::map<int64_t, TopKTask> byGroup;
  size_t n = std::min({groups.size(), labels.size(), scores.size()});
  for (size_t i = 0; i < n; ++i) {
    TopKTask &task = byGroup[groups[i]];
    task.latencies.push_back(labels[i] > 0
                                 ? 1.0 / labels[i]
                                 : std::numeric_limits<double>::infinity());
    task.scores.push_back(scores[i]);
  }
  std::vector<TopKTask> tasks;
  tasks.reserve(byGroup.size());
  for (auto &entry : byGroup)
    tasks.push_back(std::move(entry.second));
  return tasks;
}
