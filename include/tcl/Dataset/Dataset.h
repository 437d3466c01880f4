//===- Dataset.h - Collect measured programs for cost models ---*- C++ -*-===//
//
// Dataset collection as in TenSet (Zheng et al., NeurIPS'21 datasets track,
// section 3): for every distinct task of a set of networks, measure a fixed
// number of random programs (schedules sampled uniformly from the task's
// search space, seeded, de-duplicated) on one platform and append them as
// measure records to a database. Collection is resumable: programs already
// in the database for the platform count towards the target and are not
// measured again, and the seeded sample sequence is the same on every run,
// so an interrupted collection continues where it stopped.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_DATASET_DATASET_H
#define TCL_DATASET_DATASET_H

#include "tcl/Measure/GPUTaskMeasurer.h"
#include "tcl/Measure/Runner.h"
#include "tcl/Space/SearchSpace.h"
#include "tcl/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <map>
#include <string>
#include <vector>

namespace tcl {

/// One network whose tasks go into the dataset.
struct DatasetNetwork {
  /// Name in the manifest, e.g. "resnet50" (the file stem for tcl-dataset).
  std::string name;
  mlir::ModuleOp module;
};

/// Chooses which candidate programs to measure: active learning for
/// tcl-dataset --sampler (tcl-dataset adapts tcl::ActiveSampler, which
/// trains cost models; this library does not depend on them). Candidates
/// are numbered 0, 1, ... across tasks in the order addTask() added them.
class PoolSelector {
public:
  virtual ~PoolSelector() = default;
  /// Adds the candidate pool of one task (`space` is valid during the call
  /// only).
  virtual llvm::Error addTask(llvm::StringRef key, llvm::StringRef kind,
                              const Task &task, const SearchSpace &space,
                              llvm::ArrayRef<Schedule> candidates) = 0;
  /// Candidate `candidate` was measured: median latency in seconds, +inf
  /// for a failure.
  virtual void observe(int64_t candidate, double latencySeconds) = 0;
  /// The next `count` candidates to measure, none observed yet, ascending.
  virtual llvm::Expected<std::vector<int64_t>> chooseNext(int64_t count) = 0;
};

struct DatasetOptions {
  Target target;
  /// Measure records per workload on the platform, earlier ones included.
  /// Fewer are measured when the search space has fewer distinct schedules.
  unsigned programsPerTask = 128;
  /// JSON Lines database (created if absent, appended to).
  std::string databasePath;
  /// Manifest JSON, rewritten after every workload (empty: none).
  std::string manifestPath;
  /// Directory for built shared objects (empty: a new temporary directory).
  std::string workDir;
  /// Seed of schedule sampling; recorded in every record.
  uint64_t seed = 0;
  /// Programs built in parallel and then measured, per step.
  unsigned batchSize = 32;
  /// Parallel builds (0: all cores).
  unsigned jobs = 0;
  RunnerOptions runner;
  /// GPU targets: how the programs reach this machine's GPU (see
  /// GPUTaskMeasurer.h; its work directory defaults to workDir).
  GPUMeasureOptions gpu;
  /// Only workloads whose key contains this string (empty: all).
  std::string filter;
  /// Only these workload keys (empty: all), e.g. a manifest's tasks.
  llvm::StringSet<> only;
  /// Measuring order. false: workloads in order of first appearance,
  /// network by network. true: round-robin over the networks (the first new
  /// workload of each network, then the second, ...), so that a partial
  /// collection already covers every network.
  bool interleave = false;
  /// Error codes (stringifyErrorCode spellings, e.g. "build_error") whose
  /// programs are measured again, before any new program: those whose
  /// latest record on the platform (Database::latestRecordsFor) failed so,
  /// e.g. after the bug that broke them is fixed. The new record supersedes
  /// the old one for training data and counts; nothing is rewritten. Not
  /// with `selector`.
  llvm::StringSet<> remeasure;
  /// An ISO 8601 UTC time (MeasureRecord::timestamp form, e.g.
  /// 2026-12-08T00:00:00Z): programs whose latest record is older are
  /// measured again too, e.g. a platform's records taken while the machine
  /// was busy. Resumable: what this run measures is newer. Empty: none.
  std::string remeasureBefore;
  /// Active learning (tcl-dataset --sampler). When set, each workload's
  /// candidate pool is the first programsPerTask programs of its seeded
  /// sequence (those a full collection would measure), and only `budget`
  /// of all pools together, round(budget * pool size) and at least 1, is
  /// measured: `rounds` rounds of at most ceil(that / rounds) programs,
  /// each chosen by `selector` after observing the earlier ones. Records
  /// already in the database that are in a pool count towards the budget,
  /// so an interrupted collection resumes. Null: measure every program.
  PoolSelector *selector = nullptr;
  /// Fraction of the pool, in (0, 1], and rounds (>= 1); with `selector`.
  double budget = 0.1;
  unsigned rounds = 4;
  /// Progress output (a live line on a terminal); null for none.
  llvm::raw_ostream *log = nullptr;
  /// Set (e.g. by a SIGINT handler) to stop after the current measurement.
  const std::atomic<bool> *interrupted = nullptr;
};

/// What the dataset holds for one distinct workload.
struct DatasetTask {
  std::string key;
  std::string kind;
  int64_t flops = 0;
  /// Network name -> how often the workload runs per execution of it.
  std::map<std::string, int64_t> networks;
  /// Records of the platform in the database (earlier runs included), and
  /// how many of them are successful measurements.
  unsigned records = 0;
  unsigned ok = 0;
  /// Records added by this run.
  unsigned added = 0;
  /// Why no program of the workload could be measured, if so.
  std::string skipped;
};

/// Collects the dataset of `networks` (see the file comment). Each distinct
/// workload (tcl::groupWorkloads across all networks) gets
/// `programsPerTask` records: its default schedule first, then uniform
/// random schedules from a generator seeded with `seed` and the workload
/// key, in the order DatasetOptions::interleave chooses (the result is
/// always in order of first appearance); programs whose latest record
/// DatasetOptions::remeasure or remeasureBefore selects are measured again
/// first.
/// Errors (unreadable database, no tasks, programsPerTask = 0, remeasure
/// with a selector) name the
/// problem; failing programs are records with an error code, and a task that
/// cannot be prepared is reported in DatasetTask::skipped.
llvm::Expected<std::vector<DatasetTask>>
collectDataset(llvm::ArrayRef<DatasetNetwork> networks,
               const DatasetOptions &options);

/// The manifest: platform fingerprint (tcl::Platform::toJSON, with "id"
/// `platformId`, the records' platform; a GPU's model is taken from it),
/// target, TCL version, seed, programs per task, networks, and per workload
/// its key, kind, FLOPs, networks with weights and record counts. Written
/// to a temporary file and renamed, so `path` is always complete.
llvm::Error writeManifest(llvm::StringRef path,
                          llvm::ArrayRef<DatasetTask> tasks,
                          llvm::ArrayRef<std::string> networkNames,
                          const DatasetOptions &options,
                          llvm::StringRef platformId);

/// Network name -> workload key -> how often the workload runs per
/// execution of the network (its task weight), as a manifest lists them.
using NetworkTasks = std::map<std::string, std::map<std::string, int64_t>>;

/// Reads the "tasks" of a manifest (writeManifest; each task with "key" and
/// "networks"). Errors name the file and what is missing or malformed.
llvm::Expected<NetworkTasks> readNetworkManifest(llvm::StringRef path);

/// Every workload key of `networks`.
llvm::StringSet<> workloadKeys(const NetworkTasks &networks);

} // namespace tcl

#endif // TCL_DATASET_DATASET_H
