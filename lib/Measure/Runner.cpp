//===- Runner.cpp - Isolated, checked timing of built kernels -------------===//
//
// Protocol between the parent (the tuner) and one child per measurement:
// the parent forks; the child loads the kernel, checks and times it and
// writes a fixed-size ChildReport followed by its latencies into a pipe,
// then _exits. The parent polls the pipe until a deadline and reaps the
// child; a child that runs past the deadline is SIGKILLed. The reference
// output lives in a shared anonymous mapping made by the parent, written by
// the reference child and read by candidate children, so no tensor ever
// crosses the pipe.
//
//===----------------------------------------------------------------------===//

#include "tcl/Measure/Runner.h"
#include "tcl/Measure/Elements.h"
#include "tcl/Measure/Npy.h"

#include "llvm/Support/Format.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <ffi.h>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>
#ifdef __linux__
#include <sys/prctl.h>
#endif

using namespace tcl;
using llvm::SmallVector;

std::vector<std::pair<std::string, std::string>>
tcl::openMPEnvironment(const RunnerOptions &options) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"OMP_NUM_THREADS", std::to_string(std::max(1u, options.threads))}};
  if (options.bindThreads) {
    env.emplace_back("OMP_PROC_BIND", "close");
    env.emplace_back("OMP_PLACES", "cores");
  }
  return env;
}

namespace {
using Clock = std::chrono::steady_clock;

//===----------------------------------------------------------------------===//
// Kernel arguments
//===----------------------------------------------------------------------===//

/// One kernel argument: a 64-byte aligned buffer and its ranked memref
/// descriptor `{allocated, aligned, offset, sizes[rank], strides[rank]}`,
/// stored as int64 words (pointers are 64-bit on the supported hosts).
struct Argument {
  ElementKind kind = ElementKind::F32;
  size_t numElements = 0;
  void *data = nullptr;
  std::vector<int64_t> descriptor;
  /// Values read from an input file; empty for seeded random values.
  std::vector<char> initial;

  Argument() = default;
  Argument(const Argument &) = delete;
  Argument &operator=(const Argument &) = delete;
  ~Argument() { std::free(data); }

  bool allocate(const TensorSpec &spec, ElementKind elementKind) {
    static_assert(sizeof(void *) == sizeof(int64_t),
                  "memref descriptors are built for 64-bit pointers");
    kind = elementKind;
    numElements = 1;
    for (int64_t size : spec.shape)
      numElements *= static_cast<size_t>(size);
    size_t bytes = std::max<size_t>(numElements * elementBytes(kind), 1);
    data = std::aligned_alloc(64, llvm::alignTo(bytes, 64));
    if (!data)
      return false;
    size_t rank = spec.shape.size();
    descriptor.assign(3 + 2 * rank, 0);
    descriptor[0] = descriptor[1] = reinterpret_cast<intptr_t>(data);
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      descriptor[3 + d] = spec.shape[d];
      descriptor[3 + rank + d] = stride;
      stride *= spec.shape[d];
    }
    return true;
  }

  void fill(uint64_t seed, unsigned index) {
    if (!initial.empty()) {
      std::memcpy(data, initial.data(), initial.size());
      return;
    }
    fillUniform(kind, data, numElements, seed, index);
  }
};

using KernelFn = void (*)();

/// Calls a C-interface function `void f(void *, ..., void *)` with any
/// number of descriptor pointers, through libffi.
class KernelCaller {
public:
  explicit KernelCaller(llvm::ArrayRef<void *> pointers)
      : pointers(pointers.begin(), pointers.end()),
        types(pointers.size(), &ffi_type_pointer) {
    for (void *&p : this->pointers)
      values.push_back(&p);
    ready = ffi_prep_cif(&cif, FFI_DEFAULT_ABI,
                         static_cast<unsigned>(types.size()), &ffi_type_void,
                         types.data()) == FFI_OK;
  }
  bool isReady() const { return ready; }
  void operator()(KernelFn fn) {
    ffi_call(&cif, fn, nullptr, values.data());
  }

private:
  std::vector<void *> pointers;
  std::vector<ffi_type *> types;
  std::vector<void *> values;
  ffi_cif cif;
  bool ready = false;
};

