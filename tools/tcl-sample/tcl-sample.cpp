//===- tcl-sample.cpp - Choose which programs to measure (RDU) ------------===//
//
// Simulation mode of TCL's active-learning sampler (Sampler.h): on a fully
// measured dataset, replays the rounds of "train cost models on what is
// measured, embed the rest, pick the next batch" and writes the picked
// records as a new database, the training set a budget of measurements
// would have given.
//
//===----------------------------------------------------------------------===//

#include "tcl/CostModel/Evaluation.h"
#include "tcl/CostModel/LearnedCostModel.h"
#include "tcl/Features/SequenceFeatures.h"
#include "tcl/Features/StatementFeatures.h"
#include "tcl/Sampler/ActiveSampler.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace tcl;
namespace cl = llvm::cl;

static cl::OptionCategory category("tcl-sample options");
static cl::opt<std::string>
    database("database", cl::Required,
             cl::desc("Fully measured database (tcl-dataset): every program "
                      "of the pool has a measure record"),
             cl::cat(category));
static cl::opt<std::string>
    platform("platform", cl::init(""),
             cl::desc("Platform id of the records to sample (default: the "
                      "one with the most measured programs)"),
             cl::cat(category));
static cl::opt<std::string>
    testManifest("test-manifest", cl::init(""),
                 cl::desc("Manifest (tcl-dataset) of the held-out networks: "
                          "their tasks are never sampled (default: none, "
                          "every task is in the pool)"),
                 cl::cat(category));
static cl::opt<std::string>
    strategy("strategy", cl::init("rdu"),
             cl::desc("How each round chooses: rdu (representativeness, "
                      "diversity and uncertainty jointly), random, "
                      "uncertainty (ensemble disagreement), diversity "
                      "(k-center core set) or representativeness (densest "
                      "clusters first)"),
             cl::cat(category));
static cl::opt<double> weightR(
    "weight-representativeness",
    cl::init(SamplerOptions().weightRepresentativeness),
    cl::desc("RDU weight wR of the representativeness term (>= 0, default 0; "
             "Sampler.h gives the score wR R + wD D + wU U + wP P and why "
             "these defaults)"),
    cl::cat(category));
static cl::opt<double>
    weightD("weight-diversity", cl::init(SamplerOptions().weightDiversity),
            cl::desc("RDU weight wD of the diversity term (>= 0, default 1)"),
            cl::cat(category));
static cl::opt<double>
    weightU("weight-uncertainty", cl::init(SamplerOptions().weightUncertainty),
            cl::desc("RDU weight wU of the uncertainty term (>= 0, default 0)"),
            cl::cat(category));
static cl::opt<double> weightP(
    "weight-performance", cl::init(SamplerOptions().weightPerformance),
    cl::desc("Weight wP of the predicted-performance term P, the ensemble's "
             "mean standardised score (>= 0, default 1; 0: the plain RDU "
             "formula)"),
    cl::cat(category));
static cl::opt<int64_t> clusters(
    "clusters", cl::init(0),
    cl::desc("k-means clusters per task for rdu and representativeness (0: "
             "ceil(sqrt(programs of the task)), at most 1024; rdu also caps "
             "it at the task's share of the round)"),
    cl::cat(category));
static cl::opt<double>
    budget("budget", cl::init(0.1),
           cl::desc("Fraction of the pool to select, in (0, 1]; the count "
                    "is fraction * pool size rounded, at least 1"),
           cl::cat(category));
static cl::opt<unsigned>
    rounds("rounds", cl::init(kDefaultRounds),
           cl::desc("Rounds the budget is spent in, of equal size (the last "
                    "takes the remainder; at most one round per program)"),
           cl::cat(category));
static cl::opt<unsigned>
    ensemble("ensemble", cl::init(ActiveSamplerOptions().ensemble),
             cl::desc("Models trained each round (seeds seed+m); model 0 "
                      "gives the embeddings, the spread of all their scores "
                      "the uncertainty"),
             cl::cat(category));
