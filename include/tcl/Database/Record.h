//===- Record.h - Workload and measure records -----------------*- C++ -*-===//
//
// The two kinds of lines of a TCL database (JSON Lines, append-only). Field
// names are the JSON keys.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_DATABASE_RECORD_H
#define TCL_DATABASE_RECORD_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace tcl {

/// A workload: `{"type": "workload", "key", "kind", "flops", "kernel"}`.
/// `kernel` is the task's standalone kernel module (MLIR text, see
/// tcl::buildTaskKernel), so offline tools can rebuild the task.
struct WorkloadRecord {
  std::string key;
  std::string kind;
  int64_t flops = 0;
  std::string kernel;

  llvm::json::Value toJSON() const;
  /// Reads a workload line; every field is required. Errors name the
  /// missing or mistyped field, e.g. "workload record: field 'flops' is not
  /// an integer".
  static llvm::Expected<WorkloadRecord> fromJSON(const llvm::json::Object &o);
};

/// One measured schedule: `{"type": "measure", "workload", "platform",
/// "target", "knobs": {name: value}, "latencies" (s), "median_s", "min_s",
/// "error", "message", "seed", "build_s", "run_s", "timestamp", "version"}`.
struct MeasureRecord {
  std::string workloadKey;
  /// tcl::Platform::id(): `<target>@<cpu model>`.
  std::string platform;
  /// The target spelling, e.g. `cpu:avx512,threads=2`.
  std::string target;
  /// The schedule, as knob name -> value (see SearchSpace::fromKnobMap).
  /// JSON objects are unordered: fromJSON returns the knobs sorted by name.
  std::vector<std::pair<std::string, int64_t>> knobs;
  /// Timed latencies in seconds; empty for failures.
  llvm::SmallVector<double> latencies;
  double medianSeconds = 0;
  double minSeconds = 0;
  /// tcl::stringifyErrorCode spelling: "none", "build_error", ...
  std::string error = "none";
  std::string message;
  uint64_t seed = 0;
  double buildSeconds = 0;
  double runSeconds = 0;
  /// ISO 8601 UTC, e.g. 2026-11-22T03:40:00Z.
  std::string timestamp;
  std::string version;

  bool ok() const { return error == "none" && medianSeconds > 0; }
  llvm::json::Value toJSON() const;
  /// Reads a measure line. `workload`, `platform`, `knobs`, `latencies`,
  /// `median_s`, `min_s` and `error` are required; the provenance fields
  /// (`target`, `message`, `seed`, `build_s`, `run_s`, `timestamp`,
  /// `version`) default to empty / 0 when absent. Errors name the missing or
  /// mistyped field, e.g. "measure record: missing field 'median_s'".
  static llvm::Expected<MeasureRecord> fromJSON(const llvm::json::Object &o);
};

/// The current time as ISO 8601 UTC with second resolution,
/// e.g. `2026-11-22T03:40:00Z` (for MeasureRecord::timestamp).
std::string currentTimestamp();

/// Whether `text` is a timestamp exactly in currentTimestamp()'s form (so
/// that timestamps compare as strings in time order), e.g. for
/// `tcl-dataset --remeasure-before`.
bool isTimestamp(llvm::StringRef text);

/// The TCL version, e.g. `0.1.0` (for MeasureRecord::version).
llvm::StringRef getTCLVersion();

} // namespace tcl

#endif // TCL_DATABASE_RECORD_H
