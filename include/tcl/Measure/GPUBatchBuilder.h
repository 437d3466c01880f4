//===- GPUBatchBuilder.h - Lower a task's GPU candidates into a batch -*- C++ -*-===//
//
// The builder half of GPU measurement (see GPUBatch.h): runs on any machine,
// needs no GPU and no CUDA.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_GPUBATCHBUILDER_H
#define TCL_MEASURE_GPUBATCHBUILDER_H

#include "tcl/Measure/Builder.h"
#include "tcl/Measure/GPUBatch.h"
#include "tcl/Measure/Runner.h"
#include "tcl/Space/SearchSpace.h"
#include "tcl/Task/Task.h"

#include "mlir/IR/DialectRegistry.h"

namespace tcl {

/// Lowers `schedule` of the GPU space `space` applied to the task kernel
/// module `kernelText` (a printed TaskKernel module) for `target`: applies
/// the schedule (applyTaskSchedule), then `--tcl-lower-to-nvvm` to PTX.
/// Fails with the MLIR diagnostics when the schedule or the lowering fails
/// (e.g. a kernel over the target's shared-memory limit). Uses its own
/// MLIRContext.
llvm::Expected<GPUProgram> lowerToGPUProgram(const mlir::DialectRegistry &registry,
                                             const Target &target,
                                             llvm::StringRef kernelText,
                                             const SearchSpace &space,
                                             const Schedule &schedule);

/// Builds the GPUTask of one task: the task's GPU search space, its
/// candidates lowered to GPU programs, and the reference output sampled
/// from the unscheduled kernel run on this machine's CPU.
class GPUTaskBuilder {
public:
  /// Prepares `task`'s kernel and its search space for the GPU target
  /// `gpu`. `cpuBuilder` (this machine's CPU) builds the reference, run
  /// with `referenceOptions` (its seed must be the batch's seed). Fails with
  /// a message naming the task when the task has no GPU space or no kernel.
  static llvm::Expected<std::unique_ptr<GPUTaskBuilder>>
  create(const Task &task, const Target &gpu, Builder &cpuBuilder,
         RunnerOptions referenceOptions);

  const SearchSpace &getSpace() const { return space; }

  /// The unscheduled kernel module, as MLIR text.
  llvm::StringRef getKernelText() const { return kernelText; }

  /// The task as a database workload record (key, kind, FLOPs, kernel).
  WorkloadRecord getWorkloadRecord() const;

  /// How the reference output is computed on the CPU.
  enum class Reference {
    /// The unscheduled kernel (naive loops), as the CPU measurer checks
    /// against: slow for large tasks (a 2048^3 matmul takes about a minute).
    Naive,
    /// The task's default CPU schedule (tiled, vectorized, multi-threaded),
    /// itself checked against naive loops by TCL's CPU tests.
    CPUDefault,
    /// Naive for tasks of at most kNaiveReferenceFlops FLOPs, CPUDefault
    /// above.
    Auto,
  };
  /// Up to this many FLOPs, Reference::Auto runs naive loops (about 10 s on
  /// one core of the development machine).
  static constexpr int64_t kNaiveReferenceFlops = 1000000000;
  /// "naive", "cpu-default" or "auto" (the spellings of the tools'
  /// --gpu-reference); errors name the unknown spelling.
  static llvm::Expected<Reference> parseReference(llvm::StringRef name);

  /// Runs the kernel on the CPU as `how` says and samples its output
  /// (sampleReference); fails when it does not build or run.
  llvm::Expected<GPUReference> computeReference(Reference how);

  /// Lowers `schedule`; errors carry the diagnostics.
  llvm::Expected<GPUCandidate> lower(const Schedule &schedule) const;

private:
  GPUTaskBuilder(SearchSpace space, SearchSpace cpuSpace,
                 KernelSignature signature, std::string kernelText,
                 const Target &gpu,
                 Builder &cpuBuilder, RunnerOptions referenceOptions,
                 std::string kind, int64_t flops);

  SearchSpace space;
  /// The task's space on the CPU builder's target, for Reference::CPUDefault.
  SearchSpace cpuSpace;
  KernelSignature signature;
  std::string kernelText;
  Target gpu;
  Builder &cpuBuilder;
  RunnerOptions referenceOptions;
  mlir::DialectRegistry registry;
  std::string kind;
  int64_t flops;
};

} // namespace tcl

#endif // TCL_MEASURE_GPUBATCHBUILDER_H
