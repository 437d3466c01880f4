//===- Sampler.h - Choose which candidate programs to measure ---*- C++ -*-===//
//
// Active learning for the dataset: from a pool of N unmeasured candidate
// programs, each described by an embedding (e.g. a cost model's hidden
// state) and optionally by the scores of an ensemble of M cost models,
// choose `count` programs to measure. The RDU strategy (TCL, arXiv
// 2604.12891) jointly maximises Representativeness, Diversity and
// Uncertainty; the single-criterion strategies and uniform random sampling
// are its baselines.
//
// Every strategy works per group (task): group g of n_g candidates gets
// quota_g = count * n_g / N programs, rounded by largest remainder (ties to
// the lower group id) so the quotas sum to exactly `count`. Inside a group:
//
//   RDU, for each group:
//   1. Mini-batch k-means (Sculley, "Web-scale k-means clustering", WWW
//      2010, Algorithm 1) of the group's embeddings into
//      K = min(clusters, quota_g) clusters, where `clusters` defaults to
//      ceil(sqrt(n_g)) capped at 1024. Centres start from k-means++
//      (Arthur & Vassilvitskii, SODA 2007) on a seeded sample of
//      min(n_g, max(1024, 16 K)) candidates; then `kmeansIterations`
//      mini-batches of min(`kmeansBatchSize`, n_g) candidates drawn with
//      replacement move each centre towards its batch members with rate
//      1/(its count so far); finally every candidate is assigned to its
//      nearest centre.
//      Capping K at the quota lets every cluster get a pick (step 5), so a
//      small budget is not spent twice in one region while another region
//      gets none.
//   2. Representativeness: a kernel density estimate over the centroids c_k
//      weighted by their sizes n_k,
//        R(x) = sum_k (n_k / n_g) exp(-||x - c_k||^2 / (2 h^2)),
//      with bandwidth h the median distance of the group's candidates to
//      their centroid (the median of the non-zero distances when that is 0,
//      and 1 when all are 0). Min-max normalised to [0, 1] over the group
//      (all 0 when constant).
//   3. Uncertainty U(x): the standard deviation (population, 1/M) of the M
//      ensemble scores of x, min-max normalised to [0, 1] over the group;
//      0 without an ensemble. Each member's scores are first standardised
//      over the group (z-scores: mean 0, standard deviation 1; all 0 when
//      constant): ranking models (LambdaRank, tcl::train) are defined only
//      up to a per-task shift and scale, so raw scores of different members
//      are not comparable and their spread would measure the members'
//      arbitrary offsets rather than their disagreement.
//      Performance P(x) (weight wP; default 1, see SamplerOptions): the
//      mean of the standardised member scores, min-max normalised over the
//      group. It
//      favours programs the ensemble predicts fast, the region where
//      TenSet's top-k score is decided (exploitation, as a tuner measures
//      its cost model's best predictions, e.g. Ansor, OSDI 2020). Not part
//      of the RDU formula; --weight-performance of tcl-sample and
//      tcl-dataset sets it (0 gives the plain RDU formula).
//   4. Diversity D(x) = min(1, d(x, S_k) / s_k), the Euclidean distance
//      from x to the nearest program of S_k, the measured programs (of the
//      group, assigned to their nearest centroid) and programs already
//      picked in x's cluster k, scaled by s_k = 2 max_{y in k} ||y - c_k||,
//      which bounds any distance between two members of k; D = 1 while S_k
//      is empty (in particular before anything is measured).
//   5. The group's quota is split across its clusters: one pick for every
//      non-empty cluster (at most K <= quota_g of them), so that every
//      region is covered before any gets a second pick, and the rest in
//      proportion to n_k - 1 by largest remainder (ties to the lower
//      cluster index). No cluster gets more than it holds: a share
//      r (n_k - 1) / sum (n_k - 1) of the rest r <= sum (n_k - 1) is at most
//      n_k - 1. For a budget of many picks per cluster this is the split
//      proportional to n_k.
//   6. Within each cluster, greedily: pick the unpicked member with the
//      largest wR R + wD D + wU U + wP P (ties to the lower pool index), then
//      lower D of the cluster's members to the scaled distance to the pick.
//      Updates touch only the cluster, so the cost is at most
//      sum_k n_k q_k H rather than N count H, which keeps a pool of
//      1,000,000 candidates tractable. It is evaluated as a lazy greedy
//      (Minoux, "Accelerated greedy algorithms for maximizing submodular
//      set functions", 1978): scores only fall, so only the best stored
//      score is refreshed; the picks are those of the plain greedy.
//
//   Random: a seeded uniform sample without replacement of each group.
//   Uncertainty: the quota_g candidates with the largest U (the standard
//     deviation of the standardised ensemble scores; ties to the lower
//     index).
//   Representativeness: the quota_g candidates with the largest R, with
//     K = min(clusters, n_g) clusters (densest first).
//   Diversity: greedy farthest-first traversal, the 2-approximation of
//     k-center that Sener & Savarese use as the core-set baseline ("Active
//     Learning for Convolutional Neural Networks: A Core-Set Approach",
//     ICLR 2018, Sec. 4.1, Algorithm 1): repeatedly pick the candidate
//     farthest from the measured programs of the group and the picks so far
//     (ties, e.g. nothing measured, to the lower index). Exact over the
//     whole group when n_g (quota_g + measured in the group) is at most
//     2^26 distance evaluations; larger groups use the cluster decomposition
//     of RDU with weights (0, 1, 0) instead.
//
// The result is deterministic for a seed and independent of the number of
// threads: llvm::parallelFor only splits independent distance computations,
// and every reduction runs in a fixed order.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_SAMPLER_SAMPLER_H
#define TCL_SAMPLER_SAMPLER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace tcl {

