//===- Preprocess.cpp - Imported networks to fused Linalg on tensors ------===//
//
// `--tcl-preprocess`: elementwise fusion, canonicalization and CSE of an
// imported network, as a nested upstream pipeline.
//
//===----------------------------------------------------------------------===//

#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
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
    ModuleOp module = getOperation();
    // Elementwise fusion only: a producer is fused into its consumer when
    // both are all-parallel `linalg.generic` ops and the consumer is the
    // producer's only user. Upstream's
    // `--linalg-fuse-elementwise-ops` also propagates reshapes through
    // named contractions (turning a matmul into a generic reduction) and
    // fuses elementwise producers into reductions, where they are then
    // recomputed once per reduction step.
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          auto producer = fused->get().getDefiningOp<linalg::GenericOp>();
          auto consumer = dyn_cast<linalg::GenericOp>(fused->getOwner());
          // A producer with other users would be computed twice.
          return producer && consumer && producer->hasOneUse() &&
                 producer.getNumReductionLoops() == 0 &&
                 consumer.getNumReductionLoops() == 0;
        });
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();

    OpPassManager pm(ModuleOp::getOperationName());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    if (failed(runPipeline(pm, module)))
      return signalPassFailure();
    splitSharedFills(module);
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
