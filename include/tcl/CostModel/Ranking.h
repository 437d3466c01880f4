//===- Ranking.h - Ranking losses and ranking metrics -----------*- C++ -*-===//
//
// Losses the cost models train with, and the metrics they are judged by.
//
// Labels are normalized throughput, min_latency_of_task / latency, in [0, 1]
// (1 for the task's best candidate, 0 for a failed one). A group is the set
// of candidates of one task; ranking losses only compare candidates of the
// same group.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_RANKING_H
#define TCL_COSTMODEL_RANKING_H

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tcl {

/// LambdaRank as a differentiable loss on scores (Burges 2010, "From RankNet
/// to LambdaRank to LambdaMART: An Overview", Sec. 4 for the lambdas, Sec. 6
/// for the NDCG weighting):
///
/// For a group with scores s, labels y and gains G_i = 2^{k y_i} - 1 (k =
/// gainScale, 1 by default; a larger k puts the weight on pairs with the
/// near-best candidates, the ones top-1 depends on, as integer relevance
/// grades 0..k would in LambdaMART), let r_i
/// be the 1-based rank of item i when sorted by score (descending, ties by
/// index) and IDCG = sum_k G_(k) / log2(1 + k) with the gains sorted
/// descending. For every pair with y_i > y_j,
///   |dNDCG_ij| = |G_i - G_j| * |1/log2(1 + r_i) - 1/log2(1 + r_j)| / IDCG
/// is the change of NDCG when i and j swap ranks, and the group's loss is
///   L_g = sum_{y_i > y_j} |dNDCG_ij| * log(1 + exp(-sigma * (s_i - s_j))).
/// The weights are constants (no gradient through the ranks), so
/// dL_g/ds_i = sum_j -sigma * |dNDCG_ij| / (1 + exp(sigma * (s_i - s_j))),
/// which is Burges' lambda_i. The loss is the mean of L_g over the groups
/// with IDCG > 0 (groups whose candidates all failed contribute nothing);
/// with `weights`, the mean of w_g * L_g, w_g being the weight of the
/// group's first item (RankingData::weights: how much a task counts).
///
/// scores float [B], labels float [B], groups int64 [B] (any ids, items of a
/// group need not be contiguous), weights float [B] or undefined (1 each).
/// Returns a scalar; 0 (with a gradient of 0) when no group has a pair to
/// order. Throws c10::Error for gainScale <= 0 or mis-shaped inputs.
torch::Tensor lambdaRankLoss(const torch::Tensor &scores,
                             const torch::Tensor &labels,
                             const torch::Tensor &groups, double sigma = 1.0,
                             double gainScale = 1.0,
                             const torch::Tensor &weights = torch::Tensor());

/// Mean squared error mean_i (s_i - y_i)^2 between scores and labels, both
/// float [B]: a regression on normalized throughput, as TenSet's MLP trains.
torch::Tensor mseLoss(const torch::Tensor &scores, const torch::Tensor &labels);

/// One task of a top-k evaluation.
struct TopKTask {
  /// w_t: how much the task counts (e.g. its number of occurrences in the
  /// network, or its share of the network's latency).
  double weight = 1.0;
  /// True latency of each candidate in seconds; +inf (or NaN) for a failed
  /// candidate.
  std::vector<double> latencies;
  /// The model's score of each candidate, higher = predicted faster.
  std::vector<double> scores;
};

/// TenSet's top-k score (Zheng et al., NeurIPS'21, the metric of its
/// cost-model evaluation; DESIGN.md vocabulary):
///   sum_t w_t * best_t / sum_t w_t * min(true latency of the k candidates
///   of t the model scores highest),
/// with best_t the minimum finite latency of t. Ties in scores are broken
/// by candidate index, NaN scores rank last. A task whose top-k picks all
/// failed adds +inf to the denominator (score 0); tasks without any finite
/// latency are skipped. Returns a value in [0, 1], or NaN with `error` set
/// when k < 1, a task's latencies and scores differ in length, a weight is
/// negative, or no task counts.
double topKScore(const std::vector<TopKTask> &tasks, int64_t k,
                 std::string *error = nullptr);

/// Fraction of the pairs of candidates of the same task with different true
/// latencies that the scores order correctly (a failed candidate is slower
/// than any other; a tie in scores counts half), over all tasks, pairs
/// unweighted. NaN when there is no such pair.
double pairwiseAccuracy(const std::vector<TopKTask> &tasks);

/// Groups flat per-candidate vectors into TopKTasks (weight 1, in increasing
/// group id order) for topKScore. Latencies are 1 / label, which is the
/// task's latency up to a per-task factor (topKScore is invariant to it);
/// label <= 0 becomes a failed candidate. All three vectors have one entry
/// per candidate.
std::vector<TopKTask> tasksFromLabels(const std::vector<int64_t> &groups,
                                      const std::vector<double> &labels,
                                      const std::vector<double> &scores);

} // namespace tcl

#endif // TCL_COSTMODEL_RANKING_H
