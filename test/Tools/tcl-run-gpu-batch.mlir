// tcl-run builds GPU candidates here (no GPU, no CUDA): each workload's
// default and random GPU schedules lowered to PTX, with the reference
// output sampled from the unscheduled kernel run on this CPU.
// RUN: tcl-run %s --target=cuda:sm_90 --samples=3 --seed=1 --gpu-batch=%t.json 2>&1 | FileCheck %s
// RUN: %python -c "import json,sys; b=json.load(open(sys.argv[1])); print(b['format'], b['target'], b['seed'], b['timing']['warmup'], b['timing']['min_repeats']); [print(t['workload']['key'], t['workload']['kind'], t['workload']['flops'], len(t['candidates']), len(t['reference']['indices']), [(x['argument'], x['shape']) for x in t['candidates'][0]['program']['buffers']], t['candidates'][0]['program']['result'], [(l['grid'], l['block'], len(l['operands'])) for l in t['candidates'][0]['program']['launches']], sorted(t['candidates'][0]['knobs'])) for t in b['tasks']]" %t.json | FileCheck %s --check-prefix=BATCH

// The two ways of computing the reference agree (naive loops; the default
// CPU schedule, used for large tasks).
// RUN: tcl-run %s --filter=dense --target=cuda:sm_90 --gpu-reference=naive --gpu-batch=%t.naive.json 2>/dev/null
// RUN: tcl-run %s --filter=dense --target=cuda:sm_90 --gpu-reference=cpu-default --gpu-batch=%t.cpu.json 2>/dev/null
// RUN: %python -c "import json,sys; r=[json.load(open(f))['tasks'][0]['reference'] for f in sys.argv[1:]]; assert r[0]['indices'] == r[1]['indices']; d=max(abs(a-b) for a,b in zip(r[0]['values'], r[1]['values'])); print('references agree' if d < 1e-4 else 'references differ by ' + str(d))" %t.naive.json %t.cpu.json | FileCheck %s --check-prefix=AGREE
// AGREE: references agree
// RUN: not tcl-run %s --target=cuda:sm_90 --gpu-reference=fast --gpu-batch=%t.bad.json 2>&1 | FileCheck %s --check-prefix=BAD-REF
// BAD-REF: tcl-run: --gpu-reference: unknown 'fast' (expected auto, naive or cpu-default)

// CHECK: tcl-run: 2 workloads for cuda:sm_90, default + 3 random schedules each, reference on cpu
// CHECK: 4/4 lowered
// CHECK: 4/4 lowered
// CHECK: tcl-run: wrote 8 candidates of 2 workloads to '{{.*}}.json'; measure them with: tcl-cuda-runner {{.*}}.json --database=<db.jsonl>

// The matmul task's kernel takes the fill's destination first, then the two
// operands, the bias and the consumer's destination, which holds the
// result; the bias + ReLU consumer is fused into the one kernel. The conv
// task's result is written in place into its destination, argument 0.
// BATCH: tcl-gpu-batch cuda:sm_90 1 3 10
// BATCH: matmul_{{[0-9a-f]+}} matmul 401408 4 4096 [(0, [64, 64]), (1, [64, 48]), (2, [48, 64]), (3, [64]), (4, [64, 64])] 4 [([{{[0-9]+}}, {{[0-9]+}}, 1], [{{[0-9]+}}, {{[0-9]+}}, 1], {{[0-9]+}})] ['block_tile_0', 'block_tile_1', 'promote', 'red_tile_2', 'thread_tile_0', 'thread_tile_1']
// BATCH: conv_2d_nhwc_hwcf_{{[0-9a-f]+}} conv_2d_nhwc_hwcf 2359296 4 4096 [(0, [1, 16, 16, 32]), (1, [1, 18, 18, 16]), (2, [3, 3, 16, 32])] 0

func.func @dense(%a: tensor<64x48xf32>, %b: tensor<48x64xf32>, %bias: tensor<64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<64x48xf32>, tensor<48x64xf32>) outs(%fill : tensor<64x64xf32>) -> tensor<64x64xf32>
  %e2 = tensor.empty() : tensor<64x64xf32>
  %biased = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %bias : tensor<64x64xf32>, tensor<64xf32>) outs(%e2 : tensor<64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<64x64xf32>
  return %biased : tensor<64x64xf32>
}

func.func @conv(%x: tensor<1x18x18x16xf32>, %w: tensor<3x3x16x32xf32>) -> tensor<1x16x16x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x16x16x32xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x16x32xf32>) -> tensor<1x16x16x32xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x18x18x16xf32>, tensor<3x3x16x32xf32>) outs(%fill : tensor<1x16x16x32xf32>) -> tensor<1x16x16x32xf32>
  return %c : tensor<1x16x16x32xf32>
}
