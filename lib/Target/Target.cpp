//===- Target.cpp - Targets and platform fingerprints ---------------------===//

#include "tcl/Target/Target.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Threading.h"
#include "llvm/TargetParser/Host.h"

using namespace tcl;

llvm::StringRef tcl::stringifyISA(ISA isa) {
  switch (isa) {
  case ISA::Host:
    return "host";
  case ISA::AVX512:
    return "avx512";
  case ISA::AVX2:
    return "avx2";
  case ISA::SSE42:
    return "sse4.2";
  }
  llvm_unreachable("unknown ISA");
}

unsigned tcl::hostCoreCount() {
  return std::max(1u, llvm::get_physical_cores() > 0
                          ? static_cast<unsigned>(llvm::get_physical_cores())
                          : llvm::heavyweight_hardware_concurrency()
                                .compute_thread_count());
}

static bool hostHas(llvm::StringRef feature) {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto it = features.find(feature);
  return it != features.end() && it->second;
}

/// `cuda:<arch>`: the architecture and its limits. GPU targets take no
/// options (a thread count means nothing on a GPU).
static llvm::Expected<Target>
parseCUDA(llvm::StringRef spelling, llvm::StringRef arch,
          llvm::ArrayRef<llvm::StringRef> options) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("invalid target '" + spelling + "': " +
                                   why);
  };
  Target t;
  t.device = DeviceKind::CUDA;
  t.threads = 1;
  t.vectorWidthF32 = 4;
  if (arch == "sm_80") {
    t.smVersion = 80;
    t.gpu.sharedMemoryPerBlockOptIn = 163 * 1024;
  } else if (arch == "sm_90") {
    t.smVersion = 90;
    t.gpu.sharedMemoryPerBlockOptIn = 227 * 1024;
  } else if (arch.empty()) {
    return fail("missing GPU architecture (expected cuda:sm_80 or "
                "cuda:sm_90)");
  } else {
    return fail("unknown GPU architecture '" + arch +
                "' (expected sm_80 or sm_90)");
  }
  if (!options.empty())
    return fail("unknown option '" + options.front().trim() +
                "' (GPU targets take no options)");
  t.cpu = arch.str();
  // PTX ISA 8.0 (CUDA 12.0) is the first with sm_90; sm_80 needs 7.0.
  t.features = "+ptx80";
  return t;
}

llvm::Expected<Target> Target::parse(llvm::StringRef spelling) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("invalid target '" + spelling + "': " +
                                   why);
  };
  llvm::SmallVector<llvm::StringRef> parts;
  spelling.trim().split(parts, ',');
  llvm::StringRef head = parts.front().trim();
  auto [kind, isaName] = head.split(':');
  if (kind == "cuda")
    return parseCUDA(spelling, isaName, llvm::ArrayRef(parts).drop_front());
  if (kind != "cpu")
    return fail("unknown target kind '" + kind +
                "' (expected 'cpu', 'cpu:avx512', 'cpu:avx2', 'cpu:sse4.2', "
                "'cuda:sm_80' or 'cuda:sm_90')");

  Target t;
  t.threads = hostCoreCount();
  if (isaName.empty() || isaName == "host")
    t.isa = ISA::Host;
  else if (isaName == "avx512")
    t.isa = ISA::AVX512;
  else if (isaName == "avx2")
    t.isa = ISA::AVX2;
  else if (isaName == "sse4.2" || isaName == "sse42")
    t.isa = ISA::SSE42;
  else
    return fail("unknown ISA '" + isaName +
                "' (expected avx512, avx2 or sse4.2)");

  for (llvm::StringRef part : llvm::drop_begin(parts)) {
    auto [key, value] = part.trim().split('=');
    if (key == "bind" && !part.contains('=')) {
      t.bindThreads = true;
      continue;
    }
    if (key != "threads")
      return fail("unknown option '" + part.trim() +
                  "' (expected threads=N or bind)");
    unsigned n = 0;
    if (value.getAsInteger(10, n) || n == 0 || n > 1024)
      return fail("threads must be an integer in [1, 1024], got '" + value +
                  "'");
    t.threads = n;
  }

  switch (t.isa) {
  case ISA::Host: {
    t.cpu = llvm::sys::getHostCPUName().str();
    llvm::SmallVector<std::string> feats;
    for (auto &f : llvm::sys::getHostCPUFeatures())
      feats.push_back((f.second ? "+" : "-") + f.first().str());
    llvm::sort(feats);
    t.features = llvm::join(feats, ",");
    t.vectorWidthF32 = hostHas("avx512f") ? 16 : hostHas("avx") ? 8 : 4;
    break;
  }
  case ISA::AVX512:
    if (!hostHas("avx512f"))
      return fail("the host CPU does not support AVX-512");
    t.cpu = "skylake-avx512";
    t.features = "+avx512f,+avx512dq,+avx512bw,+avx512vl,+avx2,+fma";
    t.vectorWidthF32 = 16;
    break;
  case ISA::AVX2:
    if (!hostHas("avx2") || !hostHas("fma"))
      return fail("the host CPU does not support AVX2 with FMA");
    t.cpu = "haswell";
    t.features = "+avx2,+fma,-avx512f";
    t.vectorWidthF32 = 8;
    break;
  case ISA::SSE42:
    t.cpu = "nehalem";
    t.features = "+sse4.2,-avx,-avx2,-fma,-avx512f";
    t.vectorWidthF32 = 4;
    break;
  }
  return t;
}

