//===- Distill.cpp - Continual knowledge distillation across platforms ----===//

#include "tcl/Distill/Distill.h"

#include "tcl/CostModel/Ranking.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <random>

using namespace tcl;

llvm::StringRef tcl::stringifyDistillMethod(DistillMethod method) {
  switch (method) {
  case DistillMethod::CKD:
    return "ckd";
  case DistillMethod::FineTune:
    return "finetune";
  case DistillMethod::Scratch:
    return "scratch";
  case DistillMethod::MTL:
    return "mtl";
  }
  return "?";
}

llvm::Expected<DistillMethod> tcl::parseDistillMethod(llvm::StringRef name) {
  for (DistillMethod m : {DistillMethod::CKD, DistillMethod::FineTune,
                          DistillMethod::Scratch, DistillMethod::MTL})
    if (name == stringifyDistillMethod(m))
      return m;
  return llvm::createStringError("unknown method '" + name +
                                 "' (expected ckd, finetune, scratch or mtl)");
}

int64_t ContinualModel::slotOf(llvm::StringRef platformId) const {
  for (auto [slot, id] : llvm::enumerate(platforms))
    if (id == platformId)
      return static_cast<int64_t>(slot);
  return -1;
}

llvm::Expected<std::string>
tcl::continualModelConfig(llvm::StringRef kind, llvm::StringRef overrides) {
  if (kind != "mamba")
    return llvm::createStringError(
        "continual models are mamba models (the platform enters through "
        "the workload embedding and a FiLM of the final hidden state); '" +
        kind + "' is not supported");
  // The continual defaults, then the caller's overrides on top.
  llvm::Expected<std::string> base =
      defaultModelConfig(kind, kContinualDefaults);
  if (!base)
    return base.takeError();
  llvm::Expected<std::string> config = overrideModelConfig(*base, overrides);
  if (!config)
    return config.takeError();
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(*config);
  if (!json)
    return json.takeError();
  llvm::json::Object *o = json->getAsObject();
  std::optional<int64_t> width = o ? o->getInteger("workload_dim") : std::nullopt;
  if (!width)
    return llvm::createStringError("internal error: '" + kind +
                                   "' config without workload_dim");
  (*o)["workload_dim"] = *width + kPlatformSlots;
  (*o)["platform_slots"] = kPlatformSlots;
  return llvm::formatv("{0}", *json).str();
}

llvm::Expected<ContinualModel>
tcl::createContinualModel(llvm::StringRef kind, const std::string &config,
                          unsigned maxLength, uint64_t seed) {
  ModelOrError created = createModel(config, seed);
  if (!created)
    return llvm::createStringError(created.error);
  if (created.model->form() != FeatureForm::Sequence)
    return llvm::createStringError("continual models need a sequence model");
  ContinualModel m;
  m.model = created.model;
  m.kind = kind.str();
  m.maxLength = maxLength;
  return m;
}

llvm::Expected<ContinualModel> tcl::loadContinualModel(llvm::StringRef path) {
  llvm::Expected<ModelSidecar> sidecar = readSidecar(path);
  if (!sidecar)
    return sidecar.takeError();
  if (sidecar->platforms.empty())
    return llvm::createStringError(
        "'" + path +
        "' is not a continual model (its sidecar lists no platforms); "
        "tcl-distill starts a sequence without --from");
  ModelOrError loaded = loadModel(path.str(), sidecar->config);
  if (!loaded)
    return llvm::createStringError("cannot load '" + path +
                                   "': " + loaded.error);
  ContinualModel m;
  m.model = loaded.model;
  m.kind = sidecar->kind;
  m.maxLength = sidecar->maxLength;
  m.platforms = sidecar->platforms;
  return m;
}