//===----------------------------------------------------------------------===//
// Child process
//===----------------------------------------------------------------------===//

/// What a child sends back, followed by `numLatencies` doubles.
struct ChildReport {
  int32_t error = static_cast<int32_t>(ErrorCode::None);
  uint32_t numLatencies = 0;
  double maxAbsError = 0;
  char message[1024] = {};
};

enum class ChildMode {
  /// Call once and copy the output into the reference mapping.
  Reference,
  /// Check against the reference (if any), then time.
  Measure,
};

void writeAll(int fd, const void *data, size_t bytes) {
  const char *p = static_cast<const char *>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

struct ChildContext {
  const KernelSignature &signature;
  const RunnerOptions &options;
  const BuildResult &build;
  ChildMode mode;
  void *reference;
  size_t referenceBytes;
};

/// Does the child's work; returns the report and fills `latencies`.
ChildReport runInChild(const ChildContext &ctx,
                       std::vector<double> &latencies) {
  ChildReport report;
  auto fail = [&](ErrorCode code, const llvm::Twine &why) {
    report.error = static_cast<int32_t>(code);
    std::string text = why.str();
    std::snprintf(report.message, sizeof(report.message), "%s", text.c_str());
    return report;
  };

  const KernelSignature &sig = ctx.signature;
  size_t numArgs = sig.args.size();
  SmallVector<ElementKind> kinds;
  for (const TensorSpec &spec : sig.args) {
    std::optional<ElementKind> kind = parseElementKind(spec.elementType);
    if (!kind)
      return fail(ErrorCode::RuntimeError,
                  "unsupported element type '" + spec.elementType + "'");
    kinds.push_back(*kind);
  }

  // libomp reads its environment when it initializes, i.e. after dlopen
  // (the parent's libgomp, from LibTorch, read its own at start-up).
  for (const auto &[name, value] : openMPEnvironment(ctx.options))
    ::setenv(name.c_str(), value.c_str(), /*overwrite=*/1);

  void *library =
      ::dlopen(ctx.build.libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return fail(ErrorCode::RuntimeError,
                "cannot load '" + ctx.build.libraryPath + "': " + ::dlerror());
  std::string symbol = "_mlir_ciface_" + sig.name;
  auto fn = reinterpret_cast<KernelFn>(::dlsym(library, symbol.c_str()));
  if (!fn)
    return fail(ErrorCode::RuntimeError, "'" + ctx.build.libraryPath +
                                             "' has no symbol '" + symbol +
                                             "'");

  // Three calling conventions, decided by the builder: the result is
  // written in place into argument `resultArg`, or into a trailing
  // out-parameter, or the kernel returns a memref, which the C interface
  // passes back through a descriptor pointer in front of the arguments.
  bool returned = ctx.build.resultReturned;
  bool outParam = !returned && ctx.build.numKernelArgs == numArgs + 1;
  size_t numBuffers = outParam ? numArgs + 1 : numArgs;
  std::vector<Argument> buffers(numBuffers);
  const TensorSpec &resultSpec = sig.getResult();
  std::optional<ElementKind> parsedResultKind =
      parseElementKind(resultSpec.elementType);
  if (!parsedResultKind)
    return fail(ErrorCode::RuntimeError, "unsupported result element type '" +
                                             resultSpec.elementType + "'");
  ElementKind resultKind = *parsedResultKind;
  for (size_t i = 0; i < numBuffers; ++i) {
    const TensorSpec &spec = i < numArgs ? sig.args[i] : resultSpec;
    ElementKind kind = i < numArgs ? kinds[i] : resultKind;
    if (!buffers[i].allocate(spec, kind))
      return fail(ErrorCode::RuntimeError, "cannot allocate argument " +
                                               llvm::Twine(i) + " (" +
                                               spec.str() + ")");
  }
  if (!ctx.options.inputDirectory.empty()) {
    for (size_t i = 0; i < numArgs; ++i) {
      std::string path =
          ctx.options.inputDirectory + "/arg" + std::to_string(i) + ".npy";
      llvm::Expected<NpyArray> array = readNpy(path);
      if (!array)
        return fail(ErrorCode::RuntimeError,
                    "input " + llvm::Twine(i) + ": " +
                        llvm::toString(array.takeError()));
      const TensorSpec &spec = sig.args[i];
      if (array->elementType != spec.elementType ||
          llvm::ArrayRef(array->shape) != llvm::ArrayRef(spec.shape)) {
        TensorSpec got{array->shape, array->elementType};
        return fail(ErrorCode::RuntimeError,
                    "input " + llvm::Twine(i) + ": '" + path + "' holds " +
                        got.str() + ", the argument is " + spec.str());
      }
      buffers[i].initial = std::move(array->data);
    }
  }
  size_t rank = resultSpec.shape.size();
  std::vector<int64_t> resultDescriptor(3 + 2 * rank, 0);
  SmallVector<void *> pointers;
  if (returned)
    pointers.push_back(resultDescriptor.data());
  for (Argument &arg : buffers)
    pointers.push_back(arg.descriptor.data());
  KernelCaller caller(pointers);
  if (!caller.isReady())
    return fail(ErrorCode::RuntimeError,
                "libffi cannot prepare a call with " +
                    llvm::Twine(pointers.size()) + " pointer arguments");
  auto call = [&] { caller(fn); };
  auto initialize = [&] {
    for (auto [i, arg] : llvm::enumerate(buffers))
      arg.fill(ctx.options.seed, static_cast<unsigned>(i));
  };
  // A returned buffer that is not one of the arguments was allocated by the
  // kernel (with malloc, by the memref-to-LLVM lowering) and is ours to free.
  auto releaseReturned = [&] {
    if (!returned)
      return;
    void *allocated = reinterpret_cast<void *>(resultDescriptor[0]);
    if (allocated && llvm::none_of(buffers, [&](const Argument &arg) {
          return arg.data == allocated;
        }))
      std::free(allocated);
    std::fill(resultDescriptor.begin(), resultDescriptor.end(), 0);
  };

  initialize();
  call();

  // The output, row-major and contiguous.
  size_t numOutput = static_cast<size_t>(resultSpec.numElements());
  size_t bytesPerElement = elementBytes(resultKind);
  std::vector<char> gathered;
  const void *output = buffers[outParam ? numArgs : sig.resultArg].data;
  if (returned) {
    const char *aligned = reinterpret_cast<const char *>(resultDescriptor[1]);
    if (!aligned)
      return fail(ErrorCode::RuntimeError, "the kernel returned a null memref");
    for (size_t d = 0; d < rank; ++d)
      if (resultDescriptor[3 + d] != resultSpec.shape[d])
        return fail(ErrorCode::RuntimeError,
                    "the kernel returned a memref of size " +
                        llvm::Twine(resultDescriptor[3 + d]) +
                        " in dimension " + llvm::Twine(d) + ", expected " +
                        llvm::Twine(resultSpec.shape[d]));
    gathered.resize(numOutput * bytesPerElement);
    for (size_t i = 0; i < numOutput; ++i) {
      int64_t offset = resultDescriptor[2];
      size_t rest = i;
      for (size_t d = rank; d-- > 0;) {
        size_t size = static_cast<size_t>(resultSpec.shape[d]);
        offset +=
            static_cast<int64_t>(rest % size) * resultDescriptor[3 + rank + d];
        rest /= size;
      }
      std::memcpy(gathered.data() + i * bytesPerElement,
                  aligned + offset * static_cast<int64_t>(bytesPerElement),
                  bytesPerElement);
    }
    output = gathered.data();
    releaseReturned();
  }

  size_t outputBytes = numOutput * bytesPerElement;
  if (!ctx.options.outputPath.empty())
    if (llvm::Error err = writeNpy(ctx.options.outputPath,
                                   resultSpec.elementType, resultSpec.shape,
                                   output))
      return fail(ErrorCode::RuntimeError, llvm::toString(std::move(err)));
  if (ctx.mode == ChildMode::Reference) {
    if (outputBytes != ctx.referenceBytes)
      return fail(ErrorCode::RuntimeError,
                  "reference output has " + llvm::Twine(outputBytes) +
                      " bytes, expected " + llvm::Twine(ctx.referenceBytes));
    std::memcpy(ctx.reference, output, outputBytes);
    return report;
  }

  if (ctx.reference) {
    double atol = ctx.options.atol, rtol = ctx.options.rtol;
    std::optional<size_t> firstBad;
    double maxAbsError = 0;
    for (size_t i = 0; i < numOutput; ++i) {
      double error = 0;
      bool good = withinTolerance(loadElement(resultKind, output, i),
                                  loadElement(resultKind, ctx.reference, i),
                                  rtol, atol, error);
      maxAbsError = std::max(maxAbsError, error);
      if (!good && !firstBad)
        firstBad = i;
    }
    report.maxAbsError = maxAbsError;
    if (firstBad) {
      double got = loadElement(resultKind, output, *firstBad);
      double want = loadElement(resultKind, ctx.reference, *firstBad);
      std::string why;
      llvm::raw_string_ostream os(why);
      os << "output differs from the reference: max abs error " << maxAbsError
         << " (atol " << atol << ", rtol " << rtol
         << "); first bad element at flat index " << *firstBad << ": got "
         << got << ", expected " << want;
      return fail(ErrorCode::WrongAnswer, why);
    }
  }

  initialize();
  for (unsigned i = 0; i < ctx.options.warmup; ++i) {
    call();
    releaseReturned();
  }
  double total = 0;
  while (latencies.size() < ctx.options.maxRepeats &&
         (latencies.size() < ctx.options.minRepeats ||
          total < ctx.options.minRepeatSeconds)) {
    Clock::time_point start = Clock::now();
    call();
    double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    releaseReturned();
    latencies.push_back(seconds);
    total += seconds;
  }
  report.numLatencies = static_cast<uint32_t>(latencies.size());
  return report;
}

[[noreturn]] void childMain(int fd, const ChildContext &ctx) {
  // The tuner may have installed crash handlers (LLVM's stack-trace
  // printers); the child must die plainly of the signal so that the parent
  // can name it.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGPIPE,
                  SIGTERM, SIGINT})
    std::signal(sig, SIG_DFL);
#ifdef __linux__
  // Never outlive the tuner, whatever the kernel does.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
  std::vector<double> latencies;
  ChildReport report = runInChild(ctx, latencies);
  writeAll(fd, &report, sizeof(report));
  writeAll(fd, latencies.data(), latencies.size() * sizeof(double));
  ::close(fd);
  ::_exit(0);
}

