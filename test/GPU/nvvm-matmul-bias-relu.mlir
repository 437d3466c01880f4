// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" | FileCheck %s --check-prefix=SCHED
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" --tcl-lower-to-nvvm="target=cuda:sm_90 output=%t.ptx" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t.ptx
// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" --tcl-lower-to-nvvm="target=cuda:sm_90 plan=%t.plan.json" -o /dev/null
// RUN: %python -c "import json,sys; [print(p['function'], [(b['argument'], b['shape'], b['type']) for b in p['buffers']], p['result'], [(l['module'], l['kernel'], l['grid'], l['block'], ' '.join('b' + str(o['buffer']) if 'buffer' in o else o['type'] + ':' + str(o.get('int', o.get('float'))) for o in l['operands'])) for l in p['launches']], ['.entry dense_kernel(' in t for t in p['ptx'].values()]) for p in json.load(open(sys.argv[1]))]" %t.plan.json | FileCheck %s --check-prefix=PLAN
// RUN: not tcl-opt %s --tcl-extract-tasks --tcl-apply-schedules="target=cuda:sm_90" --tcl-lower-to-nvvm="target=cuda:sm_90 format=bin plan=%t.bin.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PLAN-BIN

// The GPU program a runner replays (plan=): the three arguments, the
// result buffer the host function allocates, and one launch of 6x2 blocks
// of 16x16 threads whose operands are the buffers and the constants the
// outlined kernel takes.
// PLAN: dense [(0, [128, 768], 'f32'), (1, [768, 384], 'f32'), (2, [384], 'f32'), (-1, [128, 384], 'f32')] 3 [('dense_kernel', 'dense_kernel', [6, 2, 1], [16, 16, 1], 'b0 b1 f32:0 i64:0 i64:4 i64:1 i64:16 i64:768 b2 b3')] [True]
// PLAN-BIN: output=<file> and plan=<file> write PTX and need format=isa

// Fused elementwise consumers run in the matmul's kernel: the 64x64 matmul
// tile of a block is an intermediate in workgroup memory (16 KiB, besides
// the two 4 KiB operand tiles) that the bias add and ReLU read.
// SCHED-LABEL: func.func @dense
// SCHED: scf.forall ({{.*}}) in (2, 6)
// SCHED: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x64xf32>
// SCHED: linalg.matmul
// SCHED: arith.maximumf
// SCHED: {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
// SCHED: {mapping = [#gpu.block<y>, #gpu.block<x>]}
// SCHED-NOT: linalg.generic

// PTX: .visible .entry dense_kernel(
// PTX: .maxntid 16, 16, 1
// PTX-DAG: .shared .align 16 .b8 __wg_dense_kernel_0[16384];
// PTX-DAG: .shared .align 16 .b8 __wg_dense_kernel_1[4096];
// PTX-DAG: .shared .align 16 .b8 __wg_dense_kernel_2[4096];
// PTX: max.NaN.f32
// PTX: st.global.b32
func.func @dense(%a: tensor<128x768xf32>, %b: tensor<768x384xf32>, %bias: tensor<384xf32>) -> tensor<128x384xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x384xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<128x384xf32>) -> tensor<128x384xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x384xf32>) outs(%fill : tensor<128x384xf32>) -> tensor<128x384xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<128x384xf32>, tensor<384xf32>) outs(%e : tensor<128x384xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<128x384xf32>
  return %r : tensor<128x384xf32>
}
