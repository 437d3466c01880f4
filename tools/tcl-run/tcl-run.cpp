//===- tcl-run.cpp - Measure the tasks of a module on the CPU -------------===//
//
// Extracts the tasks of an MLIR file, and for each distinct workload builds,
// checks and times its default schedule and N random schedules of its search
// space. Prints a per-task table and optionally writes JSON.
// With --entry, compiles the whole module instead (best schedules from a
// database, default schedules otherwise) and times that function end to end.
//
//===----------------------------------------------------------------------===//

#include "tcl/Measure/GPUBatchBuilder.h"
#include "tcl/Measure/Runner.h"
#include "tcl/Measure/TargetMeasurer.h"
#include "tcl/Measure/TaskMeasurer.h"
#include "tcl/Target/Target.h"
#include "tcl/Task/Task.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

using namespace tcl;
namespace cl = llvm::cl;

static cl::OptionCategory category("tcl-run options");
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<input .mlir file>"),
                                      cl::cat(category));
static cl::opt<std::string> targetSpelling(
    "target", cl::init("cpu"),
    cl::desc("Target: cpu[:avx512|avx2|sse4.2][,threads=N][,bind] "
             "(default: host CPU, all cores; bind pins the threads, one "
             "per core, for repeatable timings)"),
    cl::cat(category));
static cl::opt<unsigned>
    numSamples("samples", cl::init(0),
               cl::desc("Random schedules measured per workload besides the "
                        "default schedule (default 0)"),
               cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("Seed of schedule sampling and inputs"),
                              cl::cat(category));
static cl::opt<std::string> jsonFile("json", cl::init(""),
                                     cl::desc("Write results as JSON here"),
                                     cl::cat(category));
static cl::opt<std::string>
    workDir("work-dir", cl::init(""),
            cl::desc("Directory for built shared objects (default: a new "
                     "temporary directory)"),
            cl::cat(category));
static cl::opt<unsigned> jobs("jobs", cl::init(0),
                              cl::desc("Parallel builds (default: all cores)"),
                              cl::cat(category));
static cl::opt<double>
    minRepeatSeconds("min-repeat-seconds", cl::init(0.1),
                     cl::desc("Time each candidate for at least this long"),
                     cl::cat(category));
static cl::opt<unsigned>
    minRepeats("min-repeats", cl::init(3),
               cl::desc("Time each candidate at least this many times"),
               cl::cat(category));
static cl::opt<unsigned>
    warmup("warmup", cl::init(1),
           cl::desc("Untimed calls before timing (the correctness check "
                    "call comes first in any case)"),
           cl::cat(category));
static cl::opt<double>
    timeoutSeconds("timeout", cl::init(20),
                   cl::desc("Kill a candidate's run after this many seconds"),
                   cl::cat(category));
static cl::opt<std::string>
    filter("filter", cl::init(""),
           cl::desc("Only measure workloads whose key or function name "
                    "contains this string"),
           cl::cat(category));

static cl::OptionCategory gpuCategory("GPU batches (--target=cuda:sm_XX)");
static cl::opt<std::string> gpuBatch(
    "gpu-batch", cl::init(""),
    cl::desc("With a cuda: target: lower each workload's default and "
             "--samples random GPU schedules to PTX, compute its reference "
             "output on this machine's CPU, and write them all to this JSON "
             "file for tcl-cuda-runner to measure on a GPU machine (no GPU "
             "or CUDA needed here). --warmup, --min-repeats, "
             "--min-repeat-seconds and --timeout become the runner's timing "
             "protocol (defaults 3, 10, 0.1 s, 20 s)"),
    cl::cat(gpuCategory));
static cl::opt<std::string> gpuReference(
    "gpu-reference", cl::init("auto"),
    cl::desc("How --gpu-batch computes each task's reference output on this "
             "CPU: naive (the unscheduled kernel, like the CPU measurer; "
             "slow for large tasks: a 2048^3 matmul takes about a minute), "
             "cpu-default (the task's default CPU schedule), or auto "
             "(naive up to 1 GFLOP, cpu-default above; the default)"),
    cl::cat(gpuCategory));

