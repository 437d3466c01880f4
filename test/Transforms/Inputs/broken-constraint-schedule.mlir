// Test input: see the RUN line of the test that names this file.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @tcl_matmul_8c8eae7c6ab8b177(%root: !transform.any_op {transform.readonly}) attributes {tcl.workload = "matmul_8c8eae7c6ab8b177"} {
    %tile_par_0 = transform.tune.knob<"tile_par_0"> = 32 from options = [1, 2, 4, 8, 16, 32, 64, 128] -> !transform.param<i64>
    %tile_reg_0 = transform.tune.knob<"tile_reg_0"> = 64 from options = [1, 2, 4, 8, 16, 32, 64, 128] -> !transform.param<i64>
    %tile_par_1 = transform.tune.knob<"tile_par_1"> = 32 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 384] -> !transform.param<i64>
    %tile_reg_1 = transform.tune.knob<"tile_reg_1"> = 32 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128] -> !transform.param<i64>
    %tile_red_2 = transform.tune.knob<"tile_red_2"> = 256 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 768] -> !transform.param<i64>
    %unroll_red_2 = transform.tune.knob<"unroll_red_2"> = 1 from options = [1, 2, 3, 4, 6, 8, 12, 16] -> !transform.param<i64>
    %anchors = transform.structured.match attributes {tcl.task = "matmul_8c8eae7c6ab8b177"} in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %anchors : !transform.any_op {
    ^bb0(%a: !transform.any_op):
      %consumer0 = transform.get_consumers_of_result %a[0] : (!transform.any_op) -> !transform.any_op
      %fill1 = transform.get_producer_of_operand %a[2] : (!transform.any_op) -> !transform.any_op
      %tiled2, %forall3 = transform.structured.tile_using_forall %consumer0 tile_sizes [%tile_par_0, %tile_par_1] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      %fused4, %forall5 = transform.structured.fuse_into_containing_op %a into %forall3 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
      %fused6, %forall7 = transform.structured.fuse_into_containing_op %fill1 into %forall5 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
      %tiled8, %cache_loop9 = transform.structured.tile_using_for %fused4 tile_sizes [0, 0, %tile_red_2] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      %reg10 = transform.tune.alternatives<"interchange"> selected_region = 0 -> !transform.any_op {
        %t14, %loop11, %loop12, %loop13 = transform.structured.tile_using_for %tiled8 tile_sizes [%tile_reg_0, %tile_reg_1, %unroll_red_2] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
        transform.yield %t14 : !transform.any_op
      }, {
        %t18, %loop15, %loop16, %loop17 = transform.structured.tile_using_for %tiled8 tile_sizes [%tile_reg_0, %tile_reg_1, %unroll_red_2] interchange = [1, 0, 2] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
        transform.yield %t18 : !transform.any_op
      }
      transform.structured.vectorize %reg10 : !transform.any_op
      %t19, %loop20, %loop21 = transform.structured.tile_using_for %fused6 tile_sizes [%tile_reg_0, %tile_reg_1] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op)
      transform.structured.vectorize %t19 : !transform.any_op
      %t22, %loop23, %loop24 = transform.structured.tile_using_for %tiled2 tile_sizes [%tile_reg_0, %tile_reg_1] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op)
      transform.structured.vectorize %t22 : !transform.any_op
      transform.apply_patterns to %forall7 {
        transform.apply_patterns.vector.lower_masked_transfers
        transform.apply_patterns.vector.transfer_permutation_patterns
        transform.apply_patterns.vector.reduction_to_contract
      } : !transform.any_op
      %for25 = transform.structured.match ops{["scf.for"]} in %forall7 : (!transform.any_op) -> !transform.any_op
      transform.foreach %for25 : !transform.any_op {
      ^bb0(%l: !transform.any_op):
        transform.apply_licm to %l : !transform.any_op
        transform.loop.hoist_loop_invariant_subsets %l : !transform.any_op
      }
      %for26 = transform.structured.match ops{["scf.for"]} in %forall7 : (!transform.any_op) -> !transform.any_op
      transform.foreach %for26 : !transform.any_op {
      ^bb0(%l: !transform.any_op):
        transform.apply_licm to %l : !transform.any_op
        transform.loop.hoist_loop_invariant_subsets %l : !transform.any_op
      }
      transform.tune.alternatives<"contraction_lowering"> selected_region = 0 {
        transform.apply_patterns to %forall7 {
          transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
        } : !transform.any_op
      }, {
        transform.apply_patterns to %forall7 {
          transform.apply_patterns.vector.lower_contraction lowering_strategy = "dot"
        } : !transform.any_op
      }
      transform.apply_patterns to %forall7 {
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
    transform.include @tcl_matmul_8c8eae7c6ab8b177 failures(propagate) (%root) : (!transform.any_op) -> ()
    transform.yield
  }
}