//===----------------------------------------------------------------------===//
// Parent side
//===----------------------------------------------------------------------===//

llvm::StringRef signalName(int sig) {
  switch (sig) {
  case SIGSEGV:
    return "SIGSEGV";
  case SIGBUS:
    return "SIGBUS";
  case SIGFPE:
    return "SIGFPE";
  case SIGILL:
    return "SIGILL";
  case SIGABRT:
    return "SIGABRT";
  case SIGTRAP:
    return "SIGTRAP";
  case SIGKILL:
    return "SIGKILL";
  case SIGTERM:
    return "SIGTERM";
  case SIGINT:
    return "SIGINT";
  case SIGPIPE:
    return "SIGPIPE";
  case SIGSYS:
    return "SIGSYS";
  case SIGXCPU:
    return "SIGXCPU";
  }
  return "";
}

struct ChildOutcome {
  ErrorCode error = ErrorCode::None;
  std::string message;
  double maxAbsError = 0;
  SmallVector<double> latencies;
};

void killChild(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

/// Forks a child running `ctx`, waits for it at most `timeoutSeconds` and
/// decodes what it reported.
ChildOutcome runChild(const ChildContext &ctx, double timeoutSeconds) {
  ChildOutcome outcome;
  int fds[2];
  // Close-on-exec so that linkers spawned by concurrent builds do not hold
  // the write end open.
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.error = ErrorCode::RuntimeError;
    outcome.message = std::string("pipe failed: ") + std::strerror(errno);
    return outcome;
  }
  std::fflush(nullptr);
  llvm::outs().flush();
  llvm::errs().flush();

  Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(timeoutSeconds));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    outcome.error = ErrorCode::RuntimeError;
    outcome.message = std::string("fork failed: ") + std::strerror(errno);
    return outcome;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::setpgid(0, 0);
    childMain(fds[1], ctx);
  }
  // Also here, so that killing the group works even before the child ran.
  ::setpgid(pid, pid);
  ::close(fds[1]);

  std::string data;
  bool timedOut = false;
  for (;;) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
                         deadline - Clock::now())
                         .count();
    if (remaining <= 0) {
      timedOut = true;
      break;
    }
    pollfd pfd = {fds[0], POLLIN, 0};
    int ready = ::poll(
        &pfd, 1, static_cast<int>(std::min<int64_t>(remaining + 1, 1 << 30)));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0)
      continue;
    char buffer[4096];
    ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);

  // The pipe is closed when the child exits; reap it, still within the time
  // limit.
  int status = 0;
  while (!timedOut) {
    pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid)
      break;
    if (reaped < 0 && errno != EINTR) {
      outcome.error = ErrorCode::RuntimeError;
      outcome.message = std::string("waitpid failed: ") + std::strerror(errno);
      return outcome;
    }
    if (Clock::now() >= deadline)
      timedOut = true;
    else
      ::usleep(1000);
  }
  if (timedOut) {
    killChild(pid);
    outcome.error = ErrorCode::Timeout;
    llvm::raw_string_ostream os(outcome.message);
    os << "kernel process killed after the time limit of "
       << llvm::format("%g", timeoutSeconds) << " s";
    return outcome;
  }

  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    llvm::StringRef name = signalName(sig);
    outcome.error = ErrorCode::RuntimeError;
    llvm::raw_string_ostream os(outcome.message);
    os << "kernel process killed by ";
    if (name.empty())
      os << "signal " << sig;
    else
      os << name;
    os << " (" << ::strsignal(sig) << ")";
    return outcome;
  }
  ChildReport report;
  if (data.size() < sizeof(report)) {
    outcome.error = ErrorCode::RuntimeError;
    outcome.message =
        ("kernel process exited with status " +
         llvm::Twine(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
         " without a result")
            .str();
    return outcome;
  }
  std::memcpy(&report, data.data(), sizeof(report));
  report.message[sizeof(report.message) - 1] = '\0';
  outcome.error = static_cast<ErrorCode>(report.error);
  outcome.message = report.message;
  outcome.maxAbsError = report.maxAbsError;
  size_t available = (data.size() - sizeof(report)) / sizeof(double);
  outcome.latencies.resize(std::min<size_t>(report.numLatencies, available));
  std::memcpy(outcome.latencies.data(), data.data() + sizeof(report),
              outcome.latencies.size() * sizeof(double));
  return outcome;
}