llvm::Error tcl::saveContinualModel(const ContinualModel &model,
                                    llvm::StringRef path,
                                    const llvm::json::Object &trained) {
  ModelSidecar s;
  s.kind = model.kind;
  s.config = model.model->describeConfig();
  s.sequenceFeatureVersion = kSequenceFeatureVersion;
  s.statementFeatureVersion = kFeatureVersion;
  s.maxLength = model.maxLength;
  s.platforms = model.platforms;
  s.platform = model.platforms.empty() ? "" : model.platforms.back();
  s.trained = trained;
  return saveModelWithSidecar(*model.model, path, s);
}

llvm::Error tcl::copyWeights(RankingModel &from, RankingModel &to) {
  if (from.describeConfig() != to.describeConfig())
    return llvm::createStringError("copyWeights: the models differ");
  torch::NoGradGuard noGrad;
  auto src = from.named_parameters(), dst = to.named_parameters();
  for (const auto &p : src)
    dst[p.key()].copy_(p.value());
  auto srcBuffers = from.named_buffers(), dstBuffers = to.named_buffers();
  for (const auto &b : srcBuffers)
    dstBuffers[b.key()].copy_(b.value());
  return llvm::Error::success();
}

torch::Tensor tcl::distillationLoss(const torch::Tensor &student,
                                    const torch::Tensor &teacher,
                                    const torch::Tensor &groups,
                                    double temperature) {
  if (student.numel() == 0)
    return torch::zeros({}, student.options());
  torch::Tensor g = groups.to(torch::kCPU).contiguous();
  const int64_t *ids = g.data_ptr<int64_t>();
  std::map<int64_t, std::vector<int64_t>> members;
  for (int64_t i = 0, n = g.numel(); i < n; ++i)
    members[ids[i]].push_back(i);
  torch::Tensor total = torch::zeros({}, student.options());
  int64_t counted = 0;
  for (const auto &[group, rows] : members) {
    if (rows.size() < 2)
      continue;
    torch::Tensor index = torch::tensor(rows, torch::kInt64);
    torch::Tensor s = student.index_select(0, index) / temperature;
    torch::Tensor t = teacher.index_select(0, index).detach() / temperature;
    torch::Tensor p = torch::softmax(t, 0);
    // KL(p || q) = sum p (log p - log q).
    total = total + (p * (torch::log_softmax(t, 0) - torch::log_softmax(s, 0)))
                        .sum();
    ++counted;
  }
  if (counted == 0)
    return total;
  return total * (temperature * temperature / static_cast<double>(counted));
}

