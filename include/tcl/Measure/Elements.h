//===- Elements.h - Tensor element types and seeded inputs ------*- C++ -*-===//
//
// What the CPU runner (Runner.h) and the GPU runner (tcl-cuda-runner) must
// agree on so that a candidate measured on one machine is checked against a
// reference computed on another: element types, the seeded input values of
// each kernel argument, and the tolerance of the output check.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_MEASURE_ELEMENTS_H
#define TCL_MEASURE_ELEMENTS_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace tcl {

/// Element types of kernel arguments.
enum class ElementKind { F32, F64, F16, BF16, I8, I32, I64 };

/// Parses the MLIR spelling ("f32", "f64", "f16", "bf16", "i8", "i32",
/// "i64"); std::nullopt for anything else.
std::optional<ElementKind> parseElementKind(llvm::StringRef name);

/// Bytes per element.
size_t elementBytes(ElementKind kind);

/// Stores `value` as element `i` of `data` (round to nearest even for f16
/// and bf16, round half away from zero for integers).
void storeElement(ElementKind kind, void *data, size_t i, double value);

/// Element `i` of `data`, widened to double.
double loadElement(ElementKind kind, const void *data, size_t i);

/// Fills `n` elements of `data` with the input values of kernel argument
/// `index` for `seed`: uniform in [-1, 1] on a grid of 2^-23 (exact in f32),
/// from SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
/// generators", OOPSLA'14) seeded with `seed` and `index`. The same on every
/// platform, so a builder and a runner on different machines agree.
void fillUniform(ElementKind kind, void *data, size_t n, uint64_t seed,
                 unsigned index);

/// The output check: |got - want| <= atol + rtol * |want|, where NaN in both
/// passes and any other NaN fails. `error` is set to |got - want| (infinity
/// for a NaN that fails, 0 for matching NaNs).
bool withinTolerance(double got, double want, double rtol, double atol,
                     double &error);

} // namespace tcl

#endif // TCL_MEASURE_ELEMENTS_H
