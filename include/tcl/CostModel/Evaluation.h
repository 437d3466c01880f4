//===- Evaluation.h - Cost-model scores on held-out networks ----*- C++ -*-===//
//
// What tcl-train and tcl-distill share to evaluate a cost model on held-out
// networks (read from a tcl-dataset manifest, Dataset.h): TenSet's top-1 /
// top-5 score (Ranking.h) per network with the manifest's task weights,
// pairwise accuracy and the scores of a random ranking as the baseline.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_EVALUATION_H
#define TCL_COSTMODEL_EVALUATION_H

#include "tcl/CostModel/TrainingData.h"
#include "tcl/Dataset/Dataset.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tcl {

/// How one task of a network fares: the diagnosis of a low network score.
struct TaskScore {
  std::string workload;
  /// The task's weight in the network (occurrences).
  double weight = 0;
  /// topKScore of the task alone, k = 1: its best latency over the latency
  /// of the program the model scores highest (0 when that one failed).
  double top1 = 0;
  /// Seconds: the task's best latency and that of the program the model
  /// scores highest (+inf when it failed).
  double bestLatency = 0, pickedLatency = 0;
  /// weight * best latency over the network's sum of them: the share of the
  /// network's best latency, i.e. how much this task's top1 counts.
  double share = 0;
};

/// The scores of one network.
struct NetworkScore {
  std::string network;
  /// Tasks of the network with programs in the evaluated data.
  int64_t tasks = 0;
  double top1 = 0, top5 = 0, pairwise = 0;
  /// topKScore of uniform random scores, mean of 32 seeded draws.
  double randomTop1 = 0, randomTop5 = 0;
  /// Per task, in the manifest's order.
  std::vector<TaskScore> taskScores;
};

/// Scores per network of `networks` (in name order; networks without any
/// program in `data` are left out): TenSet's top-k with the manifest's
/// task weights, the true latencies from data.latencies and `scores`
/// (one per program of `data`, higher = predicted faster). `seed` seeds the
/// random ranking. Errors when scores and data differ in size.
llvm::Expected<std::vector<NetworkScore>>
scoreNetworks(const TrainingData &data, llvm::ArrayRef<float> scores,
              const NetworkTasks &networks, uint64_t seed = 0);

/// {network: {tasks, top1, top5, pairwise, random_top1, random_top5,
/// per_task: [{workload, weight, top1, share, best_s, picked_s}]}}
/// (picked_s null when the pick failed).
llvm::json::Object toJSON(llvm::ArrayRef<NetworkScore> scores);

/// Mean top-1 over the networks (NaN when there are none).
double meanTop1(llvm::ArrayRef<NetworkScore> scores);

} // namespace tcl

#endif // TCL_COSTMODEL_EVALUATION_H
