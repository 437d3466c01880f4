//===- LearnedCostModel.cpp - Neural cost models behind CostModel ---------===//

#include "tcl/CostModel/LearnedCostModel.h"

#include "tcl/Features/SequenceFeatures.h"
#include "tcl/Features/StatementFeatures.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>

using namespace tcl;

namespace {
/// The tensors of `data` without copying: views of its vectors, valid while
/// `data` lives and is not changed.
RankingData viewRankingData(const TrainingData &data) {
  auto floats = [](const std::vector<float> &v,
                   std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float *>(v.data()), shape,
                            torch::kFloat32);
  };
  auto longs = [](const std::vector<int64_t> &v) {
    return torch::from_blob(const_cast<int64_t *>(v.data()),
                            {static_cast<int64_t>(v.size())}, torch::kInt64);
  };
  int64_t n = static_cast<int64_t>(data.size());
  int64_t l = data.maxLength;
  RankingData r;
  r.tokens = floats(data.tokens, {n, l, kNumTokenFeatures});
  r.mask = floats(data.mask, {n, l});
  r.workload = floats(data.workload, {n, kNumTaskFeatures});
  r.statements = floats(data.statements,
                        {static_cast<int64_t>(data.segments.size()),
                         kNumStatementFeatures});
  r.segments = longs(data.segments);
  r.labels = floats(data.labels, {n});
  r.groups = longs(data.groups);
  return r;
}
} // namespace

RankingData tcl::withPlatformSlot(const RankingData &data, int64_t slot) {
  RankingData out = data;
  const int64_t n = data.workload.size(0);
  torch::Tensor onehot = torch::zeros({n, kPlatformSlots}, torch::kFloat32);
  if (n > 0)
    onehot.select(1, slot).fill_(1.0f);
  out.workload = torch::cat({data.workload, onehot}, 1);
  return out;
}

llvm::Expected<int64_t> tcl::findPlatformSlot(const ModelSidecar &sidecar,
                                              llvm::StringRef platformId,
                                              llvm::StringRef path) {
  if (sidecar.platforms.empty())
    return llvm::createStringError("'" + path +
                                   "' is not a continual model (no "
                                   "'platforms' in its sidecar)");
  for (auto [slot, id] : llvm::enumerate(sidecar.platforms))
    if (id == platformId)
      return static_cast<int64_t>(slot);
  std::string known;
  for (const std::string &id : sidecar.platforms)
    known += (known.empty() ? "'" : ", '") + id + "'";
  return llvm::createStringError("'" + path + "' has no part for platform '" +
                                 platformId + "'; it was trained for " +
                                 known);
}

RankingData tcl::toRankingData(const TrainingData &data) {
  RankingData view = viewRankingData(data);
  RankingData r;
  for (auto [to, from] :
       {std::pair{&r.tokens, &view.tokens}, {&r.mask, &view.mask},
        {&r.workload, &view.workload}, {&r.statements, &view.statements},
        {&r.segments, &view.segments}, {&r.labels, &view.labels},
        {&r.groups, &view.groups}})
    *to = from->clone();
  return r;
}

namespace {
/// `base` (a config JSON object) with the keys of `overrides` replaced.
llvm::Expected<std::string>
overrideConfig(const std::string &base, llvm::StringRef overrides,
               llvm::ArrayRef<llvm::StringRef> optionalKeys = {}) {
  if (overrides.trim().empty())
    return base;
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(overrides);
  if (!parsed)
    return llvm::createStringError("model config overrides are not JSON: " +
                                   llvm::toString(parsed.takeError()));
  const llvm::json::Object *changes = parsed->getAsObject();
  if (!changes)
    return llvm::createStringError(
        "model config overrides must be a JSON object, e.g. {\"d_model\":32}");
  llvm::Expected<llvm::json::Value> config = llvm::json::parse(base);
  if (!config)
    return config.takeError();
  llvm::json::Object &object = *config->getAsObject();
  auto isFixed = [](llvm::StringRef key) {
    return key == "model" || key == "token_dim" || key == "workload_dim" ||
           key == "statement_dim";
  };
  for (const auto &[key, value] : *changes) {
    if (isFixed(key))
      return llvm::createStringError(
          "model config key '" + key.str() +
          "' is fixed (the model kind and this build's feature widths)");
    if (!object.get(key) && !llvm::is_contained(optionalKeys, llvm::StringRef(key))) {
      std::vector<std::string> names;
      for (const auto &[name, unused] : object)
        if (!isFixed(name))
          names.push_back(name.str());
      for (llvm::StringRef name : optionalKeys)
        if (!object.get(name))
          names.push_back(name.str());
      std::sort(names.begin(), names.end());
      std::string known = llvm::join(names, ", ");
      return llvm::createStringError("unknown model config key '" +
                                     key.str() + "' (this model has " +
                                     known + ")");
    }
    object[key] = value;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(object));
  return text;
}
} // namespace

