//===- XGBoostModel.h - Ansor's gradient-boosted-trees cost model -*- C++
//-*-===//
//
// The cost model of Ansor (Zheng et al., OSDI'20, Sec. 5.2) and TenSet's
// XGBoost baseline (NeurIPS'21, Sec. 5): gradient-boosted regression trees
// over TenSet/Ansor statement features (tcl/Features/StatementFeatures.h),
// refitted from scratch on every measured record at each update.
//
// One row per candidate (StatementFeatureExtractor::extractProgram): the task
// embedding, the anchor statement, the fill statement and the consumer
// statements summed. Ansor instead predicts a score per statement and sums
// the scores (a custom "pack-sum" objective); with one anchor per task and
// fixed statement slots a single row loses nothing a per-statement sum would
// keep, and it trains with XGBoost's built-in objective.
//
// Objective: `reg:squarederror` on normalized throughput (`min latency of
// the task / latency`, 0 for failures). Labels are already normalized per
// task, so one regression serves every task; unlike `rank:pairwise` it also
// learns how far a candidate is from the best and that failures are worst,
// and it is what Ansor and TenSet fit. Records are not weighted: Ansor
// weights each by its throughput, which drops failures from the fit (it
// scores failing programs -inf by other means); here the fit is the only
// way the search learns to avoid them.
//
// Hyperparameters (Ansor's, TVM auto_scheduler XGBModel): max_depth 10,
// eta 0.2, gamma 0.001, min_child_weight 0; `hist` trees and a fixed number
// of rounds instead of early stopping on the training set. A refit on 4000
// records takes about 1.1 s on one core of the development machine, scoring
// (features and trees) about 7 us per candidate.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_XGBOOSTMODEL_H
#define TCL_COSTMODEL_XGBOOSTMODEL_H

#include "tcl/CostModel/CostModel.h"
#include "tcl/Features/StatementFeatures.h"

#include "llvm/ADT/StringMap.h"

#include <optional>
#include <random>

namespace tcl {

/// Training settings of XGBoostModel.
struct XGBoostOptions {
  /// Boosting rounds per refit.
  unsigned rounds = 100;
  unsigned maxDepth = 10;
  double eta = 0.2;
  /// Threads XGBoost trains and predicts with; 1 keeps the machine free for
  /// builds and is deterministic.
  unsigned threads = 1;
};

/// Gradient-boosted trees over statement features. Not thread-safe.
///
/// Determinism: training is deterministic given the records (XGBoost's
/// `seed` is the model's seed, no subsampling); untrained scores come from a
/// generator seeded with the model's seed.
class XGBoostModel final : public CostModel {
public:
  explicit XGBoostModel(uint64_t seed, XGBoostOptions options = {});
  XGBoostModel(const XGBoostModel &) = delete;
  XGBoostModel &operator=(const XGBoostModel &) = delete;
  ~XGBoostModel() override;

  llvm::StringRef getName() const override { return "xgb"; }

  /// Scores from the trained trees; before the first successful fit (or
  /// load), uniform random scores in [0, 1) from the seeded generator. A
  /// task whose kernel cannot be read (see
  /// StatementFeatureExtractor::createFromKernel) also gets random scores,
  /// with one warning on stderr per task.
  std::vector<double> predict(const TaskContext &task,
                              llvm::ArrayRef<Schedule> candidates) override;

  /// Adds the records, then refits from scratch on all records added since
  /// construction or the last load. While the records hold fewer than two
  /// distinct throughputs, nothing can be learned and the previous model
  /// (or the random scores) is kept.
  void update(const TaskContext &task, llvm::ArrayRef<Schedule> schedules,
              llvm::ArrayRef<double> throughputs) override;

  /// Adds the records without refitting (offline training: add every
  /// task's records, then fit() once).
  void addRecords(const TaskContext &task, llvm::ArrayRef<Schedule> schedules,
                  llvm::ArrayRef<double> throughputs);

  /// Refits from scratch on all records added since construction or the
  /// last load; on an XGBoost error the previous model is kept with a
  /// warning on stderr.
  void fit();

  /// Writes the trees to `path` (XGBoost's JSON model format) and a sidecar
  /// `<path>.meta.json`: `{"model": "xgb", "feature_version",
  /// "num_features", "num_records", "rounds", "seed"}`. Fails, naming the
  /// file, when nothing has been trained or a file cannot be written.
  llvm::Error save(llvm::StringRef path) const override;

  /// Reads a model written by save(). Fails, naming the file, when either
  /// file is missing or unreadable, the sidecar is not a TCL XGBoost sidecar
  /// or has another feature version or width, or the model is not a valid
  /// XGBoost model; the current model is then kept. On success the records
  /// are cleared: the next fit (update) starts from the records given after
  /// the load, as in Ansor.
  llvm::Error load(llvm::StringRef path) override;

  /// Records accumulated for the next fit.
  size_t getNumRecords() const { return labels.size(); }
  /// Records the current trees were fitted on (from the sidecar after a
  /// load); 0 when untrained.
  size_t getNumTrainedRecords() const { return trainedRecords; }
  bool isTrained() const { return booster != nullptr; }

  /// Path of the sidecar of a model saved at `path`.
  static std::string sidecarPath(llvm::StringRef path);

private:
  /// The task's feature extractor, built on first use; null (after a
  /// warning) when the kernel cannot be read.
  const StatementFeatureExtractor *getExtractor(const TaskContext &task);
  std::vector<double> randomScores(size_t n);
  /// Refits on `rows` / `labels`; keeps the previous trees on failure.

  uint64_t seed;
  XGBoostOptions options;
  std::mt19937_64 rng;
  /// Extractors by workload key, vector width and threads; nullopt for
  /// tasks whose kernel cannot be read.
  llvm::StringMap<std::optional<StatementFeatureExtractor>> extractors;
  /// Accumulated records: kNumProgramFeatures floats per record.
  std::vector<float> rows;
  std::vector<float> labels;
  /// XGBoost's BoosterHandle; null when untrained.
  void *booster = nullptr;
  size_t trainedRecords = 0;
};

} // namespace tcl

#endif // TCL_COSTMODEL_XGBOOSTMODEL_H
