//===- XGBoostModel.cpp - Ansor's gradient-boosted-trees cost model -------===//

#include "tcl/CostModel/XGBoostModel.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <xgboost/c_api.h>

#include <mutex>
#include <set>

using namespace tcl;

/// XGBoost's last error, for messages.
static std::string lastXGBoostError() { return XGBGetLastError(); }

/// Silences XGBoost's own logging once per process; errors are reported
/// through the C API's return codes.
static void initXGBoost() {
  static std::once_flag once;
  std::call_once(once, [] { XGBSetGlobalConfig(R"({"verbosity": 0})"); });
}

namespace {
/// Owns a DMatrixHandle.
class DMatrix {
public:
  /// A dense matrix of `numRows` rows of kNumProgramFeatures values.
  static llvm::Expected<DMatrix> create(llvm::ArrayRef<float> rows,
                                        unsigned threads) {
    DMatrix m;
    if (XGDMatrixCreateFromMat_omp(
            rows.data(), rows.size() / kNumProgramFeatures, kNumProgramFeatures,
            std::nanf(""), &m.handle, threads) != 0)
      return llvm::createStringError("xgb: cannot create a data matrix: " +
                                     lastXGBoostError());
    return m;
  }
  DMatrix() = default;
  DMatrix(DMatrix &&other) : handle(other.handle) { other.handle = nullptr; }
  DMatrix &operator=(DMatrix &&) = delete;
  ~DMatrix() {
    if (handle)
      XGDMatrixFree(handle);
  }
  DMatrixHandle handle = nullptr;
};
} // namespace

XGBoostModel::XGBoostModel(uint64_t seed, XGBoostOptions options)
    : seed(seed), options(options), rng(seed) {
  initXGBoost();
}

XGBoostModel::~XGBoostModel() {
  if (booster)
    XGBoosterFree(booster);
}

std::string XGBoostModel::sidecarPath(llvm::StringRef path) {
  return (path + ".meta.json").str();
}

const StatementFeatureExtractor *
XGBoostModel::getExtractor(const TaskContext &task) {
  assert(task.space && "task context without a search space");
  const SearchSpace &space = *task.space;
  std::string key =
      (space.getWorkloadKey() + "/" + llvm::Twine(space.getVectorWidth()) +
       "/" + llvm::Twine(space.getThreads()))
          .str();
  auto it = extractors.find(key);
  if (it == extractors.end()) {
    llvm::Expected<StatementFeatureExtractor> extractor =
        StatementFeatureExtractor::createFromKernel(space, task.kernelText);
    std::optional<StatementFeatureExtractor> entry;
    if (extractor)
      entry = std::move(*extractor);
    else
      llvm::errs() << "warning: xgb: scoring task '" << space.getWorkloadKey()
                   << "' at random: " << llvm::toString(extractor.takeError())
                   << "\n";
    it = extractors.try_emplace(key, std::move(entry)).first;
  }
  return it->second ? &*it->second : nullptr;
}

std::vector<double> XGBoostModel::randomScores(size_t n) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> scores(n);
  for (double &s : scores)
    s = uniform(rng);
  return scores;
}

std::vector<double> XGBoostModel::predict(const TaskContext &task,
                                          llvm::ArrayRef<Schedule> candidates) {
  if (candidates.empty())
    return {};
  const StatementFeatureExtractor *extractor = getExtractor(task);
  if (!booster || !extractor)
    return randomScores(candidates.size());
  std::vector<float> data(candidates.size() * kNumProgramFeatures);
  for (auto [i, schedule] : llvm::enumerate(candidates))
    extractor->extractProgram(schedule, &data[i * kNumProgramFeatures]);
  llvm::Expected<DMatrix> matrix = DMatrix::create(data, options.threads);
  bst_ulong length = 0;
  const float *out = nullptr;
  if (!matrix ||
      XGBoosterPredict(booster, matrix->handle, /*option_mask=*/0,
                       /*ntree_limit=*/0, /*training=*/0, &length, &out) != 0) {
    std::string why =
        matrix ? lastXGBoostError() : llvm::toString(matrix.takeError());
    llvm::errs() << "warning: xgb: prediction failed, scoring at random: "
                 << why << "\n";
    return randomScores(candidates.size());
  }
  return std::vector<double>(out, out + length);
}