static cl::OptionCategory wholeCategory(
    "whole-module runs (--entry)");
static cl::opt<std::string> entry(
    "entry", cl::init(""),
    cl::desc("Compile the whole module and time this function end to end "
             "instead of measuring tasks one by one (e.g. --entry=forward)"),
    cl::cat(wholeCategory));
static cl::opt<std::string> database(
    "database", cl::init(""),
    cl::desc("With --entry: apply the best record of each task for this "
             "machine's platform from this database (tcl-apply-best); "
             "tasks without a record get their default schedule"),
    cl::cat(wholeCategory));
static cl::opt<std::string> inputsDir(
    "inputs", cl::init(""),
    cl::desc("With --entry: directory of NumPy files arg0.npy, arg1.npy, ... "
             "(one per argument of the entry function, exactly its shape "
             "and element type) used as inputs instead of seeded random "
             "values"),
    cl::cat(wholeCategory));
static cl::opt<std::string> outputFile(
    "output", cl::init(""),
    cl::desc("With --entry: write the entry function's result as a NumPy "
             ".npy file"),
    cl::cat(wholeCategory));

namespace {
/// The distinct workloads of `tasks` that --filter selects; says so on
/// stderr when there are none.
std::vector<Workload> selectWorkloads(llvm::ArrayRef<Task> tasks) {
  std::vector<Workload> workloads;
  for (const Workload &w : groupWorkloads(tasks))
    if (filter.empty() || llvm::StringRef(w.task->key).contains(filter) ||
        llvm::any_of(w.functions, [](const std::string &f) {
          return llvm::StringRef(f).contains(filter);
        }))
      workloads.push_back(w);
  if (workloads.empty())
    llvm::errs() << "tcl-run: no tasks in '" << inputFile << "'"
                 << (filter.empty() ? "" : " matching --filter") << "\n";
  return workloads;
}

/// The --gpu-batch mode. Returns the exit code.
int writeGPUBatchFile(mlir::ModuleOp module, const Target &gpu,
                      llvm::StringRef dir);

llvm::json::Value trialToJSON(const Trial &t, const SearchSpace &space,
                              bool withSchedule) {
  ErrorCode error =
      t.build.ok() ? t.measure.error : t.build.error;
  llvm::json::Object o{
      {"error", stringifyErrorCode(error)},
      {"median_s", t.measure.medianSeconds},
      {"min_s", t.measure.minSeconds},
      {"gflops", t.measure.gflops},
      {"build_s", t.build.buildSeconds},
      {"run_s", t.measure.runSeconds},
      {"knobs", llvm::json::Array(t.schedule.values)},
  };
  std::string message = t.build.ok() ? t.measure.message : t.build.message;
  if (!message.empty())
    o["message"] = message.substr(0, 2000);
  if (withSchedule)
    o["schedule"] = space.printScript(t.schedule);
  return o;
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       since)
      .count();
}
/// The --entry mode: schedules every task of `module` (best records of
/// --database, default schedules otherwise), builds the whole module and
/// times `entry`. Returns the exit code.
int runWholeModule(mlir::ModuleOp module, const Target &target,
                   const Platform &platform, Builder &builder,
                   RunnerOptions runnerOptions) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(entry);
  if (!func) {
    llvm::errs() << "tcl-run: '" << inputFile << "' has no function '@"
                 << entry << "'\n";
    return 1;
  }
  llvm::Expected<KernelSignature> signature = getFunctionSignature(func);
  if (!signature) {
    llvm::errs() << "tcl-run: " << llvm::toString(signature.takeError())
                 << "\n";
    return 1;
  }

  // Task extraction first, to count tasks and FLOPs before scheduling
  // rewrites the anchors.
  auto runPipeline = [&](const std::string &pipeline) {
    mlir::PassManager pm(module->getContext());
    if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, llvm::errs())) ||
        mlir::failed(pm.run(module))) {
      llvm::errs() << "tcl-run: pipeline '" << pipeline << "' failed\n";
      return false;
    }
    return true;
  };
  if (!runPipeline("tcl-extract-tasks"))
    return 1;
  llvm::SmallVector<Task> tasks = collectAnnotatedTasks(module);
  int64_t flops = 0;
  for (const Task &task : tasks)
    flops += task.flops;
  std::string apply =
      database.empty()
          ? "tcl-apply-schedules{target=" + target.str() + "}"
          : "tcl-apply-best{database=" + database + " target=" + target.str() +
                "}";
  if (!runPipeline(apply))
    return 1;

  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  llvm::errs() << "tcl-run: building '@" << entry << "' (" << tasks.size()
               << " tasks, " << llvm::format("%.3f", flops / 1e9)
               << " GFLOP, " << signature->args.size() << " arguments) for "
               << platform.id() << "\n";
  BuildResult build = builder.build(text, "model", entry);
  if (!build.ok()) {
    llvm::errs() << "tcl-run: build failed (" << stringifyErrorCode(build.error)
                 << "): " << build.message << "\n";
    return 1;
  }
  llvm::errs() << llvm::format("tcl-run: built in %.1f s; running\n",
                               build.buildSeconds);
  runnerOptions.inputDirectory = inputsDir;
  runnerOptions.outputPath = outputFile;
  Runner runner(*signature, runnerOptions);
  MeasureResult result = runner.measure(build, flops);
  if (!result.ok()) {
    llvm::errs() << "tcl-run: run failed (" << stringifyErrorCode(result.error)
                 << "): " << result.message << "\n";
    return 1;
  }
  llvm::outs() << llvm::format(
      "@%s: median %.4g ms, min %.4g ms over %zu runs, %.1f GFLOP/s "
      "(%s schedules, %s)\n",
      entry.c_str(), result.medianSeconds * 1e3, result.minSeconds * 1e3,
      result.latencies.size(), result.gflops,
      database.empty() ? "default" : "best measured",
      platform.id().c_str());
  if (!outputFile.empty())
    llvm::errs() << "tcl-run: wrote the result ("
                 << signature->getResult().str() << ") to '" << outputFile
                 << "'\n";
  if (!jsonFile.empty()) {
    llvm::json::Object root{
        {"platform", platform.toJSON()},
        {"input", inputFile.getValue()},
        {"entry", entry.getValue()},
        {"database", database.getValue()},
        {"tasks", static_cast<int64_t>(tasks.size())},
        {"flops", flops},
        {"build_s", build.buildSeconds},
        {"median_s", result.medianSeconds},
        {"min_s", result.minSeconds},
        {"latencies", llvm::json::Array(result.latencies)},
        {"gflops", result.gflops},
    };
    std::error_code ec;
    llvm::ToolOutputFile out(jsonFile, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      llvm::errs() << "tcl-run: cannot write '" << jsonFile
                   << "': " << ec.message() << "\n";
      return 1;
    }
    out.os() << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
             << "\n";
    out.keep();
  }
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category, &wholeCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tcl-run: measure the tasks of an MLIR module on the CPU\n\n"
      "Extracts the tasks (see tcl-opt --tcl-extract-tasks), then for each\n"
      "distinct workload builds its default schedule and --samples random\n"
      "schedules of its search space, checks each against a naive reference\n"
      "on random inputs, and times it (median of repeats, seconds).\n\n"
      "With --entry=NAME it instead compiles the whole module (best\n"
      "schedules from --database, default schedules otherwise) and times\n"
      "function NAME end to end, on random inputs or on --inputs.\n\n"
      "Examples:\n"
      "  tcl-run examples/resnet50_bert_layers.mlir --samples=10\n"
      "  tcl-run resnet50.mlir --entry=forward --database=db.jsonl\n");
  if (!entry.empty() && numSamples) {
    llvm::errs() << "tcl-run: --samples cannot be combined with --entry\n";
    return 1;
  }
  if (entry.empty() && (!database.empty() || !inputsDir.empty() ||
                        !outputFile.empty())) {
    llvm::errs() << "tcl-run: --database, --inputs and --output need "
                    "--entry\n";
    return 1;
  }

  llvm::Expected<Target> target = Target::parse(targetSpelling);
  if (!target) {
    llvm::errs() << "tcl-run: " << llvm::toString(target.takeError()) << "\n";
    return 1;
  }
  if (target->isGPU() != !gpuBatch.empty()) {
    llvm::errs() << "tcl-run: "
                 << (target->isGPU()
                         ? "a cuda: target needs --gpu-batch=FILE (tcl-run "
                           "builds GPU candidates here; tcl-cuda-runner "
                           "measures them on the GPU machine)"
                         : "--gpu-batch needs a cuda: target")
                 << "\n";
    return 1;
  }
  if (target->isGPU() && !entry.empty()) {
    llvm::errs() << "tcl-run: --entry runs on the CPU only\n";
    return 1;
  }
  if (llvm::Error err = target->isGPU() ? llvm::Error::success()
                                        : requireCPUTarget(*target, "tcl-run")) {
    llvm::errs() << "tcl-run: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  registerTCLPasses();
  mlir::DialectRegistry registry;
  registerTCLDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  std::string error;
  auto file = mlir::openInputFile(inputFile, &error);
  if (!file) {
    llvm::errs() << "tcl-run: " << error << "\n";
    return 1;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module) {
    llvm::errs() << "tcl-run: cannot parse '" << inputFile << "'\n";
    return 1;
  }

  llvm::SmallString<128> dir(workDir);
  if (dir.empty()) {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("tcl-run", dir)) {
      llvm::errs() << "tcl-run: cannot create a work directory: "
                   << ec.message() << "\n";
      return 1;
    }
  }
  if (target->isGPU())
    return writeGPUBatchFile(*module, *target, dir);
  Builder builder(*target, std::string(dir), jobs);
  RunnerOptions runnerOptions;
  runnerOptions.threads = target->threads;
  runnerOptions.bindThreads = target->bindThreads;
  runnerOptions.seed = seed;
  runnerOptions.minRepeatSeconds = minRepeatSeconds;
  runnerOptions.timeoutSeconds = timeoutSeconds;
  runnerOptions.minRepeats = minRepeats;
  runnerOptions.warmup = warmup;
  Platform platform = Platform::host(*target);
  if (!entry.empty())
    return runWholeModule(*module, *target, platform, builder, runnerOptions);

  llvm::SmallVector<Task> tasks = findTasks(*module);
  std::vector<Workload> workloads = selectWorkloads(tasks);
  if (workloads.empty())
    return 1;

  llvm::errs() << "tcl-run: " << workloads.size() << " workloads ("
               << tasks.size() << " tasks) on " << platform.id() << ", "
               << numSamples << " random schedules each; work dir " << dir
               << "\n";
  std::mt19937_64 rng(seed);
  llvm::json::Array jsonTasks;
  unsigned builtCandidates = 0, ranCandidates = 0;
  double buildSeconds = 0, runSeconds = 0;
  double totalDefault = 0, totalBest = 0;
  struct Row {
    std::string key, kind;
    int64_t weight, flops;
    double defaultSeconds, bestSeconds, defaultGflops, bestGflops;
    unsigned ok, total;
  };
  llvm::SmallVector<Row> rows;
  auto start = std::chrono::steady_clock::now();
  unsigned index = 0;
  for (const Workload &w : workloads) {
    llvm::StringRef key = w.task->key;
    ++index;
    llvm::errs() << llvm::format("[%u/%zu] %s (%s, %.1f MFLOP) ", index,
                                 workloads.size(), key.str().c_str(),
                                 w.functions.front().c_str(),
                                 w.task->flops / 1e6);
    llvm::Expected<std::unique_ptr<TaskMeasurer>> measurer =
        TaskMeasurer::create(*w.task, builder, runnerOptions);
    if (!measurer) {
      llvm::errs() << "skipped: " << llvm::toString(measurer.takeError())
                   << "\n";
      continue;
    }
    TaskMeasurer &m = **measurer;
    if (llvm::Error err = m.prepareReference()) {
      llvm::errs() << "skipped: " << llvm::toString(std::move(err)) << "\n";
      continue;
    }
    llvm::SmallVector<Schedule> schedules = {m.getSpace().getDefault()};
    for (unsigned i = 0; i < numSamples; ++i)
      schedules.push_back(m.getSpace().sample(rng));
    auto buildStart = std::chrono::steady_clock::now();
    // Live progress: the measured count, best GFLOP/s so far and an ETA,
    // rewritten in place on a terminal, every 10% otherwise.
    bool tty = llvm::errs().is_displayed();
    double bestSoFar = 0;
    auto batchStart = std::chrono::steady_clock::now();
    auto progress = [&](const Trial &t, unsigned i, unsigned total) {
      if (t.build.ok() && t.measure.ok())
        bestSoFar = std::max(bestSoFar, t.measure.gflops);
      unsigned done = i + 1;
      if (!tty && done % std::max(1u, total / 10) != 0 && done != total)
        return;
      double elapsed = seconds(batchStart);
      llvm::errs() << llvm::format(
          "%s  measured %u/%u, best %.1f GFLOP/s, %.0fs, ETA %.0fs%s",
          tty ? "\r" : "", done, total, bestSoFar, elapsed,
          elapsed / done * (total - done), tty ? "" : "\n");
      if (tty && done == total)
        llvm::errs() << "\n";
    };
    if (numSamples)
      llvm::errs() << "\n  building " << schedules.size()
                   << " schedules in parallel, then measuring them one by one\n";
    std::vector<Trial> trials =
        numSamples ? m.measure(schedules, progress) : m.measure(schedules);
    double wall = seconds(buildStart);
    double taskRun = 0;
    for (const Trial &t : trials) {
      ++builtCandidates;
      if (t.build.ok()) {
        ++ranCandidates;
        taskRun += t.measure.runSeconds;
      }
    }
    runSeconds += taskRun;
    buildSeconds += wall - taskRun;

    const Trial &def = trials.front();
    const Trial *best = nullptr;
    unsigned ok = 0;
    for (const Trial &t : trials) {
      if (!t.build.ok() || !t.measure.ok())
        continue;
      ++ok;
      if (!best || t.measure.medianSeconds < best->measure.medianSeconds)
        best = &t;
    }
    Row row{key.str(), w.task->kind, w.weight, w.task->flops, 0, 0, 0, 0, ok,
            static_cast<unsigned>(trials.size())};
    if (def.build.ok() && def.measure.ok()) {
      row.defaultSeconds = def.measure.medianSeconds;
      row.defaultGflops = def.measure.gflops;
      totalDefault += row.defaultSeconds * w.weight;
    }
    if (best) {
      row.bestSeconds = best->measure.medianSeconds;
      row.bestGflops = best->measure.gflops;
      totalBest += row.bestSeconds * w.weight;
    }
    rows.push_back(row);
    if (def.build.ok() && def.measure.ok())
      llvm::errs() << llvm::format("default %.3f ms %.1f GFLOP/s", 
                                   row.defaultSeconds * 1e3, row.defaultGflops);
    else
      llvm::errs() << "default FAILED ("
                   << stringifyErrorCode(def.build.ok() ? def.measure.error
                                                        : def.build.error)
                   << "): "
                   << llvm::StringRef(def.build.ok() ? def.measure.message
                                                     : def.build.message)
                          .take_front(300);
    if (numSamples)
      llvm::errs() << llvm::format("; best of %u: %.1f GFLOP/s; %u/%u ok",
                                   row.total, row.bestGflops, ok, row.total);
    llvm::errs() << llvm::format(" [%.0fs elapsed]\n", seconds(start));

    llvm::json::Array samples;
    for (const Trial &t : llvm::drop_begin(trials))
      samples.push_back(trialToJSON(t, m.getSpace(), false));
    llvm::json::Object jt{
        {"key", key},
        {"kind", w.task->kind},
        {"functions", llvm::json::Array(w.functions)},
        {"flops", w.task->flops},
        {"instances", static_cast<int64_t>(w.functions.size())},
        {"weight", w.weight},
        {"default", trialToJSON(def, m.getSpace(), true)},
        {"samples", std::move(samples)},
    };
    if (best)
      jt["best"] = trialToJSON(*best, m.getSpace(), true);
    jsonTasks.push_back(std::move(jt));
  }

  llvm::outs() << llvm::format("\n%-40s %-26s %6s %10s %12s %10s %12s %10s %7s\n",
                               "workload", "kind", "weight", "MFLOP",
                               "default ms", "GFLOP/s", "best ms", "GFLOP/s",
                               "ok");
  for (const Row &r : rows)
    llvm::outs() << llvm::format(
        "%-40s %-26s %6lld %10.2f %12.4f %10.1f %12.4f %10.1f %3u/%-3u\n",
        r.key.c_str(), r.kind.c_str(), static_cast<long long>(r.weight),
        r.flops / 1e6, r.defaultSeconds * 1e3, r.defaultGflops,
        r.bestSeconds * 1e3, r.bestGflops, r.ok, r.total);
  llvm::outs() << llvm::format(
      "\nweighted latency: default %.3f ms, best %.3f ms (%.2fx); "
      "builder %.2f candidates/s, runner %.2f candidates/s\n",
      totalDefault * 1e3, totalBest * 1e3,
      totalBest > 0 ? totalDefault / totalBest : 0.0,
      buildSeconds > 0 ? builtCandidates / buildSeconds : 0.0,
      runSeconds > 0 ? ranCandidates / runSeconds : 0.0);

  if (!jsonFile.empty()) {
    llvm::json::Object root{
        {"platform", platform.toJSON()},
        {"input", inputFile.getValue()},
        {"seed", static_cast<int64_t>(seed.getValue())},
        {"samples", static_cast<int64_t>(numSamples.getValue())},
        {"tasks", std::move(jsonTasks)},
        {"builder",
         llvm::json::Object{{"candidates", builtCandidates},
                            {"seconds", buildSeconds},
                            {"per_second", buildSeconds > 0
                                               ? builtCandidates / buildSeconds
                                               : 0.0}}},
        {"runner",
         llvm::json::Object{
             {"candidates", ranCandidates},
             {"seconds", runSeconds},
             {"per_second", runSeconds > 0 ? ranCandidates / runSeconds : 0.0}}},
    };
    std::error_code ec;
    llvm::ToolOutputFile out(jsonFile, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      llvm::errs() << "tcl-run: cannot write '" << jsonFile
                   << "': " << ec.message() << "\n";
      return 1;
    }
    out.os() << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
             << "\n";
    out.keep();
  }
  return 0;
}