static cl::opt<std::string> modelKind(
    "model", cl::init("mamba"),
    cl::desc("Cost model the sampler trains each round to embed and score "
             "the programs: mamba (default; RDU's selection trains a better "
             "Mamba model than with mlp: top-1 0.592 against 0.471 at 10%, "
             "docs/results/sampling-v3.md), mlp (about 7x cheaper to "
             "train) or tlp (with --from: the model's kind)"),
    cl::cat(category));
static cl::opt<std::string> modelConfig(
    "config", cl::init(""),
    cl::desc("JSON object replacing keys of the model's default "
             "architecture, e.g. '{\"d_model\":32,\"d_state\":8}' (see "
             "tcl-train --help; not with --from)"),
    cl::cat(category));
static cl::opt<std::string>
    fromModel("from", cl::init(""),
              cl::desc("Pretrained model (tcl-train -o, with its sidecar): "
                       "embeds the pool for round 1, and each round "
                       "fine-tunes copies of it instead of training fresh "
                       "models"),
              cl::value_desc("file"), cl::cat(category));
static cl::opt<unsigned>
    epochs("epochs", cl::init(ActiveSamplerOptions().epochs),
           cl::desc("Training epochs per model and round (LambdaRank)"),
           cl::cat(category));
static cl::opt<unsigned>
    maxLength("max-length", cl::init(64),
              cl::desc("Token sequence length (with --from: the model's)"),
              cl::cat(category));
static cl::opt<unsigned>
    threads("torch-threads", cl::init(0),
            cl::desc("Intra-op threads for training and inference (0: "
                     "LibTorch's default, all cores; 1 makes the selection "
                     "deterministic for a seed); OpenBLAS gets as many"),
            cl::cat(category));
static cl::opt<uint64_t>
    seed("seed", cl::init(0),
         cl::desc("Seed of the random batches, the models (seed+m) and the "
                  "sampler (seed+round)"),
         cl::cat(category));
static cl::opt<std::string>
    outputFile("o", cl::Required,
               cl::desc("Write the selected records here, with the workloads "
                        "of their tasks (a new database)"),
               cl::value_desc("file"), cl::cat(category));
static cl::opt<bool> force("force", cl::init(false),
                           cl::desc("Overwrite an existing -o file"),
                           cl::cat(category));
static cl::opt<std::string> jsonFile("json", cl::init(""),
                                     cl::desc("Write a summary as JSON"),
                                     cl::value_desc("file"), cl::cat(category));

