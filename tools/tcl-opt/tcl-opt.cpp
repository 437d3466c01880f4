//===- tcl-opt.cpp - TCL optimizer driver ---------------------------------===//
//
// mlir-opt with the upstream dialects, passes and transform extensions TCL
// uses, plus the tcl-* passes.
//
//===----------------------------------------------------------------------===//

#include "tcl/Search/Passes.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  tcl::registerTCLPasses();
  tcl::registerTCLSearchPasses();
  mlir::DialectRegistry registry;
  tcl::registerTCLDialects(registry);
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &os) {
    os << "TCL tensor compiler " TCL_VERSION "\n";
  });
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "TCL optimizer driver: Linalg tasks, schedules, lowering\n",
      registry));
}
