//===- EvolutionarySearch.h - Cost-model-guided evolutionary search -*- C++ -*-===//
//
// Proposes the schedules of a task to measure next, as Ansor's evolutionary
// search does (Zheng et al., OSDI'20, Sec. 5.1; also TVM MetaSchedule's
// EvolutionarySearch): an initial population of the best measured schedules
// plus random samples of the space, a few generations of mutation and
// crossover with parents drawn in proportion to the cost model's scores, and
// finally the best-scored unmeasured schedules plus an epsilon-greedy share
// of random ones.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_SEARCH_EVOLUTIONARYSEARCH_H
#define TCL_SEARCH_EVOLUTIONARYSEARCH_H

#include "tcl/CostModel/CostModel.h"
#include "tcl/Space/SearchSpace.h"

#include <random>
#include <vector>

namespace tcl {

struct SearchOptions {
  /// Individuals per generation.
  unsigned populationSize = 256;
  /// Generations of mutation / crossover per proposed batch.
  unsigned generations = 3;
  /// Share of children made by mutation; the rest by crossover.
  double mutationProbability = 0.85;
  /// Best measured schedules seeded into the initial population.
  unsigned seedFromMeasured = 32;
  /// Share of each batch drawn at random from the space instead of by score
  /// (exploration, Ansor's epsilon-greedy).
  double epsilonGreedy = 0.05;
};

/// A measured schedule with its normalized throughput (0 for failures).
struct MeasuredSchedule {
  Schedule schedule;
  double throughput = 0;
};

class EvolutionarySearch {
public:
  EvolutionarySearch(const SearchSpace &space, SearchOptions options,
                     uint64_t seed);

  /// Returns up to `batchSize` distinct schedules, none in `measured`,
  /// ranked by `model` (best first) except for the epsilon-greedy random
  /// share at the end. Deterministic for a fixed seed, model and history.
  std::vector<Schedule> proposeBatch(CostModel &model,
                                     const TaskContext &task,
                                     llvm::ArrayRef<MeasuredSchedule> measured,
                                     unsigned batchSize);

  /// Uniform crossover: each knob from either parent; retried until the
  /// child satisfies the space's constraints, else the first parent.
  Schedule crossover(const Schedule &a, const Schedule &b);

private:
  const SearchSpace &space;
  SearchOptions options;
  std::mt19937_64 rng;
};

} // namespace tcl

#endif // TCL_SEARCH_EVOLUTIONARYSEARCH_H
