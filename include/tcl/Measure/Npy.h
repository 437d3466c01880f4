//===- Npy.h - NumPy .npy arrays for runner inputs and outputs -*- C++ -*-===//
//
// The runner reads kernel inputs from, and writes kernel outputs to, NumPy's
// `.npy` format (version 1.0-3.0: a magic string, a Python-dict header with
// 'descr', 'fortran_order' and 'shape', then the raw C-order data), so that
// Python scripts can feed networks and compare their results with PyTorch.
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_NPY_H
#define TCL_MEASURE_NPY_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tcl {

/// A dense, C-order array read from a `.npy` file.
struct NpyArray {
  /// Element type in MLIR spelling: "f32", "f64", "f16", "i8", "i32", "i64"
  /// (from the little-endian descrs '<f4', '<f8', '<f2', '|i1', '<i4',
  /// '<i8').
  std::string elementType;
  llvm::SmallVector<int64_t> shape;
  /// The elements, `product(shape) * element size` bytes.
  std::vector<char> data;
};

/// Reads `path`. Fails with a message naming the file and the problem for a
/// missing or truncated file, a bad magic string or header, Fortran order, a
/// big-endian or unsupported dtype, or a data size that does not match the
/// shape.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// Writes `bytes` (C order, `product(shape)` elements of `elementType`, one
/// of the types NpyArray supports) to `path` as a version 1.0 `.npy` file.
/// The file is written under a temporary name and renamed, so `path` is
/// either the complete new file or untouched.
llvm::Error writeNpy(llvm::StringRef path, llvm::StringRef elementType,
                     llvm::ArrayRef<int64_t> shape, const void *bytes);

} // namespace tcl

#endif // TCL_MEASURE_NPY_H
