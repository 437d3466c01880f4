//===- Sampler.cpp - Choose which candidate programs to measure -----------===//

#include "tcl/Sampler/Sampler.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <optional>
#include <string>

using namespace tcl;

namespace {

constexpr int64_t kMaxAutoClusters = 1024;
/// Distance evaluations up to which Diversity runs exactly over a group.
constexpr int64_t kExactDiversityWork = int64_t(1) << 26;
/// Points per parallel task: big enough to amortise scheduling.
constexpr size_t kBlock = 512;

/// splitmix64 (Steele, Lea & Flood, OOPSLA 2014). Used instead of the std
/// distributions, whose results differ between standard libraries.
class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n), n > 0, by rejection so there is no modulo bias.
  uint64_t below(uint64_t n) {
    uint64_t threshold = (0 - n) % n;
    uint64_t r;
    do
      r = next();
    while (r < threshold);
    return r % n;
  }
  /// Uniform in [0, 1).
  double uniform() { return (next() >> 11) * 0x1.0p-53; }

private:
  uint64_t state;
};

/// An independent stream per group and purpose, so that groups do not
/// depend on each other's consumption.
uint64_t streamSeed(uint64_t seed, uint64_t group, uint64_t purpose) {
  Rng mixer(seed ^ (group * 0x2545f4914f6cdd1dULL) ^ (purpose << 56));
  mixer.next();
  return mixer.next();
}

float squaredDistance(const float *a, const float *b, int64_t dim) {
  float sum = 0;
  for (int64_t j = 0; j < dim; ++j) {
    float d = a[j] - b[j];
    sum += d * d;
  }
  return sum;
}

/// Runs fn(i) for i in [0, n) in parallel blocks; fn must only write
/// state owned by i, which keeps results independent of the thread count.
template <typename Fn> void forEachIndex(size_t n, Fn fn) {
  size_t blocks = (n + kBlock - 1) / kBlock;
  if (blocks <= 1) {
    for (size_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  llvm::parallelFor(0, blocks, [&](size_t b) {
    for (size_t i = b * kBlock, e = std::min(n, i + kBlock); i < e; ++i)
      fn(i);
  });
}

/// Splits `total` (<= sum of sizes) over bins proportionally to `sizes` by
/// largest remainder, ties to the lower bin. No bin exceeds its size.
std::vector<int64_t> apportion(llvm::ArrayRef<int64_t> sizes, int64_t total) {
  std::vector<int64_t> shares(sizes.size(), 0);
  int64_t sum = std::accumulate(sizes.begin(), sizes.end(), int64_t(0));
  if (sum == 0 || total == 0)
    return shares;
  std::vector<int64_t> remainders(sizes.size());
  int64_t given = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    __int128 share = static_cast<__int128>(total) * sizes[i];
    shares[i] = static_cast<int64_t>(share / sum);
    remainders[i] = static_cast<int64_t>(share % sum);
    given += shares[i];
  }
  std::vector<size_t> order(sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return remainders[a] != remainders[b] ? remainders[a] > remainders[b]
                                          : a < b;
  });
  for (size_t i = 0; given < total; ++i, ++given)
    ++shares[order[i]];
  return shares;
}

/// Min-max normalisation to [0, 1]; a constant vector becomes all 0.
void normalise(std::vector<float> &values) {
  if (values.empty())
    return;
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  float min = *lo, range = *hi - *lo;
  for (float &v : values)
    v = range > 0 ? (v - min) / range : 0;
}

/// The first `count` of `members` by decreasing `score` (ties to the lower
/// pool index).
std::vector<int64_t> topByScore(llvm::ArrayRef<int64_t> members,
                                llvm::ArrayRef<float> score, int64_t count) {
  std::vector<size_t> order(members.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + count, order.end(),
                    [&](size_t a, size_t b) {
                      if (score[a] != score[b])
                        return score[a] > score[b];
                      return a < b;
                    });
  std::vector<int64_t> out;
  for (int64_t i = 0; i < count; ++i)
    out.push_back(members[order[i]]);
  return out;
}