namespace {
double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

/// The sequence-form input of rows `rows` of `data`.
ModelInput rowsInput(const RankingData &data, const std::vector<int64_t> &rows) {
  torch::Tensor index = torch::tensor(rows, torch::kInt64);
  ModelInput input;
  input.batchSize = static_cast<int64_t>(rows.size());
  input.tokens = data.tokens.index_select(0, index);
  input.mask = data.mask.index_select(0, index);
  input.workload = data.workload.index_select(0, index);
  return input;
}

/// Concatenates sequence-form data, group ids made distinct.
RankingData concatenate(const std::vector<RankingData> &parts) {
  std::vector<torch::Tensor> tokens, mask, workload, labels, groups;
  int64_t offset = 0;
  for (const RankingData &d : parts) {
    if (d.size() == 0)
      continue;
    tokens.push_back(d.tokens);
    mask.push_back(d.mask);
    workload.push_back(d.workload);
    labels.push_back(d.labels);
    groups.push_back(d.groups + offset);
    offset += d.groups.max().item<int64_t>() + 1;
  }
  RankingData out;
  out.tokens = torch::cat(tokens);
  out.mask = torch::cat(mask);
  out.workload = torch::cat(workload);
  out.labels = torch::cat(labels);
  out.groups = torch::cat(groups);
  return out;
}

/// One distillation term of the CKD loss: weight * KD(S(U at slot), target),
/// with the target scores of every unlabelled program computed once.
struct DistillTerm {
  double weight;
  RankingData input;
  torch::Tensor target;
};

/// Adds the term weight * KD(S(U, studentSlot), M(U, modelSlot)) to `terms`
/// (M: a frozen model); false with `error` when M cannot score.
bool addDistillTerm(std::vector<DistillTerm> &terms, double weight,
                    RankingModel &model, const RankingData &unlabeled,
                    int64_t studentSlot, int64_t modelSlot,
                    std::string &error) {
  RankingData at = withPlatformSlot(unlabeled, modelSlot);
  torch::Tensor target = tcl::predict(model, at, 512, &error);
  if (!target.defined())
    return false;
  // The student reads the same slot for the alpha and gamma terms.
  if (studentSlot != modelSlot)
    at = withPlatformSlot(unlabeled, studentSlot);
  terms.push_back({weight, std::move(at), target});
  return true;
}

/// The CKD loop of the file comment: LambdaRank on `labeled` plus the
/// distillation `terms` on `unlabeled`'s programs; `student` starts as the
/// teacher.
llvm::Error trainCKD(RankingModel &student, const RankingData &labeled,
                     const RankingData &unlabeled,
                     const std::vector<DistillTerm> &terms,
                     const DistillOptions &options, const TrainOptions &t,
                     StageResult &result) {
  std::vector<double> &epochLosses = result.epochLosses;
  if (std::string error = validateTrainOptions(t); !error.empty())
    return llvm::createStringError(error);
  const bool distill = unlabeled.size() > 0 && !terms.empty();

  torch::manual_seed(t.seed);
  std::mt19937_64 rng(t.seed);
  std::vector<std::vector<int64_t>> labeledGroups =
      candidatesByGroup(labeled.groups);
  std::vector<std::vector<int64_t>> unlabeledGroups =
      unlabeled.size() ? candidatesByGroup(unlabeled.groups)
                       : std::vector<std::vector<int64_t>>{};
  std::vector<std::vector<int64_t>> unlabeledBatches;
  size_t nextUnlabeled = 0;
  OptimizerSteps optimizer(student, t);
  std::optional<CheckpointSelector> checkpoints;
  if (t.validate) {
    checkpoints.emplace(t.validate);
    checkpoints->observe(student, 0);
  }
  student.train();
  for (int64_t epoch = 1; epoch <= t.epochs; ++epoch) {
    double lossSum = 0;
    int64_t steps = 0;
    std::vector<std::vector<int64_t>> batches =
        makeGroupBatches(labeledGroups, t, rng);
    optimizer.beginEpoch(static_cast<int64_t>(batches.size()));
    for (const std::vector<int64_t> &rows : batches) {
      if (rows.size() < 2)
        continue;
      torch::Tensor index = torch::tensor(rows, torch::kInt64);
      torch::Tensor loss = lambdaRankLoss(
          student.score(rowsInput(labeled, rows)),
          labeled.labels.index_select(0, index),
          labeled.groups.index_select(0, index), t.lambdaSigma,
          t.lambdaGainScale);
      if (distill) {
        if (nextUnlabeled == unlabeledBatches.size()) {
          unlabeledBatches = makeGroupBatches(unlabeledGroups, t, rng);
          nextUnlabeled = 0;
        }
        const std::vector<int64_t> &u = unlabeledBatches[nextUnlabeled++];
        torch::Tensor uIndex = torch::tensor(u, torch::kInt64);
        torch::Tensor uGroups = unlabeled.groups.index_select(0, uIndex);
        for (const DistillTerm &term : terms)
          loss = loss + term.weight *
                            distillationLoss(
                                student.score(rowsInput(term.input, u)),
                                term.target.index_select(0, uIndex), uGroups,
                                options.temperature);
      }
      double value = loss.item<double>();
      if (!std::isfinite(value))
        return llvm::createStringError("non-finite loss in epoch " +
                                       llvm::Twine(epoch));
      optimizer.step(loss);
      lossSum += value;
      ++steps;
    }
    if (!steps)
      continue;
    epochLosses.push_back(lossSum / static_cast<double>(steps));
    EpochLog log;
    log.epoch = epoch;
    log.loss = epochLosses.back();
    log.batches = steps;
    if (checkpoints)
      log.validation = checkpoints->observe(student, epoch);
    if (t.log)
      t.log(log);
  }
  optimizer.finish();
  if (checkpoints) {
    checkpoints->restore(student);
    result.bestEpoch = checkpoints->bestEpoch();
    result.validationTop1 = checkpoints->scores();
  }
  student.eval();
  return llvm::Error::success();
}
} // namespace

