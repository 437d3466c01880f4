//===- tcl-dataset.cpp - Measure random programs of many tasks ------------===//
//
// Collects a cost-model dataset (TenSet style): for every distinct task of
// the given MLIR files, N random programs measured on one platform, appended
// to a database, with a manifest describing what is in it. Resumable.
//
//===----------------------------------------------------------------------===//

#include "../GPUMeasureFlags.h"

#include "tcl/Dataset/Dataset.h"
#ifdef TCL_HAVE_ACTIVE_SAMPLER
#include "tcl/CostModel/LearnedCostModel.h"
#include "tcl/Sampler/ActiveSampler.h"
#endif
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <csignal>

using namespace tcl;
namespace cl = llvm::cl;

static cl::OptionCategory category("tcl-dataset options");
static cl::list<std::string> inputFiles(cl::Positional, cl::OneOrMore,
                                        cl::desc("<network .mlir files>"),
                                        cl::cat(category));
static cl::opt<std::string>
    targetSpelling("target", cl::init("cpu"),
                   cl::desc(tcl_tools::kMeasureTargetDescription),
                   cl::cat(category));
static cl::opt<unsigned>
    programs("programs", cl::init(128),
             cl::desc("Measured programs per task on the platform, earlier "
                      "runs included (default 128)"),
             cl::cat(category));
static cl::opt<std::string>
    database("database", cl::Required,
             cl::desc("JSON Lines database: created if absent, appended to, "
                      "resumed from (required)"),
             cl::cat(category));
static cl::opt<std::string>
    manifest("manifest", cl::init(""),
             cl::desc("Manifest JSON (default: <database>.manifest.json)"),
             cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("Seed of schedule sampling and inputs"),
                              cl::cat(category));
static cl::opt<unsigned>
    batch("batch", cl::init(32),
          cl::desc("Programs built in parallel, then measured, per step"),
          cl::cat(category));
static cl::opt<std::string>
    filter("filter", cl::init(""),
           cl::desc("Only tasks whose workload key contains this string"),
           cl::cat(category));
static cl::list<std::string> remeasure(
    "remeasure", cl::CommaSeparated,
    cl::desc("Measure again, before any new program, the programs whose "
             "latest record failed with one of these error codes "
             "(build_error, runtime_error, wrong_answer, timeout; comma-"
             "separated), e.g. after fixing the bug that broke them; the new "
             "records supersede the failed ones (not with --sampler)"),
    cl::value_desc("codes"), cl::cat(category));
static cl::opt<std::string> remeasureBefore(
    "remeasure-before", cl::init(""),
    cl::desc("Measure again, before any new program, the programs whose "
             "latest record is older than this UTC time (e.g. "
             "2026-12-08T00:00:00Z), e.g. records taken on a busy machine; "
             "resumable, since the new records are newer (not with "
             "--sampler)"),
    cl::value_desc("time"), cl::cat(category));
static cl::opt<std::string> onlyManifest(
    "tasks-from", cl::init(""),
    cl::desc("Only the tasks listed in this tcl-dataset manifest, e.g. the "
             "training tasks another platform was measured on"),
    cl::value_desc("manifest"), cl::cat(category));
static cl::opt<bool> interleave(
    "interleave", cl::init(false),
    cl::desc("Measure workloads round-robin over the networks (the first "
             "new workload of each, then the second, ...) instead of network "
             "by network, so that a partial collection covers every network"),
    cl::cat(category));
static cl::opt<std::string>
    workDir("work-dir", cl::init(""),
            cl::desc("Directory for built programs (default: temporary)"),
            cl::cat(category));
static cl::opt<unsigned> jobs("jobs", cl::init(0),
                              cl::desc("Parallel builds (default: all cores)"),
                              cl::cat(category));
static cl::opt<double>
    minRepeatSeconds("min-repeat-seconds", cl::init(0.05),
                     cl::desc("Time each program for at least this long"),
                     cl::cat(category));
static cl::opt<unsigned>
    maxRepeats("max-repeats", cl::init(32),
               cl::desc("Time each program at most this many times (keeps "
                        "records of tiny kernels small; default 32)"),
               cl::cat(category));
static cl::opt<double>
    timeoutSeconds("timeout", cl::init(10),
                   cl::desc("Kill a program's run after this many seconds"),
                   cl::cat(category));