/// Validated view of a pool, split into groups.
struct Pools {
  explicit Pools(const SamplerPool &pool) : pool(pool) {}

  const SamplerPool &pool;
  int64_t n = 0, dim = 0, ensembleSize = 0;
  /// Per group (ascending id): candidate indices and measured program
  /// indices, both ascending.
  std::vector<std::vector<int64_t>> members, measured;

  const float *candidate(int64_t i) const {
    return pool.embeddings.data() + i * dim;
  }
  const float *measuredProgram(int64_t i) const {
    return pool.measured.data() + i * dim;
  }
};

/// The mini-batch k-means clustering of one group.
struct Clustering {
  int64_t k = 0;
  /// [k, H] centres.
  std::vector<float> centres;
  /// Per group member: its centre and the Euclidean distance to it.
  std::vector<int32_t> assignment;
  std::vector<float> distance;
  /// [k] members per centre.
  std::vector<int64_t> sizes;
};

/// The nearest of `k` centres to `x` (ties to the lower centre) and the
/// squared distance to it.
std::pair<int32_t, float> nearestCentre(const float *x, const float *centres,
                                        int64_t k, int64_t dim) {
  std::pair<int32_t, float> best{0, std::numeric_limits<float>::infinity()};
  for (int64_t c = 0; c < k; ++c) {
    float d = squaredDistance(x, centres + c * dim, dim);
    if (d < best.second)
      best = {static_cast<int32_t>(c), d};
  }
  return best;
}

Clustering clusterGroup(const Pools &p, llvm::ArrayRef<int64_t> members,
                        int64_t k, const SamplerOptions &options,
                        uint64_t seed) {
  const int64_t n = members.size(), dim = p.dim;
  Clustering cl;
  cl.k = std::max<int64_t>(1, std::min(k, n));
  Rng rng(seed);
  auto point = [&](int64_t position) { return p.candidate(members[position]); };

  // k-means++ seeding on a sample (partial Fisher-Yates of positions).
  int64_t sampleSize = std::min(n, std::max<int64_t>(1024, 16 * cl.k));
  std::vector<int64_t> sample(n);
  std::iota(sample.begin(), sample.end(), 0);
  if (sampleSize < n)
    for (int64_t i = 0; i < sampleSize; ++i)
      std::swap(sample[i], sample[i + rng.below(n - i)]);
  sample.resize(sampleSize);
  cl.centres.reserve(cl.k * dim);
  auto addCentre = [&](int64_t position) {
    const float *x = point(position);
    cl.centres.insert(cl.centres.end(), x, x + dim);
  };
  addCentre(sample[rng.below(sampleSize)]);
  std::vector<float> nearest(sampleSize);
  forEachIndex(sampleSize, [&](size_t i) {
    nearest[i] = squaredDistance(point(sample[i]), cl.centres.data(), dim);
  });
  for (int64_t c = 1; c < cl.k; ++c) {
    double total = 0;
    for (float d : nearest)
      total += d;
    int64_t chosen = sampleSize - 1;
    if (total > 0) {
      double target = rng.uniform() * total, running = 0;
      for (int64_t i = 0; i < sampleSize; ++i)
        if ((running += nearest[i]) > target) {
          chosen = i;
          break;
        }
    } else {
      chosen = rng.below(sampleSize);
    }
    addCentre(sample[chosen]);
    const float *centre = cl.centres.data() + c * dim;
    forEachIndex(sampleSize, [&](size_t i) {
      nearest[i] =
          std::min(nearest[i], squaredDistance(point(sample[i]), centre, dim));
    });
  }

  // Sculley's mini-batch updates: assign the batch to the fixed centres,
  // then move each centre with a per-centre rate 1 / (members seen).
  std::vector<int64_t> seen(cl.k, 0),
      batch(std::min(options.kmeansBatchSize, n));
  std::vector<int32_t> batchCentre(batch.size());
  for (int64_t it = 0; it < options.kmeansIterations; ++it) {
    for (int64_t &b : batch)
      b = rng.below(n);
    forEachIndex(batch.size(), [&](size_t i) {
      batchCentre[i] =
          nearestCentre(point(batch[i]), cl.centres.data(), cl.k, dim).first;
    });
    for (size_t i = 0; i < batch.size(); ++i) {
      float *centre = cl.centres.data() + batchCentre[i] * dim;
      float rate = 1.0f / static_cast<float>(++seen[batchCentre[i]]);
      const float *x = point(batch[i]);
      for (int64_t j = 0; j < dim; ++j)
        centre[j] += rate * (x[j] - centre[j]);
    }
  }

  cl.assignment.resize(n);
  cl.distance.resize(n);
  forEachIndex(n, [&](size_t i) {
    auto [c, d] = nearestCentre(point(i), cl.centres.data(), cl.k, dim);
    cl.assignment[i] = c;
    cl.distance[i] = std::sqrt(d);
  });
  cl.sizes.assign(cl.k, 0);
  for (int32_t c : cl.assignment)
    ++cl.sizes[c];
  return cl;
}