void XGBoostModel::addRecords(const TaskContext &task,
                              llvm::ArrayRef<Schedule> schedules,
                              llvm::ArrayRef<double> throughputs) {
  assert(schedules.size() == throughputs.size() &&
         "one throughput per schedule");
  const StatementFeatureExtractor *extractor = getExtractor(task);
  if (!extractor || schedules.empty())
    return;
  size_t first = rows.size();
  rows.resize(first + schedules.size() * kNumProgramFeatures);
  for (auto [i, schedule] : llvm::enumerate(schedules))
    extractor->extractProgram(schedule, &rows[first + i * kNumProgramFeatures]);
  labels.insert(labels.end(), throughputs.begin(), throughputs.end());
}

void XGBoostModel::update(const TaskContext &task,
                          llvm::ArrayRef<Schedule> schedules,
                          llvm::ArrayRef<double> throughputs) {
  addRecords(task, schedules, throughputs);
  if (std::set<float>(labels.begin(), labels.end()).size() < 2)
    return;
  fit();
}

void XGBoostModel::fit() {
  auto warn = [](const llvm::Twine &why) {
    llvm::errs() << "warning: xgb: refit failed, keeping the previous model: "
                 << why << "\n";
  };
  llvm::Expected<DMatrix> train = DMatrix::create(rows, options.threads);
  if (!train)
    return warn(llvm::toString(train.takeError()));
  if (XGDMatrixSetFloatInfo(train->handle, "label", labels.data(),
                            labels.size()) != 0)
    return warn(lastXGBoostError());
  BoosterHandle fresh = nullptr;
  if (XGBoosterCreate(&train->handle, 1, &fresh) != 0)
    return warn(lastXGBoostError());
  std::string threads = std::to_string(options.threads);
  std::string depth = std::to_string(options.maxDepth);
  std::string eta = std::to_string(options.eta);
  // XGBoost's seed is a 32-bit int.
  std::string seedValue = std::to_string(seed % 2147483647u);
  const std::pair<const char *, const char *> params[] = {
      {"objective", "reg:squarederror"},
      {"tree_method", "hist"},
      {"max_depth", depth.c_str()},
      {"eta", eta.c_str()},
      {"gamma", "0.001"},
      {"min_child_weight", "0"},
      {"nthread", threads.c_str()},
      {"seed", seedValue.c_str()},
      {"verbosity", "0"},
  };
  for (auto [name, value] : params)
    if (XGBoosterSetParam(fresh, name, value) != 0) {
      XGBoosterFree(fresh);
      return warn(lastXGBoostError());
    }
  for (unsigned round = 0; round < options.rounds; ++round)
    if (XGBoosterUpdateOneIter(fresh, round, train->handle) != 0) {
      XGBoosterFree(fresh);
      return warn(lastXGBoostError());
    }
  if (booster)
    XGBoosterFree(booster);
  booster = fresh;
  trainedRecords = labels.size();
}

