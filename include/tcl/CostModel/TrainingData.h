//===- TrainingData.h - Measure records as model inputs --------*- C++ -*-===//
//
// Turns the measure records of a database into the inputs of the learned
// cost models, as plain arrays (no LibTorch here): for every program, its
// primitive sequence (SequenceFeatures.h) with the task embedding, its
// statement features (StatementFeatures.h) and its label, grouped by task.
// Labels are normalized throughput, min latency of the task / latency, in
// (0, 1], and 0 for failed programs (TenSet, NeurIPS'21 datasets track,
// sec. 4).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_TRAININGDATA_H
#define TCL_COSTMODEL_TRAININGDATA_H

#include "tcl/Database/Database.h"
#include "tcl/Features/SequenceFeatures.h"
#include "tcl/Features/StatementFeatures.h"
#include "tcl/Space/SearchSpace.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tcl {

/// Programs of several tasks, ready for a model. N programs, G groups
/// (tasks), L = maxLength tokens, D = kNumTokenFeatures, W =
/// kNumTaskFeatures, F = kNumStatementFeatures, S statements in total.
struct TrainingData {
  unsigned maxLength = 0;
  /// Workload key and kind of each group.
  std::vector<std::string> groupKeys;
  std::vector<std::string> groupKinds;
  /// Group of each program, [N].
  std::vector<int64_t> groups;
  /// Normalized throughput of each program, [N].
  std::vector<float> labels;
  /// Median latency of each program in seconds; +inf for failures, [N].
  std::vector<double> latencies;
  /// Token sequences [N, L, D] and their masks [N, L].
  std::vector<float> tokens;
  std::vector<float> mask;
  /// Task embedding of each program's task, [N, W].
  std::vector<float> workload;
  /// Statement features [S, F] and each statement's program, [S].
  std::vector<float> statements;
  std::vector<int64_t> segments;

  size_t size() const { return labels.size(); }
};

struct TrainingDataOptions {
  /// Records of this platform id (tcl::Platform::id()).
  std::string platform;
  /// Only these workloads (empty: every workload with records).
  llvm::StringSet<> workloads;
  /// Token sequence length; longer sequences are cropped.
  unsigned maxLength = 64;
  /// At most this many records per workload, the first in file order
  /// (0: all).
  unsigned maxPerTask = 0;
};


/// Appends one program of group `group` to `data` (data.maxLength must be
/// set): its tokens, mask, the task embedding, its statements and the
/// label/latency given.
void appendProgram(TrainingData &data, const SequenceFeatureExtractor &sequence,
                   const StatementFeatureExtractor &statements,
                   const Schedule &schedule, int64_t group, float label,
                   double latency);

/// The programs of the groups whose workload key `keep` accepts, with the
/// groups renumbered in their original order.
TrainingData selectGroups(const TrainingData &data,
                          llvm::function_ref<bool(llvm::StringRef key)> keep);

/// Per program [N], the weight of its task in the training loss
/// (RankingData::weights, tcl-train --task-weight-power): w_g = b_g^p /
/// mean_h(b_h^p), with b_g the best (lowest finite) latency of group g and
/// the mean over the groups with one, so the weights average 1 over tasks;
/// 0 for a group without a successful program. p = 0 weights every task 1;
/// p = 1 weights tasks by their best latency, as the top-k score weights
/// them within a network (Ranking.h), so that slow tasks, where a mis-pick
/// costs most, count most. TCL's own heuristic, not from a paper.
std::vector<float> latencyWeights(const TrainingData &data, double power);

/// Moves a seeded random fraction of `data`'s groups (tasks) out of it, as
/// the held-out tasks of checkpoint selection (tcl-train and tcl-distill
/// --valid-fraction): round(fraction * G) of its G groups, at least 1 and
/// at most G - 1, shuffled with std::mt19937_64 seeded from `seed`. Returns
/// them (selectGroups order) and leaves the others in `data`. Errors, with
/// `data` unchanged, when fraction is not in (0, 1) or G < 2.
llvm::Expected<TrainingData> takeValidationGroups(TrainingData &data,
                                                  double fraction,
                                                  uint64_t seed);

/// One task's usable records, as loadTrainingData() reads them.
struct TaskRecords {
  const WorkloadRecord *workload = nullptr;
  /// The task's search space, rebuilt from the kernel; valid during the
  /// callback only.
  const SearchSpace *space = nullptr;
  const SequenceFeatureExtractor *sequence = nullptr;
  const StatementFeatureExtractor *statements = nullptr;
  /// Per record: schedule, label (normalized throughput) and median latency
  /// in seconds (+inf for failures).
  std::vector<Schedule> schedules;
  std::vector<float> labels;
  std::vector<double> latencies;
};

/// Appends all of `task`'s records to `data` as a new group (its workload
/// key and kind, then every program) and returns the group's index.
int64_t appendTask(TrainingData &data, const TaskRecords &task);

/// Calls `fn` for every workload of `db` with a successful record on
/// `options.platform`, in database order (the order of loadTrainingData's
/// groups), stopping at the first error. Same rules and errors as
/// loadTrainingData().
llvm::Error forEachTask(const Database &db, const TrainingDataOptions &options,
                        llvm::function_ref<llvm::Error(const TaskRecords &)> fn,
                        unsigned *skipped = nullptr);

/// Reads the records of `db` for `options.platform`. Each workload's search
/// space is rebuilt from its kernel text (workload record) for the target
/// spelled in its records; records whose knobs do not fit the space are
/// skipped with a count in `skipped`. Fails, naming the workload, when a
/// kernel does not parse or its space cannot be built. Workloads without a
/// successful record are left out (their labels would be undefined).
llvm::Expected<TrainingData> loadTrainingData(const Database &db,
                                              const TrainingDataOptions &options,
                                              unsigned *skipped = nullptr);

} // namespace tcl

#endif // TCL_COSTMODEL_TRAININGDATA_H