llvm::Expected<std::string>
tcl::overrideModelConfig(const std::string &base, llvm::StringRef overrides) {
  return overrideConfig(base, overrides);
}

llvm::Expected<std::string> tcl::defaultModelConfig(llvm::StringRef kind,
                                                    llvm::StringRef overrides) {
  if (kind == "mamba") {
    MambaConfig c;
    c.tokenDim = kNumTokenFeatures;
    c.workloadDim = kNumTaskFeatures;
    // The best measured architecture (see the declaration), not
    // MambaConfig's field defaults, which keep their meaning for sidecars.
    c.dModel = 32;
    c.dState = 8;
    c.inputNorm = 1;
    // The key that toJSON() leaves out at its default.
    return overrideConfig(c.toJSON(), overrides, {"platform_film"});
  }
  if (kind == "tlp") {
    TLPConfig c;
    c.tokenDim = kNumTokenFeatures;
    c.workloadDim = kNumTaskFeatures;
    return overrideConfig(c.toJSON(), overrides);
  }
  if (kind == "mlp") {
    MLPConfig c;
    c.statementDim = kNumStatementFeatures;
    return overrideConfig(c.toJSON(), overrides);
  }
  return llvm::createStringError("unknown model kind '" + kind +
                                 "' (expected mamba, tlp or mlp)");
}

llvm::Error tcl::saveModelWithSidecar(RankingModel &model,
                                      llvm::StringRef path,
                                      const ModelSidecar &sidecar) {
  std::string error = saveModel(model, path.str());
  if (!error.empty())
    return llvm::createStringError("cannot save '" + path + "': " + error);
  llvm::Expected<llvm::json::Value> config = llvm::json::parse(sidecar.config);
  if (!config)
    return config.takeError();
  llvm::json::Object root{
      {"kind", sidecar.kind},
      {"config", std::move(*config)},
      {"sequence_feature_version", sidecar.sequenceFeatureVersion},
      {"statement_feature_version", sidecar.statementFeatureVersion},
      {"max_length", sidecar.maxLength},
      {"platform", sidecar.platform},
      {"trained", llvm::json::Object(sidecar.trained)},
  };
  if (!sidecar.platforms.empty())
    root["platforms"] = llvm::json::Array(sidecar.platforms);
  std::string sidecarPath = (path + ".json").str();
  std::error_code ec;
  llvm::raw_fd_ostream os(sidecarPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError("cannot write '" + sidecarPath +
                                   "': " + ec.message());
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return llvm::Error::success();
}

llvm::Expected<ModelSidecar> tcl::readSidecar(llvm::StringRef path) {
  std::string sidecarPath = (path + ".json").str();
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("model sidecar '" + sidecarPath +
                                   "': " + why);
  };
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(sidecarPath);
  if (!file)
    return fail(file.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*file)->getBuffer());
  if (!json)
    return fail(llvm::toString(json.takeError()));
  const llvm::json::Object *o = json->getAsObject();
  if (!o)
    return fail("not a JSON object");
  ModelSidecar s;
  std::optional<llvm::StringRef> kind = o->getString("kind");
  const llvm::json::Value *config = o->get("config");
  std::optional<int64_t> seqVersion = o->getInteger("sequence_feature_version");
  std::optional<int64_t> stmtVersion =
      o->getInteger("statement_feature_version");
  std::optional<int64_t> maxLength = o->getInteger("max_length");
  if (!kind || !config || !seqVersion || !stmtVersion || !maxLength)
    return fail("missing one of kind, config, sequence_feature_version, "
                "statement_feature_version, max_length");
  s.kind = kind->str();
  llvm::raw_string_ostream(s.config) << *config;
  s.sequenceFeatureVersion = static_cast<unsigned>(*seqVersion);
  s.statementFeatureVersion = static_cast<unsigned>(*stmtVersion);
  s.maxLength = static_cast<unsigned>(*maxLength);
  if (std::optional<llvm::StringRef> platform = o->getString("platform"))
    s.platform = platform->str();
  if (const llvm::json::Object *trained = o->getObject("trained"))
    s.trained = *trained;
  if (const llvm::json::Array *platforms = o->getArray("platforms"))
    for (const llvm::json::Value &p : *platforms) {
      std::optional<llvm::StringRef> id = p.getAsString();
      if (!id)
        return fail("'platforms' must be an array of platform ids");
      s.platforms.push_back(id->str());
    }
  if (s.platforms.size() > static_cast<size_t>(kPlatformSlots))
    return fail("more than " + llvm::Twine(kPlatformSlots) + " platforms");
  // A model reads one form of features, so only that form's version must
  // match (mlp: statement features; mamba, tlp: sequence features; other
  // kinds are refused later, both must match for them here).
  const bool sequenceStale = s.sequenceFeatureVersion != kSequenceFeatureVersion;
  const bool statementStale = s.statementFeatureVersion != kFeatureVersion;
  const bool stale = s.kind == "mlp" ? statementStale
                     : s.kind == "mamba" || s.kind == "tlp"
                         ? sequenceStale
                         : sequenceStale || statementStale;
  if (stale)
    return fail("trained on feature versions sequence " +
                llvm::Twine(s.sequenceFeatureVersion) + " / statement " +
                llvm::Twine(s.statementFeatureVersion) +
                ", this build computes sequence " +
                llvm::Twine(kSequenceFeatureVersion) + " / statement " +
                llvm::Twine(kFeatureVersion) + "; retrain the model");
  return s;
}

