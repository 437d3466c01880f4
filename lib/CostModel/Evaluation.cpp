//===- Evaluation.cpp - Cost-model scores on held-out networks ------------===//

#include "tcl/CostModel/Evaluation.h"

#include "tcl/CostModel/Ranking.h"

#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace tcl;

namespace {
/// The mean of topKScore(tasks, k) over 32 draws of uniform random scores.
double randomTopK(std::vector<TopKTask> tasks, int64_t k, uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  constexpr int kDraws = 32;
  double sum = 0;
  for (int draw = 0; draw < kDraws; ++draw) {
    for (TopKTask &t : tasks)
      for (double &score : t.scores)
        score = uniform(rng);
    sum += topKScore(tasks, k);
  }
  return sum / kDraws;
}
} // namespace

llvm::Expected<std::vector<NetworkScore>>
tcl::scoreNetworks(const TrainingData &data, llvm::ArrayRef<float> scores,
                   const NetworkTasks &networks, uint64_t seed) {
  if (scores.size() != data.size())
    return llvm::createStringError(
        "internal error: " + llvm::Twine(scores.size()) + " scores for " +
        llvm::Twine(data.size()) + " programs");
  llvm::StringMap<TopKTask> byKey;
  for (size_t i = 0; i < data.size(); ++i) {
    TopKTask &t = byKey[data.groupKeys[data.groups[i]]];
    t.latencies.push_back(data.latencies[i]);
    t.scores.push_back(scores[i]);
  }
  std::vector<NetworkScore> out;
  for (const auto &[network, tasks] : networks) {
    std::vector<TopKTask> weighted;
    NetworkScore s;
    double bestSum = 0;
    for (const auto &[key, weight] : tasks) {
      auto it = byKey.find(key);
      if (it == byKey.end())
        continue;
      TopKTask t = it->second;
      t.weight = static_cast<double>(weight);
      // Tasks without a finite latency do not count (see topKScore).
      double best = std::numeric_limits<double>::infinity();
      for (double latency : t.latencies)
        if (std::isfinite(latency))
          best = std::min(best, latency);
      if (std::isfinite(best)) {
        TaskScore task;
        task.workload = key;
        task.weight = t.weight;
        task.bestLatency = best;
        // The pick as topKScore makes it: highest score, ties broken
        // towards the lower index, NaN scores last; the task's top-1 is
        // then best / picked (0 for a failed pick).
        size_t pick = 0;
        for (size_t i = 1; i < t.scores.size(); ++i)
          if (t.scores[i] > t.scores[pick] ||
              (std::isnan(t.scores[pick]) && !std::isnan(t.scores[i])))
            pick = i;
        task.pickedLatency = t.latencies[pick];
        task.top1 = std::isfinite(task.pickedLatency)
                        ? best / task.pickedLatency
                        : 0.0;
        task.share = t.weight * best;
        bestSum += task.share;
        s.taskScores.push_back(std::move(task));
      }
      weighted.push_back(std::move(t));
    }
    if (weighted.empty())
      continue;
    for (TaskScore &task : s.taskScores)
      task.share = bestSum > 0 ? task.share / bestSum : 0;
    s.network = network;
    s.tasks = static_cast<int64_t>(weighted.size());
    s.top1 = topKScore(weighted, 1);
    s.top5 = topKScore(weighted, 5);
    s.pairwise = pairwiseAccuracy(weighted);
    s.randomTop1 = randomTopK(weighted, 1, seed);
    s.randomTop5 = randomTopK(weighted, 5, seed);
    out.push_back(std::move(s));
  }
  return out;
}

llvm::json::Object tcl::toJSON(llvm::ArrayRef<NetworkScore> scores) {
  llvm::json::Object out;
  for (const NetworkScore &s : scores) {
    llvm::json::Array perTask;
    for (const TaskScore &t : s.taskScores)
      perTask.push_back(llvm::json::Object{{"workload", t.workload},
                                           {"weight", t.weight},
                                           {"top1", t.top1},
                                           {"share", t.share},
                                           {"best_s", t.bestLatency},
                                           {"picked_s",
                                            std::isfinite(t.pickedLatency)
                                                ? llvm::json::Value(
                                                      t.pickedLatency)
                                                : llvm::json::Value(nullptr)}});
    out[s.network] = llvm::json::Object{{"tasks", s.tasks},
                                        {"top1", s.top1},
                                        {"top5", s.top5},
                                        {"pairwise", s.pairwise},
                                        {"random_top1", s.randomTop1},
                                        {"random_top5", s.randomTop5},
                                        {"per_task", std::move(perTask)}};
  }
  return out;
}

double tcl::meanTop1(llvm::ArrayRef<NetworkScore> scores) {
  if (scores.empty())
    return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (const NetworkScore &s : scores)
    sum += s.top1;
  return sum / static_cast<double>(scores.size());
}
