module attributes {transform.with_named_sequence} {
  transform.named_sequence @tcl_matmul_dd844904a796fc22(%root: !transform.any_op {transform.readonly}) attributes {tcl.workload = "matmul_dd844904a796fc22"} {
    %block_tile_0 = transform.tune.knob<"block_tile_0"> = 64 from options = [1, 2, 4, 8, 16, 32, 64, 128, 256] -> !transform.param<i64>
    %thread_tile_0 = transform.tune.knob<"thread_tile_0"> = 4 from options = [1, 2, 4, 8, 16] -> !transform.param<i64>
    %block_tile_1 = transform.tune.knob<"block_tile_1"> = 64 from options = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 384] -> !transform.param<i64>
    %thread_tile_1 = transform.tune.knob<"thread_tile_1"> = 4 from options = [1, 2, 3, 4, 6, 8, 12, 16] -> !transform.param<i64>
    %red_tile_2 = transform.tune.knob<"red_tile_2"> = 16 from options = [1, 2, 4, 8, 16, 32, 64] -> !transform.param<i64>
    %anchors = transform.structured.match attributes {tcl.task = "matmul_dd844904a796fc22"} in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %anchors : !transform.any_op {
    ^bb0(%a: !transform.any_op):
      %fill0 = transform.get_producer_of_operand %a[2] : (!transform.any_op) -> !transform.any_op
      %tiled1, %blocks2 = transform.structured.tile_using_forall %a tile_sizes [%block_tile_0, %block_tile_1, 0] (mapping = [#gpu.block<y>, #gpu.block<x>]) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      %fused3, %blocks4 = transform.structured.fuse_into_containing_op %fill0 into %blocks2 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
      %step5, %red_loop6 = transform.structured.tile_using_for %tiled1 tile_sizes [0, 0, %red_tile_2] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      %staged7 = transform.tune.alternatives<"promote"> selected_region = 0 -> !transform.any_op {
        transform.yield %step5 : !transform.any_op
      }, {
        %padded8, %pads9, %copy_back10 = transform.structured.pad %step5 {padding_values = [0.0 : f32, 0.0 : f32, 0.0 : f32], padding_dimensions = [0, 1, 2], nofold_flags = [1, 1, 0], copy_back_op = "none"} : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
        %copies11 = transform.structured.rewrite_in_destination_passing_style %pads9 : (!transform.any_op) -> !transform.any_op
        %copy12, %copy13 = transform.split_handle %copies11 : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
        %dest14 = transform.get_operand %copy12[1] : (!transform.any_op) -> !transform.any_value
        %shared15 = transform.structured.promote_tensor to #gpu.address_space<workgroup> %dest14 : !transform.any_value
        %copy_thread16, %copy_forall17 = transform.structured.tile_using_forall %copy12 tile_sizes [1, 4] (mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
        %dest18 = transform.get_operand %copy13[1] : (!transform.any_op) -> !transform.any_value
        %shared19 = transform.structured.promote_tensor to #gpu.address_space<workgroup> %dest18 : !transform.any_value
        %copy_thread20, %copy_forall21 = transform.structured.tile_using_forall %copy13 tile_sizes [1, 4] (mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
        transform.yield %padded8 : !transform.any_op
      }
      %thread22, %threads23 = transform.structured.tile_using_forall %fused3 tile_sizes [%thread_tile_0, %thread_tile_1] (mapping = [#gpu.thread<y>, #gpu.thread<x>]) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      %thread24, %threads25 = transform.structured.tile_using_forall %staged7 tile_sizes [%thread_tile_0, %thread_tile_1, 0] (mapping = [#gpu.thread<y>, #gpu.thread<x>]) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
      transform.apply_patterns to %blocks4 {
        transform.apply_patterns.canonicalization
      } : !transform.any_op
    }
    transform.yield
  }
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    transform.include @tcl_matmul_dd844904a796fc22 failures(propagate) (%root) : (!transform.any_op) -> ()
    %module = transform.bufferization.one_shot_bufferize layout{IdentityLayoutMap} %root {bufferize_function_boundaries = true} : (!transform.any_op) -> !transform.any_op
    transform.apply_cse to %module : !transform.any_op
    transform.apply_patterns to %module {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %tasks = transform.structured.match attributes {tcl.task = "matmul_dd844904a796fc22"} in %module : (!transform.any_op) -> !transform.any_op
    transform.foreach %tasks : !transform.any_op {
    ^bb0(%t: !transform.any_op):
      %blocks = transform.get_parent_op %t {op_name = "scf.forall", nth_parent = 2} : (!transform.any_op) -> !transform.any_op
      %launch = transform.gpu.map_forall_to_blocks %blocks generate_gpu_launch : (!transform.any_op) -> !transform.any_op
      transform.gpu.map_nested_forall_to_threads %launch block_dims = [16, 16, 1] : (!transform.any_op) -> !transform.any_op
    }
    transform.yield
  }
}
