//===- GPUBatchBuilder.cpp - Lower a task's GPU candidates into a batch ---===//

#include "tcl/Measure/GPUBatchBuilder.h"
#include "tcl/Measure/Npy.h"
#include "tcl/Measure/TaskMeasurer.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace tcl;

llvm::Expected<GPUProgram>
tcl::lowerToGPUProgram(const mlir::DialectRegistry &registry,
                       const Target &target, llvm::StringRef kernelText,
                       const SearchSpace &space, const Schedule &schedule) {
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  auto fail = [&](llvm::StringRef what) {
    return llvm::createStringError(what + ": " + diagnostics);
  };
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(
          kernelText, mlir::ParserConfig(&context), "kernel");
  if (!module)
    return fail("failed to parse the kernel module");
  if (mlir::failed(applyTaskSchedule(*module, space, schedule)))
    return fail("failed to apply the schedule");
  llvm::SmallVector<GPUProgram> programs;
  TCLLowerToNVVMOptions options;
  options.target = target.str();
  mlir::PassManager pm(&context);
  pm.addPass(createTCLLowerToNVVM(options, &programs));
  if (mlir::failed(pm.run(*module)))
    return fail("failed to lower to PTX");
  if (programs.size() != 1)
    return llvm::createStringError(
        "expected one host function launching kernels, got " +
        llvm::Twine(programs.size()));
  return std::move(programs.front());
}

GPUTaskBuilder::GPUTaskBuilder(SearchSpace space, SearchSpace cpuSpace,
                               KernelSignature signature,
                               std::string kernelText, const Target &gpu,
                               Builder &cpuBuilder,
                               RunnerOptions referenceOptions,
                               std::string kind, int64_t flops)
    : space(std::move(space)), cpuSpace(std::move(cpuSpace)),
      signature(std::move(signature)),
      kernelText(std::move(kernelText)), gpu(gpu), cpuBuilder(cpuBuilder),
      referenceOptions(std::move(referenceOptions)), kind(std::move(kind)),
      flops(flops) {
  registerTCLDialects(registry);
}

WorkloadRecord GPUTaskBuilder::getWorkloadRecord() const {
  WorkloadRecord record;
  record.key = space.getWorkloadKey().str();
  record.kind = kind;
  record.flops = flops;
  record.kernel = kernelText;
  return record;
}

llvm::Expected<std::unique_ptr<GPUTaskBuilder>>
GPUTaskBuilder::create(const Task &task, const Target &gpu,
                       Builder &cpuBuilder, RunnerOptions referenceOptions) {
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(
      task.anchor->getContext(), [&](mlir::Diagnostic &d) {
        diagnostics += d.str() + "\n";
        return mlir::success();
      });
  mlir::FailureOr<SearchSpace> space = SearchSpace::forTask(task, gpu);
  if (mlir::failed(space))
    return llvm::createStringError("task '" + task.key + "' has no " +
                                   gpu.str() + " search space: " + diagnostics);
  mlir::FailureOr<SearchSpace> cpuSpace =
      SearchSpace::forTask(task, cpuBuilder.getTarget());
  if (mlir::failed(cpuSpace))
    return llvm::createStringError("task '" + task.key +
                                   "' has no CPU search space for its "
                                   "reference: " + diagnostics);
  mlir::FailureOr<TaskKernel> kernel = buildTaskKernel(task);
  if (mlir::failed(kernel))
    return llvm::createStringError("task '" + task.key +
                                   "' has no kernel: " + diagnostics);
  std::string text;
  llvm::raw_string_ostream os(text);
  kernel->module->print(os);
  return std::unique_ptr<GPUTaskBuilder>(
      new GPUTaskBuilder(std::move(*space), std::move(*cpuSpace),
                         kernel->signature, std::move(text),
                         gpu, cpuBuilder, std::move(referenceOptions),
                         task.kind, task.flops));
}

llvm::Expected<GPUTaskBuilder::Reference>
GPUTaskBuilder::parseReference(llvm::StringRef name) {
  if (name == "naive")
    return Reference::Naive;
  if (name == "cpu-default")
    return Reference::CPUDefault;
  if (name == "auto")
    return Reference::Auto;
  return llvm::createStringError("unknown '" + name +
                                 "' (expected auto, naive or cpu-default)");
}

llvm::Expected<GPUReference> GPUTaskBuilder::computeReference(Reference how) {
  std::string key = space.getWorkloadKey().str();
  if (how == Reference::Auto)
    how = flops <= kNaiveReferenceFlops ? Reference::Naive
                                        : Reference::CPUDefault;
  BuildResult build = cpuBuilder.build(
      how == Reference::Naive
          ? kernelText
          : embedSchedule(kernelText,
                          cpuSpace.printScript(cpuSpace.getDefault())),
      "reference_" + key);
  if (!build.ok())
    return llvm::createStringError("reference of task '" + key +
                                   "' does not build: " + build.message);
  llvm::SmallString<256> output(cpuBuilder.getWorkDir());
  llvm::sys::path::append(output, "reference_" + key + ".npy");
  RunnerOptions options = referenceOptions;
  options.outputPath = output.str().str();
  // Naive loops are slow; the CPU measurer gives its references as long.
  options.timeoutSeconds = std::max(options.timeoutSeconds, 120.0);
  Runner runner(signature, options);
  llvm::Error ran = runner.setReference(build);
  llvm::sys::fs::remove(build.libraryPath);
  if (ran)
    return std::move(ran);
  llvm::Expected<NpyArray> array = readNpy(output);
  llvm::sys::fs::remove(output);
  if (!array)
    return array.takeError();
  std::optional<ElementKind> kind = parseElementKind(array->elementType);
  if (!kind)
    return llvm::createStringError("reference of task '" + key +
                                   "' has element type " + array->elementType);
  return sampleReference(*kind, array->data.data(),
                         array->data.size() / elementBytes(*kind));
}

llvm::Expected<GPUCandidate>
GPUTaskBuilder::lower(const Schedule &schedule) const {
  llvm::Expected<GPUProgram> program =
      lowerToGPUProgram(registry, gpu, kernelText, space, schedule);
  if (!program)
    return program.takeError();
  // The runner fills argument i as the CPU runner does; the result must be
  // the kernel's output.
  const TensorSpec &result = signature.getResult();
  if (program->result < 0 ||
      llvm::ArrayRef(program->buffers[program->result].shape) !=
          llvm::ArrayRef(result.shape) ||
      program->buffers[program->result].elementType != result.elementType)
    return llvm::createStringError(
        "the lowered program's result buffer is not the kernel's " +
        result.str() + " output");
  GPUCandidate candidate;
  candidate.knobs = space.toKnobMap(schedule);
  candidate.program = std::move(*program);
  return candidate;
}
