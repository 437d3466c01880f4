//===- tcl-tune.cpp - Tune the tasks of an MLIR module ---------------------===//
//
// Extracts the tasks of a module, tunes them within a trial budget (see
// tcl/Search/Tuner.h), applies the best schedules and writes the tuned
// module. Every measurement is appended to the database, so an interrupted
// or finished run resumes from it.
//
//===----------------------------------------------------------------------===//

#include "../GPUMeasureFlags.h"

#include "tcl/Search/Tuner.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <atomic>
#include <csignal>

using namespace tcl;
namespace cl = llvm::cl;

static cl::OptionCategory category("tcl-tune options");
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<input .mlir file>"),
                                      cl::cat(category));
static cl::opt<std::string>
    outputFile("o", cl::init(""),
               cl::desc("Write the module with the best schedules applied "
                        "(not lowered; see tcl-opt --tcl-lower-to-cpu)"),
               cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> transformLibraryFile(
    "emit-transform-library", cl::init(""),
    cl::desc("Also write the best schedules as a transform library that "
             "stock mlir-opt applies to the input module: mlir-opt in.mlir "
             "--transform-preload-library=transform-library-paths=<file> "
             "--transform-interpreter (see --tcl-export-transform-library)"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string>
    targetSpelling("target", cl::init("cpu"),
                   cl::desc(tcl_tools::kMeasureTargetDescription),
                   cl::cat(category));
static cl::opt<unsigned>
    trials("trials", cl::init(200),
           cl::desc("Measurements in total, over all tasks; records of this "
                    "platform already in the database count (default 200)"),
           cl::cat(category));
static cl::opt<std::string>
    costModel("cost-model", cl::init("xgb"),
              cl::desc("Cost model: xgb (XGBoost, refit online), random, "
                       "xgb:<saved model>, or a LibTorch model mamba, tlp, "
                       "mlp (untrained) or mamba:<model.pt>, tlp:<...>, "
                       "mlp:<...> (pretrained by tcl-train, fine-tuned "
                       "online; docs/cost-models.md). Default xgb on a CPU, "
                       "mamba on a GPU (xgb's statement features describe "
                       "CPU loop nests; it scores GPU schedules at random)"),
              cl::cat(category));
static cl::opt<std::string>
    database("database", cl::init("tcl-tune.jsonl"),
             cl::desc("JSON Lines database of workloads and measure records; "
                      "created if absent, appended to, resumed from "
                      "(default tcl-tune.jsonl)"),
             cl::cat(category));
static cl::opt<unsigned>
    perRound("measures-per-round", cl::init(16),
             cl::desc("Schedules measured per round of one task"),
             cl::cat(category));
static cl::opt<std::string>
    strategy("task-scheduler", cl::init("gradient"),
             cl::desc("How the budget is split across tasks: gradient "
                      "(Ansor) or round-robin"),
             cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("Seed of search and inputs"),
                              cl::cat(category));
static cl::opt<std::string>
    workDir("work-dir", cl::init(""),
            cl::desc("Directory for built candidates (default: temporary)"),
            cl::cat(category));
static cl::opt<unsigned> jobs("jobs", cl::init(0),
                              cl::desc("Parallel builds (default: all cores)"),
                              cl::cat(category));
static cl::opt<double>
    minRepeatSeconds("min-repeat-seconds", cl::init(0.05),
                     cl::desc("Time each candidate for at least this long "
                              "(default 0.05 s; GPU: 0.1 s)"),
                     cl::cat(category));
static cl::opt<double>
    timeoutSeconds("timeout", cl::init(10),
                   cl::desc("Kill a candidate's run after this many seconds "
                            "(default 10; GPU: 20)"),
                   cl::cat(category));

static std::atomic<bool> interrupted{false};

extern "C" void onInterrupt(int) { interrupted.store(true); }

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category, &tcl_tools::gpuCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tcl-tune: tune the tasks of an MLIR module on the CPU or a GPU\n\n"
      "Extracts the tasks, searches each task's schedule space with a cost\n"
      "model and measurements (split across tasks by the task scheduler),\n"
      "records every measurement in the database, and writes the module\n"
      "with the best schedules applied (-o) and/or a transform library of\n"
      "them for stock mlir-opt (--emit-transform-library). Ctrl-C stops\n"
      "after the current measurement and keeps what was measured.\n\n"
      "With --target=cuda:sm_XX the candidates are lowered to PTX here and\n"
      "each round is measured by a tcl-cuda-runner child process on this\n"
      "machine's GPU (references run on the CPU); without a GPU, tcl-tune\n"
      "stops before tuning and says why.\n\n"
      "Example: tcl-tune model.mlir --trials=500 --database=db.jsonl "
      "-o tuned.mlir\n");

  registerTCLPasses();
  auto fail = [](const llvm::Twine &msg) {
    llvm::errs() << "tcl-tune: " << msg << "\n";
    return 1;
  };
  llvm::Expected<Target> target = Target::parse(targetSpelling);
  if (!target)
    return fail(llvm::toString(target.takeError()));
  if (strategy != "gradient" && strategy != "round-robin")
    return fail("unknown --task-scheduler '" + strategy +
                "' (expected gradient or round-robin)");

  mlir::DialectRegistry registry;
  registerTCLDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  std::string error;
  auto file = mlir::openInputFile(inputFile, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("cannot parse '" + inputFile + "'");

  TuneOptions options;
  options.target = *target;
  options.trials = trials;
  options.measuresPerRound = std::max(1u, perRound.getValue());
  options.costModel = target->isGPU() && !costModel.getNumOccurrences()
                          ? std::string("mamba")
                          : costModel.getValue();
  options.databasePath = database;
  options.workDir = workDir;
  options.seed = seed;
  options.jobs = jobs;
  options.strategy = strategy == "gradient"
                         ? TaskScheduler::Strategy::Gradient
                         : TaskScheduler::Strategy::RoundRobin;
  options.runner.threads = target->threads;
  options.runner.bindThreads = target->bindThreads;
  options.runner.seed = seed;
  options.runner.warmup = 0;
  options.runner.minRepeats = 1;
  options.runner.minRepeatSeconds = minRepeatSeconds;
  options.runner.timeoutSeconds = timeoutSeconds;
  llvm::Expected<GPUMeasureOptions> gpu =
      tcl_tools::gpuMeasureOptions(minRepeatSeconds, timeoutSeconds);
  if (!gpu)
    return fail(llvm::toString(gpu.takeError()));
  options.gpu = std::move(*gpu);
  options.log = &llvm::errs();
  options.interrupted = &interrupted;
  std::signal(SIGINT, onInterrupt);

  llvm::Expected<std::vector<TunedWorkload>> tuned =
      tuneModule(*module, options);
  std::signal(SIGINT, SIG_DFL);
  if (!tuned)
    return fail(llvm::toString(tuned.takeError()));

  llvm::raw_ostream &os = llvm::outs();
  os << llvm::format("\n%-38s %-20s %6s %10s %8s %12s %12s %8s\n", "workload",
                     "kind", "weight", "MFLOP", "trials", "default ms",
                     "tuned ms", "speedup");
  double totalDefault = 0, totalTuned = 0;
  for (const TunedWorkload &w : *tuned) {
    if (!w.skipped.empty()) {
      os << llvm::format("%-38s %-20s skipped: ", w.key.c_str(),
                         w.kind.c_str())
         << llvm::StringRef(w.skipped).take_front(200) << "\n";
      continue;
    }
    double speedup = w.defaultSeconds > 0 && w.bestSeconds > 0
                         ? w.defaultSeconds / w.bestSeconds
                         : 0;
    os << llvm::format("%-38s %-20s %6lld %10.2f %8u %12.4f %12.4f %7.2fx\n",
                       w.key.c_str(), w.kind.c_str(),
                       static_cast<long long>(w.weight), w.flops / 1e6,
                       w.trials, w.defaultSeconds * 1e3, w.bestSeconds * 1e3,
                       speedup);
    if (w.defaultSeconds > 0 && w.bestSeconds > 0) {
      totalDefault += w.weight * w.defaultSeconds;
      totalTuned += w.weight * w.bestSeconds;
    }
  }
  os << llvm::format("\nestimated end to end (sum of weight x latency over "
                     "tasks): default %.3f ms, tuned %.3f ms, speedup %.2fx\n",
                     totalDefault * 1e3, totalTuned * 1e3,
                     totalTuned > 0 ? totalDefault / totalTuned : 0.0);
  // The table is complete before the apply-best report goes to stderr.
  os.flush();

  if (outputFile.empty() && transformLibraryFile.empty())
    return 0;
  mlir::PassManager pm(&context);
  std::string lookup = "database=" + database + " target=" + target->str();
  // A GPU's platform id is the runner's (it names the GPU model).
  if (target->isGPU() && !tuned->empty())
    lookup += " platform='" + tuned->front().platform + "'";
  std::string pipeline = "tcl-extract-tasks";
  if (!transformLibraryFile.empty())
    pipeline += ",tcl-export-transform-library{" + lookup +
                " output=" + transformLibraryFile + "}";
  if (!outputFile.empty())
    pipeline += ",tcl-apply-best{" + lookup + "}";
  if (failed(mlir::parsePassPipeline(pipeline, pm, llvm::errs())))
    return fail("internal error: bad pipeline " + pipeline);
  if (failed(pm.run(*module)))
    return fail("cannot export or apply the best schedules");
  if (outputFile.empty())
    return 0;
  std::string outError;
  auto out = mlir::openOutputFile(outputFile, &outError);
  if (!out)
    return fail(outError);
  module->print(out->os());
  out->keep();
  llvm::errs() << "tcl-tune: wrote " << outputFile << "\n";
  return 0;
}