llvm::Error XGBoostModel::save(llvm::StringRef path) const {
  if (!booster)
    return llvm::createStringError("xgb: cannot save '" + path +
                                   "': the model has not been trained");
  bst_ulong length = 0;
  const char *buffer = nullptr;
  if (XGBoosterSaveModelToBuffer(booster, R"({"format": "json"})", &length,
                                 &buffer) != 0)
    return llvm::createStringError("xgb: cannot serialize the model for '" +
                                   path + "': " + lastXGBoostError());
  auto write = [](llvm::StringRef file,
                  llvm::StringRef contents) -> llvm::Error {
    std::error_code ec;
    llvm::raw_fd_ostream os(file, ec);
    if (!ec) {
      os << contents;
      os.close();
      ec = os.error();
    }
    if (ec)
      return llvm::createStringError("xgb: cannot write '" + file +
                                     "': " + ec.message());
    return llvm::Error::success();
  };
  if (llvm::Error err = write(path, llvm::StringRef(buffer, length)))
    return err;
  llvm::json::Object meta{
      {"model", "xgb"},
      {"feature_version", static_cast<int64_t>(kFeatureVersion)},
      {"num_features", static_cast<int64_t>(kNumProgramFeatures)},
      {"num_records", static_cast<int64_t>(trainedRecords)},
      {"rounds", static_cast<int64_t>(options.rounds)},
      {"seed", static_cast<int64_t>(seed)},
  };
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(meta))) << "\n";
  return write(sidecarPath(path), text);
}

llvm::Error XGBoostModel::load(llvm::StringRef path) {
  auto read = [](llvm::StringRef file)
      -> llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(file);
    if (!buffer)
      return llvm::createStringError("xgb: cannot read '" + file +
                                     "': " + buffer.getError().message());
    return std::move(*buffer);
  };
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> model = read(path);
  if (!model)
    return model.takeError();
  std::string sidecar = sidecarPath(path);
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> metaText = read(sidecar);
  if (!metaText)
    return metaText.takeError();

  auto badSidecar = [&](const llvm::Twine &why) {
    return llvm::createStringError("xgb: '" + sidecar + "': " + why);
  };
  llvm::Expected<llvm::json::Value> meta =
      llvm::json::parse((*metaText)->getBuffer());
  if (!meta)
    return badSidecar("not valid JSON: " + llvm::toString(meta.takeError()));
  const llvm::json::Object *object = meta->getAsObject();
  if (!object || object->getString("model") != "xgb")
    return badSidecar("not the sidecar of a TCL XGBoost model (expected "
                      "\"model\": \"xgb\")");
  std::optional<int64_t> version = object->getInteger("feature_version");
  std::optional<int64_t> width = object->getInteger("num_features");
  std::optional<int64_t> records = object->getInteger("num_records");
  if (!version || !width || !records)
    return badSidecar("missing integer field 'feature_version', "
                      "'num_features' or 'num_records'");
  if (*version != kFeatureVersion || *width != kNumProgramFeatures)
    return badSidecar(
        "saved with feature version " + llvm::Twine(*version) + " (" +
        llvm::Twine(*width) + " features); this build uses version " +
        llvm::Twine(kFeatureVersion) + " (" +
        llvm::Twine(unsigned(kNumProgramFeatures)) + " features)");

  BoosterHandle loaded = nullptr;
  if (XGBoosterCreate(nullptr, 0, &loaded) != 0)
    return llvm::createStringError("xgb: cannot create a booster: " +
                                   lastXGBoostError());
  bst_ulong numFeatures = 0;
  if (XGBoosterLoadModelFromBuffer(loaded, (*model)->getBufferStart(),
                                   (*model)->getBufferSize()) != 0 ||
      XGBoosterGetNumFeature(loaded, &numFeatures) != 0) {
    std::string why = lastXGBoostError();
    XGBoosterFree(loaded);
    return llvm::createStringError("xgb: '" + path +
                                   "' is not a valid XGBoost model: " + why);
  }
  if (numFeatures != kNumProgramFeatures) {
    XGBoosterFree(loaded);
    return llvm::createStringError(
        "xgb: '" + path + "' takes " + llvm::Twine(numFeatures) +
        " features, expected " + llvm::Twine(unsigned(kNumProgramFeatures)));
  }
  std::string threads = std::to_string(options.threads);
  XGBoosterSetParam(loaded, "nthread", threads.c_str());
  if (booster)
    XGBoosterFree(booster);
  booster = loaded;
  trainedRecords = *records;
  rows.clear();
  labels.clear();
  return llvm::Error::success();
}
