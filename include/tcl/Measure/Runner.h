//===- Runner.h - Isolated, checked timing of built kernels ----*- C++ -*-===//
//
// The runner half of the builder/runner split. Every measurement runs in a
// forked child process with a time limit, so a kernel that crashes, hangs or
// computes garbage becomes an error code instead of taking the tuner down.
// Measurements run one at a time so that they do not disturb each other.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_RUNNER_H
#define TCL_MEASURE_RUNNER_H

#include "tcl/Measure/Measure.h"
#include "tcl/Task/Task.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tcl {

/// Timing protocol and correctness check of a Runner.
struct RunnerOptions {
  /// Untimed calls before the timed ones.
  unsigned warmup = 1;
  /// Timed calls continue until their latencies add up to at least this many
  /// seconds...
  double minRepeatSeconds = 0.1;
  /// ...and at least this many calls were timed...
  unsigned minRepeats = 3;
  /// ...but stop after this many timed calls.
  unsigned maxRepeats = 1000;
  /// Wall-time limit of one child process (load, check, warm-up and timed
  /// calls), in seconds; the child is killed when it is exceeded.
  double timeoutSeconds = 20;
  /// The output passes iff |out - ref| <= atol + rtol * |ref| everywhere,
  /// except where both are NaN; a NaN anywhere else fails.
  double rtol = 1e-3;
  double atol = 1e-4;
  /// Seed of the uniform [-1, 1] input values; the same seed gives the same
  /// inputs to the reference and to every candidate.
  uint64_t seed = 0;
  /// OMP_NUM_THREADS of the child process.
  unsigned threads = 1;
  /// Pin the child's OpenMP threads, one per core (OMP_PROC_BIND=close,
  /// OMP_PLACES=cores; Target::bindThreads). Unpinned, the OS may move a
  /// kernel's threads between cores or stack them on one, so the same
  /// program's latency varies from one child process to the next.
  bool bindThreads = false;
  /// Directory holding one NumPy file `arg<i>.npy` per kernel argument i
  /// (C order, exactly the argument's shape and element type; see Npy.h),
  /// used instead of seeded random values. Empty: random inputs. A missing
  /// or mismatching file makes the run a RuntimeError naming the file.
  std::string inputDirectory;
  /// When not empty, the child writes the output of its first call here as
  /// a `.npy` file (written completely or not at all).
  std::string outputPath;
};

/// The OpenMP environment variables a measurement child sets before it loads
/// the kernel (and with it libomp), as (name, value) pairs:
/// OMP_NUM_THREADS = max(1, threads), and with bindThreads OMP_PROC_BIND =
/// close and OMP_PLACES = cores (OpenMP API 5.2, "Environment Variables").
std::vector<std::pair<std::string, std::string>>
openMPEnvironment(const RunnerOptions &options);

/// Runs kernels built by tcl::Builder that follow a KernelSignature.
///
/// Each call of measure() forks a child that loads the shared object, fills
/// every argument (inputs and destinations) with seeded uniform values,
/// calls the kernel once and compares its output with the reference, then
/// re-initializes the arguments and times `warmup` + N calls. The kernel is
/// called through its C interface `_mlir_ciface_<name>`, one pointer to a
/// ranked, row-major memref descriptor per argument (any number of them,
/// called through libffi); a kernel with one more parameter than the
/// signature has arguments returns its result through that trailing
/// out-parameter, otherwise the result is written in place into argument
/// `resultArg`. The output's shape and type are KernelSignature::getResult().
class Runner {
public:
  Runner(KernelSignature signature, RunnerOptions options = {});
  ~Runner();
  Runner(const Runner &) = delete;
  Runner &operator=(const Runner &) = delete;

  /// Runs `reference` once in a child process and keeps its output (in a
  /// shared mapping, inherited by later children) to check candidates
  /// against. Fails if the reference did not build, or crashed, hung or could
  /// not be called; the message says why.
  llvm::Error setReference(const BuildResult &reference);

  /// Whether setReference() succeeded; without a reference measure() skips
  /// the check.
  bool hasReference() const { return referenceReady; }

  /// Checks and times `candidate` in a child process. `flops` is the
  /// floating-point operation count of one call, used for `gflops`. A failed
  /// build is returned as is; a crash is a RuntimeError naming the signal
  /// (e.g. "SIGSEGV"), a hang a Timeout, a mismatch a WrongAnswer with the
  /// max abs error and the first bad element. Never throws or exits.
  MeasureResult measure(const BuildResult &candidate, int64_t flops);

  const KernelSignature &getSignature() const { return signature; }
  const RunnerOptions &getOptions() const { return options; }

private:
  KernelSignature signature;
  RunnerOptions options;
  /// MAP_SHARED | MAP_ANONYMOUS mapping holding the reference output.
  void *reference = nullptr;
  size_t referenceBytes = 0;
  bool referenceReady = false;
};

} // namespace tcl

#endif // TCL_MEASURE_RUNNER_H