/// R(x) of the file comment, normalised over the group.
std::vector<float> representativeness(const Pools &p,
                                      llvm::ArrayRef<int64_t> members,
                                      const Clustering &cl) {
  const int64_t n = members.size();
  std::vector<float> sorted(cl.distance);
  std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
  double h = sorted[n / 2];
  if (h <= 0) {
    sorted.erase(std::remove(sorted.begin(), sorted.end(), 0.0f), sorted.end());
    h = 1;
    if (!sorted.empty()) {
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2,
                       sorted.end());
      h = sorted[sorted.size() / 2];
    }
  }
  const double scale = -1.0 / (2 * h * h);
  std::vector<float> r(n);
  forEachIndex(n, [&](size_t i) {
    const float *x = p.candidate(members[i]);
    double sum = 0;
    for (int64_t c = 0; c < cl.k; ++c)
      if (cl.sizes[c] > 0)
        sum += static_cast<double>(cl.sizes[c]) / n *
               std::exp(scale * squaredDistance(
                                    x, cl.centres.data() + c * p.dim, p.dim));
    r[i] = static_cast<float>(sum);
  });
  normalise(r);
  return r;
}

/// The ensemble's scores of a group's members, each member model's scores
/// standardised over the group (step 3 of the file comment): [M][n], empty
/// without an ensemble.
std::vector<std::vector<float>>
standardisedScores(const Pools &p, llvm::ArrayRef<int64_t> members) {
  std::vector<std::vector<float>> z(p.ensembleSize);
  for (int64_t e = 0; e < p.ensembleSize; ++e) {
    std::vector<float> &s = z[e];
    s.resize(members.size());
    double sum = 0, sumSquares = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      s[i] = p.pool.ensemble[e * p.n + members[i]];
      sum += s[i];
      sumSquares += static_cast<double>(s[i]) * s[i];
    }
    const double mean = sum / members.size();
    const double var =
        std::max(0.0, sumSquares / members.size() - mean * mean);
    const double scale = var > 0 ? 1 / std::sqrt(var) : 0;
    for (float &v : s)
      v = static_cast<float>((v - mean) * scale);
  }
  return z;
}

/// U(x) and P(x) of the file comment, each normalised over the group (all 0
/// without an ensemble).
std::pair<std::vector<float>, std::vector<float>>
ensembleTerms(const Pools &p, llvm::ArrayRef<int64_t> members) {
  std::vector<float> u(members.size(), 0), perf(members.size(), 0);
  const int64_t m = p.ensembleSize;
  if (m == 0)
    return {u, perf};
  std::vector<std::vector<float>> z = standardisedScores(p, members);
  forEachIndex(members.size(), [&](size_t i) {
    double sum = 0, sumSquares = 0;
    for (int64_t e = 0; e < m; ++e) {
      sum += z[e][i];
      sumSquares += static_cast<double>(z[e][i]) * z[e][i];
    }
    const double mean = sum / m;
    u[i] = static_cast<float>(
        std::sqrt(std::max(0.0, sumSquares / m - mean * mean)));
    perf[i] = static_cast<float>(mean);
  });
  normalise(u);
  normalise(perf);
  return {u, perf};
}

