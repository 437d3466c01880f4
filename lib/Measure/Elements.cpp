//===- Elements.cpp - Tensor element types and seeded inputs --------------===//

#include "tcl/Measure/Elements.h"

#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <cstring>

using namespace tcl;


std::optional<ElementKind> tcl::parseElementKind(llvm::StringRef name) {
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

size_t tcl::elementBytes(ElementKind kind) {
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

namespace {
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
} // namespace

void tcl::storeElement(ElementKind kind, void *data, size_t i, double value) {
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

double tcl::loadElement(ElementKind kind, const void *data, size_t i) {
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

void tcl::fillUniform(ElementKind kind, void *data, size_t n, uint64_t seed,
                      unsigned index) {
  SplitMix64 rng{seed ^ (0xd1b54a32d192ed03ULL * (index + 1))};
  for (size_t i = 0; i < n; ++i)
    storeElement(kind, data, i, rng.uniform());
}

bool tcl::withinTolerance(double got, double want, double rtol, double atol,
                          double &error) {
  // NaN where the reference has NaN too (e.g. the square root of a negative
  // random input) is right; any other NaN compares false and fails.
  if (std::isnan(got) && std::isnan(want)) {
    error = 0;
    return true;
  }
  error = std::fabs(got - want);
  bool good = error <= atol + rtol * std::fabs(want);
  if (std::isnan(error))
    error = INFINITY;
  return good;
}