namespace {
int writeGPUBatchFile(mlir::ModuleOp module, const Target &gpu,
                      llvm::StringRef dir) {
  llvm::Expected<GPUTaskBuilder::Reference> how =
      GPUTaskBuilder::parseReference(gpuReference);
  if (!how) {
    llvm::errs() << "tcl-run: --gpu-reference: "
                 << llvm::toString(how.takeError()) << "\n";
    return 1;
  }
  // References are built for this CPU, as GPU tuning builds them.
  const Target host = builderTarget(gpu);
  Builder cpuBuilder(host, dir.str(), jobs);
  RunnerOptions referenceOptions;
  referenceOptions.seed = seed;
  referenceOptions.threads = host.threads;
  GPUBatch batch;
  batch.target = gpu.str();
  batch.seed = seed;
  batch.version = getTCLVersion().str();
  auto given = [](const cl::Option &o) { return o.getNumOccurrences() > 0; };
  if (given(warmup))
    batch.timing.warmup = warmup;
  if (given(minRepeats))
    batch.timing.minRepeats = minRepeats;
  if (given(minRepeatSeconds))
    batch.timing.minRepeatSeconds = minRepeatSeconds;
  if (given(timeoutSeconds))
    batch.timing.timeoutSeconds = timeoutSeconds;

  llvm::SmallVector<Task> tasks = findTasks(module);
  std::vector<Workload> workloads = selectWorkloads(tasks);
  if (workloads.empty())
    return 1;
  llvm::errs() << "tcl-run: " << workloads.size() << " workloads for "
               << gpu.str() << ", default + " << numSamples
               << " random schedules each, reference on "
               << Platform::host(host).id() << "\n";
  std::mt19937_64 rng(seed);
  auto start = std::chrono::steady_clock::now();
  unsigned index = 0, lowered = 0, failed = 0;
  for (const Workload &w : workloads) {
    llvm::errs() << llvm::format("[%u/%zu] %s (%s, %.1f MFLOP) ", ++index,
                                 workloads.size(), w.task->key.c_str(),
                                 w.functions.front().c_str(),
                                 w.task->flops / 1e6);
    llvm::Expected<std::unique_ptr<GPUTaskBuilder>> builder =
        GPUTaskBuilder::create(*w.task, gpu, cpuBuilder, referenceOptions);
    if (!builder) {
      llvm::errs() << "skipped: "
                   << llvm::StringRef(llvm::toString(builder.takeError())).rtrim()
                   << "\n";
      continue;
    }
    llvm::Expected<GPUReference> reference =
        (*builder)->computeReference(*how);
    if (!reference) {
      llvm::errs() << "skipped: "
                   << llvm::StringRef(llvm::toString(reference.takeError())).rtrim()
                   << "\n";
      continue;
    }
    GPUTask task;
    task.workload = (*builder)->getWorkloadRecord();
    task.reference = std::move(*reference);
    llvm::SmallVector<Schedule> schedules = {(*builder)->getSpace().getDefault()};
    for (unsigned i = 0; i < numSamples; ++i)
      schedules.push_back((*builder)->getSpace().sample(rng));
    std::string firstError;
    for (const Schedule &schedule : schedules) {
      llvm::Expected<GPUCandidate> candidate = (*builder)->lower(schedule);
      if (!candidate) {
        ++failed;
        std::string why = llvm::toString(candidate.takeError());
        if (firstError.empty())
          firstError = why;
        continue;
      }
      ++lowered;
      task.candidates.push_back(std::move(*candidate));
    }
    llvm::errs() << task.candidates.size() << "/" << schedules.size()
                 << " lowered";
    if (!firstError.empty())
      llvm::errs() << "; first failure: "
                   << llvm::StringRef(firstError).take_front(300).rtrim();
    llvm::errs() << llvm::format(" [%.0fs elapsed]\n", seconds(start));
    if (!task.candidates.empty())
      batch.tasks.push_back(std::move(task));
  }
  if (batch.tasks.empty()) {
    llvm::errs() << "tcl-run: no candidate lowered; nothing written\n";
    return 1;
  }
  if (llvm::Error err = writeGPUBatch(batch, gpuBatch)) {
    llvm::errs() << "tcl-run: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  llvm::errs() << "tcl-run: wrote " << lowered << " candidates of "
               << batch.tasks.size() << " workloads to '" << gpuBatch << "'"
               << (failed ? " (" + std::to_string(failed) +
                                " schedules failed to lower)"
                          : std::string())
               << "; measure them with: tcl-cuda-runner " << gpuBatch
               << " --database=<db.jsonl>\n";
  return 0;
}
} // namespace
