//===- Preprocess.cpp - Imported networks to fused Linalg on tensors ------===//
//
// `--tcl-preprocess`: elementwise fusion, canonicalization and CSE of an
// imported network, as a nested upstream pipeline.
//
//===----------------------------------------------------------------------===//

#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace tcl {
#define GEN_PASS_DEF_TCLPREPROCESS
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;

namespace {
struct PreprocessPass : public tcl::impl::TCLPreprocessBase<PreprocessPass> {
  using Base::Base;

  void runOnOperation() override {
    OpPassManager pm(ModuleOp::getOperationName());
    pm.addPass(createLinalgElementwiseOpFusionPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    if (failed(runPipeline(pm, getOperation())))
      return signalPassFailure();
    splitSharedFills(getOperation());
  }

  /// CSE merges identical `tensor.empty` + `linalg.fill` pairs, e.g. the
  /// zero accumulators of two convolutions of the same shape. Each use gets
  /// its own copy again, so that every task owns its fill (and fuses it)
  /// and bufferization does not have to copy a shared accumulator.
  static void splitSharedFills(ModuleOp module) {
    SmallVector<linalg::FillOp> shared;
    module.walk([&](linalg::FillOp fill) {
      if (!fill->getResult(0).hasOneUse() && !fill->use_empty())
        shared.push_back(fill);
    });
    OpBuilder b(module.getContext());
    for (linalg::FillOp fill : shared) {
      for (OpOperand &use : llvm::make_early_inc_range(
               llvm::drop_begin(fill->getResult(0).getUses()))) {
        b.setInsertionPoint(fill);
        IRMapping mapping;
        Value init = fill.getDpsInits()[0];
        if (auto empty = init.getDefiningOp<tensor::EmptyOp>())
          mapping.map(init, b.clone(*empty)->getResult(0));
        use.set(b.clone(*fill, mapping)->getResult(0));
      }
    }
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect, tensor::TensorDialect>();
  }
};
} // namespace
