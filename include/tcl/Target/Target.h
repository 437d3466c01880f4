//===- Target.h - Targets and platform fingerprints ------------*- C++ -*-===//
//
// A target says where generated code runs and how it is compiled: the LLVM
// CPU name and feature string used for code generation and the number of
// threads used at run time. A platform is a target plus a fingerprint of the
// machine (CPU model name), the unit a measure record is tied to.
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

/// A code-generation and run-time target.
///
/// Spelled `cpu[:ISA][,threads=N]` with ISA one of `avx512`, `avx2`,
/// `sse4.2`; `cpu` alone is the host CPU with all its features and all its
/// cores. Examples: `cpu`, `cpu,threads=1`, `cpu:avx2,threads=2`.
struct Target {
  ISA isa = ISA::Host;
  /// Threads used at run time (OpenMP), >= 1.
  unsigned threads = 1;
  /// LLVM CPU name passed to the code generator (e.g. "skylake-avx512").
  std::string cpu;
  /// LLVM feature string (e.g. "+avx2,+fma,-avx512f").
  std::string features;
  /// Widest native f32 vector, in elements (16 for AVX-512, 8 for AVX2, 4
  /// for SSE4.2); sketch rules derive vector-width knobs from it.
  unsigned vectorWidthF32 = 4;

  /// Parses a target spelling. Errors name the offending part, e.g.
  /// "unknown ISA 'avx3' in target 'cpu:avx3' (expected avx512, avx2 or
  /// sse4.2)", or an ISA the host CPU does not support.
  static llvm::Expected<Target> parse(llvm::StringRef spelling);

  /// The canonical spelling, always with the thread count:
  /// `cpu:avx2,threads=2`; `cpu` targets print their detected ISA.
  std::string str() const;
};

/// The machine a target runs on: the unit measure records are tied to.
struct Platform {
  Target target;
  /// CPU model name from /proc/cpuinfo, e.g. "Intel(R) Xeon(R) ...".
  std::string cpuModel;
  /// Number of online cores of the machine.
  unsigned cores = 1;

  /// Target plus fingerprint of this machine.
  static Platform host(const Target &target);

  /// A stable identifier: `<target>@<cpu model>`.
  std::string id() const;

  /// JSON object with target, isa, threads, cpu, features and cpu_model.
  llvm::json::Value toJSON() const;
};

/// Number of online cores of this machine.
unsigned hostCoreCount();

} // namespace tcl

#endif // TCL_TARGET_TARGET_H
