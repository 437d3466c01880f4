//===- tcl-train.cpp - Train and evaluate a learned cost model ------------===//
//
// Trains a LibTorch cost model (mamba, tlp, mlp) on the measure records of
// a database, evaluates TenSet's top-k score on held-out networks, and saves
// the model with its sidecar (LearnedCostModel.h).
//
//===----------------------------------------------------------------------===//

#include "../ValidFraction.h"
#include "tcl/CostModel/Evaluation.h"
#include "tcl/CostModel/LearnedCostModel.h"
#include "tcl/CostModel/Ranking.h"
#include "tcl/CostModel/XGBoostModel.h"
#include "tcl/Features/SequenceFeatures.h"
#include "tcl/Features/StatementFeatures.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>

using namespace tcl;
namespace cl = llvm::cl;

static cl::OptionCategory category("tcl-train options");
static cl::opt<std::string> database("database", cl::Required,
                                     cl::desc("Database of measure records"),
                                     cl::cat(category));
static cl::opt<std::string>
    platform("platform", cl::init(""),
             cl::desc("Platform id of the records to use (default: the one "
                      "with the most measured programs)"),
             cl::cat(category));
static cl::opt<std::string> modelKind("model", cl::init("mamba"),
                                      cl::desc("mamba, tlp, mlp or xgb"),
                                      cl::cat(category));
static cl::opt<std::string> modelConfig(
    "config", cl::init(""),
    cl::desc("JSON object replacing keys of the model's default "
             "architecture, e.g. '{\"layers\":1,\"expand\":1}' (mamba, "
             "default d_model 32, d_state 8, input_norm 1, the shipped "
             "model's: d_model, d_state, d_conv, expand, layers, "
             "head_hidden, input_norm, platform_film; tlp: hidden, heads, "
             "res_blocks, decoder_hidden; mlp: hidden, res_blocks, "
             "batch_norm)"),
    cl::cat(category));
static cl::opt<std::string>
    testManifest("test-manifest", cl::init(""),
                 cl::desc("Manifest (tcl-dataset) of the held-out networks: "
                          "their tasks are left out of training and scored "
                          "per network (default: 20% of the tasks, seeded)"),
                 cl::cat(category));
