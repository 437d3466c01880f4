//===- TargetMeasurer.h - The schedule measurer for a target ----*- C++ -*-===//
//
// The tools that measure (tcl-tune, tcl-dataset) pick their measurer here:
// CPU targets are built and run in this process (TaskMeasurer); GPU targets
// are lowered here and measured on this machine's GPU by tcl-cuda-runner
// (GPUTaskMeasurer), with references computed on this machine's CPU.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_TARGETMEASURER_H
#define TCL_MEASURE_TARGETMEASURER_H

#include "tcl/Measure/GPUTaskMeasurer.h"
#include "tcl/Measure/TaskMeasurer.h"

namespace tcl {

/// The target the Builder of a measurement for `target` compiles for: the
/// target itself for a CPU, this machine's CPU (`cpu`) for a GPU (its
/// references run there).
Target builderTarget(const Target &target);

/// The platform id that records measured for `target` get: Platform::host
/// for a CPU; for a GPU the runner's (queryGPUPlatform), which fails when
/// no runner is given or it finds no GPU, naming `target`.
llvm::Expected<std::string> measurePlatformId(const Target &target,
                                              const GPUMeasureOptions &gpu);

/// The measurer of `task` for `target`. `builder` compiles for
/// builderTarget(target). CPU: runs with `runner` (inputs from its seed).
/// GPU: `gpu` (its work directory defaults to the builder's), inputs from
/// `seed`.
llvm::Expected<std::unique_ptr<ScheduleMeasurer>>
createScheduleMeasurer(const Task &task, const Target &target,
                       Builder &builder, const RunnerOptions &runner,
                       const GPUMeasureOptions &gpu, uint64_t seed);

} // namespace tcl

#endif // TCL_MEASURE_TARGETMEASURER_H
