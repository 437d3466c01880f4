// RUN: tcl-opt %s --tcl-lower-to-cpu="target=cpu:avx3" -verify-diagnostics -o /dev/null

// expected-error @below {{invalid target 'cpu:avx3': unknown ISA 'avx3' (expected avx512, avx2 or sse4.2)}}
module {
  func.func @f() {
    return
  }
}
