// Test input: see the RUN line of the test that names this file.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @tcl_matmul_8c8eae7c6ab8b177(%root: !transform.any_op {transform.readonly}) attributes {tcl.workload = "matmul_8c8eae7c6ab8b177"} {
    %tile_par_0 = transform.tune.knob<"tile_par_0"> = 32 from options = [1, 2, 4, 8, 16, 32, 64, 128] -> !transform.param<i64>
    %tile_reg_0 = transform.tune.knob<"tile_reg_0"> = 4 from options = [1, 2, 4, 8, 16, 32, 64, 128] -> !transform.param<i64>
    %tile_par_1 = transform.tune.knob<"tile_par_1"> = 32 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 384] -> !transform.param<i64>
    %tile_reg_1 = transform.tune.knob<"tile_reg_1"> = 32 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128] -> !transform.param<i64>
    %tile_red_2 = transform.tune.knob<"tile_red_2"> = 256 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 768] -> !transform.param<i64>
    %unroll_red_2 = transform.tune.knob<"unroll_red_2"> = 1 from options = [1, 2, 3, 4, 6, 8, 12, 16] -> !transform.param<i64>
    %anchors = transform.structured.match attributes {tcl.task = "matmul_8c8eae7c6ab8b177"} in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %anchors : !transform.any_op {
    ^bb0(%a: !transform.any_op):
      %consumer0 = transform.get_consumers_of_result %a[0] : (!transform.any_op) -> !transform.any_op
      %fill1 = transform