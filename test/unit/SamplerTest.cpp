//===- SamplerTest.cpp - RDU and baseline samplers ------------------------===//

#include "tcl/Sampler/Sampler.h"

#include "llvm/Support/Parallel.h"
#include "llvm/Support/Threading.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

using namespace tcl;

namespace {

constexpr SamplerStrategy kAllStrategies[] = {
    SamplerStrategy::RDU, SamplerStrategy::Random, SamplerStrategy::Uncertainty,
    SamplerStrategy::Diversity, SamplerStrategy::Representativeness};

/// Appends `count` points of an isotropic Gaussian around `centre`.
void addBlob(SamplerPool &pool, std::mt19937_64 &rng,
             const std::vector<float> &centre, int64_t count, float stddev) {
  std::normal_distribution<float> noise(0, stddev);
  for (int64_t i = 0; i < count; ++i)
    for (float c : centre)
      pool.embeddings.push_back(c + noise(rng));
}

int64_t poolSize(const SamplerPool &pool) {
  return pool.embeddings.size() / pool.dim;
}

/// Selects and checks the invariants every selection has: exactly `count`
/// distinct pool indices in ascending order.
std::vector<int64_t> select(const SamplerPool &pool, int64_t count,
                            const SamplerOptions &options) {
  llvm::Expected<std::vector<int64_t>> picks =
      selectCandidates(pool, count, options);
  if (!picks) {
    ADD_FAILURE() << llvm::toString(picks.takeError());
    return {};
  }
  EXPECT_EQ(static_cast<int64_t>(picks->size()), count);
  for (size_t i = 0; i < picks->size(); ++i) {
    EXPECT_GE((*picks)[i], 0);
    EXPECT_LT((*picks)[i], poolSize(pool));
    if (i > 0) {
      EXPECT_LT((*picks)[i - 1], (*picks)[i]) << "not ascending or repeated";
    }
  }
  return *picks;
}

SamplerOptions withStrategy(SamplerStrategy strategy, uint64_t seed = 0) {
  SamplerOptions options;
  options.strategy = strategy;
  options.seed = seed;
  return options;
}

SamplerOptions diversityOnlyRDU() {
  SamplerOptions options;
  options.weightRepresentativeness = 0;
  options.weightUncertainty = 0;
  return options;
}

std::vector<float> row(const SamplerPool &pool, int64_t i) {
  return {pool.embeddings.begin() + i * pool.dim,
          pool.embeddings.begin() + (i + 1) * pool.dim};
}

std::string errorOf(const SamplerPool &pool, int64_t count,
                    const SamplerOptions &options = {}) {
  llvm::Expected<std::vector<int64_t>> picks =
      selectCandidates(pool, count, options);
  if (picks)
    return "<no error>";
  return llvm::toString(picks.takeError());
}

/// 8 well-separated blobs of different sizes in 8 dimensions; `blobOf`
/// gets the blob of every candidate.
SamplerPool separatedBlobs(std::vector<int64_t> &blobOf) {
  SamplerPool pool;
  pool.dim = 8;
  std::mt19937_64 rng(7);
  for (int64_t b = 0; b < 8; ++b) {
    std::vector<float> centre(8, 0);
    centre[b] = 100;
    int64_t size = 40 + 50 * b;
    addBlob(pool, rng, centre, size, 1);
    blobOf.insert(blobOf.end(), size, b);
  }
  return pool;
}

TEST(SamplerTest, DiversityNeverRepeatsAPointWhileDistinctOnesRemain) {
  // 30 distinct points, each 7 times, in shuffled order.
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> coordinate(-1, 1);
  std::vector<std::vector<float>> distinct(30, std::vector<float>(4));
  for (std::vector<float> &p : distinct)
    for (float &c : p)
      c = coordinate(rng);
  std::vector<int64_t> order(30 * 7);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  SamplerPool pool;
  pool.dim = 4;
  for (int64_t i : order)
    pool.embeddings.insert(pool.embeddings.end(), distinct[i % 30].begin(),
                           distinct[i % 30].end());

  for (int64_t count : {10, 30}) {
    std::set<std::vector<float>> seen;
    for (int64_t i :
         select(pool, count, withStrategy(SamplerStrategy::Diversity)))
      EXPECT_TRUE(seen.insert(row(pool, i)).second) << "count " << count;
  }

  // Starting from measured copies of 5 points, the 25 picks are the others.
  for (int64_t i = 0; i < 5; ++i)
    pool.measured.insert(pool.measured.end(), distinct[i].begin(),
                         distinct[i].end());
  std::set<std::vector<float>> seen(distinct.begin(), distinct.begin() + 5);
  for (int64_t i : select(pool, 25, withStrategy(SamplerStrategy::Diversity)))
    EXPECT_TRUE(seen.insert(row(pool, i)).second);
}

TEST(SamplerTest, RepresentativenessPrefersDenseRegions) {
  // 600 candidates in a tight blob and 400 sparse outliers, interleaved.
  SamplerPool blob, outliers;
  blob.dim = outliers.dim = 8;
  std::mt19937_64 rng(2);
  addBlob(blob, rng, std::vector<float>(8, 0), 600, 1);
  std::uniform_real_distribution<float> coordinate(-30, 30);
  for (int64_t i = 0; i < 400 * 8; ++i)
    outliers.embeddings.push_back(coordinate(rng));
  SamplerPool pool;
  pool.dim = 8;
  std::vector<bool> inBlob;
  for (int64_t i = 0, b = 0, o = 0; i < 1000; ++i) {
    bool fromBlob = i % 5 < 3;
    std::vector<float> x = fromBlob ? row(blob, b++) : row(outliers, o++);
    pool.embeddings.insert(pool.embeddings.end(), x.begin(), x.end());
    inBlob.push_back(fromBlob);
  }

  // RDU spreads its budget over clusters in proportion to their sizes; with
  // one cluster, R alone decides within it.
  SamplerOptions rdu;
  rdu.weightRepresentativeness = 1;
  rdu.weightDiversity = 0;
  rdu.weightUncertainty = 0;
  rdu.weightPerformance = 0;
  rdu.clusters = 1;
  for (const SamplerOptions &options :
       {withStrategy(SamplerStrategy::Representativeness), rdu}) {
    int64_t hits = 0;
    for (int64_t i : select(pool, 100, options))
      hits += inBlob[i];
    // Random sampling would put about 60 in the blob.
    EXPECT_GE(hits, 97) << stringifySamplerStrategy(options.strategy).str();
  }
}

/// Two members whose scores are permutations of 0..n-1 (so they share
/// their mean and spread over the pool) differing only at the swapped pairs
/// (0, 19), (3, 11), (5, 7), put through different affine maps: after the
/// per-member standardisation of Sampler.h, candidate i's disagreement is
/// proportional to |x_i - y_i| = 19, 8, 2 on those pairs and 0 elsewhere.
SamplerPool swappedPairEnsemble(float scale0, float shift0, float scale1,
                                float shift1) {
  const int64_t n = 20;
  std::vector<float> x(n), y(n);
  std::iota(x.begin(), x.end(), 0.0f);
  y = x;
  for (auto [a, b] : {std::pair{0, 19}, {3, 11}, {5, 7}})
    std::swap(y[a], y[b]);
  SamplerPool pool;
  pool.dim = 2;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> coordinate(-5, 5);
  for (int64_t i = 0; i < 2 * n; ++i)
    pool.embeddings.push_back(coordinate(rng));
  for (float v : x)
    pool.ensemble.push_back(scale0 * v + shift0);
  for (float v : y)
    pool.ensemble.push_back(scale1 * v + shift1);
  return pool;
}

TEST(SamplerTest, UncertaintyRanksEnsembleDisagreement) {
  SamplerPool pool = swappedPairEnsemble(1, 0, 1, 0);
  SamplerOptions options = withStrategy(SamplerStrategy::Uncertainty);
  EXPECT_EQ(select(pool, 2, options), (std::vector<int64_t>{0, 19}));
  EXPECT_EQ(select(pool, 4, options), (std::vector<int64_t>{0, 3, 11, 19}));
  EXPECT_EQ(select(pool, 6, options),
            (std::vector<int64_t>{0, 3, 5, 7, 11, 19}));
}

TEST(SamplerTest, UncertaintyIgnoresEachMembersShiftAndScale) {
  // Ranking models are defined up to a per-task shift and scale; raw
  // scores 3x + 100 and 0.5y - 7 would disagree most on the largest x.
  SamplerPool pool = swappedPairEnsemble(3, 100, 0.5f, -7);
  SamplerOptions options = withStrategy(SamplerStrategy::Uncertainty);
  EXPECT_EQ(select(pool, 2, options), (std::vector<int64_t>{0, 19}));
  EXPECT_EQ(select(pool, 4, options), (std::vector<int64_t>{0, 3, 11, 19}));
}

TEST(SamplerTest, PerformanceTermPrefersPredictedFastPrograms) {
  // Both members rank by x (scores x and 2x + 5); with only the performance
  // term, one cluster, RDU takes the largest x first.
  SamplerPool pool;
  pool.dim = 2;
  const int64_t n = 30;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> uniform(-5, 5);
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) {
    pool.embeddings.push_back(uniform(rng));
    pool.embeddings.push_back(uniform(rng));
    x[i] = uniform(rng);
  }
  for (float v : x)
    pool.ensemble.push_back(v);
  for (float v : x)
    pool.ensemble.push_back(2 * v + 5);
  SamplerOptions options;
  options.weightRepresentativeness = 0;
  options.weightDiversity = 0;
  options.weightUncertainty = 0;
  options.weightPerformance = 1;
  options.clusters = 1;
  std::vector<int64_t> byScore(n);
  std::iota(byScore.begin(), byScore.end(), 0);
  std::sort(byScore.begin(), byScore.end(),
            [&](int64_t a, int64_t b) { return x[a] > x[b]; });
  std::vector<int64_t> expected(byScore.begin(), byScore.begin() + 5);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(select(pool, 5, options), expected);
  // Without it (plain RDU weights), the same call picks something else.
  options = {};
  options.clusters = 1;
  EXPECT_NE(select(pool, 5, options), expected);
}

