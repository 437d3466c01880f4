//===- LowerToNVVM.cpp - Scheduled Linalg on tensors to PTX ---------------===//
//
// The GPU lowering. A GPU schedule (see lib/Space/GPUSketchRules.cpp) leaves
// each task as a block-level `scf.forall` (mapped to `#gpu.block<...>`)
// holding thread-level `scf.forall`s (mapped to `#gpu.thread<...>`), on
// tensors. This pass bufferizes the module, turns every block-level forall
// into a `gpu.launch` with the upstream transform ops
// `transform.gpu.map_forall_to_blocks generate_gpu_launch` and
// `transform.gpu.map_nested_forall_to_threads` (block dims read off the
// thread-level loops), outlines the kernels, gives their workgroup-memory
// allocations static `.shared` storage, and runs the upstream
// `gpu-lower-to-nvvm-pipeline` down to a `gpu.binary` per kernel.
//
//===----------------------------------------------------------------------===//

#include "tcl/Target/Target.h"
#include "tcl/Transforms/GPUProgram.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/TransformOps/BufferizationTransformOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/TransformOps/GPUTransformOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/TransformOps/DialectExtension.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <array>
#include <mutex>

namespace tcl {
#define GEN_PASS_DEF_TCLLOWERTONVVM
#include "tcl/Transforms/Passes.h.inc"
} // namespace tcl

using namespace mlir;

/// Marks block-level foralls for the mapping script.
static constexpr llvm::StringLiteral kKernelAttr = "tcl.kernel";

/// Same bufferization as the CPU lowering, up to the function boundaries;
/// the host side keeps returning its result buffers.
static std::string bufferizePipeline() {
  return "canonicalize,"
         "one-shot-bufferize{bufferize-function-boundaries=1 "
         "function-boundary-type-conversion=identity-layout-map},"
         "cse,canonicalize";
}

/// The upstream NVVM pipeline for `target`, producing `format`.
static std::string nvvmPipeline(const tcl::Target &target, StringRef format) {
  return ("gpu-lower-to-nvvm-pipeline{cubin-chip=" + target.cpu +
          " cubin-features=" + target.features + " cubin-format=" + format +
          "}")
      .str();
}

static void parseOrDie(StringRef pipeline, OpPassManager &pm) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("tcl: malformed built-in GPU pipeline: " +
                             llvm::Twine(pipeline));
}

namespace {
/// The launch a block-level forall needs.
struct KernelLaunch {
  scf::ForallOp forall;
  /// Grid and block dims, x, y, z.
  std::array<int64_t, 3> grid = {1, 1, 1};
  std::array<int64_t, 3> block = {1, 1, 1};
};
} // namespace

/// Trip counts of the dims of `forall`, or failure when one is dynamic.
static FailureOr<SmallVector<int64_t>> tripCounts(scf::ForallOp forall) {
  SmallVector<int64_t> counts;
  for (auto [lb, ub, step] :
       llvm::zip(forall.getStaticLowerBound(), forall.getStaticUpperBound(),
                 forall.getStaticStep())) {
    if (ShapedType::isDynamic(lb) || ShapedType::isDynamic(ub) ||
        ShapedType::isDynamic(step) || step <= 0)
      return failure();
    counts.push_back(llvm::divideCeil(ub - lb, step));
  }
  return counts;
}

template <typename MappingAttr>
static bool isMappedTo(scf::ForallOp forall) {
  std::optional<ArrayAttr> mapping = forall.getMapping();
  return mapping && !mapping->empty() &&
         llvm::all_of(*mapping, llvm::IsaPred<MappingAttr>);
}

static std::string dimsString(ArrayRef<int64_t> dims) {
  return llvm::formatv("{0}x{1}x{2}", dims[0], dims[1], dims[2]).str();
}

