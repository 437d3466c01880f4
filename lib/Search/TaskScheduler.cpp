//===- TaskScheduler.cpp - Split a trial budget across tasks --------------===//

#include "tcl/Search/TaskScheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace tcl;

TaskScheduler::TaskScheduler(std::vector<ScheduledTask> tasks,
                             Strategy strategy, uint64_t seed, double alpha,
                             double beta, unsigned backwardWindow,
                             double epsilon)
    : tasks(std::move(tasks)), strategy(strategy), rng(seed), alpha(alpha),
      beta(beta), epsilon(epsilon), window(std::max(1u, backwardWindow)) {
  rounds.assign(this->tasks.size(), 0);
  history.resize(this->tasks.size());
}

double TaskScheduler::gradient(unsigned i) const {
  const std::vector<double> &h = history[i];
  if (h.empty() || h.back() <= 0)
    return std::numeric_limits<double>::infinity();
  double g = h.back();
  double t = rounds[i];
  // Backward difference over the last few rounds (0 when there is only one).
  unsigned dt = std::min<unsigned>(window, h.size() - 1);
  double backward = 0;
  if (dt > 0 && h[h.size() - 1 - dt] > 0)
    backward = (g - h[h.size() - 1 - dt]) / dt;
  // Forward estimates: latency keeps shrinking like 1/t, and this task
  // could reach the throughput of the fastest similar task.
  double forward = -g / t;
  double bestSimilar = 0;
  for (unsigned k = 0; k < tasks.size(); ++k)
    if (tasks[k].kind == tasks[i].kind && !history[k].empty() &&
        history[k].back() > 0)
      bestSimilar = std::max(bestSimilar, tasks[k].flops / history[k].back());
  if (bestSimilar > 0 && tasks[i].flops > 0)
    forward = std::min(forward, beta * tasks[i].flops / bestSimilar - g);
  return tasks[i].weight * (alpha * backward + (1 - alpha) * forward);
}

unsigned TaskScheduler::next() {
  unsigned n = tasks.size();
  // Warm-up: every task once, in order.
  for (unsigned i = 0; i < n; ++i)
    if (rounds[i] == 0)
      return i;
  if (strategy == Strategy::RoundRobin)
    return roundRobinNext++ % n;
  if (std::bernoulli_distribution(epsilon)(rng))
    return std::uniform_int_distribution<unsigned>(0, n - 1)(rng);
  unsigned best = 0;
  double bestGradient = std::numeric_limits<double>::infinity();
  for (unsigned i = 0; i < n; ++i) {
    double g = gradient(i);
    if (g < bestGradient) {
      bestGradient = g;
      best = i;
    }
  }
  return best;
}

void TaskScheduler::record(unsigned task, double bestLatency) {
  ++rounds[task];
  history[task].push_back(bestLatency);
}
