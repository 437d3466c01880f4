//===- GPUProgram.h - What a GPU runner replays of a lowered module -*- C++ -*-===//
//
// `--tcl-lower-to-nvvm` turns a host function into host code that launches
// PTX kernels through MLIR's GPU runtime wrappers. A runner on another
// machine (tcl-cuda-runner) needs none of that host code: it needs the
// device buffers, the kernel launches in order and the PTX. A GPUProgram is
// exactly that, read off the module after kernel outlining and completed
// with the PTX at the end of the lowering.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_TRANSFORMS_GPUPROGRAM_H
#define TCL_TRANSFORMS_GPUPROGRAM_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tcl {

/// A device buffer of a GPU program: a statically shaped, row-major
/// (identity layout) memref that is either an argument of the host function
/// or allocated by it.
struct GPUBuffer {
  /// "f32", "f16", "bf16", "f64", "i8", "i32" or "i64".
  std::string elementType;
  llvm::SmallVector<int64_t> shape;
  /// Index of the host function's argument this buffer is, or -1 for a
  /// buffer the host function allocates (its initial contents undefined).
  int64_t argument = -1;

  int64_t numElements() const;
};

/// One kernel operand: a buffer or a scalar constant.
struct GPUOperand {
  enum class Kind { Buffer, Integer, Float };
  Kind kind = Kind::Buffer;
  /// Kind::Buffer: index into GPUProgram::buffers.
  int64_t buffer = -1;
  /// Kind::Integer / Kind::Float: the constant's value and its type as
  /// passed to the kernel: "i64" (also for `index`), "i32", "f16", "bf16",
  /// "f32" or "f64".
  int64_t intValue = 0;
  double floatValue = 0;
  std::string type;
};

/// One `gpu.launch_func`.
struct GPULaunch {
  /// The kernel's `gpu.module` (the key of GPUProgram::ptx) and its entry
  /// function (the `.entry` name in the PTX).
  std::string module, kernel;
  /// Blocks and threads per block along x, y, z.
  std::array<int64_t, 3> grid = {1, 1, 1}, block = {1, 1, 1};
  /// Kernel parameters in order. The PTX entry takes each buffer operand as
  /// the fields of its memref descriptor, 3 + 2 * rank 64-bit words:
  /// allocated pointer, aligned pointer, offset (0), sizes, strides
  /// (row-major); an integer or float operand as one value of its type.
  std::vector<GPUOperand> operands;
};

/// The device side of one host function lowered by `--tcl-lower-to-nvvm`.
struct GPUProgram {
  /// The host function's name.
  std::string function;
  std::vector<GPUBuffer> buffers;
  /// In execution order; each launch sees the buffers as the previous ones
  /// left them.
  std::vector<GPULaunch> launches;
  /// Index of the buffer holding the function's result (it may be one of
  /// its arguments), or -1 when the function returns nothing.
  int64_t result = -1;
  /// PTX text of each kernel module (format=isa), keyed by module name.
  std::map<std::string, std::string> ptx;

  /// Number of 64-bit or narrower parameter slots of `launch`'s entry, as
  /// described at GPULaunch::operands.
  int64_t numParameters(const GPULaunch &launch) const;
};

/// Checks that the PTX entry of every launch exists and takes
/// numParameters() parameters, so that a runner passes the right number of
/// values. Fails with a message naming the kernel.
llvm::Error checkPTXParameters(const GPUProgram &program);

/// JSON form of a program:
/// {"function", "buffers": [{"type", "shape", "argument"}], "launches":
/// [{"module", "kernel", "grid", "block", "operands": [{"buffer": i} |
/// {"int": v, "type"} | {"float": v, "type"}]}], "result", "ptx": {module:
/// text}}.
llvm::json::Value toJSON(const GPUProgram &program);

/// Parses the JSON form. Fails with a message naming the JSON path of the
/// problem (e.g. `launches[0].operands[2]: buffer 7 out of range`) for a
/// missing or mistyped field, a buffer index out of range, a non-positive
/// dim or grid/block size, or a launch of a module without PTX.
llvm::Expected<GPUProgram> programFromJSON(const llvm::json::Value &value);

} // namespace tcl

#endif // TCL_TRANSFORMS_GPUPROGRAM_H