/// Grid and block dims of the kernel of `forall`, checked against the
/// target's limits. The block has as many threads along x, y, z as the
/// largest thread-level loop mapped there; loops mapped to linear thread ids
/// (copies into shared memory) must fit the block's thread count.
static FailureOr<KernelLaunch> planLaunch(scf::ForallOp forall,
                                          const tcl::Target &target) {
  KernelLaunch launch;
  launch.forall = forall;
  FailureOr<SmallVector<int64_t>> grid = tripCounts(forall);
  if (failed(grid))
    return forall.emitError("tcl: a block-level scf.forall needs static trip "
                            "counts to become a GPU kernel");
  for (auto [attr, n] : llvm::zip(*forall.getMapping(), *grid)) {
    auto mapping = cast<DeviceMappingAttrInterface>(attr);
    if (mapping.isLinearMapping())
      return forall.emitError("tcl: linear block mappings are not supported; "
                              "map block-level loops to #gpu.block<x|y|z>");
    launch.grid[mapping.getMappingId()] = n;
  }
  int64_t linearThreads = 1;
  WalkResult walk = forall.getBody()->walk([&](scf::ForallOp inner) {
    if (!isMappedTo<gpu::GPUThreadMappingAttr>(inner))
      return WalkResult::advance();
    FailureOr<SmallVector<int64_t>> counts = tripCounts(inner);
    if (failed(counts)) {
      inner.emitError("tcl: a thread-level scf.forall needs static trip "
                      "counts");
      return WalkResult::interrupt();
    }
    int64_t product = 1;
    for (auto [attr, n] : llvm::zip(*inner.getMapping(), *counts)) {
      auto mapping = cast<DeviceMappingAttrInterface>(attr);
      product *= n;
      if (!mapping.isLinearMapping())
        launch.block[mapping.getMappingId()] =
            std::max(launch.block[mapping.getMappingId()], n);
    }
    if (llvm::any_of(*inner.getMapping(), [](Attribute attr) {
          return cast<DeviceMappingAttrInterface>(attr).isLinearMapping();
        }))
      linearThreads = std::max(linearThreads, product);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  int64_t threads = launch.block[0] * launch.block[1] * launch.block[2];
  if (threads == 1) {
    launch.block[0] = linearThreads;
    threads = linearThreads;
  } else if (linearThreads > threads) {
    return forall.emitError("tcl: a thread-level loop of this GPU kernel has ")
           << linearThreads << " iterations, more than the " << threads
           << " threads of its block (" << dimsString(launch.block) << ")";
  }
  const tcl::GPULimits &limits = target.gpu;
  if (threads > limits.maxThreadsPerBlock)
    return forall.emitError("tcl: GPU kernel needs ")
           << threads << " threads per block (" << dimsString(launch.block)
           << "), more than the limit of " << limits.maxThreadsPerBlock
           << " on " << target.str();
  static constexpr char kDims[] = "xyz";
  for (unsigned d = 0; d < 3; ++d) {
    if (launch.block[d] > limits.maxBlockDims[d])
      return forall.emitError("tcl: GPU kernel needs ")
             << launch.block[d] << " threads along " << kDims[d]
             << ", more than the limit of " << limits.maxBlockDims[d]
             << " on " << target.str();
    if (launch.grid[d] > limits.maxGridDims[d])
      return forall.emitError("tcl: GPU kernel needs ")
             << launch.grid[d] << " blocks along " << kDims[d]
             << ", more than the limit of " << limits.maxGridDims[d] << " on "
             << target.str();
  }
  return launch;
}

/// Maps the block-level foralls of `module` to `gpu.launch` ops: a transform
/// script with one `map_forall_to_blocks generate_gpu_launch` and one
/// `map_nested_forall_to_threads` per kernel, applied by the interpreter.
static LogicalResult mapKernels(ModuleOp module, const tcl::Target &target) {
  SmallVector<scf::ForallOp> kernels;
  module.walk([&](scf::ForallOp forall) {
    if (isMappedTo<gpu::GPUBlockMappingAttr>(forall) &&
        !forall->getParentOfType<scf::ForallOp>())
      kernels.push_back(forall);
  });
  if (kernels.empty())
    return success();
  std::string script;
  llvm::raw_string_ostream os(script);
  os << "module attributes {transform.with_named_sequence} {\n"
     << "  transform.named_sequence @__transform_main(%root: "
        "!transform.any_op {transform.readonly}) {\n";
  OpBuilder b(module.getContext());
  for (auto [i, forall] : llvm::enumerate(kernels)) {
    FailureOr<KernelLaunch> launch = planLaunch(forall, target);
    if (failed(launch))
      return failure();
    forall->setAttr(kKernelAttr, b.getI64IntegerAttr(i));
    os << llvm::formatv(
        "    %k{0} = transform.structured.match ops{{[\"scf.forall\"]} "
        "attributes {{{1} = {0} : i64} in %root : (!transform.any_op) -> "
        "!transform.any_op\n"
        "    %g{0} = transform.gpu.map_forall_to_blocks %k{0} "
        "generate_gpu_launch : (!transform.any_op) -> !transform.any_op\n"
        "    transform.gpu.map_nested_forall_to_threads %g{0} block_dims = "
        "[{2}, {3}, {4}] : (!transform.any_op) -> !transform.any_op\n",
        i, kKernelAttr, launch->block[0], launch->block[1], launch->block[2]);
  }
  os << "    transform.yield\n  }\n}\n";
  ParserConfig config(module.getContext());
  OwningOpRef<ModuleOp> library =
      parseSourceString<ModuleOp>(script, config, "gpu-mapping");
  if (!library)
    return module.emitError("tcl: internal error: the GPU mapping script "
                            "does not parse");
  auto entry = library->lookupSymbol<transform::NamedSequenceOp>(
      transform::TransformDialect::kTransformEntryPointSymbolName);
  transform::TransformOptions options;
  if (failed(transform::applyTransformNamedSequence(module, entry, *library,
                                                    options)))
    return failure();
  module.walk([](gpu::LaunchOp launch) {
    launch.walk([](Operation *op) { op->removeAttr(kKernelAttr); });
  });
  return success();
}

/// Every Linalg op must run in a kernel: host code cannot touch the device
/// buffers the kernels work on.
static LogicalResult checkEverythingInKernels(ModuleOp module,
                                              const tcl::Target &target) {
  WalkResult walk = module.walk([&](linalg::LinalgOp op) {
    if (op->getParentOfType<gpu::LaunchOp>())
      return WalkResult::advance();
    op->emitError("tcl: ")
        << op->getName() << " is not in a GPU kernel; give its task a GPU "
        << "schedule first (--tcl-apply-schedules=\"target=" << target.str()
        << "\")";
    return WalkResult::interrupt();
  });
  return failure(walk.wasInterrupted());
}

/// Rewrites `memref.copy` in kernels into `linalg.copy`, which becomes loops;
/// the LLVM lowering of a strided `memref.copy` calls a host runtime function.
static void copiesToLinalg(ModuleOp module) {
  SmallVector<memref::CopyOp> copies;
  module.walk([&](gpu::LaunchOp launch) {
    launch.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  });
  for (memref::CopyOp copy : copies) {
    OpBuilder b(copy);
    linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                           copy.getTarget());
    copy.erase();
  }
}

/// Lets the floating-point arithmetic in kernels contract (`contract`
/// fast-math flag): a multiply feeding an add becomes one `fma.rn` in the
/// PTX instead of `mul.rn` + `add.rn`, one instruction and one rounding
/// instead of two, as CUDA compiles `a * b + c` by default (nvcc
/// `--fmad=true`).
static void allowContraction(ModuleOp module) {
  module.walk([&](gpu::LaunchOp launch) {
    launch.walk([&](arith::ArithFastMathInterface op) {
      op->setAttr(op.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(
                      op->getContext(),
                      op.getFastMathFlagsAttr().getValue() |
                          arith::FastMathFlags::contract));
    });
  });
}

/// Bytes of a statically shaped memref.
static int64_t memrefBytes(MemRefType type) {
  return type.getNumElements() *
         llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

/// Turns each workgroup-memory `memref.alloc` of an outlined kernel into a
/// workgroup attribution (a `.shared` array in the PTX), aligned for vector
/// access, and drops its deallocation. A buffer allocated in a loop gets one
/// attribution for all iterations: the schedules allocate shared tiles per
/// reduction step and separate the steps with barriers. Fails when a kernel
/// needs more shared memory than the target allows per block.
static LogicalResult allocsToAttributions(ModuleOp module,
                                          const tcl::Target &target) {
  WalkResult walk = module.walk([&](gpu::GPUFuncOp func) {
    if (!func.isKernel())
      return WalkResult::advance();
    int64_t bytes = 0;
    for (BlockArgument arg : func.getWorkgroupAttributions())
      bytes += memrefBytes(cast<MemRefType>(arg.getType()));
    SmallVector<memref::AllocOp> allocs;
    func.walk([&](memref::AllocOp alloc) {
      if (gpu::GPUDialect::isWorkgroupMemoryAddressSpace(
              alloc.getType().getMemorySpace()))
        allocs.push_back(alloc);
    });
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
        alloc.emitError("tcl: shared-memory buffers need a static shape and "
                        "identity layout, got ")
            << type;
        return WalkResult::interrupt();
      }
      bytes += memrefBytes(type);
      BlockArgument attribution =
          func.addWorkgroupAttribution(type, alloc.getLoc());
      func.setWorkgroupAttributionAttr(
          func.getWorkgroupAttributions().size() - 1,
          LLVM::LLVMDialect::getAlignAttrName(),
          IntegerAttr::get(IntegerType::get(func.getContext(), 64), 16));
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.replaceAllUsesWith(attribution);
      alloc.erase();
    }
    if (bytes > target.gpu.sharedMemoryPerBlock) {
      func.emitError("tcl: GPU kernel @")
          << func.getName() << " uses " << bytes
          << " bytes of shared memory, more than the limit of "
          << target.gpu.sharedMemoryPerBlock << " bytes per block on "
          << target.str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

/// The element type of a GPUBuffer ("f32", ...), or "" for other types.
static std::string elementTypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isF64())
    return "f64";
  for (unsigned width : {8u, 32u, 64u})
    if (type.isSignlessInteger(width))
      return "i" + std::to_string(width);
  return "";
}

namespace {
/// Reads the GPUProgram off a host function after kernel outlining.
class ProgramCollector {
public:
  explicit ProgramCollector(func::FuncOp func) : func(func) {
    program.function = func.getName().str();
  }

  FailureOr<tcl::GPUProgram> collect() {
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type)
        return func.emitError("tcl: GPU program of @")
               << func.getName() << ": argument #" << arg.getArgNumber()
               << " is not a memref but " << arg.getType();
      if (failed(addBuffer(arg, type, arg.getArgNumber(), func)))
        return failure();
    }
    if (!func.getBody().hasOneBlock())
      return func.emitError("tcl: GPU program of @")
             << func.getName() << ": the host function has control flow";
    for (Operation &op : func.getBody().front()) {
      if (isa<arith::ConstantOp, memref::DeallocOp>(op))
        continue;
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (failed(addBuffer(alloc, alloc.getType(), -1, alloc)))
          return failure();
      } else if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op)) {
        if (failed(addLaunch(launch)))
          return failure();
      } else if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        if (ret.getNumOperands() > 1)
          return ret.emitError("tcl: GPU program of @")
                 << func.getName() << ": more than one result";
        if (ret.getNumOperands() == 1) {
          auto it = buffers.find(ret.getOperand(0));
          if (it == buffers.end())
            return ret.emitError("tcl: GPU program of @")
                   << func.getName()
                   << ": the result is not an argument or an allocation";
          program.result = it->second;
        }
      } else {
        return op.emitError("tcl: GPU program of @")
               << func.getName() << ": a runner replays only buffer "
               << "allocations and kernel launches, not host op '"
               << op.getName() << "'";
      }
    }
    return std::move(program);
  }