int64_t autoClusters(int64_t n) {
  int64_t k = static_cast<int64_t>(std::sqrt(static_cast<double>(n)));
  while (k * k < n)
    ++k;
  return std::min(k, kMaxAutoClusters);
}

/// Steps 1-6 of RDU for one group (see the header), with the weights of
/// `options`.
std::vector<int64_t> selectRDU(const Pools &p, int64_t group, int64_t quota,
                               const SamplerOptions &options) {
  const double wR = options.weightRepresentativeness,
               wD = options.weightDiversity, wU = options.weightUncertainty,
               wP = options.weightPerformance;
  llvm::ArrayRef<int64_t> members = p.members[group];
  const int64_t n = members.size(), dim = p.dim;
  int64_t k = options.clusters ? options.clusters : autoClusters(n);
  Clustering cl = clusterGroup(p, members, std::min(k, quota), options,
                               streamSeed(options.seed, group, 1));
  std::vector<float> r =
      wR > 0 ? representativeness(p, members, cl) : std::vector<float>(n, 0);
  auto [u, perf] = wU > 0 || wP > 0
                      ? ensembleTerms(p, members)
                      : std::pair{std::vector<float>(n, 0),
                                  std::vector<float>(n, 0)};

  // Member positions per cluster (ascending, as members are) and the
  // measured programs nearest to each centre.
  std::vector<std::vector<int64_t>> clusterMembers(cl.k), clusterMeasured(cl.k);
  for (int64_t i = 0; i < n; ++i)
    clusterMembers[cl.assignment[i]].push_back(i);
  for (int64_t m : p.measured[group])
    clusterMeasured[nearestCentre(p.measuredProgram(m), cl.centres.data(), cl.k,
                                  dim)
                        .first]
        .push_back(m);
  // One pick per non-empty cluster (there are at most K <= quota), the rest
  // in proportion to n_k - 1, which cannot exceed what a cluster has left.
  std::vector<int64_t> spare(cl.k, 0);
  int64_t nonEmpty = 0;
  for (int64_t c = 0; c < cl.k; ++c)
    if (cl.sizes[c] > 0) {
      ++nonEmpty;
      spare[c] = cl.sizes[c] - 1;
    }
  std::vector<int64_t> shares = apportion(spare, quota - nonEmpty);
  for (int64_t c = 0; c < cl.k; ++c)
    shares[c] += cl.sizes[c] > 0;

  std::vector<std::vector<int64_t>> picks(cl.k);
  llvm::parallelFor(0, cl.k, [&](size_t c) {
    llvm::ArrayRef<int64_t> positions = clusterMembers[c];
    if (shares[c] == 0)
      return;
    float radius = 0;
    for (int64_t i : positions)
      radius = std::max(radius, cl.distance[i]);
    const float scale = radius > 0 ? 1 / (2 * radius) : 1;
    std::vector<float> d(positions.size(), 1);
    for (size_t i = 0; i < positions.size(); ++i)
      for (int64_t m : clusterMeasured[c])
        d[i] = std::min(d[i], scale * std::sqrt(squaredDistance(
                                          p.candidate(members[positions[i]]),
                                          p.measuredProgram(m), dim)));
    // Lazy greedy (Minoux 1978): D only decreases, so a stored score bounds
    // the current one and only the best entry needs refreshing against the
    // picks made since it was scored. The picks equal those of a full scan
    // with ties to the lower index, at a fraction of the distance
    // computations (duplicates of a pick are refreshed once).
    auto score = [&](size_t i) {
      return wR * r[positions[i]] + wD * d[i] + wU * u[positions[i]] +
             wP * perf[positions[i]];
    };
    using Entry = std::pair<double, size_t>;
    auto worse = [](const Entry &a, const Entry &b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    };
    std::vector<Entry> heap;
    for (size_t i = 0; i < positions.size(); ++i)
      heap.push_back({score(i), i});
    std::make_heap(heap.begin(), heap.end(), worse);
    std::vector<size_t> scoredWith(positions.size(), 0);
    std::vector<int64_t> &chosen = picks[c];
    while (static_cast<int64_t>(chosen.size()) < shares[c]) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      size_t i = heap.back().second;
      heap.pop_back();
      const float *x = p.candidate(members[positions[i]]);
      for (; scoredWith[i] < chosen.size() && d[i] > 0; ++scoredWith[i])
        d[i] = std::min(
            d[i], scale * std::sqrt(squaredDistance(
                              x, p.candidate(chosen[scoredWith[i]]), dim)));
      Entry current{score(i), i};
      if (!heap.empty() && worse(current, heap.front())) {
        heap.push_back(current);
        std::push_heap(heap.begin(), heap.end(), worse);
        continue;
      }
      chosen.push_back(members[positions[i]]);
    }
  });
  std::vector<int64_t> out;
  for (const std::vector<int64_t> &clusterPicks : picks)
    out.insert(out.end(), clusterPicks.begin(), clusterPicks.end());
  return out;
}