static cl::opt<std::string> evalDatabase(
    "eval-database", cl::init(""),
    cl::desc("Score the held-out networks on this database's records "
             "(same platform) instead of --database's, e.g. the full dataset "
             "when --database is a tcl-sample selection without the "
             "held-out tasks; needs --test-manifest"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string>
    trainManifest("train-manifest", cl::init(""),
                  cl::desc("Train only on the tasks of this manifest "
                           "(default: every task not held out)"),
                  cl::cat(category));
static cl::opt<std::string> initFile(
    "init", cl::init(""),
    cl::desc("Start from this saved model (a tcl-train -o file, of --model's "
             "kind; it keeps its saved architecture, so no --config) instead "
             "of fresh weights; with --epochs=0 it is only evaluated"),
    cl::value_desc("model.pt"), cl::cat(category));
static cl::opt<unsigned> epochs("epochs", cl::init(30),
                                cl::desc("Training epochs (0: none, with "
                                         "--init)"),
                                cl::cat(category));
static cl::opt<double> learningRate("lr", cl::init(7e-4),
                                    cl::desc("Adam learning rate"),
                                    cl::cat(category));
static cl::opt<LRSchedule> lrSchedule(
    "lr-schedule", cl::init(LRSchedule::Constant),
    cl::desc("Learning-rate schedule over the training steps"),
    cl::values(clEnumValN(LRSchedule::Constant, "constant", "--lr throughout"),
               clEnumValN(LRSchedule::Cosine, "cosine",
                          "cosine annealing from --lr to 0 over all epochs")),
    cl::cat(category));
static cl::opt<double> gainScale(
    "lambda-gain-scale", cl::init(1.0),
    cl::desc("k of LambdaRank's gains 2^(k * label) - 1 (> 0): larger k "
             "weights the pairs with the best programs more"),
    cl::cat(category));
static cl::opt<double> emaDecay(
    "ema-decay", cl::init(TrainOptions().emaDecay),
    cl::desc("Average the weights over the training steps with this "
             "exponential decay in [0, 1) and keep the average (e.g. 0.99: "
             "about the last 100 steps); 0 keeps the last step's weights"),
    cl::cat(category));
static cl::opt<unsigned> groupsPerBatch(
    "groups-per-batch", cl::init(TrainOptions().groupsPerBatch),
    cl::desc("Tasks per training batch (whole tasks; a batch also stops at "
             "2048 programs): fewer means more optimizer steps per epoch"),
    cl::cat(category));
static cl::opt<std::string> loss("loss", cl::init("lambdarank"),
                                 cl::desc("lambdarank or mse"),
                                 cl::cat(category));
static cl::opt<unsigned> maxLength("max-length", cl::init(64),
                                   cl::desc("Token sequence length"),
                                   cl::cat(category));
static cl::opt<unsigned>
    maxPerTask("max-per-task", cl::init(0),
               cl::desc("Use at most this many records per task (0: all)"),
               cl::cat(category));
static cl::opt<double>
    timeLimit("time-limit", cl::init(0),
              cl::desc("Stop training after this many seconds (0: none)"),
              cl::cat(category));
static cl::opt<unsigned>
    threads("torch-threads", cl::init(0),
            cl::desc("Intra-op threads for training and prediction (0: "
                     "LibTorch's default, all cores; 1 makes training "
                     "deterministic for a seed); OpenBLAS gets as many"),
            cl::cat(category));
static cl::opt<double> taskWeightPower(
    "task-weight-power", cl::init(0),
    cl::desc("Weight each training task's LambdaRank loss by its best "
             "latency to this power, normalised to a mean of 1 (0: every "
             "task 1, the default; 1: as the top-k score weights tasks, "
             "slow tasks count most); not with --loss=mse"),
    cl::cat(category));
static cl::opt<double> validFraction(
    "valid-fraction", cl::init(0),
    cl::desc("Hold out this fraction of the training tasks (seeded by "
             "--seed, at least one task) and keep the weights with the best "
             "mean top-1 on them, of the initial ones (--init) and every "
             "epoch's, instead of the last epoch's (0: off; in [0, 1); not "
             "with --ema-decay)"),
    cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("Seed of initialization and batching"),
                              cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::init(""),
                                       cl::desc("Save the model here (and "
                                                "its sidecar as <file>.json)"),
                                       cl::value_desc("file"),
                                       cl::cat(category));
static cl::opt<std::string> jsonFile("json", cl::init(""),
                                     cl::desc("Write the results as JSON"),
                                     cl::cat(category));

namespace {
int fail(const llvm::Twine &message) {
  llvm::errs() << "tcl-train: " << message << "\n";
  return 1;
}

/// Network name -> (workload key -> weight), from a tcl-dataset manifest.
/// A trained model, the scores it gives the held-out programs, and facts
/// for the report.
struct Trained {
  std::string error;
  std::vector<float> scores;
  int64_t parameters = 0;
  int64_t epochs = 0;
  /// With --valid-fraction: the epoch kept (0: the initial weights, -1:
  /// none) and the validation top-1 of the initial weights and per epoch.
  int64_t bestEpoch = -1;
  std::vector<double> validationTop1;
  double trainSeconds = 0;
  double finalLoss = 0;
  double predictionsPerSecond = 0;
  std::function<llvm::Error(llvm::StringRef path, llvm::StringRef platform,
                            const llvm::json::Object &summary)>
      save;
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

/// A LibTorch model of `config` trained on `train`, scoring `eval`; with
/// tasks in `valid`, the weights of the epoch with the best validation
/// top-1 are kept.
Trained trainNeural(const std::string &config, const TrainingData &train,
                    const TrainingData &valid, const TrainingData &eval) {
  Trained r;
  ModelOrError created;
  if (initFile.empty()) {
    created = createModel(config, seed);
  } else {
    llvm::Expected<ModelSidecar> sidecar = readSidecar(initFile);
    if (!sidecar) {
      r.error = "--init: " + llvm::toString(sidecar.takeError());
      return r;
    }
    if (sidecar->kind != modelKind) {
      r.error = "--init: '" + initFile + "' holds a '" + sidecar->kind +
                "' model, not '" + modelKind + "' (pass --model=" +
                sidecar->kind + ")";
      return r;
    }
    if (sidecar->maxLength != maxLength) {
      r.error = "--init: '" + initFile + "' was trained with --max-length=" +
                std::to_string(sidecar->maxLength) + ", not " +
                std::to_string(maxLength.getValue());
      return r;
    }
    created = loadModel(initFile, sidecar->config);
    if (!created)
      created.error = "--init: cannot load '" + initFile + "': " + created.error;
  }
  if (!created) {
    r.error = created.error;
    return r;
  }
  std::shared_ptr<RankingModel> model = created.model;
  r.parameters = model->parameterCount();
  llvm::errs() << "tcl-train: " << modelKind << " model, " << r.parameters
               << " parameters\n";
  TrainOptions options;
  options.epochs = epochs;
  options.learningRate = learningRate;
  options.groupsPerBatch = groupsPerBatch;
  options.schedule = lrSchedule;
  options.lambdaGainScale = gainScale;
  options.emaDecay = emaDecay;
  options.loss = loss == "mse" ? LossKind::MSE : LossKind::LambdaRank;
  options.seed = seed;
  options.timeLimitSeconds = timeLimit;
  RankingData validData;
  if (valid.size() > 0) {
    validData = toRankingData(valid);
    options.validate = [&](RankingModel &m) {
      return meanGroupTop1(m, validData);
    };
  }
  options.log = [](const EpochLog &log) {
    llvm::errs() << llvm::format("  epoch %3lld  loss %.4f",
                                 static_cast<long long>(log.epoch), log.loss);
    if (!std::isnan(log.validation))
      llvm::errs() << llvm::format("  valid top-1 %.4f", log.validation);
    llvm::errs() << llvm::format("  %.1fs\n", log.elapsedSeconds);
  };
  TrainResult trained;
  if (epochs > 0) {
    RankingData trainData = toRankingData(train);
    if (taskWeightPower != 0) {
      std::vector<float> w = latencyWeights(train, taskWeightPower);
      trainData.weights = torch::tensor(w, torch::kFloat32);
    }
    trained = tcl::train(*model, trainData, options);
  }
  if (!trained.error.empty()) {
    r.error = "training failed: " + trained.error;
    return r;
  }
  r.epochs = static_cast<int64_t>(trained.epochLosses.size());
  r.bestEpoch = trained.bestEpoch;
  r.validationTop1 = trained.validationScores;
  if (valid.size() > 0 && r.bestEpoch >= 0)
    llvm::errs() << llvm::format(
        "tcl-train: kept epoch %lld of %lld (best validation top-1 %.4f; "
        "initial weights %.4f)\n",
        static_cast<long long>(r.bestEpoch), static_cast<long long>(r.epochs),
        r.validationTop1[r.bestEpoch], r.validationTop1.front());
  else if (valid.size() > 0)
    llvm::errs() << "tcl-train: no validation top-1 was finite; kept the "
                    "last epoch's weights\n";
  r.trainSeconds = trained.seconds;
  r.finalLoss = trained.epochLosses.empty() ? 0 : trained.epochLosses.back();
  if (eval.size() > 0) {
    // Prediction rate: the held-out programs in batches of 512, feature
    // tensors ready, timed on the second of two passes (the first warms up
    // and gives the same scores).
    RankingData evalData = toRankingData(eval);
    std::string error;
    torch::Tensor scores = tcl::predict(*model, evalData, 512, &error);
    if (scores.defined()) {
      auto start = std::chrono::steady_clock::now();
      scores = tcl::predict(*model, evalData, 512, &error);
      r.predictionsPerSecond =
          eval.size() / std::max(secondsSince(start), 1e-9);
    }
    if (!scores.defined()) {
      r.error = "prediction failed: " + error;
      return r;
    }
    auto s = scores.accessor<float, 1>();
    for (int64_t i = 0; i < s.size(0); ++i)
      r.scores.push_back(s[i]);
  }
  r.save = [model](llvm::StringRef path, llvm::StringRef platform,
                   const llvm::json::Object &summary) {
    ModelSidecar sidecar;
    sidecar.kind = modelKind;
    sidecar.config = model->describeConfig();
    sidecar.sequenceFeatureVersion = kSequenceFeatureVersion;
    sidecar.statementFeatureVersion = kFeatureVersion;
    sidecar.maxLength = maxLength;
    sidecar.platform = platform.str();
    sidecar.trained = summary;
    return saveModelWithSidecar(*model, path, sidecar);
  };
  return r;
}

/// XGBoost (Ansor's model) fitted once on the training tasks' records, then
/// scoring the held-out tasks' records.
Trained trainXGB(const Database &db, const Database &evalDb,
                 const TrainingDataOptions &options,
                 const llvm::StringSet<> &testKeys,
                 const llvm::StringSet<> &trainOnly, bool evaluate) {
  Trained r;
  auto model = std::make_shared<XGBoostModel>(seed);
  auto contextOf = [](const TaskRecords &task) {
    TaskContext context;
    context.space = task.space;
    context.kernelText = task.workload->kernel;
    context.flops = task.workload->flops;
    return context;
  };
  auto start = std::chrono::steady_clock::now();
  llvm::Error err = forEachTask(db, options, [&](const TaskRecords &task) {
    llvm::StringRef key = task.workload->key;
    if (testKeys.contains(key) ||
        (!trainManifest.empty() && !trainOnly.contains(key)))
      return llvm::Error::success();
    std::vector<double> labels(task.labels.begin(), task.labels.end());
    model->addRecords(contextOf(task), task.schedules, labels);
    return llvm::Error::success();
  });
  if (err) {
    r.error = llvm::toString(std::move(err));
    return r;
  }
  llvm::errs() << "tcl-train: xgb on " << model->getNumRecords()
               << " programs\n";
  model->fit();
  r.trainSeconds = secondsSince(start);
  if (evaluate) {
    auto predictStart = std::chrono::steady_clock::now();
    err = forEachTask(evalDb, options, [&](const TaskRecords &task) {
      if (!testKeys.contains(task.workload->key))
        return llvm::Error::success();
      for (double s : model->predict(contextOf(task), task.schedules))
        r.scores.push_back(static_cast<float>(s));
      return llvm::Error::success();
    });
    if (err) {
      r.error = llvm::toString(std::move(err));
      return r;
    }
    r.predictionsPerSecond =
        r.scores.size() / std::max(secondsSince(predictStart), 1e-9);
  }
  r.save = [model](llvm::StringRef path, llvm::StringRef,
                   const llvm::json::Object &) { return model->save(path); };
  return r;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tcl-train: train a learned cost model on measure records\n\n"
      "Reads the records of one platform from --database (see tcl-dataset),\n"
      "turns each into features (primitive-sequence tokens for mamba/tlp,\n"
      "statement features for mlp), trains with LambdaRank over each task's\n"
      "programs (labels: min latency of the task / latency), and reports\n"
      "TenSet's top-1/top-5 score on the held-out networks of\n"
      "--test-manifest, weighting tasks by how often they run.\n\n"
      "Example: tcl-train --database=data/cpu-avx512-t2/dataset.jsonl "
      "--test-manifest=data/cpu-avx512-t2/eval.manifest.json "
      "--model=mamba -o models/cpu-avx512-t2.mamba.pt\n");
  if (loss != "lambdarank" && loss != "mse")
    return fail("unknown --loss '" + loss + "' (expected lambdarank or mse)");
  bool isXGB = modelKind == "xgb";
  if (!isXGB)
    if (llvm::Expected<std::string> known = defaultModelConfig(modelKind);
        !known) {
      llvm::consumeError(known.takeError());
      return fail("unknown --model '" + modelKind +
                  "' (expected mamba, tlp, mlp or xgb)");
    }
  if (isXGB && !modelConfig.empty())
    return fail("--config applies to mamba, tlp and mlp, not xgb");
  if (isXGB && !initFile.empty())
    return fail("--init applies to mamba, tlp and mlp, not xgb");
  if (!initFile.empty() && !modelConfig.empty())
    return fail("--init keeps the saved model's architecture; drop --config");
  if (std::string error =
          tcl_tools::checkValidFraction(validFraction, emaDecay);
      !error.empty())
    return fail(error);
  if (taskWeightPower != 0 && (modelKind == "xgb" || loss == "mse"))
    return fail("--task-weight-power weights the LambdaRank loss of mamba, "
                "tlp and mlp; not with --model=xgb or --loss=mse");
  if (validFraction > 0 && modelKind == "xgb")
    return fail("--valid-fraction applies to mamba, tlp and mlp, not xgb");
  if (epochs == 0 && initFile.empty())
    return fail("--epochs=0 needs --init (a model to evaluate)");
  llvm::Expected<std::string> config =
      isXGB ? std::string() : defaultModelConfig(modelKind, modelConfig);
  if (!config)
    return fail("--config: " + llvm::toString(config.takeError()));

  llvm::Expected<Database> db = Database::open(database, /*create=*/false);
  if (!db)
    return fail(llvm::toString(db.takeError()));
  setTorchThreads(static_cast<int>(threads));
  std::string platformId =
      platform.empty() ? db->busiestPlatform() : platform.getValue();
  if (platformId.empty())
    return fail("'" + database + "' holds no measure records");
  std::optional<Database> evalDb;
  if (!evalDatabase.empty()) {
    if (testManifest.empty())
      return fail("--eval-database needs --test-manifest (the networks to "
                  "score on it)");
    llvm::Expected<Database> opened =
        Database::open(evalDatabase, /*create=*/false);
    if (!opened)
      return fail("--eval-database: " + llvm::toString(opened.takeError()));
    evalDb.emplace(std::move(*opened));
  }

  // Held-out networks and the split of tasks.
  NetworkTasks test;
  llvm::StringSet<> testKeys, trainOnly;
  if (!testManifest.empty()) {
    llvm::Expected<NetworkTasks> m = readNetworkManifest(testManifest);
    if (!m)
      return fail(llvm::toString(m.takeError()));
    test = std::move(*m);
    for (const auto &[network, tasks] : test)
      for (const auto &[key, weight] : tasks)
        testKeys.insert(key);
  }
  if (!trainManifest.empty()) {
    llvm::Expected<NetworkTasks> m = readNetworkManifest(trainManifest);
    if (!m)
      return fail(llvm::toString(m.takeError()));
    for (const auto &[network, tasks] : *m)
      for (const auto &[key, weight] : tasks)
        if (!testKeys.contains(key))
          trainOnly.insert(key);
  }
  TrainingDataOptions options;
  options.platform = platformId;
  options.maxLength = maxLength;
  options.maxPerTask = maxPerTask;
  unsigned skipped = 0;
  llvm::Expected<TrainingData> all = loadTrainingData(*db, options, &skipped);
  if (!all)
    return fail(llvm::toString(all.takeError()));
  if (all->groupKeys.empty())
    return fail("no task has a successful record for platform '" +
                platformId + "'");
  if (testManifest.empty()) {
    // Hold out 20% of the tasks as one pseudo-network.
    std::vector<std::string> keys = all->groupKeys;
    std::mt19937_64 rng(seed);
    std::shuffle(keys.begin(), keys.end(), rng);
    for (size_t i = 0; i < std::max<size_t>(1, keys.size() / 5); ++i) {
      testKeys.insert(keys[i]);
      test["held-out tasks"][keys[i]] = 1;
    }
  }

  // Split by task.
  auto isTest = [&](llvm::StringRef key) { return testKeys.contains(key); };
  TrainingData eval;
  if (evalDb) {
    TrainingDataOptions evalOptions = options;
    evalOptions.maxPerTask = 0;
    for (const auto &key : testKeys)
      evalOptions.workloads.insert(key.getKey());
    llvm::Expected<TrainingData> held =
        loadTrainingData(*evalDb, evalOptions, &skipped);
    if (!held)
      return fail("--eval-database: " + llvm::toString(held.takeError()));
    if (held->groupKeys.empty())
      return fail("--eval-database '" + evalDatabase +
                  "' has no successful record of platform '" + platformId +
                  "' for the tasks of --test-manifest");
    eval = selectGroups(*held, isTest);
  } else {
    eval = selectGroups(*all, isTest);
  }
  TrainingData train = selectGroups(*all, [&](llvm::StringRef key) {
    return !testKeys.contains(key) &&
           (trainManifest.empty() || trainOnly.contains(key));
  });
  // Validation tasks for checkpoint selection, from the training tasks.
  TrainingData valid;
  if (validFraction > 0) {
    llvm::Expected<TrainingData> taken =
        takeValidationGroups(train, validFraction, seed);
    if (!taken)
      return fail("--valid-fraction: " + llvm::toString(taken.takeError()));
    valid = std::move(*taken);
    llvm::errs() << "tcl-train: validation " << valid.groupKeys.size()
                 << " tasks / " << valid.size() << " programs\n";
  }
  llvm::errs() << "tcl-train: platform " << platformId << "; train "
               << train.groupKeys.size() << " tasks / " << train.size()
               << " programs, test " << eval.groupKeys.size() << " tasks / "
               << eval.size() << " programs";
  if (skipped)
    llvm::errs() << " (" << skipped << " records skipped: knobs do not fit)";
  llvm::errs() << "\n";
  if (train.size() == 0)
    return fail("no training programs left after holding out the test tasks");

  // Training, and the scores of the held-out programs (in `eval` order).
  Trained result;
  if (isXGB)
    result = trainXGB(*db, evalDb ? *evalDb : *db, options, testKeys, trainOnly, eval.size() > 0);
  else
    result = trainNeural(*config, train, valid, eval);
  if (!result.error.empty())
    return fail(result.error);

  // Evaluation: top-k per held-out network.
  llvm::json::Object scoresJSON;
  if (eval.size() > 0) {
    if (result.scores.size() != eval.size())
      return fail("internal error: " + llvm::Twine(result.scores.size()) +
                  " scores for " + llvm::Twine(eval.size()) + " programs");
    llvm::Expected<std::vector<NetworkScore>> scored =
        scoreNetworks(eval, result.scores, test, seed);
    if (!scored)
      return fail(llvm::toString(scored.takeError()));
    llvm::outs() << llvm::format("%-28s %6s %8s %8s %9s %11s %11s\n",
                                 "network", "tasks", "top-1", "top-5",
                                 "pairwise", "random-top1", "random-top5");
    double sum1 = 0, sum5 = 0, sumPairs = 0, sumRandom1 = 0, sumRandom5 = 0;
    const size_t networks = scored->size();
    for (const NetworkScore &n : *scored) {
      llvm::outs() << llvm::format(
          "%-28s %6lld %8.4f %8.4f %9.4f %11.4f %11.4f\n", n.network.c_str(),
          static_cast<long long>(n.tasks), n.top1, n.top5, n.pairwise,
          n.randomTop1, n.randomTop5);
      sum1 += n.top1;
      sum5 += n.top5;
      sumPairs += n.pairwise;
      sumRandom1 += n.randomTop1;
      sumRandom5 += n.randomTop5;
    }
    scoresJSON = toJSON(*scored);
    if (networks)
      llvm::outs() << llvm::format(
          "%-28s %6s %8.4f %8.4f %9.4f %11.4f %11.4f\n", "mean", "",
          sum1 / networks, sum5 / networks, sumPairs / networks,
          sumRandom1 / networks, sumRandom5 / networks);
    llvm::outs() << llvm::format("predictions: %.0f programs/s\n",
                                 result.predictionsPerSecond);
  }

  llvm::json::Object summary{
      {"model", modelKind.getValue()},
      {"parameters", result.parameters},
      {"platform", platformId},
      {"database", database.getValue()},
      {"eval_database", evalDatabase.getValue()},
      {"train_tasks", static_cast<int64_t>(train.groupKeys.size())},
      {"train_programs", static_cast<int64_t>(train.size())},
      {"test_tasks", static_cast<int64_t>(eval.groupKeys.size())},
      {"test_programs", static_cast<int64_t>(eval.size())},
      {"epochs", result.epochs},
      {"valid_fraction", validFraction.getValue()},
      {"task_weight_power", taskWeightPower.getValue()},
      {"valid_tasks", static_cast<int64_t>(valid.groupKeys.size())},
      {"best_epoch", result.bestEpoch},
      {"valid_top1", llvm::json::Array(result.validationTop1)},
      {"learning_rate", learningRate.getValue()},
      {"lr_schedule", lrSchedule == LRSchedule::Cosine ? "cosine" : "constant"},
      {"lambda_gain_scale", gainScale.getValue()},
      {"groups_per_batch", static_cast<int64_t>(groupsPerBatch.getValue())},
      {"ema_decay", emaDecay.getValue()},
      {"train_seconds", result.trainSeconds},
      {"final_loss", result.finalLoss},
      {"predictions_per_second", result.predictionsPerSecond},
      {"scores", llvm::json::Object(scoresJSON)},
      {"seed", static_cast<int64_t>(seed.getValue())},
  };
  if (!outputFile.empty()) {
    if (llvm::Error err = result.save(outputFile, platformId, summary))
      return fail(llvm::toString(std::move(err)));
    llvm::errs() << "tcl-train: wrote " << outputFile << " and its sidecar\n";
  }
  if (!jsonFile.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(jsonFile, ec);
    if (ec)
      return fail("cannot write '" + jsonFile + "': " + ec.message());
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(summary)))
       << "\n";
  }
  return 0;
}