namespace {
int fail(const llvm::Twine &message) {
  llvm::errs() << "tcl-sample: " << message << "\n";
  return 1;
}

/// The candidates: every usable record of the platform's pooled tasks, in
/// the sampler (candidate i of the sampler is record i), with the task and
/// the latency each record reveals when chosen.
struct Pool {
  std::vector<const WorkloadRecord *> tasks;
  std::vector<const MeasureRecord *> records;
  std::vector<double> latencies;
  int64_t size() const { return static_cast<int64_t>(records.size()); }
};

llvm::Expected<Pool> buildPool(const Database &db,
                               const TrainingDataOptions &options,
                               const llvm::StringSet<> &heldOut,
                               ActiveSampler &sampler, unsigned &skipped) {
  Pool pool;
  llvm::Error err = forEachTask(
      db, options,
      [&](const TaskRecords &task) -> llvm::Error {
        const WorkloadRecord &workload = *task.workload;
        if (heldOut.contains(workload.key))
          return llvm::Error::success();
        // forEachTask keeps, in order, the records whose knobs fit the space.
        size_t first = pool.records.size();
        for (const MeasureRecord *r :
             db.latestRecordsFor(workload.key, options.platform)) {
          llvm::Expected<Schedule> schedule = task.space->fromKnobMap(r->knobs);
          if (!schedule) {
            llvm::consumeError(schedule.takeError());
            continue;
          }
          pool.records.push_back(r);
        }
        if (pool.records.size() - first != task.schedules.size())
          return llvm::createStringError(
              "internal error: workload '" + workload.key + "' has " +
              llvm::Twine(task.schedules.size()) + " usable records, " +
              llvm::Twine(pool.records.size() - first) + " matched");
        pool.tasks.push_back(&workload);
        pool.latencies.insert(pool.latencies.end(), task.latencies.begin(),
                              task.latencies.end());
        sampler.addTask(workload.key, workload.kind, *task.sequence,
                        *task.statements, task.schedules);
        return llvm::Error::success();
      },
      &skipped);
  if (err)
    return std::move(err);
  return pool;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tcl-sample: choose which programs to measure (RDU active learning)\n\n"
      "Simulation mode: --database is a fully measured dataset (every\n"
      "program of every task has a record, as tcl-dataset writes it), so\n"
      "sampling a program only reveals a latency that is already known. The\n"
      "pool is every record of one platform whose task is not held out by\n"
      "--test-manifest. tcl-sample spends --budget (a fraction of the pool)\n"
      "over --rounds rounds: round 1 is a seeded random batch (or, with\n"
      "--from, chosen with --strategy from the pretrained model's\n"
      "embeddings); each later round trains --ensemble models on the records\n"
      "selected so far, embeds the rest of the pool with the first, scores\n"
      "it with all of them, and picks the next batch with --strategy (per\n"
      "task, in proportion to the task's programs). --strategy=random trains\n"
      "nothing. The selected records are written unchanged, with the\n"
      "workloads of their tasks, to -o: a training set for tcl-train.\n\n"
      "Example: tcl-sample --database=data/cpu-avx512-t2/dataset.jsonl "
      "--test-manifest=data/cpu-avx512-t2/eval.manifest.json --budget=0.1 "
      "--strategy=rdu -o rdu-10.jsonl\n"
      "then: tcl-train --database=rdu-10.jsonl --test-manifest=... trains on "
      "the selection and scores the held-out networks\n");

  // Options first, so that bad input fails before any work.
  llvm::Expected<SamplerStrategy> parsedStrategy =
      parseSamplerStrategy(strategy);
  if (!parsedStrategy)
    return fail("--strategy: " + llvm::toString(parsedStrategy.takeError()));
  const bool isRandom = *parsedStrategy == SamplerStrategy::Random;
  if (llvm::Expected<int64_t> valid = budgetCount(budget, 1); !valid)
    return fail("--budget: " + llvm::toString(valid.takeError()));
  if (rounds < 1)
    return fail("--rounds must be at least 1");
  for (const cl::opt<double> *w : {&weightR, &weightD, &weightU, &weightP})
    if (!std::isfinite(w->getValue()) || w->getValue() < 0)
      return fail("--" + w->ArgStr + " must be finite and >= 0, got " +
                  llvm::formatv("{0}", w->getValue()).str());
  if (clusters < 0)
    return fail("--clusters must be >= 0");
  if (ensemble < 1)
    return fail("--ensemble must be at least 1");
  if (!fromModel.empty() && !modelConfig.empty())
    return fail("--config does not apply with --from (the architecture is "
                "the pretrained model's)");
  if (llvm::sys::fs::exists(outputFile)) {
    if (!force)
      return fail("output '" + outputFile +
                  "' exists; remove it or pass --force to overwrite it");
    if (llvm::sys::fs::equivalent(outputFile, database))
      return fail("-o '" + outputFile + "' is the input database");
  }

