//===- Measure.h - Error codes and results of builds and runs --*- C++ -*-===//
//
// The builder turns a scheduled kernel module into a loadable shared object;
// the runner executes it in an isolated child process, checks it against a
// reference and times it. Both report through the plain result structs
// declared here, so a broken candidate is an error code in a measure record,
// never a crash of the tuner.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_MEASURE_H
#define TCL_MEASURE_MEASURE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace tcl {

/// Outcome of building or measuring one candidate.
enum class ErrorCode {
  /// Built (or measured and checked) successfully.
  None,
  /// Parsing, scheduling, lowering, code generation or linking failed.
  BuildError,
  /// The kernel could not be loaded or called, or its process died (e.g. of
  /// a signal).
  RuntimeError,
  /// The kernel's output differs from the reference beyond the tolerance.
  WrongAnswer,
  /// The measurement did not finish within the runner's time limit.
  Timeout,
};

/// Returns "none", "build_error", "runtime_error", "wrong_answer" or
/// "timeout"; these spellings are used in measure records.
llvm::StringRef stringifyErrorCode(ErrorCode code);

/// Result of building one candidate into a shared object.
struct BuildResult {
  ErrorCode error = ErrorCode::None;
  /// Diagnostics of a failed build (MLIR diagnostics, linker output); empty
  /// on success.
  std::string message;
  /// Absolute path of the shared object; empty when the build failed.
  std::string libraryPath;
  /// Number of pointer parameters of `_mlir_ciface_<kernel name>`: one per
  /// memref argument, plus one when the result became a trailing
  /// out-parameter or is returned (see `resultReturned`).
  unsigned numKernelArgs = 0;
  /// Whether the kernel still returns its result as a memref. MLIR's C
  /// interface then takes a pointer to a result descriptor, which the kernel
  /// fills in, as its first parameter (counted in `numKernelArgs`).
  bool resultReturned = false;
  /// Wall time of the whole build, in seconds.
  double buildSeconds = 0;

  bool ok() const { return error == ErrorCode::None; }
};

/// Result of measuring one built candidate.
struct MeasureResult {
  ErrorCode error = ErrorCode::None;
  /// Why the measurement failed; empty on success.
  std::string message;
  /// One latency per timed repeat, in seconds, in the order measured.
  llvm::SmallVector<double> latencies;
  /// Minimum and median of `latencies`, in seconds (0 when not timed).
  double minSeconds = 0;
  double medianSeconds = 0;
  /// Throughput from the median: flops / medianSeconds / 1e9, in GFLOP/s
  /// (0 when the FLOP count or the latency is unknown).
  double gflops = 0;
  /// Largest |output - reference| over all output elements (0 when no
  /// reference was set).
  double maxAbsError = 0;
  /// Wall time of the whole measurement (process start, check, warm-up and
  /// timed repeats), in seconds.
  double runSeconds = 0;

  bool ok() const { return error == ErrorCode::None; }

  /// Sets `latencies` (seconds, in measured order) and the minimum, median
  /// and GFLOP/s derived from them for a run of `flops` FLOPs.
  void setLatencies(llvm::ArrayRef<double> timed, int64_t flops);
};

} // namespace tcl

#endif // TCL_MEASURE_MEASURE_H
