//===- ScheduleMeasurer.h - Measure schedules of one task -------*- C++ -*-===//
//
// What the tuning loop (tcl/Search/Tuner.h) needs from a measurer, whatever
// the target: TaskMeasurer builds and runs CPU candidates in this process;
// GPUTaskMeasurer lowers GPU candidates here and has tcl-cuda-runner measure
// them on this machine's GPU.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_SCHEDULEMEASURER_H
#define TCL_MEASURE_SCHEDULEMEASURER_H

#include "tcl/Database/Record.h"
#include "tcl/Space/SearchSpace.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

namespace tcl {

/// Measures schedules of one task on one target.
class ScheduleMeasurer {
public:
  virtual ~ScheduleMeasurer() = default;

  /// The task's search space on the measurer's target.
  virtual const SearchSpace &getSpace() const = 0;
  /// The unscheduled kernel module, as MLIR text.
  virtual llvm::StringRef getKernelText() const = 0;

  /// Computes the reference output that later measurements are checked
  /// against; fails (naming the task) when the reference does not build or
  /// run. Call once before measureRecords.
  virtual llvm::Error prepareReference() = 0;

  /// Called with the index of a schedule in the measured list and its
  /// measure record.
  using RecordFn =
      llvm::function_ref<void(size_t index, const MeasureRecord &)>;

  /// Measures `schedules` and calls `onRecord` for each, in input order,
  /// with its measure record for `platformId` (tcl::Platform::id()) and
  /// `seed`. A failing
  /// candidate is a record with an error code, not an error; an error means
  /// the measurement itself could not run (e.g. no GPU), and schedules
  /// without a record then were not measured.
  virtual llvm::Error measureRecords(llvm::ArrayRef<Schedule> schedules,
                                     llvm::StringRef platformId,
                                     uint64_t seed, RecordFn onRecord) = 0;
};

} // namespace tcl

#endif // TCL_MEASURE_SCHEDULEMEASURER_H
