//===- ActiveSampler.h - Rounds of batch active learning --------*- C++ -*-===//
//
// The loop around selectCandidates (Sampler.h) that `tcl-sample` (simulation
// on a fully measured dataset) and `tcl-dataset --sampler` (live
// measurement) share. Candidate programs of several tasks form a pool; the
// caller reports each measured program with observe() and asks for the next
// batch with chooseNext(). Each call to chooseNext is one round of
// batch-mode active learning (Settles, "Active Learning Literature Survey",
// 2009, sec. 6.1):
//
//   1. Train `ensemble` cost models on the observed programs (LambdaRank;
//      label of a program = the task's best observed latency / its latency,
//      0 for failures, as tcl-train computes labels from the same records):
//      fresh models from `modelConfig` with seeds seed + m, or copies of the
//      pretrained model fine-tuned on them.
//   2. Embed every candidate with model 0 (RankingModel::embed) and score it
//      with every model (the ensemble's disagreement is the uncertainty,
//      its mean the optional performance term).
//   3. selectCandidates with `sampler` (its seed + the round number) over
//      the unobserved candidates, the observed ones as the measured set.
//
// When nothing is observed yet and there is no pretrained model (or the
// strategy is random) a round is a seeded random batch, stratified by task
// like every strategy: nothing is trained.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_SAMPLER_ACTIVESAMPLER_H
#define TCL_SAMPLER_ACTIVESAMPLER_H

#include "tcl/CostModel/TrainingData.h"
#include "tcl/Sampler/Sampler.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tcl {

class RankingModel;
struct RankingData;
struct Task;

/// Rounds a budget is spent in when the tools (tcl-sample, tcl-dataset
/// --sampler) are not told otherwise: round 1 random, then 3 model-guided
/// rounds. 8 rounds scored better on the validation split of the training
/// networks but not on the test networks, at about 2.5x the sampler's
/// training time (docs/results/sampling-v4-rounds.md).
constexpr unsigned kDefaultRounds = 4;

struct ActiveSamplerOptions {
  /// Strategy, RDU weights, clusters; round r uses seed sampler.seed + r.
  SamplerOptions sampler;
  /// Architecture of fresh models (tcl::defaultModelConfig JSON); ignored
  /// with `pretrainedPath`. Not needed for the random strategy.
  std::string modelConfig;
  /// A tcl-train model (with its sidecar): round 0 embeds with it, later
  /// rounds fine-tune copies of it. Empty: train fresh models.
  std::string pretrainedPath;
  /// Models per round (>= 1) and their training epochs.
  unsigned ensemble = 3;
  unsigned epochs = 30;
  /// Token sequence length of the features (with a pretrained model: its
  /// own, from the sidecar).
  unsigned maxLength = 64;
  /// Seeds of the models (seed + m) and their batches.
  uint64_t seed = 0;
};

/// Timings of one round, seconds.
struct ActiveRound {
  int64_t chosen = 0;
  double trainSeconds = 0, embedSeconds = 0, selectSeconds = 0;
};

/// The candidate pool and the rounds; see the file comment. Candidates are
/// numbered 0..poolSize()-1 in the order their tasks were added.
class ActiveSampler {
public:
  /// Checks the options (strategy weights, ensemble >= 1, the model config
  /// or the pretrained model and its feature versions); errors name the
  /// problem.
  static llvm::Expected<std::unique_ptr<ActiveSampler>>
  create(const ActiveSamplerOptions &options);
  ~ActiveSampler();

  /// Adds one task's candidates (features extracted now) and returns the
  /// task's index. `key` and `kind` are the workload's.
  int64_t addTask(llvm::StringRef key, llvm::StringRef kind,
                  const SequenceFeatureExtractor &sequence,
                  const StatementFeatureExtractor &statements,
                  llvm::ArrayRef<Schedule> candidates);
  /// The same, building the feature extractors from the task and its space;
  /// fails when the space has no features.
  llvm::Expected<int64_t> addTask(llvm::StringRef key, llvm::StringRef kind,
                                  const Task &task, const SearchSpace &space,
                                  llvm::ArrayRef<Schedule> candidates);

  /// Token sequence length the features use (the pretrained model's, if
  /// any).
  unsigned maxLength() const { return options.maxLength; }
  int64_t poolSize() const;
  int64_t numTasks() const;
  /// Task of candidate `candidate`, and the first candidate of `task`.
  int64_t taskOf(int64_t candidate) const;
  int64_t firstCandidate(int64_t task) const;

  /// Records the measurement of `candidate`: median latency in seconds,
  /// +inf (or any non-finite value) for a failure. Observing twice keeps
  /// the last value.
  void observe(int64_t candidate, double latencySeconds);
  bool isObserved(int64_t candidate) const;
  int64_t numObserved() const;

  /// One round: `count` unobserved candidates (ascending). Errors: count
  /// outside [1, unobserved], training or embedding failures (with the
  /// round and model), selectCandidates' errors.
  llvm::Expected<std::vector<int64_t>> chooseNext(int64_t count);

  /// The rounds run so far.
  llvm::ArrayRef<ActiveRound> rounds() const { return roundLog; }

private:
  explicit ActiveSampler(const ActiveSamplerOptions &options);
  ActiveSamplerOptions options;
  std::shared_ptr<RankingModel> pretrained;
  std::string config;
  TrainingData pool;
  /// The pool as tensors, built on the first trained round.
  std::shared_ptr<RankingData> tensors;
  std::vector<int64_t> taskBegin;
  std::vector<bool> observed;
  int64_t observedCount = 0;
  std::vector<ActiveRound> roundLog;
};

} // namespace tcl

#endif // TCL_SAMPLER_ACTIVESAMPLER_H