  // The model: a pretrained one (--from), or the architecture to train.
  ActiveSamplerOptions samplerOptions;
  samplerOptions.sampler.strategy = *parsedStrategy;
  samplerOptions.sampler.seed = seed;
  samplerOptions.sampler.weightRepresentativeness = weightR;
  samplerOptions.sampler.weightDiversity = weightD;
  samplerOptions.sampler.weightUncertainty = weightU;
  samplerOptions.sampler.weightPerformance = weightP;
  samplerOptions.sampler.clusters = clusters;
  samplerOptions.ensemble = ensemble;
  samplerOptions.epochs = epochs;
  samplerOptions.maxLength = maxLength;
  samplerOptions.seed = seed;
  std::string kind = modelKind;
  if (!fromModel.empty()) {
    llvm::Expected<ModelSidecar> sidecar = readSidecar(fromModel);
    if (!sidecar)
      return fail("--from: " + llvm::toString(sidecar.takeError()));
    if (modelKind.getNumOccurrences() == 0)
      kind = sidecar->kind;
    if (sidecar->kind != kind)
      return fail("--from: '" + fromModel + "' holds a '" + sidecar->kind +
                  "' model, not '" + kind + "'");
    if (maxLength.getNumOccurrences() && maxLength != sidecar->maxLength)
      return fail("--max-length " + llvm::Twine(maxLength.getValue()) +
                  " differs from the " + llvm::Twine(sidecar->maxLength) +
                  " that '" + fromModel + "' was trained with");
    samplerOptions.pretrainedPath = fromModel;
  } else if (!isRandom) {
    llvm::Expected<std::string> built = defaultModelConfig(kind, modelConfig);
    if (!built)
      return fail("--model/--config: " + llvm::toString(built.takeError()));
    samplerOptions.modelConfig = *built;
  }
  llvm::Expected<std::unique_ptr<ActiveSampler>> sampler =
      ActiveSampler::create(samplerOptions);
  if (!sampler)
    return fail((fromModel.empty() ? "" : "--from: ") +
                llvm::toString(sampler.takeError()));

  llvm::Expected<Database> db = Database::open(database, /*create=*/false);
  if (!db)
    return fail(llvm::toString(db.takeError()));
  setTorchThreads(static_cast<int>(threads));
  std::string platformId =
      platform.empty() ? db->busiestPlatform() : platform.getValue();
  if (platformId.empty())
    return fail("'" + database + "' holds no measure records");

  llvm::StringSet<> heldOut;
  if (!testManifest.empty()) {
    llvm::Expected<NetworkTasks> networks = readNetworkManifest(testManifest);
    if (!networks)
      return fail(llvm::toString(networks.takeError()));
    heldOut = workloadKeys(*networks);
  }

  TrainingDataOptions dataOptions;
  dataOptions.platform = platformId;
  dataOptions.maxLength = (*sampler)->maxLength();
  unsigned skipped = 0;
  llvm::Expected<Pool> built =
      buildPool(*db, dataOptions, heldOut, **sampler, skipped);
  if (!built)
    return fail(llvm::toString(built.takeError()));
  Pool &pool = *built;
  if (pool.size() == 0) {
    std::string where =
        heldOut.empty() ? std::string()
                        : " outside the " + std::to_string(heldOut.size()) +
                              " tasks of --test-manifest";
    return fail("empty pool: '" + database +
                "' has no usable record of platform '" + platformId + "'" +
                where);
  }
  llvm::Expected<int64_t> total = budgetCount(budget, pool.size());
  if (!total)
    return fail("--budget: " + llvm::toString(total.takeError()));
  const int64_t roundCount = std::min<int64_t>(rounds, *total);
  llvm::errs() << "tcl-sample: platform " << platformId << "; pool "
               << pool.tasks.size() << " tasks / " << pool.size()
               << " programs";
  if (skipped)
    llvm::errs() << " (" << skipped << " records skipped: knobs do not fit)";
  llvm::errs() << "; budget " << *total << " programs in " << roundCount
               << " rounds, strategy " << stringifySamplerStrategy(
                                              *parsedStrategy)
               << "\n";
  if (roundCount < rounds)
    llvm::errs() << "tcl-sample: note: " << rounds << " rounds for "
                 << *total << " programs: using " << roundCount << "\n";

