//===- TargetMeasurer.cpp - The schedule measurer for a target ------------===//

#include "tcl/Measure/TargetMeasurer.h"

using namespace tcl;

Target tcl::builderTarget(const Target &target) {
  if (!target.isGPU())
    return target;
  llvm::Expected<Target> host = Target::parse("cpu");
  // "cpu" always parses; keep the GPU target if that ever changes, so the
  // builder's own check reports it.
  if (!host) {
    llvm::consumeError(host.takeError());
    return target;
  }
  return *host;
}

llvm::Expected<std::string>
tcl::measurePlatformId(const Target &target, const GPUMeasureOptions &gpu) {
  if (!target.isGPU())
    return Platform::host(target).id();
  if (gpu.runnerPath.empty())
    return llvm::createStringError(
        "cannot measure on " + target.str() +
        ": no tcl-cuda-runner was given or found (it is built where CMake "
        "finds the CUDA toolkit's headers)");
  llvm::Expected<std::string> id =
      queryGPUPlatform(gpu.runnerPath, target, gpu.device);
  if (!id)
    return llvm::createStringError("cannot measure on " + target.str() +
                                   ": " + llvm::toString(id.takeError()));
  return id;
}

llvm::Expected<std::unique_ptr<ScheduleMeasurer>>
tcl::createScheduleMeasurer(const Task &task, const Target &target,
                            Builder &builder, const RunnerOptions &runner,
                            const GPUMeasureOptions &gpu, uint64_t seed) {
  if (!target.isGPU())
    return TaskMeasurer::create(task, builder, runner);
  return GPUTaskMeasurer::create(task, target, builder, seed, gpu);
}
