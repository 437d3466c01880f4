//===- Distill.h - Continual knowledge distillation across platforms -*- C++ -*-===//
//
// Carries a cost model along a sequence of hardware platforms P1, P2, ...
// with a small labelled sample of each new platform, without the earlier
// platforms' data, without forgetting them and without growing.
//
// One Mamba model (TorchModels.h) serves every platform: the platform
// enters as a one-hot over kPlatformSlots slots appended to the workload
// embedding (LearnedCostModel.h), which also scales and shifts the final
// hidden state (FiLM, MambaConfig::platformSlots), so the parameter count
// is fixed when the first model is created and stays the same for up to
// kPlatformSlots platforms. A model's sidecar lists its platforms in slot
// order; the tuner predicts with the slot of its target.
//
// A stage trains the model for a new platform p (slot s) from the previous
// model T (the teacher, frozen) and these data of p only: a labelled sample
// L (measure records, e.g. 10% chosen by tcl-dataset --sampler=rdu) and
// unlabelled programs U of the same tasks (random schedules of their
// search spaces: they cost no measurement). The student S starts as a copy
// of T. Its loss (method CKD):
//
//   loss = LambdaRank(S(L, s), labels)
//        + alpha * sum over earlier slots j of KD(S(U, j), T(U, j))
//        + beta  * KD(S(U, s), T(U, s_prev))
//        + gamma * KD(S(U, s), A(U, s))
//
//   KD(a, b) = tau^2 * mean over tasks g of
//              KL(softmax(b_g / tau) || softmax(a_g / tau)),
//
// the listwise distillation of one score vector into another within each
// task (ListNet's top-one probabilities, Cao et al., ICML 2007, with
// Hinton et al.'s temperature, "Distilling the Knowledge in a Neural
// Network", 2015). KD is 0 exactly when the two score vectors of every
// task agree up to a shift. The alpha term keeps the earlier platforms'
// rankings on the new platform's programs, so nothing of their data is
// needed (Learning without Forgetting, Li & Hoiem, ECCV 2016); the beta
// term uses the previous platform's ranking as a prior for the new one on
// programs without labels, which matters when the sample is small. The
// gamma term is Progress & Compress (Schwarz et al., ICML 2018, sections 2
// and 3): before the CKD loop the stage trains an active column A, a copy
// of the student fine-tuned on L alone (free to forget: it serves no other
// platform), and the CKD loop then compresses A's ranking of the new
// platform into the one shared model on U, which carries L's labels over
// ~20x more programs than L has. Each step takes one batch of L and one
// batch of U (a few whole tasks each) and adds every term on that U batch.
// EWC's penalty (Kirkpatrick et al., PNAS 2017) is not used: its Fisher
// information needs the earlier platforms' data or labels, which a stage
// does not have; the alpha term plays its role.
//
// Baselines with the same model and data:
//   FineTune: S = copy of T, LambdaRank on L only (forgets).
//   Scratch:  a fresh model, LambdaRank on L only.
//   MTL:      a fresh model trained on the labelled data of every platform
//             together, each with its slot (multi-task learning as in
//             MTL-TLP, Zhai et al.; needs all platforms' data at once; here
//             the platform one-hot replaces its per-platform heads, so it
//             has the same parameter count).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_DISTILL_DISTILL_H
#define TCL_DISTILL_DISTILL_H

#include "tcl/CostModel/LearnedCostModel.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tcl {

enum class DistillMethod { CKD, FineTune, Scratch, MTL };

/// "ckd", "finetune", "scratch", "mtl".
llvm::StringRef stringifyDistillMethod(DistillMethod method);
llvm::Expected<DistillMethod> parseDistillMethod(llvm::StringRef name);

/// A model of a platform sequence: the network and the platform of each
/// used slot, in slot order.
struct ContinualModel {
  std::shared_ptr<RankingModel> model;
  std::string kind;
  unsigned maxLength = 64;
  std::vector<std::string> platforms;
  /// The slot of `platformId`, or -1.
  int64_t slotOf(llvm::StringRef platformId) const;
};

/// Where a continual model's overrides are silent: defaultModelConfig's
/// Mamba (d_model 32, d_state 8, input_norm) with a FiLM before every
/// block, the architecture that forgot least and did best on the new
/// platforms in docs/results/continual-v3.md (3 seeds; 23,905 parameters).
inline constexpr const char *kContinualDefaults = R"({"platform_film":1})";

/// The default architecture of a continual model of `kind` (mamba only): as
/// defaultModelConfig(kind, kContinualDefaults with `overrides` applied)
/// with a workload embedding kPlatformSlots wider and the platform FiLM
/// (MambaConfig::platformSlots). Errors for other kinds and as
/// defaultModelConfig.
llvm::Expected<std::string> continualModelConfig(llvm::StringRef kind,
                                                 llvm::StringRef overrides = "");

