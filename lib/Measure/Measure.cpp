//===- Measure.cpp - Error codes of builds and runs -----------------------===//

#include "tcl/Measure/Measure.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"

llvm::StringRef tcl::stringifyErrorCode(ErrorCode code) {
  switch (code) {
  case ErrorCode::None:
    return "none";
  case ErrorCode::BuildError:
    return "build_error";
  case ErrorCode::RuntimeError:
    return "runtime_error";
  case ErrorCode::WrongAnswer:
    return "wrong_answer";
  case ErrorCode::Timeout:
    return "timeout";
  }
  llvm_unreachable("unknown error code");
}

void tcl::MeasureResult::setLatencies(llvm::ArrayRef<double> timed,
                                      int64_t flops) {
  latencies.assign(timed.begin(), timed.end());
  minSeconds = medianSeconds = gflops = 0;
  if (timed.empty())
    return;
  llvm::SmallVector<double> sorted(timed);
  llvm::sort(sorted);
  size_t n = sorted.size();
  minSeconds = sorted.front();
  medianSeconds = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  if (flops > 0 && medianSeconds > 0)
    gflops = static_cast<double>(flops) / medianSeconds / 1e9;
}
