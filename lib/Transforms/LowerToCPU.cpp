//===- LowerToCPU.cpp - Scheduled Linalg on tensors to LLVM ---------------===//
//
// The CPU lowering is a fixed sequence of upstream passes. It is spelled as a
// textual pipeline so that it reads the same as the `mlir-opt` command line
// that reproduces it.
//
//===----------------------------------------------------------------------===//

#include "tcl/Target/Target.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <mutex>

namespace tcl {
#define GEN_PASS_DEF_TCLLOWERTOCPU
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;

/// The pipeline, in order (passes on the module). Ordering constraints that
/// are not obvious:
/// - canonicalize (not cse: it merges slices across loops and breaks
///   in-place loop results) first: tiling and fusion leave the original
///   untiled ops dead but in place, and bufferization would keep them.
/// - `convert-scf-to-openmp` wraps loop bodies in `memref.alloca_scope`,
///   whose region must stay a single block, so memref is lowered to LLVM
///   before `convert-scf-to-cf`.
/// - `convert-vector-to-scf` runs with `full-unroll=true`; without it
///   transfers get loops with allocas inside (stack overflow at run time).
/// - `drop-equivalent-buffer-results` and `buffer-results-to-out-params`
///   only touch private functions: public functions keep returning their
///   result memref, and their C interface takes a pointer to the result
///   descriptor as its first parameter (the runner handles this).
/// The part up to bufferization, and the rest; CopyToLinalgPass runs in
/// between.
static std::string bufferizePipeline() {
  return "canonicalize,"
         "one-shot-bufferize{bufferize-function-boundaries=1 "
         "function-boundary-type-conversion=identity-layout-map},"
         "cse,canonicalize,drop-equivalent-buffer-results,"
         "buffer-results-to-out-params{hoist-static-allocs=1},"
         "buffer-deallocation-pipeline,convert-bufferization-to-memref";
}

static std::string lowerToCPUPipeline(const tcl::Target &target) {
  return (llvm::Twine("func.func(convert-linalg-to-loops),") +
          "convert-vector-to-scf{full-unroll=1},"
          "scf-forall-to-parallel,"
          "convert-scf-to-openmp{num-threads=" +
          llvm::Twine(target.threads) +
          "},"
          "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
          "convert-scf-to-cf,convert-vector-to-llvm,convert-ub-to-llvm,"
          "convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
          "convert-openmp-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
          "convert-index-to-llvm,reconcile-unrealized-casts,canonicalize")
      .str();
}

namespace {
/// Rewrites `memref.copy` into `linalg.copy`, which becomes plain loops that
/// LLVM vectorizes. A copy into a strided view (the interior of a
/// `tensor.pad`'s buffer: 18 of them in ResNet-50) is otherwise lowered to a
/// call of the generic element-by-element `memrefCopy` of the runner
/// utilities.
struct CopyToLinalgPass
    : public PassWrapper<CopyToLinalgPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CopyToLinalgPass)
  StringRef getArgument() const final { return "tcl-copy-to-linalg"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect>();
  }
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (source && target && source.getRank() > 0 &&
          source.getElementType() == target.getElementType())
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};

/// Replaces `math.erf` / `math.erfc` with upstream's polynomial
/// approximations (arith and `math.exp`/`math.fma` ops, so the code stays
/// vectorized). Without it, the libm lowering scalarizes vector `erf` (GELU
/// in BERT's feed-forward layers) after the vector dialect was lowered.
struct ApproximateErfPass
    : public PassWrapper<ApproximateErfPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ApproximateErfPass)
  StringRef getArgument() const final { return "tcl-approximate-erf"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, math::MathDialect,
                    vector::VectorDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populatePolynomialApproximateErfPattern(patterns);
    populatePolynomialApproximateErfcPattern(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void tcl::buildLowerToCPUPipeline(OpPassManager &pm, const Target &target) {
  static std::once_flag registered;
  std::call_once(registered, [] { registerAllPasses(); });
  pm.addPass(std::make_unique<ApproximateErfPass>());
  if (failed(parsePassPipeline(bufferizePipeline(), pm, llvm::errs())))
    llvm::report_fatal_error("tcl: malformed built-in bufferization pipeline");
  pm.addPass(std::make_unique<CopyToLinalgPass>());
  std::string pipeline = lowerToCPUPipeline(target);
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("tcl: malformed built-in CPU pipeline: " +
                             llvm::Twine(pipeline));
}

namespace {
struct LowerToCPUPass : public tcl::impl::TCLLowerToCPUBase<LowerToCPUPass> {
  using Base::Base;
  void runOnOperation() override;
  /// The nested pipeline creates ops of many dialects; they must be loaded
  /// before the pass runs (dialects cannot be loaded while passes run).
  void getDependentDialects(DialectRegistry &registry) const override {
    OpPassManager pm(ModuleOp::getOperationName());
    tcl::Target anyTarget;
    tcl::buildLowerToCPUPipeline(pm, anyTarget);
    pm.getDependentDialects(registry);
  }
};
} // namespace

void LowerToCPUPass::runOnOperation() {
  ModuleOp module = getOperation();
  llvm::Expected<tcl::Target> parsed = tcl::Target::parse(target);
  if (!parsed) {
    module.emitError(llvm::toString(parsed.takeError()));
    return signalPassFailure();
  }
  if (parsed->isGPU()) {
    module.emitError("--tcl-lower-to-cpu got the GPU target '" +
                     parsed->str() + "'; use --tcl-lower-to-nvvm");
    return signalPassFailure();
  }
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(&getContext()));
  OpBuilder b(&getContext());
  module->setAttr("tcl.target", b.getStringAttr(parsed->str()));
  module->setAttr("tcl.target_cpu", b.getStringAttr(parsed->cpu));
  module->setAttr("tcl.target_features", b.getStringAttr(parsed->features));

  OpPassManager pm(ModuleOp::getOperationName());
  tcl::buildLowerToCPUPipeline(pm, *parsed);
  if (failed(runPipeline(pm, module)))
    return signalPassFailure();
}