private:
  LogicalResult addBuffer(Value value, MemRefType type, int64_t argument,
                          Operation *at) {
    std::string element = elementTypeName(type.getElementType());
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        element.empty() || type.getMemorySpace())
      return at->emitError("tcl: GPU program of @")
             << func.getName() << ": device buffers need a static shape, "
             << "identity layout, default memory space and a f16, bf16, "
             << "f32, f64, i8, i32 or i64 element type, got " << type;
    tcl::GPUBuffer buffer;
    buffer.elementType = element;
    buffer.shape.assign(type.getShape().begin(), type.getShape().end());
    buffer.argument = argument;
    buffers[value] = static_cast<int64_t>(program.buffers.size());
    program.buffers.push_back(std::move(buffer));
    return success();
  }

  LogicalResult addLaunch(gpu::LaunchFuncOp launch) {
    tcl::GPULaunch out;
    out.module = launch.getKernelModuleName().str();
    out.kernel = launch.getKernelName().str();
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    Value sizes[] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
    for (auto [i, size] : llvm::enumerate(sizes)) {
      std::optional<int64_t> value = getConstantIntValue(size);
      if (!value)
        return launch.emitError("tcl: GPU program of @")
               << func.getName() << ": launch sizes must be constants";
      (i < 3 ? out.grid[i] : out.block[i - 3]) = *value;
    }
    if (launch.hasClusterSize() || launch.getDynamicSharedMemorySize())
      return launch.emitError("tcl: GPU program of @")
             << func.getName()
             << ": clusters and dynamic shared memory are not supported";
    for (Value operand : launch.getKernelOperands()) {
      tcl::GPUOperand o;
      if (isa<MemRefType>(operand.getType())) {
        auto it = buffers.find(operand);
        if (it == buffers.end())
          return launch.emitError("tcl: GPU program of @")
                 << func.getName() << ": a kernel operand is neither an "
                 << "argument nor an allocation of the host function";
        o.buffer = it->second;
      } else if (APInt i; matchPattern(operand, m_ConstantInt(&i))) {
        o.kind = tcl::GPUOperand::Kind::Integer;
        o.intValue = i.getSExtValue();
        unsigned width = operand.getType().isIndex()
                             ? 64
                             : operand.getType().getIntOrFloatBitWidth();
        if (width != 32 && width != 64)
          return launch.emitError("tcl: GPU program of @")
                 << func.getName() << ": unsupported scalar kernel operand "
                 << "type " << operand.getType();
        o.type = "i" + std::to_string(width);
      } else if (APFloat f(0.0);
                 matchPattern(operand, m_ConstantFloat(&f)) &&
                 !elementTypeName(operand.getType()).empty()) {
        o.kind = tcl::GPUOperand::Kind::Float;
        bool lost = false;
        f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
        o.floatValue = f.convertToDouble();
        o.type = elementTypeName(operand.getType());
      } else {
        return launch.emitError("tcl: GPU program of @")
               << func.getName() << ": kernel operands must be buffers or "
               << "f16, bf16, f32, f64, i32, i64 or index constants, got "
               << operand.getType();
      }
      out.operands.push_back(std::move(o));
    }
    program.launches.push_back(std::move(out));
    return success();
  }

  func::FuncOp func;
  tcl::GPUProgram program;
  llvm::DenseMap<Value, int64_t> buffers;
};
} // namespace

