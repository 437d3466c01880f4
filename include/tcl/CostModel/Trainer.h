//===- Trainer.h - Training loop and batched prediction ---------*- C++ -*-===//
//
// Fits a RankingModel (TorchModels.h) to labelled candidates with Adam and a
// ranking loss (Ranking.h), and predicts scores in eval mode. Batches are
// made of whole groups (tasks) so that LambdaRank sees every candidate pair
// of a task it is given. Deterministic for a fixed seed on one intra-op
// thread (at::set_num_threads(1)).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_TRAINER_H
#define TCL_COSTMODEL_TRAINER_H

#include "tcl/CostModel/TorchModels.h"

#include <torch/optim/adam.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <random>
#include <string>
#include <vector>

namespace tcl {

/// Every labelled candidate of a training or evaluation set, N in all, in
/// the feature form of the model that reads it (the other form's fields may
/// be left undefined).
struct RankingData {
  /// Sequence form: float [N, L, D], float [N, L], float [N, W].
  torch::Tensor tokens, mask, workload;
  /// Statement form: float [S, F] and int64 [S] with the candidate index
  /// (0..N-1) of each statement, in any order.
  torch::Tensor statements, segments;
  /// float [N]: normalized throughput in [0, 1], 0 for failed candidates.
  /// Only train() reads it.
  torch::Tensor labels;
  /// int64 [N]: the task (group) of each candidate. Only train() reads it.
  torch::Tensor groups;
  /// float [N] or undefined (1 each): how much the candidate's group counts
  /// in the LambdaRank loss (the same for a group's candidates; see
  /// latencyWeights in TrainingData.h). Only train() reads it.
  torch::Tensor weights;