/// How selectCandidates chooses (see the file comment).
enum class SamplerStrategy {
  RDU,
  Random,
  Uncertainty,
  Diversity,
  Representativeness
};

/// The spelling used by tools: "rdu", "random", "uncertainty", "diversity",
/// "representativeness".
llvm::StringRef stringifySamplerStrategy(SamplerStrategy strategy);

/// Parses a spelling of stringifySamplerStrategy; the error names `name` and
/// lists the valid spellings.
llvm::Expected<SamplerStrategy> parseSamplerStrategy(llvm::StringRef name);

/// The candidates to choose from and what is already measured. Embeddings
/// are compared by Euclidean distance, so they should share one scale.
struct SamplerPool {
  /// Embedding width H (> 0).
  int64_t dim = 0;
  /// [N, H] row-major embeddings of the N candidates; N = size / H > 0.
  std::vector<float> embeddings;
  /// [M, N] row-major: score of ensemble member m for candidate i at
  /// m * N + i. Empty: no ensemble (uncertainty 0).
  std::vector<float> ensemble;
  /// [N] group (task) id of every candidate, any values. Empty: one group.
  std::vector<int64_t> groups;
  /// [K, H] row-major embeddings of already measured programs (diversity
  /// starts from them). May be empty.
  std::vector<float> measured;
  /// [K] group id of every measured program; required when `groups` is
  /// given and K > 0, otherwise empty or ignored. Measured programs of a
  /// group without candidates are ignored.
  std::vector<int64_t> measuredGroups;
};

struct SamplerOptions {
  SamplerStrategy strategy = SamplerStrategy::RDU;
  /// RDU weights wR, wD, wU of the per-candidate score (finite, >= 0).
  /// The defaults (wR, wD, wU, wP) = (0, 1, 0, 1) were chosen on a
  /// validation split of the training networks, not on the test networks
  /// (docs/results/sampling-validation.md: top-1 at 10% 0.609 against 0.429
  /// for equal RDU weights (1, 1, 1, 0) and 0.460 for random, better than
  /// random on every seed), and confirmed on the test networks
  /// (docs/results/sampling-budgets.md). Representativeness and
  /// uncertainty stay available: each lowered top-1 there. With wR = 0 the
  /// pool's density still shapes the selection: the clusters split each
  /// quota in proportion to their sizes (steps 1 and 5).
  double weightRepresentativeness = 0;
  double weightDiversity = 1;
  double weightUncertainty = 0;
  /// Weight wP of the performance term P (finite, >= 0).
  double weightPerformance = 1;
  /// k-means clusters per group; 0: ceil(sqrt(n_g)) capped at 1024.
  /// RDU also caps it at the group's quota.
  int64_t clusters = 0;
  /// Mini-batch k-means iterations and batch size (both >= 1).
  int64_t kmeansIterations = 100;
  int64_t kmeansBatchSize = 1024;
  /// Seeds k-means and random sampling.
  uint64_t seed = 0;
};

/// Chooses `count` distinct candidates of `pool` with `options.strategy`
/// (see the file comment) and returns their pool indices in ascending order.
/// Errors name the problem: empty pool, dim <= 0, an array whose size does
/// not match N, H, M or K, a non-finite embedding (with the candidate or
/// measured program index) or ensemble score, count < 0 or count > N, and
/// invalid options.
llvm::Expected<std::vector<int64_t>>
selectCandidates(const SamplerPool &pool, int64_t count,
                 const SamplerOptions &options = {});

/// The number of programs a budget of `fraction` of a pool of `poolSize`
/// candidates allows: fraction * poolSize rounded to nearest (halves away
/// from zero), at least 1. Errors when fraction is outside (0, 1] (or NaN)
/// and when poolSize <= 0.
llvm::Expected<int64_t> budgetCount(double fraction, int64_t poolSize);

} // namespace tcl

#endif // TCL_SAMPLER_SAMPLER_H
