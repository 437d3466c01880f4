//===- Builder.cpp - Build scheduled kernels into shared objects ----------===//
//
// One build is: parse, apply the embedded schedule, --tcl-lower-to-cpu,
// translate to LLVM IR, O3, emit an object, link a shared object. Each build
// owns its MLIRContext and LLVMContext, so builds run in parallel threads
// without sharing mutable state; MLIR's own multithreading is disabled in
// those contexts because the parallelism is across builds.
//
//===----------------------------------------------------------------------===//

#include "tcl/Measure/Builder.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>
#include <mutex>

using namespace mlir;
using namespace tcl;

#ifndef TCL_LINKER
#error "TCL_LINKER must name the driver that links kernel shared objects"
#endif
#ifndef TCL_OMP_LIBRARY
#error "TCL_OMP_LIBRARY must name the OpenMP runtime kernels link against"
#endif

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

tcl::Builder::Builder(Target target, std::string workDir, unsigned jobs)
    : target(std::move(target)), workDir(std::move(workDir)), jobs(jobs),
      registry(std::make_unique<DialectRegistry>()) {
  registerTCLDialects(*registry);
  // Absolute, so that the runner's dlopen does not depend on its cwd.
  llvm::SmallString<256> absolute(this->workDir);
  if (std::error_code ec = llvm::sys::fs::make_absolute(absolute))
    setupError =
        "cannot make '" + this->workDir + "' absolute: " + ec.message();
  else if (std::error_code ec = llvm::sys::fs::create_directories(absolute))
    setupError =
        "cannot create work directory '" + this->workDir + "': " + ec.message();
  this->workDir = absolute.str().str();
  initializeNativeTarget();
}

tcl::Builder::~Builder() = default;

namespace {
/// The steps of one build; each returns failure with `message` set.
class BuildJob {
public:
  BuildJob(const Target &target, const DialectRegistry &registry,
           StringRef libraryPath, StringRef kernelName)
      : target(target), context(registry, MLIRContext::Threading::DISABLED),
        libraryPath(libraryPath), kernelName(kernelName) {}

  /// Runs every step, filling `result` (except the timing).
  void run(StringRef moduleText, BuildResult &result);

private:
  LogicalResult lowerToLLVMDialect(StringRef moduleText);
  LogicalResult emitObject(StringRef objectPath, unsigned &numKernelArgs,
                           bool &resultReturned);
  LogicalResult link(StringRef objectPath);

  LogicalResult fail(const llvm::Twine &why) {
    if (!message.empty() && message.back() != '\n')
      message += '\n';
    message += why.str();
    return failure();
  }

  const Target &target;
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::string libraryPath;
  std::string kernelName;
  std::string message;
};
} // namespace

LogicalResult BuildJob::lowerToLLVMDialect(StringRef moduleText) {
  module = parseSourceString<ModuleOp>(moduleText, ParserConfig(&context),
                                       "candidate");
  if (!module)
    return fail("failed to parse the kernel module");

  // Only modules that carry a schedule are scheduled; the default lowering
  // of an unscheduled module is what the reference uses. Transform ops
  // without an entry point (a library of sequences) are not lowerable.
  Operation *entry = SymbolTable::lookupSymbolIn(
      *module, transform::TransformDialect::kTransformEntryPointSymbolName);
  if (isa_and_nonnull<transform::NamedSequenceOp>(entry)) {
    if (failed(applyEmbeddedSchedule(*module)))
      return fail("failed to apply the embedded schedule");
  } else {
    eraseTransformScripts(*module);
  }

  PassManager pm(&context);
  TCLLowerToCPUOptions options;
  options.target = target.str();
  pm.addPass(createTCLLowerToCPU(options));
  if (failed(pm.run(*module)))
    return fail("failed to lower the kernel to the LLVM dialect");
  return success();
}

LogicalResult BuildJob::emitObject(StringRef objectPath,
                                   unsigned &numKernelArgs,
                                   bool &resultReturned) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "kernel");
  if (!llvmModule)
    return fail("failed to translate the kernel to LLVM IR");

  std::string cifaceName = "_mlir_ciface_" + kernelName;
  llvm::Function *ciface = llvmModule->getFunction(cifaceName);
  if (!ciface || ciface->isDeclaration())
    return fail("the lowered module defines no '" + cifaceName + "' (is '@" +
                kernelName + "' a public function?)");
  numKernelArgs = ciface->arg_size();
  // A kernel that returns a memref returns its descriptor struct
  // {ptr, ptr, i64, [rank x i64], [rank x i64]}; several results would be a
  // struct of such structs, which the runner does not support.
  llvm::Function *kernel = llvmModule->getFunction(kernelName);
  if (!kernel)
    return fail("the lowered module defines no '" + kernelName + "'");
  llvm::Type *returnType = kernel->getReturnType();
  resultReturned = !returnType->isVoidTy();
  if (resultReturned) {
    auto *descriptor = llvm::dyn_cast<llvm::StructType>(returnType);
    if (!descriptor || descriptor->getNumElements() == 0 ||
        !descriptor->getElementType(0)->isPointerTy())
      return fail("'@" + kernelName +
                  "' must return nothing or a single memref");
  }

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return fail("no LLVM target for '" + triple.str() + "': " + error);
  std::string cpu =
      target.cpu.empty() ? llvm::sys::getHostCPUName().str() : target.cpu;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, target.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return fail("cannot create a target machine for '" + triple.str() +
                "' (cpu '" + cpu + "')");
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);

  auto optimize =
      makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0, machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return fail("LLVM optimization failed: " + llvm::toString(std::move(err)));

  std::error_code ec;
  llvm::raw_fd_ostream os(objectPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + objectPath + "': " + ec.message());
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return fail("the target cannot emit object files");
  codegen.run(*llvmModule);
  os.close();
  if (os.has_error())
    return fail("cannot write '" + objectPath + "': " + os.error().message());
  return success();
}