namespace {
/// Features of one task, built on first use.
struct TaskFeatures {
  std::unique_ptr<SequenceFeatureExtractor> sequence;
  std::unique_ptr<StatementFeatureExtractor> statements;
  int64_t group = 0;
};

class LearnedCostModel : public CostModel {
public:
  /// `slot`: the platform slot of a continual model, -1 for others.
  LearnedCostModel(std::string kind, std::shared_ptr<RankingModel> model,
                   unsigned maxLength, int64_t slot = -1,
                   std::vector<std::string> platforms = {})
      : kind(std::move(kind)), model(std::move(model)), maxLength(maxLength),
        slot(slot), platforms(std::move(platforms)) {
    history.maxLength = maxLength;
    name = this->kind;
    if (slot >= 0)
      name += " (continual; part " + std::to_string(slot + 1) + " of " +
              std::to_string(this->platforms.size()) + ", for " +
              this->platforms[slot] + ")";
  }

  llvm::StringRef getName() const override { return name; }

  std::vector<double> predict(const TaskContext &task,
                              llvm::ArrayRef<Schedule> candidates) override {
    std::vector<double> scores(candidates.size(), 0.0);
    TaskFeatures *f = featuresOf(task);
    if (!f || candidates.empty())
      return scores;
    TrainingData batch;
    batch.maxLength = maxLength;
    for (const Schedule &s : candidates)
      appendProgram(batch, *f->sequence, *f->statements, s, 0, 0, 0);
    std::string error;
    torch::Tensor out =
        tcl::predict(*model, forModel(toRankingData(batch)), 1024, &error);
    if (!out.defined())
      return scores;
    auto accessor = out.accessor<float, 1>();
    for (size_t i = 0; i < scores.size(); ++i)
      scores[i] = accessor[static_cast<int64_t>(i)];
    return scores;
  }

  void update(const TaskContext &task, llvm::ArrayRef<Schedule> schedules,
              llvm::ArrayRef<double> throughputs) override {
    TaskFeatures *f = featuresOf(task);
    if (!f || schedules.empty())
      return;
    for (auto [s, t] : llvm::zip(schedules, throughputs))
      appendProgram(history, *f->sequence, *f->statements, s, f->group,
                    static_cast<float>(t),
                    t > 0 ? 1.0 / t : std::numeric_limits<double>::infinity());
    trimHistory();
    TrainOptions options;
    options.epochs = 1;
    options.seed = updates++;
    train(*model, forModel(fineTuningSample(schedules.size(), options.seed)),
          options);
  }

  llvm::Error save(llvm::StringRef path) const override {
    ModelSidecar s;
    s.kind = kind;
    s.config = model->describeConfig();
    s.sequenceFeatureVersion = kSequenceFeatureVersion;
    s.statementFeatureVersion = kFeatureVersion;
    s.maxLength = maxLength;
    s.platforms = platforms;
    if (slot >= 0)
      s.platform = platforms[slot];
    return saveModelWithSidecar(*model, path, s);
  }

  llvm::Error load(llvm::StringRef path) override {
    llvm::Expected<ModelSidecar> s = readSidecar(path);
    if (!s)
      return s.takeError();
    std::string error = loadWeights(*model, path.str());
    if (!error.empty())
      return llvm::createStringError("cannot load '" + path + "': " + error);
    maxLength = s->maxLength;
    history.maxLength = maxLength;
    return llvm::Error::success();
  }

private:
  /// The model's input: with the platform slot for a continual model.
  RankingData forModel(RankingData data) const {
    return slot >= 0 ? withPlatformSlot(data, slot) : data;
  }

