//===- GPUBatch.h - Candidates built here, measured on a GPU machine -*- C++ -*-===//
//
// The builder (`tcl-run --target=cuda:sm_XX --gpu-batch=FILE`, any machine)
// writes a batch: for each task its candidate schedules lowered to GPU
// programs (buffers, launches, PTX), the seed of their inputs, and expected
// output values computed on the builder's CPU. The runner (tcl-cuda-runner,
// on the GPU machine) loads each program's PTX with the CUDA driver, fills
// the inputs from the same seed (Elements.h), checks and times it, and
// appends one measure record per candidate to a database.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_GPUBATCH_H
#define TCL_MEASURE_GPUBATCH_H

#include "tcl/Database/Record.h"
#include "tcl/Measure/Elements.h"
#include "tcl/Transforms/GPUProgram.h"

#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace tcl {

/// Timing protocol and output check of the GPU runner (the GPU twin of
/// RunnerOptions).
struct GPUTiming {
  /// Untimed runs of the program before the timed ones.
  unsigned warmup = 3;
  /// Timed runs continue until they add up to this many seconds...
  double minRepeatSeconds = 0.1;
  /// ...and at least this many were timed, but stop after maxRepeats.
  unsigned minRepeats = 10;
  unsigned maxRepeats = 1000;
  /// Wall time of one candidate (load, check, warm-up, timing), in seconds;
  /// the runner's worker process is killed when it is exceeded.
  double timeoutSeconds = 20;
  /// Output check (see withinTolerance in Elements.h).
  double rtol = 1e-3;
  double atol = 1e-4;
};

/// Expected output values at sampled flat (row-major) positions of a task's
/// result.
struct GPUReference {
  std::vector<int64_t> indices;
  std::vector<double> values;
};

/// One candidate schedule of a task and its lowering.
struct GPUCandidate {
  /// The schedule as knob name -> value (MeasureRecord::knobs).
  std::vector<std::pair<std::string, int64_t>> knobs;
  GPUProgram program;
};

/// The candidates of one task.
struct GPUTask {
  /// The task (key, kind, FLOPs of one run, kernel), as the database keeps
  /// it; the runner adds it to its database.
  WorkloadRecord workload;
  /// Empty indices: no check.
  GPUReference reference;
  std::vector<GPUCandidate> candidates;
};

/// A batch of GPU candidates.
struct GPUBatch {
  /// Target spelling, e.g. `cuda:sm_90`.
  std::string target;
  /// Seed of the input values (fillUniform with the buffer's argument
  /// index); buffers the program allocates start zeroed.
  uint64_t seed = 0;
  GPUTiming timing;
  std::vector<GPUTask> tasks;
  /// TCL version of the builder.
  std::string version;
};

/// Up to `maxPoints` positions of the `n`-element `output`, evenly spread
/// (all of them when n <= maxPoints), with their values.
GPUReference sampleReference(ElementKind kind, const void *output, size_t n,
                             size_t maxPoints = 4096);

/// Writes `batch` as JSON to `path` under a temporary name and renames it,
/// so `path` is either complete or untouched. Errors name the file.
llvm::Error writeGPUBatch(const GPUBatch &batch, llvm::StringRef path);

/// Reads a batch. Fails with a message naming the file and the JSON path of
/// the problem for unreadable or malformed files, missing or mistyped
/// fields, a target that is not `cuda:`, a candidate without a result
/// buffer, or a reference position outside the result.
llvm::Expected<GPUBatch> readGPUBatch(llvm::StringRef path);

} // namespace tcl

#endif // TCL_MEASURE_GPUBATCH_H