/// Exact farthest-first traversal over one group (see the header).
std::vector<int64_t> selectFarthestFirst(const Pools &p, int64_t group,
                                         int64_t quota) {
  llvm::ArrayRef<int64_t> members = p.members[group];
  const int64_t n = members.size();
  std::vector<float> d(n, std::numeric_limits<float>::infinity());
  forEachIndex(n, [&](size_t i) {
    for (int64_t m : p.measured[group])
      d[i] = std::min(d[i], squaredDistance(p.candidate(members[i]),
                                            p.measuredProgram(m), p.dim));
  });
  std::vector<int64_t> out;
  for (int64_t t = 0; t < quota; ++t) {
    // Picked members hold -1, below any distance.
    int64_t best = std::max_element(d.begin(), d.end()) - d.begin();
    int64_t pick = members[best];
    out.push_back(pick);
    d[best] = -1;
    forEachIndex(n, [&](size_t i) {
      d[i] = std::min(d[i], squaredDistance(p.candidate(members[i]),
                                            p.candidate(pick), p.dim));
    });
  }
  return out;
}

std::vector<int64_t> selectRandom(llvm::ArrayRef<int64_t> members,
                                  int64_t quota, uint64_t seed) {
  std::vector<int64_t> pool(members.begin(), members.end());
  Rng rng(seed);
  for (int64_t i = 0; i < quota; ++i)
    std::swap(pool[i], pool[i + rng.below(pool.size() - i)]);
  pool.resize(quota);
  return pool;
}

std::vector<int64_t> selectInGroup(const Pools &p, int64_t group, int64_t quota,
                                   const SamplerOptions &options) {
  llvm::ArrayRef<int64_t> members = p.members[group];
  const int64_t n = members.size();
  if (quota == n)
    return members.vec();
  switch (options.strategy) {
  case SamplerStrategy::RDU:
    return selectRDU(p, group, quota, options);
  case SamplerStrategy::Random:
    return selectRandom(members, quota, streamSeed(options.seed, group, 0));
  case SamplerStrategy::Uncertainty:
    return topByScore(members, ensembleTerms(p, members).first, quota);
  case SamplerStrategy::Representativeness: {
    int64_t k = options.clusters ? options.clusters : autoClusters(n);
    Clustering cl = clusterGroup(p, members, k, options,
                                 streamSeed(options.seed, group, 1));
    return topByScore(members, representativeness(p, members, cl), quota);
  }
  case SamplerStrategy::Diversity: {
    int64_t measured = p.measured[group].size();
    if (static_cast<double>(n) * (quota + measured) <= kExactDiversityWork)
      return selectFarthestFirst(p, group, quota);
    SamplerOptions diversityOnly = options;
    diversityOnly.weightRepresentativeness = 0;
    diversityOnly.weightDiversity = 1;
    diversityOnly.weightUncertainty = 0;
    diversityOnly.weightPerformance = 0;
    return selectRDU(p, group, quota, diversityOnly);
  }
  }
  llvm_unreachable("unknown sampler strategy");
}