  TaskFeatures *featuresOf(const TaskContext &task) {
    std::string key = task.space->getWorkloadKey().str();
    auto it = features.find(key);
    if (it != features.end())
      return it->second.sequence ? &it->second : nullptr;
    TaskFeatures &f = features[key];
    llvm::Expected<SequenceFeatureExtractor> seq =
        SequenceFeatureExtractor::create(*task.space);
    llvm::Expected<StatementFeatureExtractor> stmt =
        StatementFeatureExtractor::createFromKernel(*task.space,
                                                    task.kernelText);
    if (!seq || !stmt) {
      // The task keeps score 0: the search then ranks it at random.
      llvm::consumeError(seq.takeError());
      llvm::consumeError(stmt.takeError());
      return nullptr;
    }
    f.sequence = std::make_unique<SequenceFeatureExtractor>(std::move(*seq));
    f.statements =
        std::make_unique<StatementFeatureExtractor>(std::move(*stmt));
    f.group = static_cast<int64_t>(features.size() - 1);
    return &f;
  }

  /// What one online update trains on: the `newest` programs just
  /// measured plus a seeded uniform sample of the older history, at most
  /// kFineTunePrograms in all. Bounding it keeps an update at about a second
  /// for the sequence models (~1.5 ms per program and epoch on 2 cores), so
  /// the tuner's hundreds of rounds are not dominated by training, while
  /// the replayed older programs keep the model from fitting only the last
  /// task it measured.
  RankingData fineTuningSample(size_t newest, uint64_t seed) const {
    constexpr int64_t kFineTunePrograms = 512;
    const int64_t n = static_cast<int64_t>(history.size());
    if (n <= kFineTunePrograms)
      return toRankingData(history);
    const int64_t fresh = std::min<int64_t>(static_cast<int64_t>(newest),
                                            kFineTunePrograms);
    torch::Generator generator = at::detail::createCPUGenerator(seed);
    torch::Tensor older =
        torch::randperm(n - fresh, generator,
                        torch::TensorOptions().dtype(torch::kInt64))
            .narrow(0, 0, kFineTunePrograms - fresh);
    torch::Tensor rows =
        torch::cat({older, torch::arange(n - fresh, n, torch::kInt64)});
    // Only the chosen rows are copied out of the history.
    return selectRows(viewRankingData(history), rows);
  }

  /// Keeps the most recent kMaxHistory programs.
  void trimHistory() {
    constexpr size_t kMaxHistory = 4096;
    size_t n = history.size();
    if (n <= kMaxHistory)
      return;
    size_t drop = n - kMaxHistory;
    size_t tokenStride = static_cast<size_t>(maxLength) * kNumTokenFeatures;
    auto eraseFront = [](auto &v, size_t count) {
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(count));
    };
    eraseFront(history.groups, drop);
    eraseFront(history.labels, drop);
    eraseFront(history.latencies, drop);
    eraseFront(history.tokens, drop * tokenStride);
    eraseFront(history.mask, drop * maxLength);
    eraseFront(history.workload, drop * kNumTaskFeatures);
    size_t firstKept = 0;
    while (firstKept < history.segments.size() &&
           history.segments[firstKept] < static_cast<int64_t>(drop))
      ++firstKept;
    eraseFront(history.segments, firstKept);
    eraseFront(history.statements, firstKept * kNumStatementFeatures);
    for (int64_t &s : history.segments)
      s -= static_cast<int64_t>(drop);
  }

  std::string kind, name;
  std::shared_ptr<RankingModel> model;
  unsigned maxLength;
  int64_t slot;
  std::vector<std::string> platforms;
  llvm::StringMap<TaskFeatures> features;
  TrainingData history;
  uint64_t updates = 0;
};
} // namespace

llvm::Expected<std::unique_ptr<CostModel>>
tcl::createLearnedCostModel(llvm::StringRef kind, llvm::StringRef path,
                            uint64_t seed, llvm::StringRef platformId) {
  if (path.empty()) {
    llvm::Expected<std::string> config = defaultModelConfig(kind);
    if (!config)
      return config.takeError();
    ModelOrError created = createModel(*config, seed);
    if (!created)
      return llvm::createStringError(created.error);
    return std::make_unique<LearnedCostModel>(kind.str(), created.model, 64);
  }
  llvm::Expected<ModelSidecar> sidecar = readSidecar(path);
  if (!sidecar)
    return sidecar.takeError();
  if (sidecar->kind != kind)
    return llvm::createStringError("'" + path + "' holds a '" +
                                   sidecar->kind + "' model, not '" + kind +
                                   "'");
  ModelOrError loaded = loadModel(path.str(), sidecar->config);
  if (!loaded)
    return llvm::createStringError("cannot load '" + path +
                                   "': " + loaded.error);
  int64_t slot = -1;
  if (!sidecar->platforms.empty()) {
    llvm::Expected<int64_t> found =
        findPlatformSlot(*sidecar, platformId, path);
    if (!found)
      return found.takeError();
    slot = *found;
  }
  return std::make_unique<LearnedCostModel>(kind.str(), loaded.model,
                                            sidecar->maxLength, slot,
                                            sidecar->platforms);
}
