//===- CUDARunner.cpp - Checked timing of GPU programs on a CUDA device ---===//
//
// Protocol between the parent and a worker process: the parent forks; the
// worker initializes CUDA, measures candidates in order and writes one fixed
// WireReport (plus its latencies) per candidate into a pipe. It exits after
// the last candidate or after any CUDA error. The parent reads reports with
// a deadline, kills a silent worker, and starts a new worker at the next
// candidate until every candidate has a report.
//
//===----------------------------------------------------------------------===//

#include "tcl/Measure/CUDARunner.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <csignal>
#include <cstring>
#include <cuda.h>
#include <dlfcn.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace tcl;

namespace {
using Clock = std::chrono::steady_clock;

//===----------------------------------------------------------------------===//
// The driver API, loaded at run time
//===----------------------------------------------------------------------===//

#define TCL_STRINGIFY2(x) #x
#define TCL_STRINGIFY(x) TCL_STRINGIFY2(x)

/// The driver entry points the runner calls. cuda.h maps most names to
/// versioned symbols (cuMemAlloc -> cuMemAlloc_v2); the versioned symbol is
/// tried first, then the plain name, for drivers older than the headers.
#define TCL_CUDA_FUNCTIONS(X)                                                  \
  X(cuInit)                                                                    \
  X(cuGetErrorName)                                                            \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDeviceGetName)                                                           \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuCtxSetCurrent)                                                           \
  X(cuCtxSynchronize)                                                          \
  X(cuModuleLoadDataEx)                                                        \
  X(cuModuleGetFunction)                                                       \
  X(cuModuleUnload)                                                            \
  X(cuMemAlloc)                                                                \
  X(cuMemFree)                                                                 \
  X(cuMemcpyHtoD)                                                              \
  X(cuMemcpyDtoH)                                                              \
  X(cuMemsetD8)                                                                \
  X(cuLaunchKernel)                                                            \
  X(cuEventCreate)                                                             \
  X(cuEventRecord)                                                             \
  X(cuEventSynchronize)                                                        \
  X(cuEventElapsedTime)                                                        \
  X(cuEventDestroy)

struct Driver {
#define TCL_DECLARE(name) decltype(&name) name##_ = nullptr;
  TCL_CUDA_FUNCTIONS(TCL_DECLARE)
#undef TCL_DECLARE