LogicalResult BuildJob::link(StringRef objectPath) {
  llvm::SmallString<128> logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("tcl-link", "log", logPath))
    return fail("cannot create a temporary file for the linker output: " +
                ec.message());
  llvm::FileRemover removeLog(logPath);

  StringRef ompLibrary = TCL_OMP_LIBRARY;
  std::string rpath =
      ("-Wl,-rpath," + llvm::sys::path::parent_path(ompLibrary)).str();
  StringRef linker = TCL_LINKER;
  // libmlir_c_runner_utils provides memrefCopy for non-contiguous copies.
  StringRef runnerUtils = TCL_RUNNER_UTILS_LIBRARY;
  std::string utilsRpath =
      ("-Wl,-rpath," + llvm::sys::path::parent_path(runnerUtils)).str();
  SmallVector<StringRef> args = {linker,      "-shared",  "-o",
                                 libraryPath, objectPath, ompLibrary,
                                 runnerUtils, "-lm",      rpath,
                                 utilsRpath};
  std::optional<StringRef> redirects[] = {std::nullopt, logPath.str(),
                                          logPath.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(linker, args, /*Env=*/std::nullopt,
                                     redirects, /*SecondsToWait=*/0,
                                     /*MemoryLimit=*/0, &error);
  if (rc == 0)
    return success();
  std::string output;
  if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
    output = (*buffer)->getBuffer().trim().str();
  return fail("linking '" + libraryPath + "' failed (" +
              (error.empty() ? "exit status " + std::to_string(rc) : error) +
              ")" + (output.empty() ? "" : ":\n" + output));
}

void BuildJob::run(StringRef moduleText, BuildResult &result) {
  // Collect every diagnostic of the build, whatever its severity, so a
  // failed build explains itself in the measure record.
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    llvm::raw_string_ostream os(message);
    os << diag.getLocation() << ": ";
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << "remark: ";
      break;
    }
    os << diag << "\n";
    for (Diagnostic &note : diag.getNotes())
      os << "  " << note.getLocation() << ": note: " << note << "\n";
    return success();
  });

  std::string objectPath = libraryPath + ".o";
  llvm::FileRemover removeObject(objectPath);
  unsigned numKernelArgs = 0;
  bool resultReturned = false;
  if (failed(lowerToLLVMDialect(moduleText)) ||
      failed(emitObject(objectPath, numKernelArgs, resultReturned)) ||
      failed(link(objectPath))) {
    result.error = ErrorCode::BuildError;
    result.message = std::move(message);
    return;
  }
  result.error = ErrorCode::None;
  result.message.clear();
  result.libraryPath = libraryPath;
  result.numKernelArgs = numKernelArgs;
  result.resultReturned = resultReturned;
}

BuildResult tcl::Builder::build(StringRef moduleText, StringRef name,
                                StringRef kernelName) {
  auto start = std::chrono::steady_clock::now();
  BuildResult result;
  if (!setupError.empty()) {
    result.error = ErrorCode::BuildError;
    result.message = setupError;
  } else {
    llvm::SmallString<256> libraryPath(workDir);
    llvm::sys::path::append(libraryPath, name + ".so");
    BuildJob(target, *registry, libraryPath, kernelName)
        .run(moduleText, result);
  }
  result.buildSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}

SmallVector<BuildResult>
tcl::Builder::buildAll(ArrayRef<std::string> moduleTexts, StringRef namePrefix,
                       StringRef kernelName) {
  SmallVector<BuildResult> results(moduleTexts.size());
  llvm::DefaultThreadPool pool(llvm::hardware_concurrency(jobs));
  for (size_t i = 0, e = moduleTexts.size(); i < e; ++i) {
    std::string name = (namePrefix + "_" + llvm::Twine(i)).str();
    pool.async([this, &results, &moduleTexts, i, name, kernelName] {
      results[i] = build(moduleTexts[i], name, kernelName);
    });
  }
  pool.wait();
  return results;
}
