//===- CUDARunner.h - Checked timing of GPU programs on a CUDA device -*- C++ -*-===//
//
// The runner half of GPU measurement (see GPUBatch.h). Built only when the
// CUDA toolkit's headers are found; the CUDA driver (libcuda.so.1) is
// loaded at run time, so the runner starts, and says why it cannot
// measure, on a machine without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_CUDARUNNER_H
#define TCL_MEASURE_CUDARUNNER_H

#include "tcl/Measure/GPUBatch.h"
#include "tcl/Measure/Measure.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <memory>

namespace tcl {

/// Why create() found nothing to measure on.
enum class NoGPUReason { NoDriver, NoDevice };

/// Measures the candidates of GPU batches with the CUDA driver API.
///
/// The parent process never initializes CUDA (a CUDA context does not
/// survive fork). A worker process does: it creates the device's primary
/// context, and for each candidate loads its PTX (cuModuleLoadDataEx, the
/// driver's JIT), allocates its buffers, fills argument buffers with the
/// batch's seeded inputs (fillUniform with the argument index, as the CPU
/// runner does) and zeroes the rest, runs the launches once and compares the
/// result at the reference positions, then restores the inputs and runs
/// `warmup` untimed and then timed repeats, each timed with CUDA events
/// around all of the program's launches. Results come back through a pipe.
/// A CUDA error (launch failure, illegal address, ...) ends the worker, as
/// it leaves the context unusable; the next candidate gets a fresh worker.
/// A worker silent for longer than the batch's timeout is killed and its
/// candidate is a Timeout.
class CUDARunner {
public:
  /// Loads the driver in a probe process and finds device `device`. Fails
  /// with a message saying what is missing: the driver library (libcuda.so.1
  /// not loadable), cuInit failing (e.g. no kernel driver), or no device
  /// `device`; `reason` says which of NoDriver / NoDevice it was.
  static llvm::Expected<std::unique_ptr<CUDARunner>>
  create(int device, NoGPUReason *reason = nullptr);

  /// The device's name as the driver reports it, e.g. "NVIDIA H200".
  llvm::StringRef getDeviceName() const { return deviceName; }

  /// Called once per measured candidate: its index in GPUTask::candidates
  /// and its result (latencies in seconds; `maxAbsError` over the reference
  /// positions; `runSeconds` the candidate's wall time in the worker).
  using Report = llvm::function_ref<void(size_t, const MeasureResult &)>;

  /// Measures `indices` of `task`'s candidates, in order, with the batch's
  /// seed and timing; calls `report` as each finishes. Never throws or
  /// exits; every index gets exactly one report.
  void measure(const GPUBatch &batch, const GPUTask &task,
               llvm::ArrayRef<size_t> indices, Report report) const;

private:
  CUDARunner(int device, std::string deviceName)
      : device(device), deviceName(std::move(deviceName)) {}
  int device;
  std::string deviceName;
};

} // namespace tcl

#endif // TCL_MEASURE_CUDARUNNER_H