std::string Target::str() const {
  if (isGPU())
    return "cuda:" + cpu;
  llvm::StringRef isaName = stringifyISA(isa);
  if (isa == ISA::Host)
    isaName = vectorWidthF32 == 16 ? "avx512" : vectorWidthF32 == 8 ? "avx2"
                                                                    : "sse4.2";
  return ("cpu:" + isaName + ",threads=" + llvm::Twine(threads) +
          (bindThreads ? ",bind" : ""))
      .str();
}

static std::string readCpuModel() {
  auto buf = llvm::MemoryBuffer::getFileAsStream("/proc/cpuinfo");
  if (!buf)
    return llvm::sys::getHostCPUName().str();
  llvm::SmallVector<llvm::StringRef> lines;
  (*buf)->getBuffer().split(lines, '\n');
  for (llvm::StringRef line : lines) {
    auto [key, value] = line.split(':');
    if (key.trim() == "model name")
      return value.trim().str();
  }
  return llvm::sys::getHostCPUName().str();
}

/// The model of the first NVIDIA GPU the kernel driver lists, without
/// linking CUDA: the `Model:` line of /proc/driver/nvidia/gpus/*/information.
static std::string readGpuModel() {
  std::error_code ec;
  llvm::SmallVector<std::string> dirs;
  for (llvm::sys::fs::directory_iterator it("/proc/driver/nvidia/gpus", ec),
       end;
       !ec && it != end; it.increment(ec))
    dirs.push_back(it->path());
  llvm::sort(dirs);
  for (const std::string &dir : dirs) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, "information");
    auto buf = llvm::MemoryBuffer::getFileAsStream(path);
    if (!buf)
      continue;
    llvm::SmallVector<llvm::StringRef> lines;
    (*buf)->getBuffer().split(lines, '\n');
    for (llvm::StringRef line : lines) {
      auto [key, value] = line.split(':');
      if (key.trim() == "Model" && !value.trim().empty())
        return value.trim().str();
    }
  }
  return "unknown GPU";
}

Platform Platform::host(const Target &target) {
  Platform p;
  p.target = target;
  p.cpuModel = readCpuModel();
  if (target.isGPU())
    p.gpuModel = readGpuModel();
  p.cores = hostCoreCount();
  return p;
}

std::string Platform::id() const {
  return target.str() + "@" + (target.isGPU() ? gpuModel : cpuModel);
}

llvm::json::Value Platform::toJSON() const {
  llvm::json::Object obj{{"target", target.str()},
                         {"isa", stringifyISA(target.isa)},
                         {"threads", target.threads},
                         {"cpu", target.cpu},
                         {"features", target.features},
                         {"cpu_model", cpuModel},
                         {"cores", cores}};
  if (target.bindThreads)
    obj["bind_threads"] = true;
  if (target.isGPU()) {
    obj["device"] = "cuda";
    obj["sm"] = target.smVersion;
    obj["gpu_model"] = gpuModel;
  }
  return obj;
}

llvm::Error tcl::requireCPUTarget(const Target &target, llvm::StringRef tool) {
  if (!target.isGPU())
    return llvm::Error::success();
  return llvm::createStringError(
      "target '" + target.str() + "' is a GPU target: " + tool +
      " builds and measures on the CPU only; GPU candidates are built with "
      "tcl-run --target=" + target.str() + " --gpu-batch=FILE and measured "
      "with tcl-cuda-runner on the GPU machine (docs/gpu.md)");
}