static cl::OptionCategory samplerCategory(
    "active sampling (--sampler): measure only a budget of the programs");
static cl::opt<std::string> samplerStrategy(
    "sampler", cl::init(""),
    cl::desc("Measure only --budget of the --programs candidates of each "
             "task, chosen in --rounds rounds by this strategy: rdu, random, "
             "uncertainty, diversity or representativeness (default: none, "
             "measure every candidate)"),
    cl::cat(samplerCategory));
static cl::opt<double> budget(
    "budget", cl::init(0.1),
    cl::desc("Fraction of all candidates to measure, in (0, 1] (default "
             "0.1); the count is the fraction of the pool rounded, at least 1"),
    cl::cat(samplerCategory));
static cl::opt<unsigned>
    rounds("rounds", cl::init(kDefaultRounds),
           cl::desc("Rounds the budget is spent in (default 4); round 1 is "
                    "random, each later one trains the cost models on what "
                    "is measured"),
           cl::cat(samplerCategory));
static cl::opt<std::string> samplerModel(
    "sampler-model", cl::init("mamba"),
    cl::desc("Cost model kind the sampler trains each round to embed and "
             "score the candidates: mamba (default; its selection trains a "
             "better Mamba model, docs/results/sampling-v3.md), mlp (about "
             "7x cheaper to train) or tlp"),
    cl::cat(samplerCategory));
static cl::opt<std::string> samplerConfig(
    "sampler-config", cl::init(""),
    cl::desc("JSON object replacing keys of --sampler-model's default "
             "architecture (as tcl-train --config)"),
    cl::cat(samplerCategory));
static cl::opt<unsigned>
    ensemble("ensemble", cl::init(ActiveSamplerOptions().ensemble),
             cl::desc("Models trained per round (default 3): model 0 embeds "
                      "the candidates, the spread of all their scores is the "
                      "uncertainty"),
             cl::cat(samplerCategory));
static cl::opt<unsigned>
    samplerEpochs("sampler-epochs", cl::init(ActiveSamplerOptions().epochs),
                  cl::desc("Training epochs of each model per round "
                           "(default 30)"),
                  cl::cat(samplerCategory));
static cl::opt<double> weightR(
    "weight-representativeness",
    cl::init(SamplerOptions().weightRepresentativeness),
    cl::desc("RDU weight of representativeness (>= 0, default 0; see "
             "include/tcl/Sampler/Sampler.h for why)"),
    cl::cat(samplerCategory));
static cl::opt<double>
    weightD("weight-diversity", cl::init(SamplerOptions().weightDiversity),
            cl::desc("RDU weight of diversity (>= 0, default 1)"),
            cl::cat(samplerCategory));
static cl::opt<double>
    weightU("weight-uncertainty", cl::init(SamplerOptions().weightUncertainty),
            cl::desc("RDU weight of uncertainty (>= 0, default 0)"),
            cl::cat(samplerCategory));
static cl::opt<double> weightP(
    "weight-performance", cl::init(SamplerOptions().weightPerformance),
    cl::desc("Weight of the predicted-performance term added to RDU's score "
             "(>= 0, default 1; 0: the plain RDU formula)"),
    cl::cat(samplerCategory));
static cl::opt<unsigned>
    torchThreads("torch-threads", cl::init(0),
                 cl::desc("Threads for the sampler's training (0: all "
                          "cores)"),
                 cl::cat(samplerCategory));

#ifdef TCL_HAVE_ACTIVE_SAMPLER
namespace {
/// The cost-model-driven sampler behind collectDataset's selector hook.
class ActiveSelector : public PoolSelector {
public:
  explicit ActiveSelector(std::unique_ptr<ActiveSampler> sampler)
      : sampler(std::move(sampler)) {}
  llvm::Error addTask(llvm::StringRef key, llvm::StringRef kind,
                      const Task &task, const SearchSpace &space,
                      llvm::ArrayRef<Schedule> candidates) override {
    llvm::Expected<int64_t> added =
        sampler->addTask(key, kind, task, space, candidates);
    return added ? llvm::Error::success() : added.takeError();
  }
  void observe(int64_t candidate, double latencySeconds) override {
    sampler->observe(candidate, latencySeconds);
  }
  llvm::Expected<std::vector<int64_t>> chooseNext(int64_t count) override {
    llvm::Expected<std::vector<int64_t>> picks = sampler->chooseNext(count);
    if (picks) {
      const ActiveRound &r = sampler->rounds().back();
      llvm::errs() << llvm::format(
          "tcl-dataset: sampler chose %lld programs (train %.1f s, embed "
          "%.1f s, select %.1f s)\n",
          static_cast<long long>(r.chosen), r.trainSeconds, r.embedSeconds,
          r.selectSeconds);
    }
    return picks;
  }

private:
  std::unique_ptr<ActiveSampler> sampler;
};
} // namespace
#endif

