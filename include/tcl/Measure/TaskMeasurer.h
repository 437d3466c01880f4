//===- TaskMeasurer.h - Build, check and time schedules of a task -*- C++ -*-===//
//
// Glue between a task, its search space and the builder/runner: turns
// schedules into kernel modules with an embedded transform script, builds
// them in parallel, then measures them one at a time against a reference
// built from the unscheduled kernel (naive loops).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_TASKMEASURER_H
#define TCL_MEASURE_TASKMEASURER_H

#include "tcl/Database/Record.h"
#include "tcl/Measure/Builder.h"
#include "tcl/Measure/Measure.h"
#include "tcl/Measure/Runner.h"
#include "tcl/Measure/ScheduleMeasurer.h"
#include "tcl/Space/SearchSpace.h"

#include "llvm/ADT/FunctionExtras.h"

#include <memory>

namespace tcl {

/// The kernel module `kernelText` (a printed TaskKernel module) with the
/// transform script `script` (SearchSpace::printScript) embedded as its
/// `@__transform_main`: the input of a build.
std::string embedSchedule(llvm::StringRef kernelText, llvm::StringRef script);

/// A schedule together with its build and measurement.
struct Trial {
  Schedule schedule;
  BuildResult build;
  MeasureResult measure;
};

/// Measures schedules of one task on the CPU, in this process.
class TaskMeasurer : public ScheduleMeasurer {
public:
  /// Prepares the task's kernel (see buildTaskKernel) and search space.
  /// `builder` and `runnerOptions.threads` should use the same target.
  /// Fails with a message naming the task for unsupported tasks.
  static llvm::Expected<std::unique_ptr<TaskMeasurer>>
  create(const Task &task, Builder &builder, RunnerOptions runnerOptions);

  /// Builds and runs the reference (the kernel lowered without a schedule)
  /// once; later measurements are checked against its output. The reference
  /// runs with a timeout of at least 120 s, naive loops being slow.
  llvm::Error prepareReference() override;

  /// The kernel module with `schedule` embedded as `@__transform_main`, as
  /// MLIR text (the builder's input).
  std::string scheduledKernelText(const Schedule &schedule) const;

  /// Called after each measurement with the trial, its index and the batch
  /// size, e.g. to print progress.
  using Progress =
      llvm::function_ref<void(const Trial &, unsigned index, unsigned total)>;

  /// Builds `schedules` in parallel, then measures each successfully built
  /// one serially. Results are in input order; failures are error codes.
  /// Each shared object is deleted once measured (Trial::build keeps its
  /// path for the record only).
  std::vector<Trial> measure(llvm::ArrayRef<Schedule> schedules,
                             Progress progress = nullptr);

  /// measure(), each trial passed to `onRecord` as makeRecord() as soon as
  /// it is measured. Never fails.
  llvm::Error measureRecords(llvm::ArrayRef<Schedule> schedules,
                             llvm::StringRef platformId, uint64_t seed,
                             RecordFn onRecord) override;

  /// The measure record of `trial` (a result of measure()) for the
  /// database: knobs, error code and message (cut to 4000 characters),
  /// latencies, build and run time, timestamp and TCL version.
  /// `platformId` is tcl::Platform::id() of the builder's target.
  MeasureRecord makeRecord(const Trial &trial, llvm::StringRef platformId,
                           uint64_t seed) const;

  const SearchSpace &getSpace() const override { return space; }
  const KernelSignature &getSignature() const { return signature; }
  llvm::StringRef getWorkloadKey() const { return space.getWorkloadKey(); }
  int64_t getFlops() const { return flops; }
  /// The unscheduled kernel module, as MLIR text.
  llvm::StringRef getKernelText() const override { return kernelText; }

private:
  TaskMeasurer(SearchSpace space, KernelSignature signature,
               std::string kernelText, int64_t flops, Builder &builder,
               RunnerOptions options);

  SearchSpace space;
  KernelSignature signature;
  /// The unscheduled kernel module, printed.
  std::string kernelText;
  int64_t flops;
  Builder &builder;
  Runner runner;
  unsigned batch = 0;
};

} // namespace tcl

#endif // TCL_MEASURE_TASKMEASURER_H