/// Checks what the parent can check before forking.
std::optional<std::string> validate(const KernelSignature &signature,
                                    const BuildResult &build) {
  size_t numArgs = signature.args.size();
  if (numArgs == 0)
    return std::string("the kernel signature has no arguments");
  if (!signature.result && signature.resultArg >= numArgs)
    return ("result argument " + llvm::Twine(signature.resultArg) +
            " out of range (" + llvm::Twine(numArgs) + " arguments)")
        .str();
  if (build.resultReturned && build.numKernelArgs != numArgs + 1)
    return ("'_mlir_ciface_" + signature.name +
            "' returns its result and takes " +
            llvm::Twine(build.numKernelArgs - 1) +
            " arguments, the signature has " + llvm::Twine(numArgs))
        .str();
  if (signature.result && build.numKernelArgs != numArgs + 1)
    return ("'_mlir_ciface_" + signature.name + "' takes " +
            llvm::Twine(build.numKernelArgs) +
            " arguments; a function returning a new tensor must take one "
            "more than its " +
            llvm::Twine(numArgs) + " arguments (the result)")
        .str();
  if (build.numKernelArgs != numArgs && build.numKernelArgs != numArgs + 1)
    return ("'_mlir_ciface_" + signature.name + "' takes " +
            llvm::Twine(build.numKernelArgs) +
            " arguments, the signature has " + llvm::Twine(numArgs))
        .str();
  return std::nullopt;
}

