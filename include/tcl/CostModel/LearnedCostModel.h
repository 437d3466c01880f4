//===- LearnedCostModel.h - Neural cost models behind CostModel -*- C++ -*-===//
//
// Connects the LibTorch models of TorchModels.h (Mamba, TLP, TenSet-MLP) to
// the rest of TCL: features to tensors, the JSON sidecar saved next to a
// model, and a tcl::CostModel that the tuner uses (`--cost-model=mamba:PATH`)
// and fine-tunes online on new measure records, as Ansor does with its
// model (OSDI'20, sec. 5.2).
//
// A trained model is two files: `PATH` (torch::serialize archive with the
// weights and architecture, see tcl::saveModel) and `PATH.json`, the
// sidecar:
//   {"kind": "mamba", "config": {...}, "sequence_feature_version": 1,
//    "statement_feature_version": 1, "max_length": 64,
//    "platform": "cpu:avx512,threads=2@...", "trained": {...}}
// Loading fails when a feature version differs from this build's.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_LEARNEDCOSTMODEL_H
#define TCL_COSTMODEL_LEARNEDCOSTMODEL_H

#include "tcl/CostModel/CostModel.h"
#include "tcl/CostModel/TorchModels.h"
#include "tcl/CostModel/TrainingData.h"
#include "tcl/CostModel/Trainer.h"

#include "llvm/Support/JSON.h"

namespace tcl {

/// The tensors of `data` (copies): tokens [N, L, D], mask [N, L], workload
/// [N, W], statements [S, F], segments [S], labels [N], groups [N].
RankingData toRankingData(const TrainingData &data);

/// The default architecture of `kind` ("mamba", "tlp" or "mlp") as config
/// JSON, with the feature widths of this build. For mamba it is the best
/// measured configuration, the shipped model's: d_model 32, d_state 8 and
/// input standardisation (21,921 parameters; top-1 0.700 +- 0.036 over 5
/// seeds, docs/results/cost_models_seeds.md). MambaConfig's field
/// defaults, d_model 64 and d_state 16 (74,881 parameters), were slower
/// and not better when last compared (docs/results/cost_models.md).
/// MambaConfig's field defaults stay what a sidecar without a key means.
/// `overrides`, a JSON object
/// such as {"d_model":32,"d_state":8}, replaces keys of the default. Fails
/// for another kind, malformed overrides, a key the kind does not have, or
/// a feature width (token_dim, workload_dim, statement_dim: fixed by this
/// build's features).
llvm::Expected<std::string> defaultModelConfig(llvm::StringRef kind,
                                               llvm::StringRef overrides = "");

/// `base` (a config JSON object, e.g. from defaultModelConfig) with the
/// keys of `overrides` replaced; fails as defaultModelConfig for malformed
/// overrides, a key `base` does not have, or a fixed feature width.
llvm::Expected<std::string> overrideModelConfig(const std::string &base,
                                                llvm::StringRef overrides);

/// What the sidecar of a saved model holds.
struct ModelSidecar {
  std::string kind;
  /// The model's describeConfig().
  std::string config;
  unsigned sequenceFeatureVersion = 0;
  unsigned statementFeatureVersion = 0;
  unsigned maxLength = 64;
  /// Platform id of the training records (of the last stage, for a
  /// continual model).
  std::string platform;
  /// Continual models only (tcl-distill): the platform id of each used
  /// platform slot, slot 0 first; empty for a single-platform model.
  std::vector<std::string> platforms;
  /// Free-form training facts (data sizes, epochs, scores).
  llvm::json::Object trained;
};

/// Continual models (tcl-distill, Distill.h) read the platform as a one-hot
/// over this many slots appended to the workload embedding, which is then
/// kNumTaskFeatures + kPlatformSlots wide: the parameter count does not
/// depend on how many platforms a model has learned (at most this many).
constexpr int64_t kPlatformSlots = 8;

/// `data` with the one-hot of `slot` (in [0, kPlatformSlots)) appended to
/// every program's workload features: workload [N, W] -> [N, W +
/// kPlatformSlots]. The other fields are shared, not copied.
RankingData withPlatformSlot(const RankingData &data, int64_t slot);

/// The slot of `platformId` in a continual model's sidecar. Errors name the
/// model (`path`) and list the platforms it has, or say that it is not a
/// continual model.
llvm::Expected<int64_t> findPlatformSlot(const ModelSidecar &sidecar,
                                         llvm::StringRef platformId,
                                         llvm::StringRef path);

/// Writes `model` to `path` and its sidecar to `path.json`.
llvm::Error saveModelWithSidecar(RankingModel &model, llvm::StringRef path,
                                 const ModelSidecar &sidecar);

/// Reads `path.json` and checks the feature versions against this build.
llvm::Expected<ModelSidecar> readSidecar(llvm::StringRef path);

// The tcl::CostModel itself: tcl::createLearnedCostModel (CostModel.h).
// predict() scores candidates with the network (a continual model with the
// slot of the tuning platform); update() appends the measurements to a
// history of at most 4096 programs and trains one epoch of LambdaRank on
// the newest ones plus a replayed sample, at most 512 programs.

} // namespace tcl

#endif // TCL_COSTMODEL_LEARNEDCOSTMODEL_H