/// A fresh continual model from `config` (continualModelConfig), no
/// platforms yet.
llvm::Expected<ContinualModel> createContinualModel(llvm::StringRef kind,
                                                    const std::string &config,
                                                    unsigned maxLength,
                                                    uint64_t seed);

/// Loads a continual model saved by saveContinualModel (its sidecar must
/// list platforms, and the feature versions must be this build's).
llvm::Expected<ContinualModel> loadContinualModel(llvm::StringRef path);

/// Saves the model and a sidecar with its platforms and `trained` facts.
llvm::Error saveContinualModel(const ContinualModel &model,
                               llvm::StringRef path,
                               const llvm::json::Object &trained = {});

/// Copies the weights of `from` into `to` (same describeConfig()).
llvm::Error copyWeights(RankingModel &from, RankingModel &to);

/// The KD term of the file comment for scores `student` and `teacher`
/// (float [N], student with gradient) of programs in tasks `groups` (int64
/// [N]); a differentiable scalar, 0 for N = 0.
torch::Tensor distillationLoss(const torch::Tensor &student,
                               const torch::Tensor &teacher,
                               const torch::Tensor &groups,
                               double temperature);

struct DistillOptions {
  DistillMethod method = DistillMethod::CKD;
  /// Weights of the forgetting and transfer terms, and the temperature.
  double alpha = 1.0;
  /// 0 since 2026-12-03: with the per-block FiLM it forgets least and does
  /// as well on the new platform (docs/results/continual-v3.md).
  double beta = 0.0;
  /// Weight of the active column's ranking of the new platform (Progress &
  /// Compress; 0: no active column is trained).
  double gamma = 0.0;
  double temperature = 1.0;
  /// CKD and FineTune, for a platform the previous model does not have:
  /// true: its slot starts as a copy of the previous model's most recent
  /// platform (RankingModel::copyPlatformSlot), so the student starts at
  /// the zero-shot model; false (default): as initialised (zero FiLM: the
  /// shared trunk without any platform's modulation). Copying helps
  /// fine-tuning on a new platform but makes CKD forget more
  /// (docs/results/continual-v3.md).
  bool copyPreviousSlot = false;
  /// Epochs over L, learning rate, seed, batching (the ranking loss is
  /// always LambdaRank). train.validate is ignored: see validation.
  TrainOptions train;
  /// Labelled programs of the new platform held out of the stage's sample
  /// (sequence form without the platform slot, labels and groups set): when
  /// not empty, every method keeps the student's weights with the best
  /// top-1 on them (meanGroupTop1 through the new platform's slot;
  /// CheckpointSelector, Trainer.h), of its starting weights and every
  /// epoch's. A Progress & Compress active column is trained without it.
  RankingData validation;
  /// Called with the name of each training phase as it starts ("active
  /// column", "compress") when a stage has more than one; may be empty.
  std::function<void(llvm::StringRef)> phase;
  /// Kind, architecture (continualModelConfig) and token length of fresh
  /// models when there is no previous model to copy them from.
  std::string kind = "mamba";
  std::string config;
  unsigned maxLength = 64;
};

/// Labelled or unlabelled programs of one platform, in the sequence form
/// (RankingData without the platform slot; labels ignored for unlabelled).
struct PlatformPrograms {
  std::string platform;
  RankingData data;
};

/// What a stage produced.
struct StageResult {
  ContinualModel model;
  double trainSeconds = 0;
  int64_t labeledPrograms = 0, unlabeledPrograms = 0;
  std::vector<double> epochLosses;
  /// With DistillOptions::validation: the validation top-1 of the start
  /// (index 0) and after each epoch, and the epoch kept (0: the start; -1:
  /// none finite, the last weights kept).
  std::vector<double> validationTop1;
  int64_t bestEpoch = -1;
};

/// Trains the model of a new platform `labeled.platform` (see the file
/// comment). `previous` is the teacher (CKD, FineTune; null for the first
/// platform, which is trained like Scratch; ignored by Scratch and MTL);
/// `unlabeled` is used by CKD only. MTL trains on `allLabeled` (every
/// platform's labelled data, `labeled` included or not: platforms are
/// matched by id). The new platform gets the next slot, or keeps its slot
/// when `previous` already has it. Errors: no labelled programs, more than
/// kPlatformSlots platforms, a statement-form model, training failures.
llvm::Expected<StageResult>
trainStage(const ContinualModel *previous, const PlatformPrograms &labeled,
           const PlatformPrograms &unlabeled,
           const std::vector<PlatformPrograms> &allLabeled,
           const DistillOptions &options);

} // namespace tcl

#endif // TCL_DISTILL_DISTILL_H