/// The GPUProgram of every host function of `module` that launches kernels.
static FailureOr<SmallVector<tcl::GPUProgram>> collectPrograms(ModuleOp module) {
  SmallVector<tcl::GPUProgram> programs;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || func.getOps<gpu::LaunchFuncOp>().empty())
      continue;
    FailureOr<tcl::GPUProgram> program = ProgramCollector(func).collect();
    if (failed(program))
      return failure();
    programs.push_back(std::move(*program));
  }
  return programs;
}

/// Fills GPUProgram::ptx from the `gpu.binary` ops of the lowered `module`.
static LogicalResult addPTX(ModuleOp module,
                            MutableArrayRef<tcl::GPUProgram> programs) {
  for (tcl::GPUProgram &program : programs)
    for (const tcl::GPULaunch &launch : program.launches) {
      auto binary = module.lookupSymbol<gpu::BinaryOp>(launch.module);
      std::optional<std::string> text;
      if (binary)
        for (Attribute attr : binary.getObjects())
          if (auto object = dyn_cast<gpu::ObjectAttr>(attr))
            if (object.getFormat() == gpu::CompilationTarget::Assembly)
              text = object.getObject().str();
      if (!text)
        return module.emitError("tcl: no PTX for kernel module @")
               << launch.module;
      program.ptx[launch.module] = std::move(*text);
    }
  return success();
}

