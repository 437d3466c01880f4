// RUN: not tcl-opt %s --tcl-lower-to-nvvm="target=cpu:sse4.2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CPU
// RUN: not tcl-opt %s --tcl-lower-to-nvvm="target=cuda:sm_99" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: not tcl-opt %s --tcl-lower-to-nvvm="format=ptx" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FORMAT

// CPU: error: --tcl-lower-to-nvvm needs a GPU target (cuda:sm_80 or cuda:sm_90), got 'cpu:sse4.2'; use --tcl-lower-to-cpu for CPU targets
// ARCH: error: invalid target 'cuda:sm_99': unknown GPU architecture 'sm_99' (expected sm_80 or sm_90)
// FORMAT: error: --tcl-lower-to-nvvm: unknown format 'ptx' (expected isa, bin or fatbin)
module {
  func.func @f() {
    return
  }
}