llvm::Expected<StageResult>
tcl::trainStage(const ContinualModel *previous, const PlatformPrograms &labeled,
                const PlatformPrograms &unlabeled,
                const std::vector<PlatformPrograms> &allLabeled,
                const DistillOptions &options) {
  auto start = std::chrono::steady_clock::now();
  const DistillMethod method = options.method;
  const bool fresh = method == DistillMethod::Scratch ||
                     method == DistillMethod::MTL || !previous;
  if (labeled.data.size() == 0 && method != DistillMethod::MTL)
    return llvm::createStringError("no labelled programs of platform '" +
                                   labeled.platform + "'");
  StageResult result;
  // The platforms of the new model, in slot order.
  std::vector<std::string> platforms;
  if (method == DistillMethod::MTL) {
    for (const PlatformPrograms &p : allLabeled)
      if (std::find(platforms.begin(), platforms.end(), p.platform) ==
          platforms.end())
        platforms.push_back(p.platform);
    if (std::find(platforms.begin(), platforms.end(), labeled.platform) ==
        platforms.end())
      platforms.push_back(labeled.platform);
  } else {
    // Scratch, too, keeps the slots of the sequence so far.
    if (previous)
      platforms = previous->platforms;
    if (std::find(platforms.begin(), platforms.end(), labeled.platform) ==
        platforms.end())
      platforms.push_back(labeled.platform);
  }
  if (platforms.size() > static_cast<size_t>(kPlatformSlots))
    return llvm::createStringError(
        "a continual model holds at most " + llvm::Twine(kPlatformSlots) +
        " platforms; '" + labeled.platform + "' would be number " +
        llvm::Twine(platforms.size()));
  const int64_t slot = static_cast<int64_t>(
      std::find(platforms.begin(), platforms.end(), labeled.platform) -
      platforms.begin());

  // The student.
  ContinualModel student;
  if (fresh) {
    std::string config = options.config;
    if (previous && config.empty())
      config = previous->model->describeConfig();
    if (config.empty())
      return llvm::createStringError("no model config for a fresh model");
    llvm::Expected<ContinualModel> created = createContinualModel(
        previous ? previous->kind : options.kind, config,
        previous ? previous->maxLength : options.maxLength,
        options.train.seed);
    if (!created)
      return created.takeError();
    student = std::move(*created);
  } else {
    ModelOrError copy = createModel(previous->model->describeConfig());
    if (!copy)
      return llvm::createStringError(copy.error);
    if (llvm::Error err = copyWeights(*previous->model, *copy.model))
      return std::move(err);
    student.model = copy.model;
    student.kind = previous->kind;
    student.maxLength = previous->maxLength;
    const int64_t known = static_cast<int64_t>(previous->platforms.size());
    if (options.copyPreviousSlot && slot >= known && known > 0 &&
        !student.model->copyPlatformSlot(known - 1, slot))
      return llvm::createStringError(
          "the previous model cannot copy platform slot " +
          llvm::Twine(known - 1) + " to " + llvm::Twine(slot));
  }
  student.platforms = platforms;
  if (student.model->form() != FeatureForm::Sequence)
    return llvm::createStringError("continual models need a sequence model");

  // The student's training options: checkpoint selection on the held-out
  // part of the new platform's sample, read through its slot (never for the
  // active column: plainOptions).
  TrainOptions plainOptions = options.train;
  plainOptions.validate = nullptr;
  TrainOptions trainOptions = plainOptions;
  RankingData validationAt;
  if (options.validation.size() > 0) {
    if (std::string error =
            options.validation.validate(FeatureForm::Sequence, true);
        !error.empty())
      return llvm::createStringError("validation programs: " + error);
    validationAt = withPlatformSlot(options.validation, slot);
    trainOptions.validate = [&validationAt](RankingModel &model) {
      return meanGroupTop1(model, validationAt);
    };
  }
  // Results of tcl::train for the stage.
  auto record = [&result](const TrainResult &trained) {
    result.epochLosses = trained.epochLosses;
    result.validationTop1 = trained.validationScores;
    result.bestEpoch = trained.bestEpoch;
  };

  try {
    if (method == DistillMethod::MTL) {
      std::vector<RankingData> parts;
      for (const PlatformPrograms &p : allLabeled) {
        parts.push_back(withPlatformSlot(
            p.data, std::find(platforms.begin(), platforms.end(), p.platform) -
                        platforms.begin()));
        result.labeledPrograms += p.data.size();
      }
      if (result.labeledPrograms == 0)
        return llvm::createStringError("mtl: no labelled programs");
      TrainResult trained =
          tcl::train(*student.model, concatenate(parts), trainOptions);
      if (!trained.error.empty())
        return llvm::createStringError(trained.error);
      record(trained);
    } else if (method == DistillMethod::CKD && previous) {
      std::vector<int64_t> oldSlots;
      for (int64_t j = 0; j < static_cast<int64_t>(previous->platforms.size());
           ++j)
        if (j != slot)
          oldSlots.push_back(j);
      // The prior: the most recent other platform of the teacher.
      const int64_t priorSlot = oldSlots.empty() ? -1 : oldSlots.back();
      result.labeledPrograms = labeled.data.size();
      result.unlabeledPrograms = unlabeled.data.size();
      const RankingData labeledAt = withPlatformSlot(labeled.data, slot);
      std::vector<DistillTerm> terms;
      std::string error;
      if (unlabeled.data.size() > 0) {
        if (options.alpha > 0)
          for (int64_t j : oldSlots)
            if (!addDistillTerm(terms, options.alpha, *previous->model,
                                unlabeled.data, j, j, error))
              return llvm::createStringError("teacher scores: " + error);
        if (options.beta > 0 && priorSlot >= 0 &&
            !addDistillTerm(terms, options.beta, *previous->model,
                            unlabeled.data, slot, priorSlot, error))
          return llvm::createStringError("teacher scores: " + error);
        if (options.gamma > 0) {
          // Progress: the active column, the student's start fine-tuned
          // on the labelled sample alone.
          if (options.phase)
            options.phase("active column");
          ModelOrError active = createModel(student.model->describeConfig());
          if (!active)
            return llvm::createStringError(active.error);
          if (llvm::Error err = copyWeights(*student.model, *active.model))
            return std::move(err);
          TrainResult progressed =
              tcl::train(*active.model, labeledAt, plainOptions);
          if (!progressed.error.empty())
            return llvm::createStringError("active column: " +
                                           progressed.error);
          if (!addDistillTerm(terms, options.gamma, *active.model,
                              unlabeled.data, slot, slot, error))
            return llvm::createStringError("active column scores: " + error);
          if (options.phase)
            options.phase("compress");
        }
      }
      if (llvm::Error err = trainCKD(*student.model, labeledAt, unlabeled.data,
                                     terms, options, trainOptions, result))
        return std::move(err);
    } else {
      result.labeledPrograms = labeled.data.size();
      TrainResult trained =
          tcl::train(*student.model, withPlatformSlot(labeled.data, slot),
                     trainOptions);
      if (!trained.error.empty())
        return llvm::createStringError(trained.error);
      record(trained);
    }
  } catch (const std::exception &e) {
    return llvm::createStringError(std::string("training failed: ") +
                                   e.what());
  }
  student.model->eval();
  result.model = std::move(student);
  result.trainSeconds = secondsSince(start);
  return result;
}