static LogicalResult writePlan(ModuleOp module,
                               ArrayRef<tcl::GPUProgram> programs,
                               StringRef path) {
  llvm::json::Array array;
  for (const tcl::GPUProgram &program : programs)
    array.push_back(tcl::toJSON(program));
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &error);
  if (!out)
    return module.emitError("tcl: cannot write the GPU plan to '")
           << path << "': " << error;
  out->os() << llvm::formatv("{0:2}", llvm::json::Value(std::move(array)))
            << "\n";
  out->keep();
  return success();
}

/// Writes the PTX of every `gpu.binary` of `module` to `path`; with several
/// kernels, `<path>` gets the name of each binary before its extension
/// (`out.ptx` → `out.<kernel>.ptx`).
static LogicalResult writePTX(ModuleOp module, StringRef path) {
  SmallVector<std::pair<std::string, std::string>> ptx;
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute attr : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(attr))
        if (object.getFormat() == gpu::CompilationTarget::Assembly)
          ptx.push_back({binary.getSymName().str(), object.getObject().str()});
  for (auto &[name, text] : ptx) {
    std::string file = path.str();
    if (ptx.size() > 1) {
      StringRef ext = llvm::sys::path::extension(path);
      file = (path.drop_back(ext.size()) + "." + name + ext).str();
    }
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(file, &error);
    if (!out)
      return module.emitError("tcl: cannot write PTX to '")
             << file << "': " << error;
    out->os() << text;
    out->keep();
  }
  return success();
}

