//===- CostModel.h - Cost model interface ----------------------*- C++ -*-===//
//
// A cost model scores candidate schedules of a task; higher means faster.
// It is trained on normalized throughput, `min latency of the task /
// latency` in (0, 1] (0 for failed candidates), as in TenSet (NeurIPS'21,
// Sec. 4) and Ansor (OSDI'20, Sec. 5.2).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_COSTMODEL_H
#define TCL_COSTMODEL_COSTMODEL_H

#include "tcl/Space/SearchSpace.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace tcl {

/// What a cost model sees of a task.
struct TaskContext {
  /// The task's search space (knobs, loop structure); not owned.
  const SearchSpace *space = nullptr;
  /// The unscheduled kernel module as MLIR text (tcl::buildTaskKernel).
  std::string kernelText;
  /// FLOPs of one execution of the task.
  int64_t flops = 0;
};

class CostModel {
public:
  virtual ~CostModel();

  /// Short name: "random", "xgb", ...
  virtual llvm::StringRef getName() const = 0;

  /// One score per candidate, higher = predicted faster. Scores are only
  /// compared within one call.
  virtual std::vector<double> predict(const TaskContext &task,
                                      llvm::ArrayRef<Schedule> candidates) = 0;

  /// Online update with measured candidates of `task`: `throughputs[i]` is
  /// the normalized throughput of `schedules[i]` (0 for a failure).
  virtual void update(const TaskContext &task,
                      llvm::ArrayRef<Schedule> schedules,
                      llvm::ArrayRef<double> throughputs) = 0;

  /// Saves / loads the trained state. Errors name the file and the problem.
  virtual llvm::Error save(llvm::StringRef path) const = 0;
  virtual llvm::Error load(llvm::StringRef path) = 0;
};

/// A model that scores uniformly at random (seeded): the search then
/// degenerates to random sampling with evolution, the baseline of Ansor's
/// ablation (OSDI'20, Sec. 7.4).
std::unique_ptr<CostModel> createRandomCostModel(uint64_t seed);

/// A LibTorch cost model of `kind` ("mamba", "tlp", "mlp"): loaded from
/// `path` and its sidecar when `path` is not empty, else freshly initialized
/// from `seed`. A continual model (tcl-distill) predicts with its part for
/// `platformId` (tcl::Platform::id() of the tuning target) and fails, naming
/// the platforms it has, when it has none for it. Defined only in builds
/// with LibTorch (see LearnedCostModel.h).
llvm::Expected<std::unique_ptr<CostModel>>
createLearnedCostModel(llvm::StringRef kind, llvm::StringRef path,
                       uint64_t seed, llvm::StringRef platformId = "");

/// Creates a model from a spec: `random`, `xgb`, `xgb:<path>` (load a saved
/// model), or a LibTorch model `mamba`, `tlp`, `mlp` (freshly initialized)
/// or `mamba:<path>`, `tlp:<path>`, `mlp:<path>` (pretrained, see
/// LearnedCostModel.h). Fails with a message listing the known models, or
/// naming the file and the problem. `platformId` selects the part of a
/// continual model (createLearnedCostModel).
llvm::Expected<std::unique_ptr<CostModel>>
createCostModel(llvm::StringRef spec, uint64_t seed,
                llvm::StringRef platformId = "");

} // namespace tcl

#endif // TCL_COSTMODEL_COSTMODEL_H
