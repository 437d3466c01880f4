// RUN: tcl-opt %s --tcl-extract-tasks --tcl-export-transform-library="database=%S/Inputs/export-transform-library-db.jsonl target=cpu:avx512,threads=2 platform=cpu:avx512,threads=2@test-cpu output=%t.lib.mlir" -o %t.annotated.mlir 2>%t.report
// RUN: FileCheck %s --check-prefix=REPORT < %t.report
// RUN: FileCheck %s --check-prefix=LIB < %t.lib.mlir
// RUN: tcl-opt %s --tcl-extract-tasks | diff - %t.annotated.mlir

// Stock mlir-opt applies the library to the plain payload (no tcl.task) and
// gets the IR that --tcl-apply-best gets, up to dead code and constant order.
// RUN: mlir-opt %s --transform-preload-library="transform-library-paths=%t.lib.mlir" --transform-interpreter | mlir-opt --remove-dead-values --canonicalize --cse -o %t.stock.mlir
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-best="database=%S/Inputs/export-transform-library-db.jsonl target=cpu:avx512,threads=2 platform=cpu:avx512,threads=2@test-cpu" 2>/dev/null | mlir-opt --remove-dead-values --canonicalize --cse -o %t.tcl.mlir
// RUN: diff %t.stock.mlir %t.tcl.mlir
// RUN: FileCheck %s --check-prefix=STOCK < %t.stock.mlir

// Without default schedules the library holds the tuned workloads only;
// stock mlir-opt leaves the others as they are.
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-export-transform-library="database=%S/Inputs/export-transform-library-db.jsonl target=cpu:avx512,threads=2 platform=cpu:avx512,threads=2@test-cpu default-schedules=false output=%t.tuned.mlir" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TUNED-REPORT
// RUN: FileCheck %s --check-prefix=TUNED-LIB < %t.tuned.mlir
// RUN: mlir-opt %s --transform-preload-library="transform-library-paths=%t.tuned.mlir" --transform-interpreter | FileCheck %s --check-prefix=UNTOUCHED

// REPORT-NOT: warning
// REPORT: tcl-export-transform-library: database '{{.*}}export-transform-library-db.jsonl', platform 'cpu:avx512,threads=2@test-cpu'
// REPORT-NEXT: matmul_8c8eae7c6ab8b177: tuned (median 1 ms, 1 records)
// REPORT-NEXT: matmul_9e2261d81d365803: default (no record for platform cpu:avx512,threads=2@test-cpu)
// REPORT-NEXT: matmul_73589684b40055a8: default (no record for platform cpu:avx512,threads=2@test-cpu)
// REPORT-NEXT: elementwise_083769fdea865266: default (no record for platform cpu:avx512,threads=2@test-cpu)
// REPORT-NEXT: conv_2d_nhwc_hwcf_480ea0cfec5842ba: tuned (median 0.2 ms, 1 records)
// REPORT-NEXT: conv_2d_nhwc_hwcf_cf9adca8b2e4004d: tuned (median 0.3 ms, 1 records)
// REPORT-NEXT: 3 of 6 workloads tuned
// REPORT-NEXT: tcl-export-transform-library: wrote '{{.*}}.lib.mlir'

// LIB: // TCL transform library: best schedules from database '{{.*}}export-transform-library-db.jsonl' for platform 'cpu:avx512,threads=2@test-cpu'.
// LIB: module attributes {tcl.database = "{{.*}}", tcl.platform = "cpu:avx512,threads=2@test-cpu", transform.with_named_sequence}

// The matmul+bias+ReLU matcher starts at the ReLU consumer, checks it and
// its producer, and yields the matmul.
// LIB-LABEL: transform.named_sequence @match_matmul_8c8eae7c6ab8b177(
// LIB-SAME: {transform.readonly}) -> !transform.any_op
// LIB: transform.match.operation_name %[[ROOT:.*]] ["linalg.generic"]
// LIB: %[[CHAIN:.*]]:2 = transform.match.structured %[[ROOT]]
// LIB: transform.match.structured.body %{{.*}} {elementwise}
// LIB: transform.match.operation_name %[[CHAIN]]#1 ["linalg.matmul"]
// LIB: transform.match.structured.body %{{.*}} {contraction = ["arith.mulf", "arith.addf"]}
// LIB: transform.match.operation_name %{{.*}} ["linalg.fill"]
// LIB: transform.yield %[[CHAIN]]#1 : !transform.any_op