TEST(SamplerTest, DiversityOnlyRDUCoversAllClustersBeforeRepeating) {
  std::vector<int64_t> blobOf;
  SamplerPool pool = separatedBlobs(blobOf);
  for (int64_t count : {8, 12, 20}) {
    std::vector<int64_t> picksPerBlob(8, 0);
    for (int64_t i : select(pool, count, diversityOnlyRDU()))
      ++picksPerBlob[blobOf[i]];
    for (int64_t b = 0; b < 8; ++b) {
      EXPECT_GE(picksPerBlob[b], 1) << "blob " << b << ", count " << count;
      if (count == 8) {
        EXPECT_EQ(picksPerBlob[b], 1) << "blob " << b;
      }
    }
  }
}

TEST(SamplerTest, RDUDiversityStartsFromMeasuredPrograms) {
  SamplerPool pool;
  pool.dim = 3;
  std::mt19937_64 rng(4);
  addBlob(pool, rng, {0, 0, 0}, 200, 1);
  pool.measured = row(pool, 17);
  auto distanceToMeasured = [&](int64_t i) {
    std::vector<float> x = row(pool, i);
    double sum = 0;
    for (int64_t j = 0; j < 3; ++j)
      sum += (x[j] - pool.measured[j]) * (x[j] - pool.measured[j]);
    return sum;
  };
  int64_t farthest = 0;
  for (int64_t i = 1; i < 200; ++i)
    if (distanceToMeasured(i) > distanceToMeasured(farthest))
      farthest = i;
  EXPECT_EQ(select(pool, 1, diversityOnlyRDU()),
            std::vector<int64_t>{farthest});
}