std::string formatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

llvm::Error poolError(const llvm::Twine &message) {
  return llvm::createStringError("sampler pool: " + message);
}

/// Checks `pool` and splits it into groups.
llvm::Expected<Pools> validate(const SamplerPool &pool) {
  Pools p(pool);
  if (pool.dim <= 0)
    return poolError("dim must be positive, got " + llvm::Twine(pool.dim));
  p.dim = pool.dim;
  if (pool.embeddings.empty())
    return poolError("empty pool: no candidate embeddings");
  int64_t size = pool.embeddings.size();
  if (size % p.dim)
    return poolError("embeddings have " + llvm::Twine(size) +
                     " floats, not N * H for dim H = " + llvm::Twine(p.dim));
  p.n = size / p.dim;
  int64_t ensemble = pool.ensemble.size();
  if (ensemble % p.n)
    return poolError("ensemble has " + llvm::Twine(ensemble) +
                     " scores, not M * N for N = " + llvm::Twine(p.n));
  p.ensembleSize = ensemble / p.n;
  if (!pool.groups.empty() && static_cast<int64_t>(pool.groups.size()) != p.n)
    return poolError("groups has " + llvm::Twine(pool.groups.size()) +
                     " entries, expected N = " + llvm::Twine(p.n));
  int64_t measuredFloats = pool.measured.size();
  if (measuredFloats % p.dim)
    return poolError("measured embeddings have " + llvm::Twine(measuredFloats) +
                     " floats, not K * H for dim H = " + llvm::Twine(p.dim));
  int64_t k = measuredFloats / p.dim;
  int64_t measuredGroups = pool.measuredGroups.size();
  if ((measuredGroups != 0 && measuredGroups != k) ||
      (!pool.groups.empty() && k > 0 && measuredGroups == 0))
    return poolError("measuredGroups has " + llvm::Twine(measuredGroups) +
                     " entries, expected K = " + llvm::Twine(k) +
                     " measured programs");
  for (int64_t i = 0; i < size; ++i)
    if (!std::isfinite(pool.embeddings[i]))
      return poolError("embedding of candidate " + llvm::Twine(i / p.dim) +
                       " is not finite (NaN or inf)");
  for (int64_t i = 0; i < measuredFloats; ++i)
    if (!std::isfinite(pool.measured[i]))
      return poolError("embedding of measured program " +
                       llvm::Twine(i / p.dim) + " is not finite (NaN or inf)");
  for (int64_t i = 0; i < ensemble; ++i)
    if (!std::isfinite(pool.ensemble[i]))
      return poolError("ensemble score of member " + llvm::Twine(i / p.n) +
                       " for candidate " + llvm::Twine(i % p.n) +
                       " is not finite (NaN or inf)");

  if (pool.groups.empty()) {
    p.members.emplace_back(p.n);
    std::iota(p.members[0].begin(), p.members[0].end(), 0);
    p.measured.emplace_back(k);
    std::iota(p.measured[0].begin(), p.measured[0].end(), 0);
    return p;
  }
  std::vector<int64_t> ids(pool.groups);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  p.members.resize(ids.size());
  p.measured.resize(ids.size());
  auto groupOf = [&](int64_t id) {
    return std::lower_bound(ids.begin(), ids.end(), id) - ids.begin();
  };
  for (int64_t i = 0; i < p.n; ++i)
    p.members[groupOf(pool.groups[i])].push_back(i);
  for (int64_t i = 0; i < k; ++i) {
    size_t g = groupOf(pool.measuredGroups[i]);
    if (g < ids.size() && ids[g] == pool.measuredGroups[i])
      p.measured[g].push_back(i);
  }
  return p;
}

