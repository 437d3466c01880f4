// A schedule whose 32-wide tiles do not divide N = 100, for ../masked-tiles.mlir.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @tcl_matmul_7aa0356f09722457(%root: !transform.any_op {transform.readonly}) attributes {tcl.workload = "matmul_7aa0356f09722457"} {
    %tile_par_0 = transform.tune.knob<"tile_par_0"> = 30 from options = [1, 2, 3, 5, 6, 10, 15, 30] -> !transform.param<i64>
    %tile_reg_0 = transform.tune.knob<"tile_reg_0"> = 6 from options = [1, 2, 3, 5, 6, 10, 15, 30] -> !transform.param<i64>
    %tile_par_1 = transform.tune.knob<"tile_par_1"> = 32 from options = [1, 2, 4, 5, 10, 16, 20, 25, 32, 50, 64, 100] -> !transform.param<i64>
    %tile_reg_1 = transform.tune.knob<"tile_reg_1"> = 16 from options = [1, 2, 4, 5, 10, 16, 20, 25, 32, 48, 50, 64, 100] -> !transform.param<i64>
    %tile_red_2 = transform.tune.knob<"tile_red_2"> = 96 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96] -> !transform.param<i64>
    %unroll_red_2 = transform.tune.knob<"unroll_red_2"> = 1 from options = [1, 2, 3, 4, 6, 8, 12, 16] -> !transform.param<i64>
    %anchors = transform.structured.match attributes {tcl.task = "matmul_7aa0356f09722457"} in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %anchors : !transform.any_op {
    ^bb0(%a: !transform.any_op):
      %tiled0, %forall1 = transform.structured.tile_using_forall %a tile_sizes [%tile_par_0, %tile_par_1, 0] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      %tiled2, %cache_loop3 = transform.structured.tile_using_for %tiled0 tile_sizes [0, 0, %tile_red_2] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      %reg4 = transform.tune.alternatives<"interchange"> selected_region = 0 -> !transform.any_op {
        %t8, %loop5, %loop6, %loop7 = transform.structured.tile_using_for %tiled2 tile_sizes [%tile_reg_0, %tile_reg_1, %unroll_red_2] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
        transform.yield %t8 : !transform.any_op
      }, {
        %t12, %loop9, %loop10, %loop11 = transform.structured.tile_using_for %tiled2 tile_sizes [%tile_reg_0, %tile_reg_1, %unroll_red_2] interchange = [1, 0, 2] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
        transform.yield %t12 : !transform.any_op
      }
      transform.structured.vectorize %reg4 vector_sizes [%tile_reg_0, %tile_reg_1, %unroll_red_2] : !transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>
      transform.apply_patterns to %forall1 {
        transform.apply_patterns.vector.lower_masked_transfers
        transform.apply_patterns.vector.transfer_permutation_patterns
        transform.apply_patterns.vector.reduction_to_contract
      } : !transform.any_op
      %for13 = transform.structured.match ops{["scf.for"]} in %forall1 : (!transform.any_op) -> !transform.any_op
      transform.foreach %for13 : !transform.any_op {
      ^bb0(%l: !transform.any_op):
        transform.apply_licm to %l : !transform.any_op
        transform.loop.hoist_loop_invariant_subsets %l : !transform.any_op
      }
      %for14 = transform.structured.match ops{["scf.for"]} in %forall1 : (!transform.any_op) -> !transform.any_op
      transform.foreach %for14 : !transform.any_op {
      ^bb0(%l: !transform.any_op):
        transform.apply_licm to %l : !transform.any_op
        transform.loop.hoist_loop_invariant_subsets %l : !transform.any_op
      }
      transform.tune.alternatives<"contraction_lowering"> selected_region = 0 {
        transform.apply_patterns to %forall1 {
          transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
        } : !transform.any_op
      }, {
        transform.apply_patterns to %forall1 {
          transform.apply_patterns.vector.lower_contraction lowering_strategy = "dot"
        } : !transform.any_op
      }
      transform.apply_patterns to %forall1 {
        transform.apply_patterns.vector.lower_masks
        transform.apply_patterns.vector.materialize_masks
        transform.apply_patterns.vector.lower_outerproduct
        transform.apply_patterns.vector.lower_transpose
        transform.apply_patterns.vector.lower_multi_reduction lowering_strategy = "innerreduction"
        transform.apply_patterns.vector.lower_transfer max_transfer_rank = 1
        transform.apply_patterns.canonicalization
      } : !transform.any_op
    }
    transform.yield
  }
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    transform.include @tcl_matmul_7aa0356f09722457 failures(propagate) (%root) : (!transform.any_op) -> ()
    transform.yield
  }
}
