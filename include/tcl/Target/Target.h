//===- Target.h - Targets and platform fingerprints ------------*- C++ -*-===//
//
// A target says where generated code runs and how it is compiled: the device
// kind (a CPU or an NVIDIA GPU), the LLVM CPU name and feature string used for
// code generation (for a GPU: the SM architecture and PTX version), the
// number of threads used at run time on a CPU, and the resource limits of a
// GPU. A platform is a target plus a fingerprint of the machine (CPU model
// name, GPU name), the unit a measure record is tied to.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_TARGET_TARGET_H
#define TCL_TARGET_TARGET_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>

namespace tcl {

/// The instruction-set level code is generated for.
enum class ISA { Host, AVX512, AVX2, SSE42 };

/// Returns "host", "avx512", "avx2" or "sse4.2".
llvm::StringRef stringifyISA(ISA isa);

/// The kind of device code is generated for.
enum class DeviceKind { CPU, CUDA };

/// Resource limits of one NVIDIA GPU architecture that GPU sketch rules and
/// schedule checks enforce (CUDA C Programming Guide, "Technical
/// Specifications per Compute Capability"; the same on sm_80 and sm_90
/// except the opt-in shared memory).
struct GPULimits {
  /// Threads per block (product of the block dims).
  int64_t maxThreadsPerBlock = 1024;
  /// Block dims x, y, z.
  int64_t maxBlockDims[3] = {1024, 1024, 64};
  /// Grid dims x, y, z.
  int64_t maxGridDims[3] = {2147483647, 65535, 65535};
  /// Static shared memory per block, in bytes: 48 KiB. This is the limit the
  /// generated code is held to: it declares shared memory statically
  /// (`.shared` arrays in the PTX), and a kernel may use more only as
  /// dynamic shared memory after an opt-in (`cudaFuncSetAttribute`).
  int64_t sharedMemoryPerBlock = 48 * 1024;
  /// Opt-in (dynamic) shared memory per block, in bytes: 227 KiB on sm_90,
  /// 163 KiB on sm_80. Recorded for reference; nothing uses it yet.
  int64_t sharedMemoryPerBlockOptIn = 227 * 1024;
  /// 32-bit registers per SM, and per thread.
  int64_t registersPerSM = 65536;
  int64_t maxRegistersPerThread = 255;
  /// Threads per warp.
  int64_t warpSize = 32;
};

/// A code-generation and run-time target.
///
/// A CPU target is spelled `cpu[:ISA][,threads=N][,bind]` with ISA one of
/// `avx512`, `avx2`, `sse4.2`; `cpu` alone is the host CPU with all its
/// features and all its cores. `bind` pins the run-time threads, one per
/// core (bindThreads). Examples: `cpu`, `cpu,threads=1`,
/// `cpu:avx2,threads=2`, `cpu:avx512,threads=2,bind`.
///
/// An NVIDIA GPU target is spelled `cuda:sm_80` or `cuda:sm_90` (no
/// options). Code is generated for that SM architecture with PTX ISA 8.0
/// (`cpu` = "sm_90", `features` = "+ptx80"); whether the machine has such a
/// GPU is not checked, so PTX can be produced on a machine without one.
struct Target {
  DeviceKind device = DeviceKind::CPU;
  /// CPU targets: the instruction-set level; `Host` for GPU targets.
  ISA isa = ISA::Host;
  /// Threads used at run time (OpenMP), >= 1; 1 for GPU targets.
  unsigned threads = 1;
  /// CPU targets: the run-time threads are pinned, one per core
  /// (RunnerOptions::bindThreads), spelled `,bind`. The generated code is
  /// the same; only measurement changes: on the 2-core AMD EPYC host, one
  /// program in ten of a 1 ms matmul varied more than 2.2x from one
  /// process to the next with unpinned OpenMP threads, 1.3x pinned
  /// (docs/results/measure_noise.md). A separate platform: its records
  /// never mix with unpinned ones.
  bool bindThreads = false;
  /// LLVM CPU name passed to the code generator (e.g. "skylake-avx512"; for
  /// a GPU the SM architecture, e.g. "sm_90").
  std::string cpu;
  /// LLVM feature string (e.g. "+avx2,+fma,-avx512f"; "+ptx80" for a GPU).
  std::string features;
  /// Widest native f32 vector, in elements (16 for AVX-512, 8 for AVX2, 4
  /// for SSE4.2); sketch rules derive vector-width knobs from it.
  /// (4 on a GPU: the widest global load, 128 bits.)
  unsigned vectorWidthF32 = 4;
  /// GPU targets: the SM version (80, 90); 0 for CPU targets.
  unsigned smVersion = 0;
  /// GPU targets: the resource limits of the architecture.
  GPULimits gpu;

  bool isGPU() const { return device == DeviceKind::CUDA; }

  /// Parses a target spelling. Errors name the offending part, e.g.
  /// "invalid target 'cpu:avx3': unknown ISA 'avx3' (expected avx512, avx2
  /// or sse4.2)", "invalid target 'cuda:sm_99': unknown GPU architecture
  /// 'sm_99' (expected sm_80 or sm_90)", or an ISA the host CPU does not
  /// support.
  static llvm::Expected<Target> parse(llvm::StringRef spelling);

  /// The canonical spelling: `cpu:avx2,threads=2` (CPU targets always with
  /// the thread count, then `,bind` if set; `cpu` targets print their
  /// detected ISA) or `cuda:sm_90`.
  std::string str() const;
};

/// The machine a target runs on: the unit measure records are tied to.
struct Platform {
  Target target;
  /// CPU model name from /proc/cpuinfo, e.g. "Intel(R) Xeon(R) ...".
  std::string cpuModel;
  /// GPU targets: the name of the machine's first NVIDIA GPU as the driver
  /// reports it in /proc/driver/nvidia/gpus/*/information (e.g. "NVIDIA
  /// H100 80GB HBM3"), or "unknown GPU" without a driver. CUDA is not
  /// linked; whether the GPU matches the target's SM version is not checked.
  std::string gpuModel;
  /// Number of online cores of the machine.
  unsigned cores = 1;

  /// Target plus fingerprint of this machine.
  static Platform host(const Target &target);

  /// A stable identifier: `<target>@<cpu model>`, or `<target>@<gpu model>`
  /// for GPU targets.
  std::string id() const;

  /// JSON object with target, isa, threads, cpu, features and cpu_model;
  /// bind_threads (true) with Target::bindThreads; GPU targets add device
  /// ("cuda"), sm and gpu_model.
  llvm::json::Value toJSON() const;
};

/// Success for a CPU target; for a GPU target an error saying that `tool`
/// builds and measures on the CPU only, and that GPU candidates are built
/// with `tcl-run --gpu-batch` and measured with tcl-cuda-runner.
llvm::Error requireCPUTarget(const Target &target, llvm::StringRef tool);

/// Number of online cores of this machine.
unsigned hostCoreCount();

} // namespace tcl

#endif // TCL_TARGET_TARGET_H