TEST(SamplerTest, BudgetIsExactForEveryLayout) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> coordinate(-1, 1);
  for (int64_t n : {1, 7, 100, 1000}) {
    SamplerPool base;
    base.dim = 3;
    for (int64_t i = 0; i < 3 * n; ++i)
      base.embeddings.push_back(coordinate(rng));
    for (int64_t i = 0; i < 3 * n; ++i)
      base.ensemble.push_back(coordinate(rng));
    for (int64_t i = 0; i < 3 * 4; ++i)
      base.measured.push_back(coordinate(rng));

    // No groups, singleton groups, a few random groups, one big group plus
    // singletons.
    std::vector<std::vector<int64_t>> layouts(4);
    std::uniform_int_distribution<int64_t> fewGroups(0, 4);
    for (int64_t i = 0; i < n; ++i) {
      layouts[1].push_back(i);
      layouts[2].push_back(fewGroups(rng) * 10);
      layouts[3].push_back(i % 10 == 0 ? i : -1);
    }
    for (const std::vector<int64_t> &groups : layouts) {
      SamplerPool pool = base;
      pool.groups = groups;
      if (!groups.empty())
        pool.measuredGroups = {0, 10, -1, 12345};
      auto groupOf = [&](int64_t i) { return groups.empty() ? 0 : groups[i]; };
      std::map<int64_t, int64_t> groupSize;
      for (int64_t i = 0; i < n; ++i)
        ++groupSize[groupOf(i)];
      for (double fraction : {0.01, 0.1, 0.5, 1.0}) {
        llvm::Expected<int64_t> count = budgetCount(fraction, n);
        ASSERT_TRUE(static_cast<bool>(count))
            << llvm::toString(count.takeError());
        for (int64_t c : {*count, int64_t(0), n}) {
          for (SamplerStrategy strategy : kAllStrategies) {
            SCOPED_TRACE(testing::Message()
                         << "n " << n << ", count " << c << ", "
                         << groupSize.size() << " groups, "
                         << stringifySamplerStrategy(strategy).str());
            std::vector<int64_t> picks =
                select(pool, c, withStrategy(strategy));
            // Every group gets its share, rounded one way or the other.
            std::map<int64_t, int64_t> picked;
            for (int64_t i : picks)
              ++picked[groupOf(i)];
            for (auto [g, size] : groupSize)
              EXPECT_LE(std::abs(picked[g] - double(c) * size / n), 1.0)
                  << "group " << g;
          }
        }
      }
    }
  }
}

