//===- ActiveSampler.cpp - Rounds of batch active learning ----------------===//

#include "tcl/Sampler/ActiveSampler.h"

#include "tcl/CostModel/LearnedCostModel.h"
#include "tcl/Task/Task.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

using namespace tcl;

namespace {
double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

/// Rows `rows` of the row-major [*, width] `matrix`.
std::vector<float> gatherRows(const std::vector<float> &matrix, int64_t width,
                              const std::vector<int64_t> &rows) {
  std::vector<float> out;
  out.reserve(rows.size() * width);
  for (int64_t r : rows)
    out.insert(out.end(), matrix.begin() + r * width,
               matrix.begin() + (r + 1) * width);
  return out;
}

std::vector<float> toFloats(const torch::Tensor &t) {
  torch::Tensor c = t.to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(),
                            c.data_ptr<float>() + c.numel());
}
} // namespace

ActiveSampler::ActiveSampler(const ActiveSamplerOptions &options)
    : options(options) {}
ActiveSampler::~ActiveSampler() = default;

llvm::Expected<std::unique_ptr<ActiveSampler>>
ActiveSampler::create(const ActiveSamplerOptions &options) {
  if (options.ensemble < 1)
    return llvm::createStringError("the ensemble needs at least one model");
  // selectCandidates checks the sampler options; run it on a one-point pool
  // so that bad weights fail now rather than after the first round.
  SamplerPool probe;
  probe.dim = 1;
  probe.embeddings = {0.0f};
  if (llvm::Expected<std::vector<int64_t>> ok =
          selectCandidates(probe, 1, options.sampler);
      !ok)
    return ok.takeError();
  std::unique_ptr<ActiveSampler> s(new ActiveSampler(options));
  if (!options.pretrainedPath.empty()) {
    llvm::Expected<ModelSidecar> sidecar = readSidecar(options.pretrainedPath);
    if (!sidecar)
      return sidecar.takeError();
    ModelOrError loaded = loadModel(options.pretrainedPath, sidecar->config);
    if (!loaded)
      return llvm::createStringError("cannot load '" + options.pretrainedPath +
                                     "': " + loaded.error);
    s->pretrained = loaded.model;
    s->config = s->pretrained->describeConfig();
    s->options.maxLength = sidecar->maxLength;
  } else if (options.sampler.strategy != SamplerStrategy::Random) {
    if (options.modelConfig.empty())
      return llvm::createStringError(
          "a model config or a pretrained model is needed for the '" +
          stringifySamplerStrategy(options.sampler.strategy) + "' strategy");
    ModelOrError probeModel = createModel(options.modelConfig, options.seed);
    if (!probeModel)
      return llvm::createStringError("bad model config: " + probeModel.error);
    s->config = options.modelConfig;
  }
  s->pool.maxLength = s->options.maxLength;
  return s;
}

int64_t ActiveSampler::addTask(llvm::StringRef key, llvm::StringRef kind,
                               const SequenceFeatureExtractor &sequence,
                               const StatementFeatureExtractor &statements,
                               llvm::ArrayRef<Schedule> candidates) {
  int64_t task = numTasks();
  taskBegin.push_back(poolSize());
  pool.groupKeys.push_back(key.str());
  pool.groupKinds.push_back(kind.str());
  for (const Schedule &s : candidates)
    appendProgram(pool, sequence, statements, s, task, 0.0f,
                  std::numeric_limits<double>::infinity());
  observed.resize(pool.size(), false);
  tensors.reset();
  return task;
}

llvm::Expected<int64_t>
ActiveSampler::addTask(llvm::StringRef key, llvm::StringRef kind,
                       const Task &task, const SearchSpace &space,
                       llvm::ArrayRef<Schedule> candidates) {
  llvm::Expected<SequenceFeatureExtractor> sequence =
      SequenceFeatureExtractor::create(space);
  if (!sequence)
    return sequence.takeError();
  llvm::Expected<StatementFeatureExtractor> statements =
      StatementFeatureExtractor::create(space, task);
  if (!statements)
    return statements.takeError();
  return addTask(key, kind, *sequence, *statements, candidates);
}

int64_t ActiveSampler::poolSize() const {
  return static_cast<int64_t>(pool.size());
}
int64_t ActiveSampler::numTasks() const {
  return static_cast<int64_t>(taskBegin.size());
}
int64_t ActiveSampler::taskOf(int64_t candidate) const {
  return pool.groups[candidate];
}
int64_t ActiveSampler::firstCandidate(int64_t task) const {
  return taskBegin[task];
}

void ActiveSampler::observe(int64_t candidate, double latencySeconds) {
  if (!observed[candidate]) {
    observed[candidate] = true;
    ++observedCount;
  }
  pool.latencies[candidate] = std::isfinite(latencySeconds)
                                  ? latencySeconds
                                  : std::numeric_limits<double>::infinity();
}
bool ActiveSampler::isObserved(int64_t candidate) const {
  return observed[candidate];
}
int64_t ActiveSampler::numObserved() const { return observedCount; }

