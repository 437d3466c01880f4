//===- TaskScheduler.h - Split a trial budget across tasks ------*- C++ -*-===//
//
// Chooses which task of a network to tune next. The gradient strategy is
// Ansor's task scheduler (Zheng et al., OSDI'20, Sec. 6): minimize
// f = sum_i w_i * g_i, where g_i is the best latency of task i so far and
// w_i its weight (occurrences in the network), by tuning next the task whose
// estimated gradient df/dt_i is the most negative,
//
//   df/dt_i ~ w_i * ( alpha * (g_i(t_i) - g_i(t_i - dt)) / dt
//                   + (1 - alpha) * min(-g_i(t_i) / t_i,
//                                       beta * C_i / max_k V_k - g_i(t_i)) )
//
// with t_i the rounds spent on i, dt a backward window, C_i the FLOPs of i,
// and V_k the best throughput (FLOP/s) among tasks k of the same kind (the
// "similar tasks" of the paper). Every task gets one round first; with
// probability epsilon a random task is chosen. Round robin is the baseline.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_SEARCH_TASKSCHEDULER_H
#define TCL_SEARCH_TASKSCHEDULER_H

#include "llvm/ADT/ArrayRef.h"

#include <random>
#include <string>
#include <vector>

namespace tcl {

struct ScheduledTask {
  /// Occurrences of the task in the network.
  double weight = 1;
  /// FLOPs of one execution.
  double flops = 0;
  /// Op kind; tasks of one kind are "similar".
  std::string kind;
};

class TaskScheduler {
public:
  enum class Strategy { Gradient, RoundRobin };

  TaskScheduler(std::vector<ScheduledTask> tasks, Strategy strategy,
                uint64_t seed, double alpha = 0.2, double beta = 2,
                unsigned backwardWindow = 3, double epsilon = 0.05);

  /// Index of the task to tune in the next round.
  unsigned next();

  /// Reports the end of a round of task `task`: its best latency (seconds)
  /// after the round, or 0 when it has no valid measurement yet.
  void record(unsigned task, double bestLatency);

  /// Rounds given to each task so far.
  llvm::ArrayRef<unsigned> getRounds() const { return rounds; }

  /// The gradient estimate of `task` (exposed for tests); +inf for a task
  /// without measurements.
  double gradient(unsigned task) const;

private:
  std::vector<ScheduledTask> tasks;
  Strategy strategy;
  std::mt19937_64 rng;
  double alpha, beta, epsilon;
  unsigned window;
  std::vector<unsigned> rounds;
  /// Best latency after each round, per task.
  std::vector<std::vector<double>> history;
  unsigned roundRobinNext = 0;
};

} // namespace tcl

#endif // TCL_SEARCH_TASKSCHEDULER_H
