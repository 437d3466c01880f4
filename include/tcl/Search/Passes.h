//===- Passes.h - TCL search passes -----------------------------*- C++ -*-===//

#ifndef TCL_SEARCH_PASSES_H
#define TCL_SEARCH_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tcl {

#define GEN_PASS_DECL
#include "tcl/Search/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tcl/Search/Passes.h.inc"

} // namespace tcl

#endif // TCL_SEARCH_PASSES_H