namespace {
struct LowerToNVVMPass : public tcl::impl::TCLLowerToNVVMBase<LowerToNVVMPass> {
  using Base::Base;
  LowerToNVVMPass(const tcl::TCLLowerToNVVMOptions &options,
                  SmallVectorImpl<tcl::GPUProgram> *sink)
      : Base(options), sink(sink) {}
  void runOnOperation() override;
  /// Where createTCLLowerToNVVM() wants the programs; may be null.
  SmallVectorImpl<tcl::GPUProgram> *sink = nullptr;
  /// The nested pipelines and the mapping script create ops of many
  /// dialects; they must be loaded before the pass runs.
  void getDependentDialects(DialectRegistry &registry) const override {
    static std::once_flag registered;
    std::call_once(registered, [] { registerAllPasses(); });
    registry.insert<transform::TransformDialect, gpu::GPUDialect,
                    scf::SCFDialect, linalg::LinalgDialect,
                    memref::MemRefDialect, LLVM::LLVMDialect>();
    linalg::registerTransformDialectExtension(registry);
    gpu::registerTransformDialectExtension(registry);
    bufferization::registerTransformDialectExtension(registry);
    tcl::Target anyTarget;
    anyTarget.cpu = "sm_90";
    anyTarget.features = "+ptx80";
    OpPassManager pm(ModuleOp::getOperationName());
    parseOrDie(bufferizePipeline(), pm);
    parseOrDie("func.func(convert-linalg-to-loops),gpu-kernel-outlining", pm);
    parseOrDie(nvvmPipeline(anyTarget, "isa"), pm);
    pm.getDependentDialects(registry);
  }
};
} // namespace