size_t outputBytes(const KernelSignature &signature) {
  const TensorSpec &spec = signature.getResult();
  size_t numElements = 1;
  for (int64_t size : spec.shape)
    numElements *= static_cast<size_t>(size);
  std::optional<ElementKind> kind = parseElementKind(spec.elementType);
  return numElements * (kind ? elementBytes(*kind) : 0);
}
} // namespace

Runner::Runner(KernelSignature signature, RunnerOptions options)
    : signature(std::move(signature)), options(options) {}

Runner::~Runner() {
  if (reference)
    ::munmap(reference, referenceBytes);
}

llvm::Error Runner::setReference(const BuildResult &build) {
  if (reference)
    ::munmap(reference, referenceBytes);
  reference = nullptr;
  referenceBytes = 0;
  referenceReady = false;

  if (!build.ok())
    return llvm::createStringError("the reference did not build: " +
                                   build.message);
  if (std::optional<std::string> why = validate(signature, build))
    return llvm::createStringError("cannot run the reference: " + *why);
  size_t bytes = outputBytes(signature);
  void *mapping =
      ::mmap(nullptr, std::max<size_t>(bytes, 1), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED)
    return llvm::createStringError(
        "cannot map " + llvm::Twine(bytes) +
        " bytes for the reference output: " + std::strerror(errno));
  reference = mapping;
  referenceBytes = std::max<size_t>(bytes, 1);

  ChildContext ctx{signature, options, build, ChildMode::Reference,
                   reference, bytes};
  ChildOutcome outcome = runChild(ctx, options.timeoutSeconds);
  if (outcome.error != ErrorCode::None)
    return llvm::createStringError("the reference failed (" +
                                   stringifyErrorCode(outcome.error) +
                                   "): " + outcome.message);
  referenceReady = true;
  return llvm::Error::success();
}

MeasureResult Runner::measure(const BuildResult &candidate, int64_t flops) {
  Clock::time_point start = Clock::now();
  MeasureResult result;
  auto finish = [&] {
    result.runSeconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  };
  if (!candidate.ok()) {
    result.error = candidate.error;
    result.message = candidate.message;
    return finish();
  }
  if (std::optional<std::string> why = validate(signature, candidate)) {
    result.error = ErrorCode::RuntimeError;
    result.message = *why;
    return finish();
  }

  ChildContext ctx{signature,
                   options,
                   candidate,
                   ChildMode::Measure,
                   referenceReady ? reference : nullptr,
                   referenceReady ? outputBytes(signature) : 0};
  ChildOutcome outcome = runChild(ctx, options.timeoutSeconds);
  result.error = outcome.error;
  result.message = std::move(outcome.message);
  result.maxAbsError = outcome.maxAbsError;
  result.setLatencies(outcome.latencies, flops);
  return finish();
}
