//===- GPUTaskMeasurer.h - Measure GPU schedules with tcl-cuda-runner -*- C++ -*-===//
//
// Online GPU measurement for the tuner on a machine with a GPU: each round's
// schedules are lowered here (GPUTaskBuilder) into a one-task GPU batch
// (GPUBatch.h), which a tcl-cuda-runner child process checks and times on
// the GPU, appending records to a round database that this measurer reads
// back. The runner is a separate process (and binary) because it loads the
// CUDA driver and links LLVM statically; a failing kernel only costs the
// runner's worker, never the tuner.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_GPUTASKMEASURER_H
#define TCL_MEASURE_GPUTASKMEASURER_H

#include "tcl/Measure/GPUBatchBuilder.h"
#include "tcl/Measure/ScheduleMeasurer.h"

#include <memory>
#include <optional>
#include <string>

namespace tcl {

/// How GPUTaskMeasurer reaches the GPU.
struct GPUMeasureOptions {
  /// The tcl-cuda-runner executable (see findCUDARunner).
  std::string runnerPath;
  /// CUDA device ordinal.
  int device = 0;
  /// The runner's timing protocol and output check.
  GPUTiming timing;
  /// How the reference output is computed on this machine's CPU.
  GPUTaskBuilder::Reference reference = GPUTaskBuilder::Reference::Auto;
  /// Directory for round batches, round databases and runner logs.
  std::string workDir;
};

/// tcl-cuda-runner next to the running executable, else the first one on
/// PATH; std::nullopt when there is none (it is built only where CMake found
/// the CUDA toolkit's headers).
std::optional<std::string> findCUDARunner();

/// The platform id (tcl::Platform::id()) that `runnerPath` records for
/// CUDA device `device`, e.g. "cuda:sm_90@NVIDIA H200", from
/// `tcl-cuda-runner --print-platform`. Fails with the runner's own message
/// when there is no GPU (no driver or no device) or the runner cannot run.
llvm::Expected<std::string> queryGPUPlatform(llvm::StringRef runnerPath,
                                             const Target &gpu, int device);

/// Measures schedules of one task on this machine's GPU through
/// tcl-cuda-runner.
class GPUTaskMeasurer : public ScheduleMeasurer {
public:
  /// Prepares `task`'s GPU space for `gpu` (see GPUTaskBuilder::create);
  /// `cpuBuilder` builds the reference on this machine's CPU, with inputs
  /// from `seed` (the seed measureRecords must be given).
  static llvm::Expected<std::unique_ptr<GPUTaskMeasurer>>
  create(const Task &task, const Target &gpu, Builder &cpuBuilder,
         uint64_t seed, GPUMeasureOptions options);

  const SearchSpace &getSpace() const override { return builder->getSpace(); }
  llvm::StringRef getKernelText() const override {
    return builder->getKernelText();
  }

  /// Runs the kernel on the CPU (GPUMeasureOptions::reference) and keeps
  /// its sampled output for the batches.
  llvm::Error prepareReference() override;

  /// Lowers each schedule (a schedule that does not lower is a build_error
  /// record with the diagnostics), writes the lowered ones as a batch to
  /// the work directory, runs tcl-cuda-runner on it and passes on its
  /// records, in input order once the runner has finished (failing
  /// candidates are records: wrong_answer, runtime_error, timeout, or
  /// build_error for a PTX JIT failure). Fails when the runner does not exit
  /// with 0 (it cannot start, finds no GPU, stops on bad input or dies),
  /// naming its exit status and log, which is kept with the batch; the
  /// schedules it measured before stopping still get their records, the
  /// others none. `seed` must be the one given to create().
  llvm::Error measureRecords(llvm::ArrayRef<Schedule> schedules,
                             llvm::StringRef platformId, uint64_t seed,
                             RecordFn onRecord) override;

private:
  GPUTaskMeasurer(std::unique_ptr<GPUTaskBuilder> builder, Target gpu,
                  uint64_t seed, GPUMeasureOptions options)
      : builder(std::move(builder)), gpu(std::move(gpu)), seed(seed),
        options(std::move(options)) {}

  std::unique_ptr<GPUTaskBuilder> builder;
  Target gpu;
  uint64_t seed;
  GPUMeasureOptions options;
  GPUReference reference;
  unsigned round = 0;
};

} // namespace tcl

#endif // TCL_MEASURE_GPUTASKMEASURER_H