  /// N, the number of candidates: from labels, else tokens, else groups,
  /// else the largest segment + 1 (so statement-form data whose last
  /// candidates have no statements needs labels or groups).
  int64_t size() const;
  /// "" when the fields `form` needs (and labels/groups when
  /// `needLabels`) are present with consistent shapes and dtypes, else what
  /// is wrong.
  std::string validate(FeatureForm form, bool needLabels) const;
};

enum class LossKind { LambdaRank, MSE };

/// Learning-rate schedule over the run's optimizer steps.
enum class LRSchedule {
  /// learningRate throughout.
  Constant,
  /// Cosine annealing from learningRate to 0 over all epochs' steps,
  /// without restarts (SGDR, Loshchilov & Hutter, ICLR 2017, eq. 5 with one
  /// cycle): lr_t = learningRate * (1 + cos(pi * t / T)) / 2 at step t of
  /// T = epochs * (batches of the first epoch).
  Cosine
};

/// Progress after each epoch, for TrainOptions::log.
struct EpochLog {
  /// 1-based.
  int64_t epoch = 0;
  /// Mean training loss over the epoch's batches.
  double loss = 0;
  /// Seconds since train() started.
  double elapsedSeconds = 0;
  /// Optimizer steps taken in the epoch.
  int64_t batches = 0;
  /// TrainOptions::validate's score after the epoch; NaN without it.
  double validation = std::numeric_limits<double>::quiet_NaN();
};

struct TrainOptions {
  int64_t epochs = 30;
  /// A batch holds at most this many whole groups ...
  int64_t groupsPerBatch = 8;
  /// ... and at most this many candidates (a single larger group still forms
  /// a batch of its own).
  int64_t maxBatchSamples = 2048;
  /// Groups larger than this are subsampled at random, afresh each epoch.
  int64_t maxGroupSize = 256;
  /// Adam (Kingma & Ba 2015); TLP and TCL use 7e-4.
  double learningRate = 7e-4;
  LRSchedule schedule = LRSchedule::Constant;
  /// Adam's L2 weight decay.
  double weightDecay = 0;
  /// Clip the global gradient norm to this; <= 0 disables clipping.
  double gradClipNorm = 0.5;
  LossKind loss = LossKind::LambdaRank;
  /// sigma of the LambdaRank pairwise logistic.
  double lambdaSigma = 1.0;
  /// k of the LambdaRank gains 2^{k y} - 1 (Ranking.h); > 0.
  double lambdaGainScale = 1.0;
  /// Exponential moving average of the weights (Polyak averaging; the
  /// decay-weighted form of Izmailov et al., "Averaging Weights Leads to
  /// Wider Optima and Better Generalization", UAI 2018): when in (0, 1),
  /// after every optimizer step t, m_t = d m_{t-1} + (1 - d) w_t with
  /// m_0 = 0, and the model ends with the bias-corrected average
  /// m_T / (1 - d^T) of its parameters (buffers, e.g. BatchNorm statistics,
  /// keep their last values). 0 disables it (the last step's weights);
  /// values outside [0, 1) are rejected.
  double emaDecay = 0;
  /// Seeds torch (dropout-free models: only subsampling uses it) and the
  /// group shuffle. The model's initial weights come from createModel's
  /// seed.
  uint64_t seed = 0;
  /// Stop after the batch during which this many seconds have passed;
  /// <= 0 means no limit.
  double timeLimitSeconds = 0;
  /// Checkpoint selection on held-out data (CheckpointSelector): when set,
  /// called with the initial weights and after every completed epoch, and
  /// training ends with the best-scoring weights. Exclusive with
  /// emaDecay > 0.
  std::function<double(RankingModel &)> validate;
  /// Called after every epoch when set (after validate).
  std::function<void(const EpochLog &)> log;
};

struct TrainResult {
  /// "" on success; otherwise why training stopped (invalid data, a LibTorch
  /// error, a non-finite loss). The model keeps the weights of the last
  /// completed step.
  std::string error;
  /// Mean loss of each completed epoch.
  std::vector<double> epochLosses;
  /// Wall-clock seconds spent in train().
  double seconds = 0;
  /// True when timeLimitSeconds ended training early.
  bool timedOut = false;
  /// With TrainOptions::validate: its score of the initial weights (index
  /// 0) and after each completed epoch (index = epoch), and the epoch whose
  /// weights the model ends with (0: the initial ones; -1: none chosen,
  /// every score NaN, and the model keeps the last weights).
  std::vector<double> validationScores;
  int64_t bestEpoch = -1;
};

/// The candidate indices of each group of `groups` (int64 [N]), in
/// increasing group id order.
std::vector<std::vector<int64_t>> candidatesByGroup(const torch::Tensor &groups);

/// One epoch's batches as train() makes them: `groups` shuffled in place
/// with `rng`, a group larger than options.maxGroupSize subsampled (a fresh
/// sample), then whole groups per batch, at most options.groupsPerBatch of
/// them and options.maxBatchSamples candidates (a larger group alone).
std::vector<std::vector<int64_t>>
makeGroupBatches(std::vector<std::vector<int64_t>> &groups,
                 const TrainOptions &options, std::mt19937_64 &rng);

/// "" when `options` is valid for a training loop, else what is wrong
/// (prefixed "train: "): lambdaGainScale > 0, emaDecay in [0, 1),
/// groupsPerBatch >= 1, maxBatchSamples and maxGroupSize >= 2, and not both
/// validate and emaDecay > 0.
std::string validateTrainOptions(const TrainOptions &options);

/// The optimizer side of a training loop, shared by train() and the
/// distillation loop (Distill.h): Adam over `model`'s parameters with
/// options.learningRate and weightDecay, the learning-rate schedule, global
/// gradient-norm clipping and the weight average (options.emaDecay).
/// Usage: beginEpoch(batches) before each epoch, step(loss) per batch,
/// finish() once after the last epoch. Keeps `options` by reference.
/// LibTorch errors propagate as c10::Error.
class OptimizerSteps {
public:
  OptimizerSteps(RankingModel &model, const TrainOptions &options);