// The action: the tuned knobs and the per-anchor body of the schedule.
// LIB-LABEL: transform.named_sequence @tcl_matmul_8c8eae7c6ab8b177(
// LIB-SAME: {transform.consumed}) attributes {tcl.median_s = 1.000000e-03 : f64, tcl.schedule = "tuned", tcl.workload = "matmul_8c8eae7c6ab8b177"}
// LIB: transform.tune.knob<"tile_par_0"> = 32
// LIB-NOT: tcl.task
// LIB: transform.get_consumers_of_result %arg0[0]
// LIB: transform.structured.tile_using_forall

// LIB-LABEL: @tcl_matmul_9e2261d81d365803(
// LIB-SAME: tcl.schedule = "default"

// Equal loop extents; strides 1 and 2 tell the convolutions apart.
// LIB-LABEL: @match_conv_2d_nhwc_hwcf_480ea0cfec5842ba(
// LIB: %{{.*}} = transform.match.structured.classify_convolution_dims
// LIB: %[[S1:.*]] = transform.param.constant 1 : i64
// LIB: %[[S2:.*]] = transform.param.constant 1 : i64
// LIB: %[[STRIDES:.*]] = transform.merge_handles %[[S1]], %[[S2]]
// LIB-LABEL: @match_conv_2d_nhwc_hwcf_cf9adca8b2e4004d(
// LIB: %{{.*}} = transform.match.structured.classify_convolution_dims
// LIB: %[[T1:.*]] = transform.param.constant 2 : i64
// LIB: %[[T2:.*]] = transform.param.constant 2 : i64
// LIB: transform.merge_handles %[[T1]], %[[T2]]

// LIB-LABEL: transform.named_sequence @__transform_main(
// LIB-SAME: {transform.consumed})
// Tasks with more ops first.
// LIB: transform.foreach_match in %arg0
// LIB-NEXT: @match_matmul_8c8eae7c6ab8b177 -> @tcl_matmul_8c8eae7c6ab8b177,
// LIB-NEXT: @match_matmul_73589684b40055a8 -> @tcl_matmul_73589684b40055a8,
// LIB-NEXT: @match_matmul_9e2261d81d365803 -> @tcl_matmul_9e2261d81d365803,
// LIB-NEXT: @match_conv_2d_nhwc_hwcf_480ea0cfec5842ba -> @tcl_conv_2d_nhwc_hwcf_480ea0cfec5842ba,
// LIB-NEXT: @match_conv_2d_nhwc_hwcf_cf9adca8b2e4004d -> @tcl_conv_2d_nhwc_hwcf_cf9adca8b2e4004d,
// LIB-NEXT: @match_elementwise_083769fdea865266 -> @tcl_elementwise_083769fdea865266 :

// Each task got its own workload's schedule: 32x32 thread tiles for the
// tuned matmul (both instances in @dense_twice), the default for @square,
// and the two convolutions' different thread tiles (unit trip counts are
// folded by the normalization).
// STOCK-LABEL: func.func @dense(
// STOCK: scf.forall ({{.*}}) in (4, 12)
// STOCK: vector.fma {{.*}} : vector<32xf32>
// STOCK-NOT: linalg.matmul
// STOCK-LABEL: func.func @dense_twice(
// STOCK: scf.forall ({{.*}}) in (4, 12)
// STOCK: scf.forall ({{.*}}) in (4, 12)
// STOCK-NOT: linalg.matmul
// STOCK-LABEL: func.func @square(
// STOCK: scf.forall ({{.*}}) in (4) 
// STOCK-NOT: linalg.matmul
// STOCK-LABEL: func.func @square_relu(
// STOCK: scf.forall ({{.*}}) in (4) 
// STOCK: arith.maximumf {{.*}} : vector<8x32xf32>
// STOCK-NOT: linalg.
// STOCK-LABEL: func.func @square_transposed(
// STOCK: scf.forall ({{.*}}) in (4) 
// STOCK: scf.forall ({{.*}}) in (4) 
// STOCK-NOT: linalg.
// STOCK-LABEL: func.func @convs(
// STOCK: scf.forall ({{.*}}) in (2) shared_outs
// STOCK: scf.forall ({{.*}}) in (2, 2) shared_outs
// STOCK-NOT: linalg.conv_2d_nhwc_hwcf

