//===- TensorTestUtils.h - Tensors as vectors, for unit tests ---*- C++ -*-===//

#ifndef TCL_TEST_UNIT_TENSORTESTUTILS_H
#define TCL_TEST_UNIT_TENSORTESTUTILS_H

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace tcl {

/// The elements of `t` as doubles, in row-major order.
inline std::vector<double> toVector(const torch::Tensor &t) {
  torch::Tensor c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(),
                             c.data_ptr<double>() + c.numel());
}

/// The elements of the int64 tensor `t`, in row-major order.
inline std::vector<int64_t> toIntVector(const torch::Tensor &t) {
  torch::Tensor c = t.contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(),
                              c.data_ptr<int64_t>() + c.numel());
}

} // namespace tcl

#endif // TCL_TEST_UNIT_TENSORTESTUTILS_H