  /// The first call fixes the schedule's length: `batches` x epochs steps.
  void beginEpoch(int64_t batches);
  /// Sets the scheduled rate, back-propagates `loss`, clips, steps Adam and
  /// updates the weight average.
  void step(const torch::Tensor &loss);
  /// Copies the bias-corrected weight average into the model (when
  /// averaging, after at least one step).
  void finish();

private:
  const TrainOptions &options;
  std::vector<torch::Tensor> params, average;
  torch::optim::Adam optimizer;
  int64_t totalSteps = 0, steps = 0;
  double decayPower = 1; // emaDecay^steps, for the bias correction
};

/// Checkpoint selection by a validation score, the "best validation error"
/// rule of early stopping (Prechelt, "Early Stopping - But When?", in
/// Neural Networks: Tricks of the Trade, 1998, sec. 2.1) without stopping:
/// a training loop calls observe() with the initial weights (epoch 0) and
/// after every epoch, then restore(). Keeps a copy of the parameters and
/// buffers of the best-scoring epoch (higher is better; the earliest on
/// ties; NaN never wins). Shared by train() and the distillation loop.
class CheckpointSelector {
public:
  explicit CheckpointSelector(std::function<double(RankingModel &)> validate)
      : validate(std::move(validate)) {}

  /// Scores `model` with the validation function in eval mode without
  /// gradients (restoring its training mode afterwards), records the score
  /// as `epoch`'s, and copies the weights when it is the best so far.
  /// LibTorch errors of the validation function propagate as c10::Error.
  double observe(RankingModel &model, int64_t epoch);
  /// Copies the best weights back into `model` (of the same architecture);
  /// false, changing nothing, when no score was finite.
  bool restore(RankingModel &model) const;
  /// The epoch restore() returns to, -1 when none.
  int64_t bestEpoch() const { return best; }
  /// Every observed score, in observation order.
  const std::vector<double> &scores() const { return history; }

private:
  std::function<double(RankingModel &)> validate;
  std::vector<torch::Tensor> weights;
  std::vector<double> history;
  double bestScore = -std::numeric_limits<double>::infinity();
  int64_t best = -1;
};

/// Trains `model` on `data` (groups shuffled with options.seed each epoch,
/// batches of whole groups, Adam, gradient clipping) and leaves it in eval
/// mode. Never throws.
TrainResult train(RankingModel &model, const RankingData &data,
                  const TrainOptions &options);

/// The candidates `rows` (int64 [K], distinct indices into `data`) as a
/// RankingData of K candidates, copied: every per-candidate field that is
/// defined, and the statements of the chosen candidates with their segments
/// renumbered to 0..K-1.
RankingData selectRows(const RankingData &data, const torch::Tensor &rows);

/// Scores of all N candidates of `data`, float [N], in eval mode without
/// gradients, `batchSize` candidates at a time. On error returns an
/// undefined tensor and sets `error`.
torch::Tensor predict(RankingModel &model, const RankingData &data,
                      int64_t batchSize = 512, std::string *error = nullptr);

/// TenSet's top-1 score (topKScore, Ranking.h) of `model`'s predictions
/// over the groups (tasks) of `data`, every group weighing 1, with the
/// latencies implied by data.labels: the validation score of checkpoint
/// selection. NaN when prediction fails or no group has a positive label.
double meanGroupTop1(RankingModel &model, const RankingData &data);

/// Embeddings (RankingModel::embed) of all N candidates of `data`, float
/// [N, H], in eval mode without gradients, `batchSize` candidates at a time;
/// float [0, 0] for N = 0. On error returns an undefined tensor and sets
/// `error`.
torch::Tensor embed(RankingModel &model, const RankingData &data,
                    int64_t batchSize = 512, std::string *error = nullptr);

} // namespace tcl

#endif // TCL_COSTMODEL_TRAINER_H
