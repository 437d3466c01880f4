//===- CostModel.cpp - Cost model interface, random model, factory --------===//

#include "tcl/CostModel/CostModel.h"
#include "tcl/CostModel/XGBoostModel.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <random>

using namespace tcl;

CostModel::~CostModel() = default;

namespace {
/// Uniform scores in [0, 1) from a seeded generator; learns nothing.
class RandomCostModel final : public CostModel {
public:
  explicit RandomCostModel(uint64_t seed) : seed(seed), rng(seed) {}

  llvm::StringRef getName() const override { return "random"; }

  std::vector<double> predict(const TaskContext &,
                              llvm::ArrayRef<Schedule> candidates) override {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> scores(candidates.size());
    for (double &s : scores)
      s = uniform(rng);
    return scores;
  }

  void update(const TaskContext &, llvm::ArrayRef<Schedule>,
              llvm::ArrayRef<double>) override {}

  /// Writes `{"model": "random", "seed": N}`.
  llvm::Error save(llvm::StringRef path) const override {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (!ec) {
      os << llvm::formatv("{0}", llvm::json::Value(llvm::json::Object{
                                     {"model", "random"},
                                     {"seed", static_cast<int64_t>(seed)}}))
         << "\n";
      os.close();
      ec = os.error();
    }
    if (ec)
      return llvm::createStringError("random: cannot write '" + path +
                                     "': " + ec.message());
    return llvm::Error::success();
  }

  /// Reads the seed written by save() and restarts the generator from it.
  llvm::Error load(llvm::StringRef path) override {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      return llvm::createStringError("random: cannot read '" + path +
                                     "': " + buffer.getError().message());
    llvm::Expected<llvm::json::Value> value =
        llvm::json::parse((*buffer)->getBuffer());
    if (!value)
      return llvm::createStringError("random: '" + path + "' is not JSON: " +
                                     llvm::toString(value.takeError()));
    const llvm::json::Object *object = value->getAsObject();
    std::optional<int64_t> saved =
        object ? object->getInteger("seed") : std::nullopt;
    if (!object || object->getString("model") != "random" || !saved)
      return llvm::createStringError(
          "random: '" + path +
          "' is not a saved random model (expected {\"model\": \"random\", "
          "\"seed\": N})");
    seed = *saved;
    rng.seed(seed);
    return llvm::Error::success();
  }

private:
  uint64_t seed;
  std::mt19937_64 rng;
};
} // namespace

std::unique_ptr<CostModel> tcl::createRandomCostModel(uint64_t seed) {
  return std::make_unique<RandomCostModel>(seed);
}

llvm::Expected<std::unique_ptr<CostModel>>
tcl::createCostModel(llvm::StringRef spec, uint64_t seed,
                     llvm::StringRef platformId) {
  if (spec == "random")
    return createRandomCostModel(seed);
  if (spec == "xgb")
    return std::make_unique<XGBoostModel>(seed);
  if (spec.consume_front("xgb:")) {
    if (spec.empty())
      return llvm::createStringError(
          "cost model 'xgb:' needs a path: xgb:<path>");
    auto model = std::make_unique<XGBoostModel>(seed);
    if (llvm::Error err = model->load(spec))
      return std::move(err);
    return model;
  }
  llvm::StringRef kind = spec.split(':').first;
  if (kind == "mamba" || kind == "tlp" || kind == "mlp") {
#ifdef TCL_HAVE_TORCH
    return createLearnedCostModel(kind, spec.split(':').second, seed,
                                  platformId);
#else
    return llvm::createStringError("cost model '" + kind +
                                   "' needs LibTorch, which this build of "
                                   "TCL was configured without");
#endif
  }
  return llvm::createStringError(
      "unknown cost model '" + spec +
      "' (known: random, xgb, xgb:<path>, mamba, mamba:<path>, tlp, "
      "tlp:<path>, mlp, mlp:<path>)");
}
