//===- TaskMeasurer.cpp - Build, check and time schedules of a task -------===//

#include "tcl/Measure/TaskMeasurer.h"

#include "llvm/Support/FileSystem.h"

#include "mlir/IR/BuiltinOps.h"

using namespace tcl;

TaskMeasurer::TaskMeasurer(SearchSpace space, KernelSignature signature,
                           std::string kernelText, int64_t flops,
                           Builder &builder, RunnerOptions options)
    : space(std::move(space)), signature(signature),
      kernelText(std::move(kernelText)), flops(flops), builder(builder),
      runner(signature, options) {}

llvm::Expected<std::unique_ptr<TaskMeasurer>>
TaskMeasurer::create(const Task &task, Builder &builder,
                     RunnerOptions runnerOptions) {
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(
      task.anchor->getContext(), [&](mlir::Diagnostic &d) {
        diagnostics += d.str() + "\n";
        return mlir::success();
      });
  mlir::FailureOr<SearchSpace> space =
      SearchSpace::forTask(task, builder.getTarget());
  if (failed(space))
    return llvm::createStringError("task '" + task.key +
                                   "' has no search space: " + diagnostics);
  mlir::FailureOr<TaskKernel> kernel = buildTaskKernel(task);
  if (failed(kernel))
    return llvm::createStringError("task '" + task.key +
                                   "' has no kernel: " + diagnostics);
  std::string text;
  llvm::raw_string_ostream os(text);
  kernel->module->print(os);
  return std::unique_ptr<TaskMeasurer>(
      new TaskMeasurer(std::move(*space), kernel->signature, std::move(text),
                       task.flops, builder, runnerOptions));
}

llvm::Error TaskMeasurer::prepareReference() {
  BuildResult reference =
      builder.build(kernelText, "reference_" + space.getWorkloadKey().str());
  if (!reference.ok())
    return llvm::createStringError("reference of task '" +
                                   space.getWorkloadKey() +
                                   "' does not build: " + reference.message);
  return runner.setReference(reference);
}

std::string tcl::embedSchedule(llvm::StringRef kernelText,
                               llvm::StringRef script) {
  // The schedule goes inside the kernel module, which needs the
  // named-sequence attribute. Kernel modules carry no attributes, so they
  // print as `<attribute aliases> module { <body> }`.
  llvm::StringRef body = script;
  body = body.drop_front(body.find("} {") + 3);
  body = body.take_front(body.rfind('}'));
  size_t moduleStart = kernelText.find("module {");
  size_t close = kernelText.rfind('}');
  return (kernelText.take_front(moduleStart) +
          "module attributes {transform.with_named_sequence} {" +
          kernelText.slice(moduleStart + 8, close) + body + "}\n")
      .str();
}

std::string TaskMeasurer::scheduledKernelText(const Schedule &schedule) const {
  return embedSchedule(kernelText, space.printScript(schedule));
}

std::vector<Trial> TaskMeasurer::measure(llvm::ArrayRef<Schedule> schedules,
                                         Progress progress) {
  std::vector<std::string> texts;
  texts.reserve(schedules.size());
  for (const Schedule &s : schedules)
    texts.push_back(scheduledKernelText(s));
  std::string prefix =
      (space.getWorkloadKey() + "_b" + llvm::Twine(batch++)).str();
  llvm::SmallVector<BuildResult> builds = builder.buildAll(texts, prefix);
  std::vector<Trial> trials;
  for (auto [schedule, build] : llvm::zip(schedules, builds)) {
    Trial trial{schedule, build, {}};
    trial.measure = runner.measure(build, flops);
    // Long tuning and dataset runs build tens of thousands of candidates.
    if (!build.libraryPath.empty())
      llvm::sys::fs::remove(build.libraryPath);
    trials.push_back(std::move(trial));
    if (progress)
      progress(trials.back(), trials.size() - 1, schedules.size());
  }
  return trials;
}

llvm::Error TaskMeasurer::measureRecords(llvm::ArrayRef<Schedule> schedules,
                                         llvm::StringRef platformId,
                                         uint64_t seed, RecordFn onRecord) {
  measure(schedules, [&](const Trial &trial, unsigned index, unsigned) {
    onRecord(index, makeRecord(trial, platformId, seed));
  });
  return llvm::Error::success();
}

MeasureRecord TaskMeasurer::makeRecord(const Trial &trial,
                                       llvm::StringRef platformId,
                                       uint64_t seed) const {
  MeasureRecord rec;
  rec.workloadKey = space.getWorkloadKey().str();
  rec.platform = platformId.str();
  rec.target = builder.getTarget().str();
  rec.knobs = space.toKnobMap(trial.schedule);
  bool built = trial.build.ok();
  rec.error =
      stringifyErrorCode(built ? trial.measure.error : trial.build.error).str();
  rec.message = built ? trial.measure.message : trial.build.message;
  if (rec.message.size() > 4000)
    rec.message.resize(4000);
  rec.latencies = trial.measure.latencies;
  rec.medianSeconds = trial.measure.medianSeconds;
  rec.minSeconds = trial.measure.minSeconds;
  rec.seed = seed;
  rec.buildSeconds = trial.build.buildSeconds;
  rec.runSeconds = trial.measure.runSeconds;
  rec.timestamp = currentTimestamp();
  rec.version = getTCLVersion().str();
  return rec;
}