TEST(SamplerTest, SameSeedSameSelectionAnyThreadCount) {
  std::vector<int64_t> blobOf;
  SamplerPool pool = separatedBlobs(blobOf);
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<float> score(0, 1);
  for (int64_t i = 0; i < 3 * poolSize(pool); ++i)
    pool.ensemble.push_back(score(rng));
  for (SamplerStrategy strategy : kAllStrategies) {
    SCOPED_TRACE(stringifySamplerStrategy(strategy).str());
    std::vector<int64_t> first = select(pool, 150, withStrategy(strategy, 9));
    EXPECT_EQ(select(pool, 150, withStrategy(strategy, 9)), first);
    llvm::ThreadPoolStrategy saved = llvm::parallel::strategy;
    llvm::parallel::strategy = llvm::hardware_concurrency(1);
    EXPECT_EQ(select(pool, 150, withStrategy(strategy, 9)), first)
        << "depends on the thread count";
    llvm::parallel::strategy = saved;
  }
  EXPECT_NE(select(pool, 150, withStrategy(SamplerStrategy::Random, 9)),
            select(pool, 150, withStrategy(SamplerStrategy::Random, 10)));
}

TEST(SamplerTest, RejectsBadInput) {
  SamplerPool good;
  good.dim = 2;
  good.embeddings = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4};
  auto expectError = [](const std::string &error, const char *expected) {
    EXPECT_NE(error.find(expected), std::string::npos) << error;
  };

  expectError(errorOf(SamplerPool{}, 0), "dim must be positive");
  SamplerPool pool = good;
  pool.embeddings.clear();
  expectError(errorOf(pool, 0), "empty pool");
  pool = good;
  pool.embeddings.push_back(5);
  expectError(errorOf(pool, 1), "embeddings have 11 floats, not N * H");
  pool = good;
  pool.ensemble.assign(7, 0);
  expectError(errorOf(pool, 1), "ensemble has 7 scores, not M * N for N = 5");
  pool = good;
  pool.groups = {0, 0, 1};
  expectError(errorOf(pool, 1), "groups has 3 entries, expected N = 5");
  pool = good;
  pool.embeddings[7] = std::nanf("");
  expectError(errorOf(pool, 1), "embedding of candidate 3 is not finite");
  pool = good;
  pool.embeddings[0] = INFINITY;
  expectError(errorOf(pool, 1), "embedding of candidate 0 is not finite");
  pool = good;
  pool.measured = {0, 0, 1, INFINITY};
  expectError(errorOf(pool, 1), "embedding of measured program 1 is not");
  pool = good;
  pool.ensemble.assign(10, 0);
  pool.ensemble[6] = NAN;
  expectError(errorOf(pool, 1), "score of member 1 for candidate 1");
  pool = good;
  pool.measured = {0, 0, 1};
  expectError(errorOf(pool, 1), "measured embeddings have 3 floats");
  pool = good;
  pool.groups = {0, 0, 1, 1, 1};
  pool.measured = {0, 0};
  expectError(errorOf(pool, 1), "measuredGroups has 0 entries, expected K = 1");
  expectError(errorOf(good, 6), "cannot select 6 candidates from a pool of 5");
  expectError(errorOf(good, -1), "cannot select -1 candidates");
  SamplerOptions options;
  options.weightDiversity = -1;
  expectError(errorOf(good, 1, options), "diversity weight must be finite");
  options = {};
  options.weightPerformance = NAN;
  expectError(errorOf(good, 1, options), "performance weight must be finite");
  options = {};
  options.clusters = -2;
  expectError(errorOf(good, 1, options), "clusters must be >= 0");
}