llvm::Error validate(const SamplerOptions &options) {
  for (auto [name, weight] :
       {std::pair<const char *, double>{"representativeness",
                                        options.weightRepresentativeness},
        {"diversity", options.weightDiversity},
        {"uncertainty", options.weightUncertainty},
        {"performance", options.weightPerformance}})
    if (!std::isfinite(weight) || weight < 0)
      return llvm::createStringError(llvm::Twine("sampler: ") + name +
                                     " weight must be finite and >= 0, got " +
                                     formatDouble(weight));
  if (options.clusters < 0)
    return llvm::createStringError("sampler: clusters must be >= 0, got " +
                                   llvm::Twine(options.clusters));
  if (options.kmeansIterations < 1 || options.kmeansBatchSize < 1)
    return llvm::createStringError(
        "sampler: k-means iterations and batch size must be >= 1");
  return llvm::Error::success();
}
} // namespace

llvm::StringRef tcl::stringifySamplerStrategy(SamplerStrategy strategy) {
  switch (strategy) {
  case SamplerStrategy::RDU:
    return "rdu";
  case SamplerStrategy::Random:
    return "random";
  case SamplerStrategy::Uncertainty:
    return "uncertainty";
  case SamplerStrategy::Diversity:
    return "diversity";
  case SamplerStrategy::Representativeness:
    return "representativeness";
  }
  llvm_unreachable("unknown sampler strategy");
}

llvm::Expected<SamplerStrategy>
tcl::parseSamplerStrategy(llvm::StringRef name) {
  std::optional<SamplerStrategy> strategy =
      llvm::StringSwitch<std::optional<SamplerStrategy>>(name)
          .Case("rdu", SamplerStrategy::RDU)
          .Case("random", SamplerStrategy::Random)
          .Case("uncertainty", SamplerStrategy::Uncertainty)
          .Case("diversity", SamplerStrategy::Diversity)
          .Case("representativeness", SamplerStrategy::Representativeness)
          .Default(std::nullopt);
  if (!strategy)
    return llvm::createStringError(
        "unknown sampler strategy '" + name +
        "' (expected rdu, random, uncertainty, diversity or "
        "representativeness)");
  return *strategy;
}

llvm::Expected<std::vector<int64_t>>
tcl::selectCandidates(const SamplerPool &pool, int64_t count,
                      const SamplerOptions &options) {
  if (llvm::Error err = validate(options))
    return err;
  llvm::Expected<Pools> p = validate(pool);
  if (!p)
    return p.takeError();
  if (count < 0 || count > p->n)
    return llvm::createStringError(
        "sampler: cannot select " + llvm::Twine(count) +
        " candidates from a pool of " + llvm::Twine(p->n));
  std::vector<int64_t> groupSizes;
  for (const std::vector<int64_t> &members : p->members)
    groupSizes.push_back(members.size());
  std::vector<int64_t> quotas = apportion(groupSizes, count);
  std::vector<int64_t> out;
  out.reserve(count);
  for (size_t g = 0; g < quotas.size(); ++g) {
    if (quotas[g] == 0)
      continue;
    std::vector<int64_t> picks = selectInGroup(*p, g, quotas[g], options);
    out.insert(out.end(), picks.begin(), picks.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

llvm::Expected<int64_t> tcl::budgetCount(double fraction, int64_t poolSize) {
  if (!(fraction > 0 && fraction <= 1))
    return llvm::createStringError("budget fraction " + formatDouble(fraction) +
                                   " is outside (0, 1]");
  if (poolSize <= 0)
    return llvm::createStringError("budget: pool size must be positive, got " +
                                   llvm::Twine(poolSize));
  int64_t count = std::llround(fraction * static_cast<double>(poolSize));
  return std::clamp<int64_t>(count, 1, poolSize);
}