void LowerToNVVMPass::runOnOperation() {
  ModuleOp module = getOperation();
  llvm::Expected<tcl::Target> parsed = tcl::Target::parse(target);
  if (!parsed) {
    module.emitError(llvm::toString(parsed.takeError()));
    return signalPassFailure();
  }
  if (!parsed->isGPU()) {
    module.emitError("--tcl-lower-to-nvvm needs a GPU target (cuda:sm_80 or "
                     "cuda:sm_90), got '")
        << target << "'; use --tcl-lower-to-cpu for CPU targets";
    return signalPassFailure();
  }
  if (format != "isa" && format != "bin" && format != "fatbin") {
    module.emitError("--tcl-lower-to-nvvm: unknown format '")
        << format << "' (expected isa, bin or fatbin)";
    return signalPassFailure();
  }
  if ((!output.empty() || !plan.empty() || sink) && format != "isa") {
    module.emitError("--tcl-lower-to-nvvm: output=<file> and plan=<file> "
                     "write PTX and need format=isa");
    return signalPassFailure();
  }
  OpBuilder b(&getContext());
  module->setAttr("tcl.target", b.getStringAttr(parsed->str()));
  module->setAttr("tcl.target_cpu", b.getStringAttr(parsed->cpu));
  module->setAttr("tcl.target_features", b.getStringAttr(parsed->features));

  OpPassManager bufferize(ModuleOp::getOperationName());
  parseOrDie(bufferizePipeline(), bufferize);
  if (failed(runPipeline(bufferize, module)) ||
      failed(mapKernels(module, *parsed)) ||
      failed(checkEverythingInKernels(module, *parsed)))
    return signalPassFailure();

  // Bufferizing parallel_insert_slice leaves self-copies that CSE exposes
  // and canonicalization removes.
  OpPassManager cleanup(ModuleOp::getOperationName());
  parseOrDie("canonicalize,cse,canonicalize", cleanup);
  if (failed(runPipeline(cleanup, module)))
    return signalPassFailure();
  copiesToLinalg(module);
  allowContraction(module);
  OpPassManager outline(ModuleOp::getOperationName());
  parseOrDie("func.func(convert-linalg-to-loops),gpu-kernel-outlining",
             outline);
  if (failed(runPipeline(outline, module)) ||
      failed(allocsToAttributions(module, *parsed)))
    return signalPassFailure();
  SmallVector<tcl::GPUProgram> programs;
  if (!plan.empty() || sink) {
    FailureOr<SmallVector<tcl::GPUProgram>> collected =
        collectPrograms(module);
    if (failed(collected))
      return signalPassFailure();
    programs = std::move(*collected);
  }

  OpPassManager nvvm(ModuleOp::getOperationName());
  parseOrDie(nvvmPipeline(*parsed, format), nvvm);
  if (failed(runPipeline(nvvm, module)))
    return signalPassFailure();
  if (!output.empty() && failed(writePTX(module, output)))
    return signalPassFailure();
  if (programs.empty())
    return;
  if (failed(addPTX(module, programs)) ||
      (!plan.empty() && failed(writePlan(module, programs, plan))))
    return signalPassFailure();
  if (sink)
    sink->append(std::make_move_iterator(programs.begin()),
                 std::make_move_iterator(programs.end()));
}

std::unique_ptr<Pass>
tcl::createTCLLowerToNVVM(const TCLLowerToNVVMOptions &options,
                          SmallVectorImpl<GPUProgram> *programs) {
  return std::make_unique<LowerToNVVMPass>(options, programs);
}
