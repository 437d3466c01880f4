//===- tcl-distill.cpp - Carry a cost model to a new platform -------------===//
//
// One stage of continual knowledge distillation (Distill.h): trains the
// model of a new platform from its labelled sample, unlabelled programs of
// the same tasks and the previous platform's model, then scores every
// platform the model knows on held-out networks.
//
//===----------------------------------------------------------------------===//

#include "../ValidFraction.h"
#include "tcl/CostModel/Evaluation.h"
#include "tcl/Distill/Distill.h"

#include "llvm/ADT/Hashing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>

using namespace tcl;
namespace cl = llvm::cl;

static cl::OptionCategory category("tcl-distill options");
static cl::opt<std::string>
    trainDatabase("train", cl::Required,
                  cl::desc("Database with the new platform's labelled "
                           "records (e.g. tcl-dataset --sampler=rdu "
                           "--budget=0.1; for mtl, every platform's)"),
                  cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string>
    platform("platform", cl::Required,
             cl::desc("Platform id of the new platform's records "
                      "(tcl::Platform::id(), as in the records)"),
             cl::cat(category));
static cl::opt<std::string>
    fromModel("from", cl::init(""),
              cl::desc("The previous platform's model (a tcl-distill -o "
                       "file); without it, the first platform of a sequence "
                       "is trained from scratch"),
              cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> method(
    "method", cl::init("ckd"),
    cl::desc("ckd (LambdaRank on the sample plus distillation from --from), "
             "finetune (--from fine-tuned on the sample), scratch (a fresh "
             "model on the sample) or mtl (a fresh model on every "
             "--mtl-platform's records together)"),
    cl::cat(category));
static cl::list<std::string> mtlPlatforms(
    "mtl-platform",
    cl::desc("For --method=mtl: a platform whose records in --train join the "
             "training (repeat; --platform is always included)"),
    cl::cat(category));
static cl::opt<std::string> modelKind(
    "model", cl::init("mamba"),
    cl::desc("Kind of a fresh model: mamba or tlp (with --from: its kind)"),
    cl::cat(category));
static cl::opt<std::string> modelConfig(
    "config", cl::init(""),
    cl::desc("JSON object replacing keys of the fresh model's default "
             "architecture (mamba with d_model 32, d_state 8, input_norm 1, "
             "platform_film 1), e.g. '{\"d_model\":64}'"),
    cl::cat(category));
static cl::opt<unsigned>
    unlabeledPerTask("unlabeled", cl::init(64),
                     cl::desc("Unlabelled random programs per task for the "
                              "distillation terms (default 64)"),
                     cl::cat(category));
static cl::opt<double> alpha("alpha", cl::init(1.0),
                             cl::desc("Weight of keeping earlier platforms "
                                      "(default 1)"),
                             cl::cat(category));
static cl::opt<double>
    beta("beta", cl::init(DistillOptions().beta),
         cl::desc("Weight of the previous platform's ranking as a prior for "
                  "the new one (default 0)"),
         cl::cat(category));
static cl::opt<double> gammaWeight(
    "gamma", cl::init(0.0),
    cl::desc("ckd: weight of an active column's ranking of the new platform "
             "(Progress & Compress: the stage first fine-tunes a copy on the "
             "labelled sample, then distils it into the model on the "
             "unlabelled programs; default 0: no active column)"),
    cl::cat(category));
static cl::opt<std::string> newSlot(
    "new-slot", cl::init("zero"),
    cl::desc("ckd, finetune: how the new platform's slot starts: zero (the "
             "shared trunk without platform modulation; default) or copy (of "
             "the previous model's most recent platform, i.e. at the "
             "zero-shot model: better for finetune, more forgetting for "
             "ckd)"),
    cl::cat(category));
static cl::opt<double> temperature("temperature", cl::init(1.0),
                                   cl::desc("Distillation temperature"),
                                   cl::cat(category));
static cl::opt<unsigned> epochs("epochs", cl::init(30),
                                cl::desc("Epochs over the labelled sample"),
                                cl::cat(category));
static cl::opt<double> learningRate("lr", cl::init(7e-4),
                                    cl::desc("Adam learning rate"),
                                    cl::cat(category));
static cl::opt<double> emaDecay(
    "ema-decay", cl::init(TrainOptions().emaDecay),
    cl::desc("Keep an exponential moving average of the weights over the "
             "steps with this decay in [0, 1) (as tcl-train --ema-decay); 0 "
             "keeps the last step's weights"),
    cl::cat(category));
static cl::opt<unsigned> maxLength("max-length", cl::init(64),
                                   cl::desc("Token sequence length of a "
                                            "fresh model"),
                                   cl::cat(category));
static cl::opt<unsigned> maxPerTask(
    "max-per-task", cl::init(0),
    cl::desc("Use at most this many labelled records per task, the first in "
             "file order (0: all)"),
    cl::cat(category));
static cl::opt<std::string> testManifest(
    "test-manifest", cl::init(""),
    cl::desc("Manifest (tcl-dataset) of the held-out networks: their tasks "
             "are not trained on, and every platform of the new model is "
             "scored on them"),
    cl::cat(category));
static cl::opt<std::string> evalDatabase(
    "eval-database", cl::init(""),
    cl::desc("Where the held-out networks' records of each platform are "
             "(default: --train)"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<unsigned>
    threads("torch-threads", cl::init(0),
            cl::desc("Intra-op threads (0: all cores); OpenBLAS gets as many"),
            cl::cat(category));
static cl::opt<double> validFraction(
    "valid-fraction", cl::init(0),
    cl::desc("Hold out this fraction of the new platform's labelled tasks "
             "(seeded by --seed, at least one) and keep the student's "
             "weights with the best top-1 on them, of its start and every "
             "epoch's (0: off; in [0, 1); not with --ema-decay)"),
    cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("Seed of the model, batches and "
                                       "unlabelled programs"),
                              cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::Required,
                                       cl::desc("Save the new model here (and "
                                                "its sidecar as <file>.json)"),
                                       cl::value_desc("file"),
                                       cl::cat(category));
static cl::opt<std::string> jsonFile("json", cl::init(""),
                                     cl::desc("Write the results as JSON"),
                                     cl::value_desc("file"), cl::cat(category));

namespace {
int fail(const llvm::Twine &message) {
  llvm::errs() << "tcl-distill: " << message << "\n";
  return 1;
}

/// The labelled records of `platformId` outside `heldOut`, and, when
/// `unlabeled` is set, `perTask` seeded random programs of each of their
/// tasks (labels 0).
llvm::Expected<TrainingData> loadPlatform(const Database &db,
                                          llvm::StringRef platformId,
                                          unsigned length,
                                          const llvm::StringSet<> &heldOut,
                                          TrainingData *unlabeled,
                                          unsigned perTask) {
  TrainingDataOptions options;
  options.platform = platformId.str();
  options.maxLength = length;
  options.maxPerTask = maxPerTask;
  TrainingData data;
  data.maxLength = length;
  if (unlabeled)
    unlabeled->maxLength = length;
  llvm::Error err = forEachTask(db, options, [&](const TaskRecords &task) {
    if (heldOut.contains(task.workload->key))
      return llvm::Error::success();
    const int64_t group = appendTask(data, task);
    if (unlabeled) {
      unlabeled->groupKeys.push_back(task.workload->key);
      unlabeled->groupKinds.push_back(task.workload->kind);
      std::mt19937_64 rng(seed ^ llvm::hash_value(task.workload->key));
      for (unsigned i = 0; i < perTask; ++i)
        appendProgram(*unlabeled, *task.sequence, *task.statements,
                      task.space->sample(rng), group, 0.0f, 0.0);
    }
    return llvm::Error::success();
  });
  if (err)
    return std::move(err);
  return data;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tcl-distill: carry a cost model to a new hardware platform\n\n"
      "Continual knowledge distillation (include/tcl/Distill/Distill.h): the\n"
      "model of --platform is trained from that platform's labelled records\n"
      "in --train (a small sample is enough), random unlabelled programs of\n"
      "the same tasks, and the previous platform's model (--from), which\n"
      "keeps every earlier platform's ranking without their data. One model\n"
      "with a fixed number of parameters serves the whole sequence (a\n"
      "platform one-hot of 8 slots); tcl-tune --cost-model=mamba:<model>\n"
      "--target=... uses the part of its target's platform. With\n"
      "--test-manifest, every platform of the new model is scored (top-1,\n"
      "top-5) on the held-out networks' records of that platform.\n\n"
      "Example (platform 1, then 2):\n"
      "  tcl-distill --train=p1.jsonl --platform=P1 -o m1.pt\n"
      "  tcl-distill --train=p2-rdu10.jsonl --platform=P2 --from=m1.pt "
      "-o m2.pt\n");

  llvm::Expected<DistillMethod> parsedMethod = parseDistillMethod(method);
  if (!parsedMethod)
    return fail("--method: " + llvm::toString(parsedMethod.takeError()));
  DistillMethod m = *parsedMethod;
  if ((m == DistillMethod::CKD || m == DistillMethod::FineTune) &&
      fromModel.empty()) {
    if (method.getNumOccurrences())
      return fail("--method=" + method + " needs --from (the previous "
                  "platform's model)");
    // The first platform of a sequence: nothing to distill from.
    m = DistillMethod::Scratch;
  }
  if (!mtlPlatforms.empty() && m != DistillMethod::MTL)
    return fail("--mtl-platform applies to --method=mtl only");
  for (const cl::opt<double> *w : {&alpha, &beta, &gammaWeight})
    if (!std::isfinite(w->getValue()) || w->getValue() < 0)
      return fail("--" + w->ArgStr + " must be finite and >= 0");
  if (!(temperature > 0))
    return fail("--temperature must be positive");
  if (std::string error =
          tcl_tools::checkValidFraction(validFraction, emaDecay);
      !error.empty())
    return fail(error);
  if (llvm::sys::fs::equivalent(outputFile, fromModel))
    return fail("-o '" + outputFile + "' is the --from model");

  setTorchThreads(static_cast<int>(threads));
  std::optional<ContinualModel> previous;
  if (!fromModel.empty()) {
    llvm::Expected<ContinualModel> loaded = loadContinualModel(fromModel);
    if (!loaded)
      return fail("--from: " + llvm::toString(loaded.takeError()));
    previous = std::move(*loaded);
    if (modelKind.getNumOccurrences() && modelKind != previous->kind)
      return fail("--from: '" + fromModel + "' holds a '" + previous->kind +
                  "' model, not '" + modelKind + "'");
  }
  DistillOptions options;
  options.method = m;
  options.alpha = alpha;
  options.beta = beta;
  options.gamma = gammaWeight;
  if (newSlot != "copy" && newSlot != "zero")
    return fail("--new-slot: unknown '" + newSlot +
                "' (expected copy or zero)");
  options.copyPreviousSlot = newSlot == "copy";
  options.temperature = temperature;
  options.train.epochs = epochs;
  options.train.learningRate = learningRate;
  options.train.emaDecay = emaDecay;
  options.train.seed = seed;
  options.train.log = [](const EpochLog &log) {
    llvm::errs() << llvm::format("  epoch %3lld  loss %.4f",
                                 static_cast<long long>(log.epoch), log.loss);
    if (!std::isnan(log.validation))
      llvm::errs() << llvm::format("  valid top-1 %.4f", log.validation);
    llvm::errs() << "\n";
  };
  options.phase = [](llvm::StringRef name) {
    llvm::errs() << name << ":\n";
  };
  options.kind = previous ? previous->kind : modelKind.getValue();
  options.maxLength = previous ? previous->maxLength : maxLength.getValue();
  if (!previous || m == DistillMethod::Scratch || m == DistillMethod::MTL) {
    if (previous && modelConfig.empty()) {
      options.config = previous->model->describeConfig();
    } else {
      llvm::Expected<std::string> config =
          continualModelConfig(options.kind, modelConfig);
      if (!config)
        return fail("--model/--config: " + llvm::toString(config.takeError()));
      options.config = *config;
    }
  }

  llvm::Expected<Database> db = Database::open(trainDatabase, false);
  if (!db)
    return fail(llvm::toString(db.takeError()));
  llvm::StringSet<> heldOut;
  NetworkTasks networks;
  if (!testManifest.empty()) {
    llvm::Expected<NetworkTasks> read = readNetworkManifest(testManifest);
    if (!read)
      return fail(llvm::toString(read.takeError()));
    networks = std::move(*read);
    heldOut = workloadKeys(networks);
  }

  // The new platform's data.
  TrainingData unlabeled;
  const bool wantUnlabeled = m == DistillMethod::CKD && previous;
  llvm::Expected<TrainingData> labeled =
      loadPlatform(*db, platform, options.maxLength, heldOut,
                   wantUnlabeled ? &unlabeled : nullptr, unlabeledPerTask);
  if (!labeled)
    return fail(llvm::toString(labeled.takeError()));
  if (labeled->size() == 0 && m != DistillMethod::MTL)
    return fail("'" + trainDatabase + "' has no usable record of platform '" +
                platform + "' outside the held-out tasks");
  // Validation tasks for checkpoint selection, out of the labelled sample.
  llvm::StringSet<> validKeys;
  TrainingData valid;
  if (validFraction > 0) {
    llvm::Expected<TrainingData> taken =
        takeValidationGroups(*labeled, validFraction, seed);
    if (!taken)
      return fail("--valid-fraction: platform '" + platform +
                  "': " + llvm::toString(taken.takeError()));
    valid = std::move(*taken);
    for (const std::string &key : valid.groupKeys)
      validKeys.insert(key);
    options.validation = toRankingData(valid);
    llvm::errs() << "tcl-distill: validation " << valid.groupKeys.size()
                 << " tasks / " << valid.size() << " programs of " << platform
                 << "\n";
  }
  std::vector<PlatformPrograms> all;
  if (m == DistillMethod::MTL) {
    std::vector<std::string> ids(mtlPlatforms.begin(), mtlPlatforms.end());
    if (std::find(ids.begin(), ids.end(), platform.getValue()) == ids.end())
      ids.push_back(platform);
    for (const std::string &id : ids) {
      llvm::Expected<TrainingData> d =
          loadPlatform(*db, id, options.maxLength, heldOut, nullptr, 0);
      if (!d)
        return fail(llvm::toString(d.takeError()));
      // The new platform's validation tasks stay out of MTL's data too.
      if (id == platform.getValue() && !validKeys.empty())
        *d = selectGroups(*d, [&](llvm::StringRef key) {
          return !validKeys.contains(key);
        });
      if (d->size() == 0)
        return fail("--mtl-platform: '" + trainDatabase +
                    "' has no usable record of platform '" + id + "'");
      all.push_back({id, toRankingData(*d)});
    }
  }
  llvm::errs() << "tcl-distill: " << stringifyDistillMethod(m) << " for "
               << platform << ": " << labeled->size() << " labelled programs"
               << " of " << labeled->groupKeys.size() << " tasks";
  if (wantUnlabeled)
    llvm::errs() << ", " << unlabeled.size() << " unlabelled";
  if (previous)
    llvm::errs() << "; from " << fromModel << " ("
                 << previous->platforms.size() << " platforms)";
  llvm::errs() << "\n";
  llvm::errs().flush();

  llvm::Expected<StageResult> stage =
      trainStage(previous ? &*previous : nullptr,
                 {platform, toRankingData(*labeled)},
                 {platform, toRankingData(unlabeled)}, all, options);
  if (!stage)
    return fail(llvm::toString(stage.takeError()));
  ContinualModel &model = stage->model;
  const int64_t parameters = model.model->parameterCount();
  if (!stage->validationTop1.empty()) {
    if (stage->bestEpoch >= 0)
      llvm::errs() << llvm::format(
          "tcl-distill: kept epoch %lld (best validation top-1 %.4f; start "
          "%.4f)\n",
          static_cast<long long>(stage->bestEpoch),
          stage->validationTop1[stage->bestEpoch],
          stage->validationTop1.front());
    else
      llvm::errs() << "tcl-distill: no validation top-1 was finite; kept the "
                      "last epoch's weights\n";
  }

  // Scores of every platform of the model on the held-out networks.
  llvm::json::Object scoresJSON, zeroShotJSON;
  if (!networks.empty()) {
    // The held-out records of each platform, loaded once.
    std::optional<Database> separateEvalDb;
    if (!evalDatabase.empty()) {
      llvm::Expected<Database> opened = Database::open(evalDatabase, false);
      if (!opened)
        return fail("--eval-database: " + llvm::toString(opened.takeError()));
      separateEvalDb.emplace(std::move(*opened));
    }
    const Database &evalDb = separateEvalDb ? *separateEvalDb : *db;
    std::map<std::string, TrainingData> evalData;
    llvm::outs() << llvm::format("%-48s %-20s %6s %8s %8s\n", "platform",
                                 "network", "tasks", "top-1", "top-5");
    // Scores `net` at `slot` on the held-out records of `id`, printed
    // under `label`; std::nullopt when there are none.
    auto score = [&](RankingModel &net, int64_t slot, const std::string &id,
                     const std::string &label)
        -> llvm::Expected<std::optional<llvm::json::Object>> {
      auto cached = evalData.find(id);
      if (cached == evalData.end()) {
        TrainingDataOptions evalOptions;
        evalOptions.platform = id;
        evalOptions.maxLength = model.maxLength;
        evalOptions.workloads = heldOut;
        llvm::Expected<TrainingData> loaded =
            loadTrainingData(evalDb, evalOptions);
        if (!loaded)
          return loaded.takeError();
        cached = evalData.emplace(id, std::move(*loaded)).first;
      }
      const TrainingData *eval = &cached->second;
      if (eval->size() == 0) {
        llvm::outs() << llvm::format("%-48s (no held-out records)\n",
                                     label.c_str());
        return std::nullopt;
      }
      std::string error;
      torch::Tensor scores = tcl::predict(
          net, withPlatformSlot(toRankingData(*eval), slot), 512, &error);
      if (!scores.defined())
        return llvm::createStringError("prediction failed: " + error);
      std::vector<float> s(scores.data_ptr<float>(),
                           scores.data_ptr<float>() + scores.numel());
      llvm::Expected<std::vector<NetworkScore>> scored =
          scoreNetworks(*eval, s, networks, seed);
      if (!scored)
        return scored.takeError();
      for (const NetworkScore &n : *scored)
        llvm::outs() << llvm::format("%-48s %-20s %6lld %8.4f %8.4f\n",
                                     label.c_str(), n.network.c_str(),
                                     static_cast<long long>(n.tasks), n.top1,
                                     n.top5);
      llvm::outs() << llvm::format("%-48s %-20s %6s %8.4f\n", label.c_str(),
                                   "mean", "", meanTop1(*scored));
      return toJSON(*scored);
    };
    for (auto [slot, id] : llvm::enumerate(model.platforms)) {
      auto scored = score(*model.model, static_cast<int64_t>(slot), id, id);
      if (!scored)
        return fail("--eval-database: " + llvm::toString(scored.takeError()));
      if (*scored)
        scoresJSON[id] = std::move(**scored);
    }
    // The baseline without any training on the new platform: the previous
    // model's most recent other platform, applied as it is.
    if (previous && previous->slotOf(platform) < 0) {
      const int64_t last =
          static_cast<int64_t>(previous->platforms.size()) - 1;
      auto scored = score(*previous->model, last, platform,
                          "zero-shot from " + previous->platforms.back());
      if (!scored)
        return fail("--eval-database: " + llvm::toString(scored.takeError()));
      if (*scored)
        zeroShotJSON = std::move(**scored);
    }
  }

  llvm::json::Object summary{
      {"method", stringifyDistillMethod(m)},
      {"platform", platform.getValue()},
      {"platforms", llvm::json::Array(model.platforms)},
      {"from", fromModel.getValue()},
      {"kind", model.kind},
      {"parameters", parameters},
      {"labeled_programs", stage->labeledPrograms},
      {"unlabeled_programs", stage->unlabeledPrograms},
      {"train_seconds", stage->trainSeconds},
      {"epochs", static_cast<int64_t>(stage->epochLosses.size())},
      {"alpha", alpha.getValue()},
      {"beta", beta.getValue()},
      {"gamma", gammaWeight.getValue()},
      {"new_slot", newSlot.getValue()},
      {"temperature", temperature.getValue()},
      {"ema_decay", emaDecay.getValue()},
      {"valid_fraction", validFraction.getValue()},
      {"valid_tasks", static_cast<int64_t>(valid.groupKeys.size())},
      {"valid_programs", static_cast<int64_t>(valid.size())},
      {"best_epoch", stage->bestEpoch},
      {"valid_top1", llvm::json::Array(stage->validationTop1)},
      {"seed", static_cast<int64_t>(seed.getValue())},
  };
  if (llvm::Error err = saveContinualModel(model, outputFile, summary))
    return fail(llvm::toString(std::move(err)));
  summary["scores"] = std::move(scoresJSON);
  if (!zeroShotJSON.empty())
    summary["zero_shot"] = std::move(zeroShotJSON);
  summary["output"] = outputFile.getValue();
  llvm::outs() << llvm::format("tcl-distill: %lld parameters, %.1f s; saved ",
                               static_cast<long long>(parameters),
                               stage->trainSeconds)
               << outputFile << "\n";
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
