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

namespace {
using Clock = std::chrono::steady_clock;

//===----------------------------------------------------------------------===//
// Element types and deterministic data
//===----------------------------------------------------------------------===//

enum class ElementKind { F32, F64, F16, BF16, I8, I32, I64 };

std::optional<ElementKind> parseElementKind(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<ElementKind>>(name)
      .Case("f32", ElementKind::F32)
      .Case("f64", ElementKind::F64)
      .Case("f16", ElementKind::F16)
      .Case("bf16", ElementKind::BF16)
      .Case("i8", ElementKind::I8)
      .Case("i32", ElementKind::I32)
      .Case("i64", ElementKind::I64)
      .Default(std::nullopt);
}

size_t elementBytes(ElementKind kind) {
  switch (kind) {
  case ElementKind::F16:
  case ElementKind::BF16:
    return 2;
  case ElementKind::I8:
    return 1;
  case ElementKind::F32:
  case ElementKind::I32:
    return 4;
  case ElementKind::F64:
  case ElementKind::I64:
    return 8;
  }
  return 0;
}

uint32_t floatBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

float bitsFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

/// IEEE binary16 <-> float for the values the runner produces ([-1, 1]) and
/// reads back (anything, with round-to-nearest-even on the way in).
uint16_t floatToHalf(float f) {
  uint32_t x = floatBits(f);
  uint16_t sign = (x >> 16) & 0x8000;
  int32_t exponent = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff)
    return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 31)
    return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10)
      return sign;
    mantissa |= 0x800000;
    uint32_t shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return sign | half;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  if (exponent == 0x1f)
    return bitsFloat(sign | 0x7f800000 | (mantissa << 13));
  if (exponent == 0) {
    float value = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -value : value;
  }
  return bitsFloat(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

uint16_t floatToBF16(float f) {
  uint32_t x = floatBits(f);
  if (std::isnan(f))
    return (x >> 16) | 0x40;
  return (x + 0x7fff + ((x >> 16) & 1)) >> 16;
}

float bf16ToFloat(uint16_t b) {
  return bitsFloat(static_cast<uint32_t>(b) << 16);
}

/// SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
/// generators", OOPSLA'14): tiny, seedable, identical on every platform.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [-1, 1] on a grid of 2^-23, exact in f32.
  double uniform() { return static_cast<double>(next() >> 40) * 0x1p-23 - 1.0; }
};

void storeElement(ElementKind kind, void *data, size_t i, double value) {
  switch (kind) {
  case ElementKind::F32:
    static_cast<float *>(data)[i] = static_cast<float>(value);
    return;
  case ElementKind::F64:
    static_cast<double *>(data)[i] = value;
    return;
  case ElementKind::F16:
    static_cast<uint16_t *>(data)[i] = floatToHalf(static_cast<float>(value));
    return;
  case ElementKind::BF16:
    static_cast<uint16_t *>(data)[i] = floatToBF16(static_cast<float>(value));
    return;
  case ElementKind::I8:
    static_cast<int8_t *>(data)[i] = static_cast<int8_t>(std::lround(value));
    return;
  case ElementKind::I32:
    static_cast<int32_t *>(data)[i] = static_cast<int32_t>(std::lround(value));
    return;
  case ElementKind::I64:
    static_cast<int64_t *>(data)[i] = std::lround(value);
    return;
  }
}

double loadElement(ElementKind kind, const void *data, size_t i) {
  switch (kind) {
  case ElementKind::F32:
    return static_cast<const float *>(data)[i];
  case ElementKind::F64:
    return static_cast<const double *>(data)[i];
  case ElementKind::F16:
    return halfToFloat(static_cast<const uint16_t *>(data)[i]);
  case ElementKind::BF16:
    return bf16ToFloat(static_cast<const uint16_t *>(data)[i]);
  case ElementKind::I8:
    return static_cast<const int8_t *>(data)[i];
  case ElementKind::I32:
    return static_cast<const int32_t *>(data)[i];
  case ElementKind::I64:
    return static_cast<double>(static_cast<const int64_t *>(data)[i]);
  }
  return 0;
}

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
    SplitMix64 rng{seed ^ (0xd1b54a32d192ed03ULL * (index + 1))};
    for (size_t i = 0; i < numElements; ++i)
      storeElement(kind, data, i, rng.uniform());
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

  // libomp reads OMP_NUM_THREADS when it initializes, i.e. after dlopen.
  std::string threads = std::to_string(std::max(1u, ctx.options.threads));
  ::setenv("OMP_NUM_THREADS", threads.c_str(), /*overwrite=*/1);

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
      double got = loadElement(resultKind, output, i);
      double want = loadElement(resultKind, ctx.reference, i);
      // NaN where the reference has NaN too (e.g. the square root of a
      // negative random input) is right; any other NaN compares false and
      // fails.
      if (std::isnan(got) && std::isnan(want))
        continue;
      double error = std::fabs(got - want);
      bool good = error <= atol + rtol * std::fabs(want);
      if (std::isnan(error))
        error = INFINITY;
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
  result.latencies = std::move(outcome.latencies);
  if (!result.latencies.empty()) {
    SmallVector<double> sorted(result.latencies);
    llvm::sort(sorted);
    size_t n = sorted.size();
    result.minSeconds = sorted.front();
    result.medianSeconds =
        n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    if (flops > 0 && result.medianSeconds > 0)
      result.gflops = static_cast<double>(flops) / result.medianSeconds / 1e9;
  }
  return finish();
}