static std::atomic<bool> interrupted{false};

extern "C" void onDatasetInterrupt(int) { interrupted.store(true); }

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(
      {&category, &samplerCategory, &tcl_tools::gpuCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tcl-dataset: measure random programs of every task of some networks\n\n"
      "For each distinct task (workload) of the given MLIR files, samples\n"
      "--programs schedules of its search space (seeded, de-duplicated,\n"
      "the default schedule first), builds, checks and times them on the\n"
      "target and appends the measure records to --database. Programs that\n"
      "are already in the database for this platform count and are not\n"
      "measured again, so an interrupted run (Ctrl-C, kill) continues where\n"
      "it stopped. A manifest (platform fingerprint, tasks with their\n"
      "networks and weights, record counts, TCL version) is rewritten after\n"
      "every task.\n\n"
      "With --sampler (active learning, TCL's RDU sampler), the --programs\n"
      "candidates of each task are a pool and only --budget of the pool is\n"
      "measured: round 1 a random sample, then each round trains cost\n"
      "models on the records so far and picks the next programs by\n"
      "representativeness, diversity and uncertainty. Resumable too: pool\n"
      "programs already in the database count towards the budget.\n\n"
      "Example: tcl-dataset examples/networks/*.mlir --programs=128 "
      "--target=cpu,threads=2 --database=data/cpu.jsonl\n"
      "         tcl-dataset ... --sampler=rdu --budget=0.1  (measure 10%)\n\n"
      "With --target=cuda:sm_XX the programs are lowered to PTX here and\n"
      "each batch is measured by a tcl-cuda-runner child process on this\n"
      "machine's GPU (references run on the CPU); without a GPU nothing is\n"
      "written.\n");

  registerTCLPasses();
  auto fail = [](const llvm::Twine &msg) {
    llvm::errs() << "tcl-dataset: " << msg << "\n";
    return 1;
  };
  llvm::Expected<Target> target = Target::parse(targetSpelling);
  if (!target)
    return fail(llvm::toString(target.takeError()));
  if (programs == 0)
    return fail("--programs must be positive");
  std::unique_ptr<PoolSelector> selector;
  if (!samplerStrategy.empty()) {
#ifdef TCL_HAVE_ACTIVE_SAMPLER
    llvm::Expected<SamplerStrategy> strategy =
        parseSamplerStrategy(samplerStrategy);
    if (!strategy)
      return fail("--sampler: " + llvm::toString(strategy.takeError()));
    if (llvm::Expected<int64_t> valid = budgetCount(budget, 1); !valid)
      return fail("--budget: " + llvm::toString(valid.takeError()));
    if (rounds < 1)
      return fail("--rounds must be at least 1");
    ActiveSamplerOptions samplerOptions;
    samplerOptions.sampler.strategy = *strategy;
    samplerOptions.sampler.seed = seed;
    samplerOptions.sampler.weightRepresentativeness = weightR;
    samplerOptions.sampler.weightDiversity = weightD;
    samplerOptions.sampler.weightUncertainty = weightU;
    samplerOptions.sampler.weightPerformance = weightP;
    samplerOptions.ensemble = ensemble;
    samplerOptions.epochs = samplerEpochs;
    samplerOptions.seed = seed;
    if (*strategy != SamplerStrategy::Random) {
      llvm::Expected<std::string> config =
          defaultModelConfig(samplerModel, samplerConfig);
      if (!config)
        return fail("--sampler-model/--sampler-config: " +
                    llvm::toString(config.takeError()));
      samplerOptions.modelConfig = *config;
    }
    llvm::Expected<std::unique_ptr<ActiveSampler>> sampler =
        ActiveSampler::create(samplerOptions);
    if (!sampler)
      return fail("--sampler: " + llvm::toString(sampler.takeError()));
    setTorchThreads(static_cast<int>(torchThreads));
    selector = std::make_unique<ActiveSelector>(std::move(*sampler));
#else
    return fail("--sampler needs LibTorch (the sampler's cost models); this "
                "tcl-dataset was built without it");
#endif
  }

  mlir::DialectRegistry registry;
  registerTCLDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> modules;
  std::vector<DatasetNetwork> networks;
  for (const std::string &path : inputFiles) {
    if (!llvm::sys::fs::exists(path))
      return fail("cannot open '" + path + "': no such file");
    // The parser reads only the main buffer of a source manager, so each
    // file is parsed with its own.
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceFile<mlir::ModuleOp>(path,
                                              mlir::ParserConfig(&context));
    if (!module)
      return fail("cannot parse '" + path + "'");
    networks.push_back({llvm::sys::path::stem(path).str(), *module});
    modules.push_back(std::move(module));
  }

  DatasetOptions options;
  options.target = *target;
  options.programsPerTask = programs;
  options.databasePath = database;
  options.manifestPath =
      manifest.empty() ? database + ".manifest.json" : manifest.getValue();
  options.workDir = workDir;
  options.seed = seed;
  options.batchSize = std::max(1u, batch.getValue());
  options.jobs = jobs;
  options.filter = filter;
  options.interleave = interleave;
  for (const std::string &code : remeasure) {
    bool known = false;
    for (ErrorCode c : {ErrorCode::BuildError, ErrorCode::RuntimeError,
                        ErrorCode::WrongAnswer, ErrorCode::Timeout})
      known |= code == stringifyErrorCode(c);
    if (!known)
      return fail("--remeasure: unknown error code '" + code +
                  "' (expected build_error, runtime_error, wrong_answer or "
                  "timeout)");
    options.remeasure.insert(code);
  }
  if (!remeasureBefore.empty()) {
    if (!isTimestamp(remeasureBefore))
      return fail("--remeasure-before: '" + remeasureBefore +
                  "' is not a UTC time like 2026-12-08T00:00:00Z");
    options.remeasureBefore = remeasureBefore;
  }
  if ((!options.remeasure.empty() || !options.remeasureBefore.empty()) &&
      !samplerStrategy.empty())
    return fail("--remeasure and --remeasure-before cannot be combined with "
                "--sampler");
  if (!onlyManifest.empty()) {
    llvm::Expected<NetworkTasks> listed = readNetworkManifest(onlyManifest);
    if (!listed)
      return fail("--tasks-from: " + llvm::toString(listed.takeError()));
    options.only = workloadKeys(*listed);
    // An empty set would mean "every task": say so instead.
    if (options.only.empty())
      return fail("--tasks-from: manifest '" + onlyManifest +
                  "' lists no task of any network");
  }
  options.selector = selector.get();
  options.budget = budget;
  options.rounds = rounds;
  options.runner.threads = target->threads;
  options.runner.bindThreads = target->bindThreads;
  options.runner.seed = seed;
  options.runner.warmup = 0;
  options.runner.minRepeats = 1;
  options.runner.minRepeatSeconds = minRepeatSeconds;
  options.runner.maxRepeats = std::max(1u, maxRepeats.getValue());
  options.runner.timeoutSeconds = timeoutSeconds;
  llvm::Expected<GPUMeasureOptions> gpu =
      tcl_tools::gpuMeasureOptions(minRepeatSeconds, timeoutSeconds);
  if (!gpu)
    return fail(llvm::toString(gpu.takeError()));
  options.gpu = std::move(*gpu);
  options.log = &llvm::errs();
  options.interrupted = &interrupted;
  std::signal(SIGINT, onDatasetInterrupt);
  std::signal(SIGTERM, onDatasetInterrupt);
  llvm::Expected<std::vector<DatasetTask>> tasks =
      collectDataset(networks, options);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!tasks)
    return fail(llvm::toString(tasks.takeError()));

  unsigned records = 0, ok = 0, added = 0, skipped = 0;
  for (const DatasetTask &t : *tasks) {
    records += t.records;
    ok += t.ok;
    added += t.added;
    skipped += !t.skipped.empty();
  }
  llvm::outs() << llvm::format(
      "tcl-dataset: %zu tasks, %u records (%u ok, %u new), %u tasks "
      "skipped; manifest %s\n",
      tasks->size(), records, ok, added, skipped,
      options.manifestPath.c_str());
  return interrupted ? 130 : 0;
}