llvm::Expected<std::vector<int64_t>> ActiveSampler::chooseNext(int64_t count) {
  const int64_t round = static_cast<int64_t>(roundLog.size());
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("round " + llvm::Twine(round + 1) + ": " +
                                   why);
  };
  std::vector<int64_t> remaining, measured;
  for (int64_t i = 0; i < poolSize(); ++i)
    (observed[i] ? measured : remaining).push_back(i);
  if (count < 1 || count > static_cast<int64_t>(remaining.size()))
    return fail("cannot choose " + llvm::Twine(count) + " of " +
                llvm::Twine(remaining.size()) + " unobserved candidates");

  SamplerPool candidates;
  SamplerOptions samplerOptions = options.sampler;
  samplerOptions.seed = options.sampler.seed + static_cast<uint64_t>(round);
  for (int64_t i : remaining)
    candidates.groups.push_back(pool.groups[i]);
  ActiveRound log;
  const bool untrained = measured.empty() && !pretrained;
  if (options.sampler.strategy == SamplerStrategy::Random || untrained) {
    // Nothing to embed: a seeded random batch, stratified by task.
    candidates.dim = 1;
    candidates.embeddings.assign(remaining.size(), 0.0f);
    samplerOptions.strategy = SamplerStrategy::Random;
  } else {
    if (!tensors)
      tensors = std::make_shared<RankingData>(toRankingData(pool));
    const RankingData &all = *tensors;
    std::vector<std::shared_ptr<RankingModel>> models;
    auto trainStart = std::chrono::steady_clock::now();
    if (measured.empty()) {
      models.push_back(pretrained);
    } else {
      // Labels relative to each task's best observed program.
      RankingData train =
          selectRows(all, torch::tensor(measured, torch::kInt64));
      std::vector<double> best(numTasks(),
                               std::numeric_limits<double>::infinity());
      for (int64_t i : measured)
        best[pool.groups[i]] = std::min(best[pool.groups[i]], pool.latencies[i]);
      std::vector<float> labels;
      for (int64_t i : measured)
        labels.push_back(std::isfinite(pool.latencies[i])
                             ? static_cast<float>(best[pool.groups[i]] /
                                                  pool.latencies[i])
                             : 0.0f);
      train.labels = torch::tensor(labels, torch::kFloat32);
      for (unsigned m = 0; m < options.ensemble; ++m) {
        const uint64_t modelSeed = options.seed + m;
        ModelOrError model = pretrained
                                 ? loadModel(options.pretrainedPath, config)
                                 : createModel(config, modelSeed);
        if (!model)
          return fail("model " + llvm::Twine(m) + ": " + model.error);
        TrainOptions trainOptions;
        trainOptions.epochs = options.epochs;
        trainOptions.seed = modelSeed;
        TrainResult trained = tcl::train(*model.model, train, trainOptions);
        if (!trained.error.empty())
          return fail("model " + llvm::Twine(m) + ": training failed: " +
                      trained.error);
        models.push_back(model.model);
      }
    }
    log.trainSeconds = secondsSince(trainStart);

    auto embedStart = std::chrono::steady_clock::now();
    std::string error;
    torch::Tensor embeddings = tcl::embed(*models[0], all, 512, &error);
    if (!embeddings.defined())
      return fail("embedding the pool failed: " + error);
    const int64_t dim = embeddings.size(1);
    std::vector<float> rows = toFloats(embeddings);
    candidates.dim = dim;
    candidates.embeddings = gatherRows(rows, dim, remaining);
    candidates.measured = gatherRows(rows, dim, measured);
    for (int64_t i : measured)
      candidates.measuredGroups.push_back(pool.groups[i]);
    // The members' scores feed the uncertainty (two or more members) and
    // the performance term (any number); without either they are not
    // computed.
    if (models.size() > 1 || samplerOptions.weightPerformance > 0)
      for (const std::shared_ptr<RankingModel> &model : models) {
        torch::Tensor scores = tcl::predict(*model, all, 512, &error);
        if (!scores.defined())
          return fail("scoring the pool failed: " + error);
        std::vector<float> s = toFloats(scores);
        for (int64_t i : remaining)
          candidates.ensemble.push_back(s[i]);
      }
    log.embedSeconds = secondsSince(embedStart);
  }

  auto selectStart = std::chrono::steady_clock::now();
  llvm::Expected<std::vector<int64_t>> picks =
      selectCandidates(candidates, count, samplerOptions);
  if (!picks)
    return fail(llvm::toString(picks.takeError()));
  log.selectSeconds = secondsSince(selectStart);
  std::vector<int64_t> chosen;
  chosen.reserve(picks->size());
  for (int64_t local : *picks)
    chosen.push_back(remaining[local]);
  log.chosen = static_cast<int64_t>(chosen.size());
  roundLog.push_back(log);
  return chosen;
}