  /// Loads libcuda.so.1; "" on success, else what is missing.
  std::string load() {
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *why = dlerror();
      return std::string("cannot load the CUDA driver library libcuda.so.1") +
             (why ? std::string(": ") + why : std::string());
    }
    auto find = [&](const char *versioned, const char *plain) -> void * {
      void *symbol = dlsym(library, versioned);
      return symbol ? symbol : dlsym(library, plain);
    };
#define TCL_LOAD(name)                                                         \
  name##_ = reinterpret_cast<decltype(name##_)>(                               \
      find(TCL_STRINGIFY(name), #name));                                       \
  if (!name##_)                                                                \
    return "the CUDA driver lacks " #name;
    TCL_CUDA_FUNCTIONS(TCL_LOAD)
#undef TCL_LOAD
    return "";
  }

  std::string errorName(CUresult result) const {
    const char *name = nullptr;
    if (cuGetErrorName_ && cuGetErrorName_(result, &name) == CUDA_SUCCESS &&
        name)
      return name;
    return "CUDA error " + std::to_string(static_cast<int>(result));
  }
};

//===----------------------------------------------------------------------===//
// Worker
//===----------------------------------------------------------------------===//

/// What a worker sends per candidate, followed by `numLatencies` doubles.
struct WireReport {
  uint64_t position = 0;
  int32_t error = 0;
  uint32_t numLatencies = 0;
  double maxAbsError = 0;
  double runSeconds = 0;
  char message[2048] = {};
};

bool writeAll(int fd, const void *data, size_t bytes) {
  const char *p = static_cast<const char *>(data);
  while (bytes) {
    ssize_t n = ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

/// A CUDA failure inside one candidate's measurement.
struct CUDAFailure {
  ErrorCode code;
  std::string message;
};

/// Measures one candidate in the worker; throws nothing, returns failures.
class CandidateRun {
public:
  CandidateRun(const Driver &cu, const GPUBatch &batch, const GPUTask &task,
               const GPUCandidate &candidate)
      : cu(cu), batch(batch), task(task), program(candidate.program) {}
  ~CandidateRun() {
    for (CUdeviceptr p : buffers)
      if (p)
        cu.cuMemFree_(p);
    for (CUmodule m : modules)
      cu.cuModuleUnload_(m);
    for (CUevent e : events)
      if (e)
        cu.cuEventDestroy_(e);
  }

  /// Fills `latencies` and `maxAbsError`, or returns the failure.
  std::optional<CUDAFailure> run(std::vector<double> &latencies,
                                 double &maxAbsError);

private:
  std::optional<CUDAFailure> check(CUresult result, const llvm::Twine &what) {
    if (result == CUDA_SUCCESS)
      return std::nullopt;
    return CUDAFailure{ErrorCode::RuntimeError,
                       cu.errorName(result) + " in " + what.str()};
  }
  std::optional<CUDAFailure> load();
  std::optional<CUDAFailure> initialize();
  std::optional<CUDAFailure> launchAll(const char *phase);

  const Driver &cu;
  const GPUBatch &batch;
  const GPUTask &task;
  const GPUProgram &program;
  std::vector<CUmodule> modules;
  std::vector<CUfunction> functions;
  std::vector<CUdeviceptr> buffers;
  /// Host copies of the argument buffers' inputs (empty for allocations).
  std::vector<std::vector<char>> inputs;
  /// Per launch: parameter words and pointers to them.
  std::vector<std::vector<uint64_t>> words;
  std::vector<std::vector<void *>> params;
  CUevent events[2] = {nullptr, nullptr};
};

std::optional<CUDAFailure> CandidateRun::load() {
  std::map<std::string, CUmodule> byName;
  for (const auto &[name, ptx] : program.ptx) {
    char log[4096] = {};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                              CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1)};
    CUmodule module = nullptr;
    CUresult result =
        cu.cuModuleLoadDataEx_(&module, ptx.c_str(), 2, options, values);
    if (result != CUDA_SUCCESS)
      return CUDAFailure{ErrorCode::BuildError,
                         cu.errorName(result) + " loading the PTX of " +
                             name + ": " + log};
    modules.push_back(module);
    byName[name] = module;
  }
  for (const GPULaunch &launch : program.launches) {
    CUfunction f = nullptr;
    if (auto failure =
            check(cu.cuModuleGetFunction_(&f, byName.at(launch.module),
                                          launch.kernel.c_str()),
                  "cuModuleGetFunction(" + launch.kernel + ")"))
      return failure;
    functions.push_back(f);
  }
  return std::nullopt;
}

std::optional<CUDAFailure> CandidateRun::initialize() {
  for (auto [i, buffer] : llvm::enumerate(program.buffers)) {
    ElementKind kind = *parseElementKind(buffer.elementType);
    size_t n = static_cast<size_t>(buffer.numElements());
    size_t bytes = std::max<size_t>(n * elementBytes(kind), 1);
    if (buffers.size() <= i) {
      CUdeviceptr p = 0;
      if (auto failure = check(cu.cuMemAlloc_(&p, bytes),
                               "cuMemAlloc of buffer " + llvm::Twine(i)))
        return failure;
      buffers.push_back(p);
      inputs.emplace_back();
      if (buffer.argument >= 0) {
        inputs.back().resize(bytes);
        fillUniform(kind, inputs.back().data(), n, batch.seed,
                    static_cast<unsigned>(buffer.argument));
      }
    }
    CUresult result =
        inputs[i].empty()
            ? cu.cuMemsetD8_(buffers[i], 0, bytes)
            : cu.cuMemcpyHtoD_(buffers[i], inputs[i].data(), bytes);
    if (auto failure = check(result, "initializing buffer " + llvm::Twine(i)))
      return failure;
  }
  return std::nullopt;
}

std::optional<CUDAFailure> CandidateRun::launchAll(const char *phase) {
  for (auto [i, launch] : llvm::enumerate(program.launches)) {
    CUresult result = cu.cuLaunchKernel_(
        functions[i], static_cast<unsigned>(launch.grid[0]),
        static_cast<unsigned>(launch.grid[1]),
        static_cast<unsigned>(launch.grid[2]),
        static_cast<unsigned>(launch.block[0]),
        static_cast<unsigned>(launch.block[1]),
        static_cast<unsigned>(launch.block[2]), 0, nullptr,
        params[i].data(), nullptr);
    if (auto failure = check(result, llvm::formatv("launching {0} ({1})",
                                                   launch.kernel, phase)
                                         .str()))
      return failure;
  }
  return std::nullopt;
}

std::optional<CUDAFailure> CandidateRun::run(std::vector<double> &latencies,
                                             double &maxAbsError) {
  if (auto failure = load())
    return failure;
  if (auto failure = initialize())
    return failure;
  // Parameters: a buffer is its memref descriptor's fields, a scalar one
  // word (the driver reads as many bytes as the parameter's PTX type has).
  for (const GPULaunch &launch : program.launches) {
    std::vector<uint64_t> &w = words.emplace_back();
    for (const GPUOperand &o : launch.operands) {
      if (o.kind == GPUOperand::Kind::Buffer) {
        const GPUBuffer &b = program.buffers[o.buffer];
        w.push_back(buffers[o.buffer]);
        w.push_back(buffers[o.buffer]);
        w.push_back(0);
        for (int64_t size : b.shape)
          w.push_back(static_cast<uint64_t>(size));
        int64_t stride = 1;
        std::vector<uint64_t> strides(b.shape.size());
        for (size_t d = b.shape.size(); d-- > 0;) {
          strides[d] = static_cast<uint64_t>(stride);
          stride *= b.shape[d];
        }
        w.insert(w.end(), strides.begin(), strides.end());
      } else {
        // The scalar's bytes at the start of one word, as its PTX type has
        // them (the driver reads that many).
        uint64_t word = 0;
        ElementKind kind = *parseElementKind(o.type);
        storeElement(kind, &word, 0,
                     o.kind == GPUOperand::Kind::Integer
                         ? static_cast<double>(o.intValue)
                         : o.floatValue);
        if (kind == ElementKind::I64)
          std::memcpy(&word, &o.intValue, sizeof(int64_t));
        w.push_back(word);
      }
    }
    std::vector<void *> &p = params.emplace_back();
    for (uint64_t &word : w)
      p.push_back(&word);
  }

  // The check run.
  if (auto failure = launchAll("check run"))
    return failure;
  if (auto failure = check(cu.cuCtxSynchronize_(), "the check run"))
    return failure;
  const GPUBuffer &result = program.buffers[program.result];
  ElementKind kind = *parseElementKind(result.elementType);
  std::vector<char> output(static_cast<size_t>(result.numElements()) *
                           elementBytes(kind));
  if (auto failure = check(cu.cuMemcpyDtoH_(output.data(),
                                            buffers[program.result],
                                            output.size()),
                           "reading the result"))
    return failure;
  std::optional<size_t> firstBad;
  for (size_t k = 0; k < task.reference.indices.size(); ++k) {
    double error = 0;
    bool good = withinTolerance(
        loadElement(kind, output.data(),
                    static_cast<size_t>(task.reference.indices[k])),
        task.reference.values[k], batch.timing.rtol, batch.timing.atol, error);
    maxAbsError = std::max(maxAbsError, error);
    if (!good && !firstBad)
      firstBad = k;
  }
  if (firstBad) {
    size_t at = static_cast<size_t>(task.reference.indices[*firstBad]);
    std::string why;
    llvm::raw_string_ostream os(why);
    os << "output differs from the reference: max abs error " << maxAbsError
       << " over " << task.reference.indices.size()
       << " sampled elements (atol " << batch.timing.atol << ", rtol "
       << batch.timing.rtol << "); first bad element at flat index " << at
       << ": got " << loadElement(kind, output.data(), at) << ", expected "
       << task.reference.values[*firstBad];
    return CUDAFailure{ErrorCode::WrongAnswer, why};
  }

  // Warm-up and timing on fresh inputs.
  if (auto failure = initialize())
    return failure;
  for (unsigned i = 0; i < batch.timing.warmup; ++i)
    if (auto failure = launchAll("warm-up"))
      return failure;
  if (auto failure = check(cu.cuCtxSynchronize_(), "the warm-up"))
    return failure;
  for (CUevent &e : events)
    if (auto failure = check(cu.cuEventCreate_(&e, CU_EVENT_DEFAULT),
                             "cuEventCreate"))
      return failure;
  double total = 0;
  while (latencies.size() < batch.timing.maxRepeats &&
         (latencies.size() < batch.timing.minRepeats ||
          total < batch.timing.minRepeatSeconds)) {
    if (auto failure = check(cu.cuEventRecord_(events[0], nullptr),
                             "cuEventRecord"))
      return failure;
    if (auto failure = launchAll("timed run"))
      return failure;
    float ms = 0;
    if (auto failure = check(cu.cuEventRecord_(events[1], nullptr),
                             "cuEventRecord"))
      return failure;
    if (auto failure =
            check(cu.cuEventSynchronize_(events[1]), "a timed run"))
      return failure;
    if (auto failure = check(cu.cuEventElapsedTime_(&ms, events[0], events[1]),
                             "cuEventElapsedTime"))
      return failure;
    latencies.push_back(ms * 1e-3);
    total += ms * 1e-3;
  }
  return std::nullopt;
}

/// The worker's main: measures `indices[from..]` and exits.
[[noreturn]] void workerMain(int fd, int device, const GPUBatch &batch,
                             const GPUTask &task,
                             llvm::ArrayRef<size_t> indices, size_t from) {
  // A crash is reported by the parent; the parent's crash handlers (stack
  // dumps) would only add noise.
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
    std::signal(sig, SIG_DFL);
  Driver cu;
  std::string setup = cu.load();
  CUdevice dev = 0;
  CUcontext context = nullptr;
  if (setup.empty()) {
    CUresult r = cu.cuInit_(0);
    if (r == CUDA_SUCCESS)
      r = cu.cuDeviceGet_(&dev, device);
    if (r == CUDA_SUCCESS)
      r = cu.cuDevicePrimaryCtxRetain_(&context, dev);
    if (r == CUDA_SUCCESS)
      r = cu.cuCtxSetCurrent_(context);
    if (r != CUDA_SUCCESS)
      setup = cu.errorName(r) + " creating the CUDA context";
  }
  for (size_t position = from; position < indices.size(); ++position) {
    auto start = Clock::now();
    WireReport report;
    report.position = position;
    std::vector<double> latencies;
    std::optional<CUDAFailure> failure;
    if (!setup.empty()) {
      failure = CUDAFailure{ErrorCode::RuntimeError, setup};
    } else {
      CandidateRun run(cu, batch, task, task.candidates[indices[position]]);
      failure = run.run(latencies, report.maxAbsError);
    }
    if (failure) {
      report.error = static_cast<int32_t>(failure->code);
      std::strncpy(report.message, failure->message.c_str(),
                   sizeof(report.message) - 1);
      latencies.clear();
    }
    report.numLatencies = static_cast<uint32_t>(latencies.size());
    report.runSeconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    if (!writeAll(fd, &report, sizeof(report)) ||
        !writeAll(fd, latencies.data(), latencies.size() * sizeof(double)))
      _exit(1);
    // After a CUDA error the context may be unusable: a new worker
    // continues. A wrong answer leaves it intact.
    if (failure && failure->code != ErrorCode::WrongAnswer)
      _exit(0);
  }
  _exit(0);
}

/// Reads exactly `bytes` before `deadline`; false on EOF, error or timeout
/// (`timedOut` tells which).
bool readAll(int fd, void *data, size_t bytes, Clock::time_point deadline,
             bool &timedOut) {
  char *p = static_cast<char *>(data);
  timedOut = false;
  while (bytes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - Clock::now())
                    .count();
    if (left <= 0) {
      timedOut = true;
      return false;
    }
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0)
      return false;
    if (ready == 0)
      continue;
    ssize_t n = ::read(fd, p, bytes);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

std::string describeStatus(int status) {
  if (WIFSIGNALED(status))
    return std::string("the worker died of signal ") +
           (strsignal(WTERMSIG(status)) ? strsignal(WTERMSIG(status)) : "?");
  return "the worker exited with status " +
         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

MeasureResult finish(const WireReport &report, llvm::ArrayRef<double> latencies,
                     int64_t flops) {
  MeasureResult r;
  r.error = static_cast<ErrorCode>(report.error);
  r.message = report.message;
  r.maxAbsError = report.maxAbsError;
  r.runSeconds = report.runSeconds;
  r.setLatencies(latencies, flops);
  return r;
}
} // namespace

llvm::Expected<std::unique_ptr<CUDARunner>>
CUDARunner::create(int device, NoGPUReason *reason) {
  // The probe runs in a child: the parent must not initialize CUDA before
  // it forks workers.
  int fds[2];
  if (::pipe(fds) != 0)
    return llvm::createStringError("cannot create a pipe: " +
                                   std::string(strerror(errno)));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return llvm::createStringError("cannot fork: " +
                                   std::string(strerror(errno)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    Driver cu;
    std::string message = cu.load();
    char kind = 'D'; // no driver
    if (message.empty()) {
      int count = 0;
      CUresult r = cu.cuInit_(0);
      if (r == CUDA_SUCCESS)
        r = cu.cuDeviceGetCount_(&count);
      CUdevice dev = 0;
      char name[256] = {};
      if (r != CUDA_SUCCESS) {
        message = "cuInit failed (" + cu.errorName(r) +
                  "): no usable NVIDIA kernel driver or GPU";
        kind = 'N';
      } else if (device < 0 || device >= count) {
        message = "no CUDA device " + std::to_string(device) + " (" +
                  std::to_string(count) + " found)";
        kind = 'N';
      } else if (cu.cuDeviceGet_(&dev, device) != CUDA_SUCCESS ||
                 cu.cuDeviceGetName_(name, sizeof(name) - 1, dev) !=
                     CUDA_SUCCESS) {
        message = "cannot query CUDA device " + std::to_string(device);
        kind = 'N';
      } else {
        message = name;
        kind = 'O';
      }
    }
    std::string out = kind + message;
    writeAll(fds[1], out.data(), out.size());
    _exit(0);
  }
  ::close(fds[1]);
  std::string received;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0 ||
         (n < 0 && errno == EINTR))
    if (n > 0)
      received.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (received.empty())
    return llvm::createStringError("the CUDA probe failed: " +
                                   describeStatus(status));
  if (received[0] == 'O')
    return std::unique_ptr<CUDARunner>(
        new CUDARunner(device, received.substr(1)));
  if (reason)
    *reason = received[0] == 'D' ? NoGPUReason::NoDriver : NoGPUReason::NoDevice;
  return llvm::createStringError(received.substr(1));
}

void CUDARunner::measure(const GPUBatch &batch, const GPUTask &task,
                         llvm::ArrayRef<size_t> indices, Report report) const {
  size_t next = 0;
  while (next < indices.size()) {
    int fds[2];
    pid_t pid = -1;
    if (::pipe(fds) == 0) {
      pid = ::fork();
      if (pid == 0) {
        ::close(fds[0]);
        workerMain(fds[1], device, batch, task, indices, next);
      }
      ::close(fds[1]);
      if (pid < 0)
        ::close(fds[0]);
    }
    if (pid < 0) {
      WireReport failed;
      std::snprintf(failed.message, sizeof(failed.message),
                    "cannot start a worker: %s", strerror(errno));
      failed.error = static_cast<int32_t>(ErrorCode::RuntimeError);
      for (; next < indices.size(); ++next)
        report(indices[next], finish(failed, {}, task.workload.flops));
      return;
    }
    // The first candidate of a worker also pays for context creation.
    double allowance = 2 * batch.timing.timeoutSeconds;
    bool timedOut = false, workerEnded = false;
    while (next < indices.size()) {
      WireReport wire;
      auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(allowance));
      allowance = batch.timing.timeoutSeconds;
      std::vector<double> latencies;
      bool got = readAll(fds[0], &wire, sizeof(wire), deadline, timedOut);
      if (got) {
        latencies.resize(wire.numLatencies);
        got = readAll(fds[0], latencies.data(),
                      latencies.size() * sizeof(double),
                      Clock::now() + std::chrono::seconds(10), timedOut);
      }
      if (!got)
        break;
      wire.message[sizeof(wire.message) - 1] = 0;
      report(indices[next], finish(wire, std::move(latencies),
                                   task.workload.flops));
      ++next;
      // After a CUDA error the worker exits; the next one continues.
      if (wire.error != static_cast<int32_t>(ErrorCode::None) &&
          wire.error != static_cast<int32_t>(ErrorCode::WrongAnswer)) {
        workerEnded = true;
        break;
      }
    }
    if (timedOut)
      ::kill(pid, SIGKILL);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (next == indices.size() || workerEnded)
      continue;
    // The worker hung, or died, on candidate `next`.
    WireReport failed;
    failed.error = static_cast<int32_t>(timedOut ? ErrorCode::Timeout
                                                 : ErrorCode::RuntimeError);
    std::string why =
        timedOut ? llvm::formatv("no result within {0} s; the worker was "
                                 "killed",
                                 batch.timing.timeoutSeconds)
                       .str()
                 : describeStatus(status);
    std::strncpy(failed.message, why.c_str(), sizeof(failed.message) - 1);
    report(indices[next], finish(failed, {}, task.workload.flops));
    ++next;
  }
}
