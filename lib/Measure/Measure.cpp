//===- Measure.cpp - Error codes of builds and runs -----------------------===//

#include "tcl/Measure/Measure.h"

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