TEST(SamplerTest, BudgetCount) {
  auto countOf = [](double fraction, int64_t n) -> int64_t {
    llvm::Expected<int64_t> count = budgetCount(fraction, n);
    if (!count) {
      llvm::consumeError(count.takeError());
      return -1;
    }
    return *count;
  };
  EXPECT_EQ(countOf(0.1, 1000), 100);
  EXPECT_EQ(countOf(0.1, 1005), 101);
  EXPECT_EQ(countOf(0.1, 1004), 100);
  EXPECT_EQ(countOf(0.1, 3), 1);
  EXPECT_EQ(countOf(1, 1000), 1000);
  EXPECT_EQ(countOf(1, 1), 1);
  for (double bad : {0.0, 1.5, -1.0, double(NAN)}) {
    llvm::Expected<int64_t> count = budgetCount(bad, 100);
    ASSERT_FALSE(static_cast<bool>(count)) << bad;
    std::string error = llvm::toString(count.takeError());
    EXPECT_NE(error.find("is outside (0, 1]"), std::string::npos) << error;
  }
  EXPECT_EQ(countOf(0.5, 0), -1);
}

TEST(SamplerTest, StrategySpellingsRoundTrip) {
  for (SamplerStrategy strategy : kAllStrategies) {
    llvm::Expected<SamplerStrategy> parsed =
        parseSamplerStrategy(stringifySamplerStrategy(strategy));
    ASSERT_TRUE(static_cast<bool>(parsed))
        << llvm::toString(parsed.takeError());
    EXPECT_EQ(*parsed, strategy);
  }
  llvm::Expected<SamplerStrategy> bad = parseSamplerStrategy("coreset");
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("'coreset'"),
            std::string::npos);
}

TEST(SamplerTest, LargePoolSmoke) {
  // 200,000 candidates of 20 tasks, H = 16, a 3-model ensemble and 2,000
  // measured programs: RDU end to end at a 10% budget.
  const int64_t n = 200000, dim = 16;
  SamplerPool pool;
  pool.dim = dim;
  std::mt19937_64 rng(8);
  std::normal_distribution<float> noise(0, 1);
  pool.embeddings.resize(n * dim);
  for (float &x : pool.embeddings)
    x = noise(rng);
  pool.ensemble.resize(3 * n);
  for (float &s : pool.ensemble)
    s = noise(rng);
  for (int64_t i = 0; i < n; ++i)
    pool.groups.push_back(i % 20);
  pool.measured.assign(pool.embeddings.begin(),
                       pool.embeddings.begin() + 2000 * dim);
  for (int64_t i = 0; i < 2000; ++i)
    pool.measuredGroups.push_back(i % 20);
  llvm::Expected<int64_t> count = budgetCount(0.1, n);
  ASSERT_TRUE(static_cast<bool>(count));
  std::vector<int64_t> picks = select(pool, *count, SamplerOptions{});
  ASSERT_EQ(static_cast<int64_t>(picks.size()), 20000);
  std::vector<int64_t> perGroup(20, 0);
  for (int64_t i : picks)
    ++perGroup[i % 20];
  EXPECT_EQ(perGroup, std::vector<int64_t>(20, 1000));
}

} // namespace