// TUNED-REPORT: matmul_9e2261d81d365803: unscheduled (no record for platform cpu:avx512,threads=2@test-cpu)
// TUNED-REPORT: 3 of 6 workloads tuned
// TUNED-LIB-NOT: @match_matmul_9e2261d81d365803
// TUNED-LIB-NOT: @tcl_matmul_9e2261d81d365803
// UNTOUCHED-LABEL: func.func @dense(
// UNTOUCHED: scf.forall ({{.*}}) in (4, 12)
// UNTOUCHED-LABEL: func.func @square(
// UNTOUCHED-NOT: scf.forall
// UNTOUCHED: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<64x64xf32>, tensor<64x64xf32>)
// UNTOUCHED-NOT: scf.forall
// UNTOUCHED-LABEL: func.func @square_relu(
// UNTOUCHED-NOT: scf.forall
// UNTOUCHED: linalg.matmul
// UNTOUCHED: linalg.generic
// UNTOUCHED-LABEL: func.func @square_transposed(
// UNTOUCHED-NOT: scf.forall
// UNTOUCHED: linalg.matmul
// UNTOUCHED: linalg.generic
// UNTOUCHED-LABEL: func.func @convs(
// UNTOUCHED: scf.forall ({{.*}}) in (1, 2, 1, 1)
// UNTOUCHED: scf.forall ({{.*}}) in (1, 1, 2, 2)

// The fill and the bias+ReLU consumer write separate empty tensors: with
// one shared tensor.empty, --tcl-apply-best first gives each use its own
// (stock mlir-opt cannot), and the outputs would differ in which tensor the
// fused fill writes.
func.func @dense(%a: tensor<128x768xf32>, %b: tensor<768x384xf32>, %bias: tensor<384xf32>) -> tensor<128x384xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x384xf32>
  %e2 = tensor.empty() : tensor<128x384xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<128x384xf32>) -> tensor<128x384xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x384xf32>) outs(%fill : tensor<128x384xf32>) -> tensor<128x384xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<128x384xf32>, tensor<384xf32>) outs(%e2 : tensor<128x384xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x384xf32>
  return %r : tensor<128x384xf32>
}

// Two instances of @dense's workload in one function.
func.func @dense_twice(%a: tensor<128x768xf32>, %a2: tensor<128x768xf32>, %b: tensor<768x384xf32>, %bias: tensor<384xf32>) -> (tensor<128x384xf32>, tensor<128x384xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x384xf32>
  %e2 = tensor.empty() : tensor<128x384xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<128x384xf32>) -> tensor<128x384xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x384xf32>) outs(%fill : tensor<128x384xf32>) -> tensor<128x384xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<128x384xf32>, tensor<384xf32>) outs(%e2 : tensor<128x384xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x384xf32>
  %e3 = tensor.empty() : tensor<128x384xf32>
  %e4 = tensor.empty() : tensor<128x384xf32>
  %fill2 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<128x384xf32>) -> tensor<128x384xf32>
  %mm2 = linalg.matmul ins(%a2, %b : tensor<128x768xf32>, tensor<768x384xf32>) outs(%fill2 : tensor<128x384xf32>) -> tensor<128x384xf32>
  %r2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm2, %bias : tensor<128x384xf32>, tensor<384xf32>) outs(%e4 : tensor<128x384xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x384xf32>
  return %r, %r2 : tensor<128x384xf32>, tensor<128x384xf32>
}

// A matmul of another shape, without consumer; no record.
func.func @square(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %mm : tensor<64x64xf32>
}

// @square's matmul followed by a ReLU is another workload: @square's matcher
// must not take its matmul (it is not the end of its task).
func.func @square_relu(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %e2 = tensor.empty() : tensor<64x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm : tensor<64x64xf32>) outs(%e2 : tensor<64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// A transpose is not fused: the matmul is an instance of @square's workload
// and the transpose a task of its own.
func.func @square_transposed(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %e2 = tensor.empty() : tensor<64x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm : tensor<64x64xf32>) outs(%e2 : tensor<64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<64x64xf32>
  return %t : tensor<64x64xf32>
}

// Two convolutions with equal loop extents (1x14x14x16 outputs, 3x3x8
// windows): stride 1 on a 16x16 input, stride 2 on a 29x29 input.
func.func @convs(%x1: tensor<1x16x16x8xf32>, %x2: tensor<1x29x29x8xf32>, %w: tensor<3x3x8x16xf32>) -> (tensor<1x14x14x16xf32>, tensor<1x14x14x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<1x14x14x16xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  %c1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x1, %w : tensor<1x16x16x8xf32>, tensor<3x3x8x16xf32>) outs(%f1 : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  %e2 = tensor.empty() : tensor<1x14x14x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x2, %w : tensor<1x29x29x8xf32>, tensor<3x3x8x16xf32>) outs(%f2 : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  return %c1, %c2 : tensor<1x14x14x16xf32>, tensor<1x14x14x16xf32>
}
