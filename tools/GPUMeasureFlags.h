//===- GPUMeasureFlags.h - Command-line flags of GPU measurement -*- C++ -*-===//
//
// The flags that tcl-tune and tcl-dataset share for cuda: targets, and their
// translation into tcl::GPUMeasureOptions. Included once per tool (the
// options are the tool's own static globals).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_TOOLS_GPUMEASUREFLAGS_H
#define TCL_TOOLS_GPUMEASUREFLAGS_H

#include "tcl/Measure/GPUTaskMeasurer.h"

#include "llvm/Support/CommandLine.h"

namespace tcl_tools {

/// The --target description of the tools that measure on the CPU or, with
/// cuda: targets, through tcl-cuda-runner (tcl-tune, tcl-dataset).
inline constexpr const char *kMeasureTargetDescription =
    "Target: cpu[:avx512|avx2|sse4.2][,threads=N][,bind] (default: host "
    "CPU, all cores; bind pins the threads, one per core, for repeatable "
    "timings), or cuda:sm_80 / cuda:sm_90 (this machine's NVIDIA GPU, "
    "measured by tcl-cuda-runner)";

static llvm::cl::OptionCategory gpuCategory("GPU targets (cuda:sm_XX)");
static llvm::cl::opt<std::string> cudaRunner(
    "cuda-runner", llvm::cl::init(""),
    llvm::cl::desc("The tcl-cuda-runner that measures each batch of GPU "
                   "candidates on this machine's GPU (default: the one next "
                   "to this tool, else on PATH)"),
    llvm::cl::value_desc("path"), llvm::cl::cat(gpuCategory));
static llvm::cl::opt<int>
    cudaDevice("cuda-device", llvm::cl::init(0),
               llvm::cl::desc("CUDA device ordinal (default 0)"),
               llvm::cl::cat(gpuCategory));
static llvm::cl::opt<std::string> gpuReference(
    "gpu-reference", llvm::cl::init("auto"),
    llvm::cl::desc("How each task's reference output is computed on this "
                   "CPU: naive (unscheduled loops), cpu-default (the default "
                   "CPU schedule), or auto (naive up to 1 GFLOP; the "
                   "default)"),
    llvm::cl::cat(gpuCategory));

/// GPUMeasureOptions from the flags (used for cuda: targets only);
/// `minRepeatSeconds` / `timeoutSeconds` replace the GPU defaults when the
/// user gave them. Fails on an unknown --gpu-reference.
inline llvm::Expected<tcl::GPUMeasureOptions>
gpuMeasureOptions(const llvm::cl::opt<double> &minRepeatSeconds,
                  const llvm::cl::opt<double> &timeoutSeconds) {
  tcl::GPUMeasureOptions options;
  if (!cudaRunner.empty())
    options.runnerPath = cudaRunner;
  else if (std::optional<std::string> found = tcl::findCUDARunner())
    options.runnerPath = *found;
  options.device = cudaDevice;
  llvm::Expected<tcl::GPUTaskBuilder::Reference> reference =
      tcl::GPUTaskBuilder::parseReference(gpuReference);
  if (!reference)
    return llvm::createStringError("--gpu-reference: " +
                                   llvm::toString(reference.takeError()));
  options.reference = *reference;
  if (minRepeatSeconds.getNumOccurrences())
    options.timing.minRepeatSeconds = minRepeatSeconds;
  if (timeoutSeconds.getNumOccurrences())
    options.timing.timeoutSeconds = timeoutSeconds;
  return options;
}

} // namespace tcl_tools

#endif // TCL_TOOLS_GPUMEASUREFLAGS_H
