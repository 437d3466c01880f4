//===- EvolutionarySearch.cpp - Cost-model-guided evolutionary search -----===//

#include "tcl/Search/EvolutionarySearch.h"

#include <algorithm>
#include <map>
#include <set>

using namespace tcl;

EvolutionarySearch::EvolutionarySearch(const SearchSpace &space,
                                       SearchOptions options, uint64_t seed)
    : space(space), options(options), rng(seed) {}

Schedule EvolutionarySearch::crossover(const Schedule &a, const Schedule &b) {
  std::bernoulli_distribution coin(0.5);
  for (unsigned attempt = 0; attempt < 10; ++attempt) {
    Schedule child = a;
    for (size_t i = 0; i < child.values.size(); ++i)
      if (coin(rng))
        child.values[i] = b.values[i];
    if (llvm::Error err = space.verify(child)) {
      llvm::consumeError(std::move(err));
      continue;
    }
    return child;
  }
  return a;
}

namespace {
using Key = std::vector<int64_t>;
Key keyOf(const Schedule &s) { return Key(s.values.begin(), s.values.end()); }
} // namespace

std::vector<Schedule>
EvolutionarySearch::proposeBatch(CostModel &model, const TaskContext &task,
                                 llvm::ArrayRef<MeasuredSchedule> measured,
                                 unsigned batchSize) {
  std::set<Key> done;
  for (const MeasuredSchedule &m : measured)
    done.insert(keyOf(m.schedule));

  // Initial population: the best measured schedules, then random samples.
  std::vector<const MeasuredSchedule *> ranked;
  for (const MeasuredSchedule &m : measured)
    if (m.throughput > 0)
      ranked.push_back(&m);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const MeasuredSchedule *x, const MeasuredSchedule *y) {
                     return x->throughput > y->throughput;
                   });
  std::vector<Schedule> population;
  std::set<Key> inPopulation;
  for (const MeasuredSchedule *m : ranked) {
    if (population.size() >= options.seedFromMeasured)
      break;
    if (inPopulation.insert(keyOf(m->schedule)).second)
      population.push_back(m->schedule);
  }
  auto fillRandom = [&](std::vector<Schedule> &pop, std::set<Key> &seen) {
    for (unsigned attempt = 0;
         pop.size() < options.populationSize && attempt < 4 * options.populationSize;
         ++attempt) {
      Schedule s = space.sample(rng);
      if (seen.insert(keyOf(s)).second)
        pop.push_back(std::move(s));
    }
  };
  fillRandom(population, inPopulation);

  // Every individual ever scored, with its score, for the final pick.
  std::map<Key, std::pair<double, Schedule>> pool;
  auto score = [&](const std::vector<Schedule> &pop) {
    std::vector<double> scores = model.predict(task, pop);
    for (size_t i = 0; i < pop.size(); ++i)
      pool.insert({keyOf(pop[i]), {scores[i], pop[i]}});
    return scores;
  };

  for (unsigned g = 0; g < options.generations && !population.empty(); ++g) {
    std::vector<double> scores = score(population);
    // Parents are drawn in proportion to their score above the worst.
    double lo = *std::min_element(scores.begin(), scores.end());
    std::vector<double> weights;
    for (double s : scores)
      weights.push_back(s - lo + 1e-6);
    std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
    std::bernoulli_distribution mutate(options.mutationProbability);

    std::vector<Schedule> children;
    std::set<Key> seen;
    for (unsigned attempt = 0; children.size() < options.populationSize &&
                               attempt < 4 * options.populationSize;
         ++attempt) {
      Schedule child =
          mutate(rng)
              ? space.mutate(population[pick(rng)], rng)
              : crossover(population[pick(rng)], population[pick(rng)]);
      if (seen.insert(keyOf(child)).second)
        children.push_back(std::move(child));
    }
    fillRandom(children, seen);
    population = std::move(children);
  }
  if (!population.empty())
    score(population);

  // The best-scored unmeasured schedules, then random exploration.
  std::vector<const std::pair<double, Schedule> *> candidates;
  for (const auto &[key, entry] : pool)
    if (!done.count(key))
      candidates.push_back(&entry);
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto *x, const auto *y) {
                     return x->first > y->first;
                   });
  unsigned numRandom = static_cast<unsigned>(options.epsilonGreedy * batchSize);
  std::vector<Schedule> batch;
  std::set<Key> chosen;
  for (const auto *c : candidates) {
    if (batch.size() + numRandom >= batchSize)
      break;
    chosen.insert(keyOf(c->second));
    batch.push_back(c->second);
  }
  for (unsigned attempt = 0;
       batch.size() < batchSize && attempt < 20 * batchSize; ++attempt) {
    Schedule s = space.sample(rng);
    Key k = keyOf(s);
    if (done.count(k) || !chosen.insert(k).second)
      continue;
    batch.push_back(std::move(s));
  }
  return batch;
}
