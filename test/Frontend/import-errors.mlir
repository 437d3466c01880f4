// Bad ONNX input gives one clear error line (no traceback), exit status 1,
// and no output file.
// REQUIRES: onnx

// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/bad_onnx.py truncated %t/truncated.onnx
// RUN: not %python -m tcl.onnx_import %t/truncated.onnx -o %t/truncated.mlir 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not test -e %t/truncated.mlir
// TRUNCATED: onnx_import: {{.*}}truncated.onnx: not a readable ONNX model (truncated or corrupt?)
// TRUNCATED-NOT: Traceback

// RUN: %python %S/Inputs/bad_onnx.py unsupported-op %t/op.onnx
// RUN: not %python -m tcl.onnx_import %t/op.onnx -o %t/op.mlir 2>&1 | FileCheck %s --check-prefix=OP
// RUN: not test -e %t/op.mlir
// RUN: not test -e %t/op.npz
// OP: onnx_import: node 'my_topk' (TopK): unsupported op type
// OP-NOT: Traceback

// RUN: %python %S/Inputs/bad_onnx.py unsupported-attr %t/attr.onnx
// RUN: not %python -m tcl.onnx_import %t/attr.onnx -o %t/attr.mlir 2>&1 | FileCheck %s --check-prefix=ATTR
// RUN: not test -e %t/attr.mlir
// ATTR: onnx_import: node 'Conv_12' (Conv): unsupported attribute auto_pad='SAME_LOWER'
// ATTR-NOT: Traceback

// RUN: %python %S/Inputs/bad_onnx.py dynamic %t/dynamic.onnx
// RUN: not %python -m tcl.onnx_import %t/dynamic.onnx -o %t/dynamic.mlir 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: not test -e %t/dynamic.mlir
// DYNAMIC: onnx_import: graph input 'x': dynamic dimension 0 (symbolic 'batch'); only static shapes are supported
// DYNAMIC-NOT: Traceback

// Nothing half-written either: no temporary files are left behind.
// RUN: ls -A %t | FileCheck %s --check-prefix=FILES
// FILES-NOT: .tmp-
