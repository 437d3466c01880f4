//===- GPUSketchRules.h - GPU sketch rules, internal to TCLSpace -*- C++ -*-===//
//
// The entry points SearchSpace dispatches to for GPU targets; see
// GPUSketchRules.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_LIB_SPACE_GPUSKETCHRULES_H
#define TCL_LIB_SPACE_GPUSKETCHRULES_H

#include "tcl/Space/SearchSpace.h"

namespace tcl {

/// The GPU search space of `task` (matmul, batch_matmul or
/// conv_2d_nhwc_hwcf); fails with a diagnostic on other anchors.
mlir::FailureOr<SearchSpace> buildGPUSearchSpace(const Task &task,
                                                 const Target &target);

/// See SearchSpace::getDefault().
Schedule getDefaultGPUSchedule(const SearchSpace &space);

/// The GPU constraints of SearchSpace::verify(), for a schedule whose values
/// are among their knobs' options.
llvm::Error verifyGPUSchedule(const SearchSpace &space,
                              const Schedule &schedule);

/// See SearchSpace::printSequence().
void printGPUSequence(const SearchSpace &space, const Schedule &schedule,
                      llvm::StringRef name, llvm::raw_ostream &os);

/// The `@__transform_main` of SearchSpace::printScript() for a GPU space:
/// includes `@<name>`, bufferizes, and maps the task to a `gpu.launch`.
void printGPUEntryPoint(const SearchSpace &space, const Schedule &schedule,
                        llvm::StringRef name, llvm::raw_ostream &os);

} // namespace tcl

#endif // TCL_LIB_SPACE_GPUSKETCHRULES_H