  // The rounds: choosing a program reveals its recorded latency.
  const int64_t perRound = *total / roundCount;
  for (int64_t round = 0; round < roundCount; ++round) {
    const int64_t count =
        round + 1 < roundCount ? perRound : *total - perRound * round;
    llvm::Expected<std::vector<int64_t>> picks = (*sampler)->chooseNext(count);
    if (!picks)
      return fail(llvm::toString(picks.takeError()));
    for (int64_t i : *picks)
      (*sampler)->observe(i, pool.latencies[i]);
    const ActiveRound &log = (*sampler)->rounds().back();
    llvm::errs() << llvm::format(
        "tcl-sample: round %lld/%lld: %lld/%lld selected; train %.2f s, "
        "embed %.2f s, select %.2f s\n",
        static_cast<long long>(round + 1), static_cast<long long>(roundCount),
        static_cast<long long>((*sampler)->numObserved()),
        static_cast<long long>(*total), log.trainSeconds, log.embedSeconds,
        log.selectSeconds);
  }
  std::vector<int64_t> selected;
  for (int64_t i = 0; i < pool.size(); ++i)
    if ((*sampler)->isObserved(i))
      selected.push_back(i);

  // The output database: workloads of the sampled tasks, then the selected
  // records in the input's file order.
  if (force && llvm::sys::fs::exists(outputFile))
    if (std::error_code ec = llvm::sys::fs::remove(outputFile))
      return fail("cannot remove '" + outputFile + "': " + ec.message());
  llvm::Expected<Database> out = Database::open(outputFile, /*create=*/true);
  if (!out)
    return fail(llvm::toString(out.takeError()));
  std::vector<bool> taskSampled(pool.tasks.size(), false);
  llvm::DenseSet<const MeasureRecord *> chosen;
  for (int64_t i : selected) {
    taskSampled[(*sampler)->taskOf(i)] = true;
    chosen.insert(pool.records[i]);
  }
  int64_t sampledTasks = 0;
  for (size_t t = 0; t < pool.tasks.size(); ++t) {
    if (!taskSampled[t])
      continue;
    ++sampledTasks;
    if (llvm::Error err = out->addWorkload(*pool.tasks[t]))
      return fail(llvm::toString(std::move(err)));
  }
  for (const MeasureRecord &record : db->records())
    if (chosen.contains(&record))
      if (llvm::Error err = out->append(record))
        return fail(llvm::toString(std::move(err)));
  llvm::errs() << "tcl-sample: wrote " << selected.size() << " records of "
               << sampledTasks << " tasks to " << outputFile << "\n";

  if (!jsonFile.empty()) {
    llvm::json::Array roundsJSON;
    int64_t cumulative = 0;
    for (auto [r, log] : llvm::enumerate((*sampler)->rounds()))
      roundsJSON.push_back(llvm::json::Object{
          {"round", static_cast<int64_t>(r + 1)},
          {"selected", cumulative += log.chosen},
          {"train_seconds", log.trainSeconds},
          {"embed_seconds", log.embedSeconds},
          {"select_seconds", log.selectSeconds}});
    llvm::json::Object summary{
        {"strategy", stringifySamplerStrategy(*parsedStrategy)},
        {"model", isRandom ? std::string() : kind},
        {"from", fromModel.getValue()},
        {"database", database.getValue()},
        {"platform", platformId},
        {"budget", budget.getValue()},
        {"budget_programs", *total},
        {"pool_tasks", static_cast<int64_t>(pool.tasks.size())},
        {"pool_programs", pool.size()},
        {"selected", static_cast<int64_t>(selected.size())},
        {"selected_tasks", sampledTasks},
        {"ensemble", static_cast<int64_t>(ensemble.getValue())},
        {"weights", llvm::json::Object{{"representativeness", weightR.getValue()},
                                       {"diversity", weightD.getValue()},
                                       {"uncertainty", weightU.getValue()},
                                       {"performance", weightP.getValue()}}},
        {"clusters", clusters.getValue()},
        {"epochs", static_cast<int64_t>(epochs.getValue())},
        {"rounds", std::move(roundsJSON)},
        {"seed", static_cast<int64_t>(seed.getValue())},
        {"output", outputFile.getValue()},
    };
    std::error_code ec;
    llvm::raw_fd_ostream os(jsonFile, ec);
    if (ec)
      return fail("cannot write '" + jsonFile + "': " + ec.message());
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(summary)))
       << "\n";
  }
  return 0;
}
