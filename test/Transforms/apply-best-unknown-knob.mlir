// RUN: tcl-opt %s --tcl-extract-tasks --tcl-apply-best="database=%S/Inputs/apply-best-unknown-knob-db.jsonl target=cpu:avx512,threads=2 platform=cpu:avx512,threads=2@test-cpu" -verify-diagnostics -o /dev/null

// A record whose knobs do not fit the task's search space (written by
// another version of the sketch rules, or edited) is an error naming the
// workload and the knob, not a silently different schedule.
// expected-error @below {{does not fit its search space: knob 'tile_foo' is not in the search space of workload 'matmul_8c8eae7c6ab8b177'}}
module {
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
}
