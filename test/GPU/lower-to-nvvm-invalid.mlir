// RUN: tcl-opt %s -split-input-file --tcl-lower-to-nvvm="target=cuda:sm_90" -verify-diagnostics -o /dev/null

// A task without a GPU schedule would run on the host: rejected.
func.func @unscheduled(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @below {{linalg.matmul is not in a GPU kernel; give its task a GPU schedule first (--tcl-apply-schedules="target=cuda:sm_90")}}
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// A hand-written kernel whose thread-level loop needs 64x64 threads.
func.func @too_many_threads(%out: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %one = arith.constant 1.0 : f32
  // expected-error @below {{GPU kernel needs 4096 threads per block (64x64x1), more than the limit of 1024 on cuda:sm_90}}
  %r = scf.forall (%i) in (1) shared_outs(%o = %out) -> (tensor<64x64xf32>) {
    %t = scf.forall (%y, %x) in (64, 64) shared_outs(%p = %o) -> (tensor<64x64xf32>) {
      %s = tensor.extract_slice %p[%y, %x] [1, 1] [1, 1] : tensor<64x64xf32> to tensor<1x1xf32>
      %f = linalg.fill ins(%one : f32) outs(%s : tensor<1x1xf32>) -> tensor<1x1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %f into %p[%y, %x] [1, 1] [1, 1] : tensor<1x1xf32> into tensor<64x64xf32>
      }
    } {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %o[0, 0] [64, 64] [1, 1] : tensor<64x64xf32> into tensor<64x64xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<64x64xf32>
}

// -----

// A hand-written kernel staging 64 KiB in shared memory.
func.func @too_much_shared_memory(%in: tensor<128x128xf32>, %out: tensor<128x128xf32>) -> tensor<128x128xf32> {
  // expected-error @below {{GPU kernel @too_much_shared_memory_kernel uses 65536 bytes of shared memory, more than the limit of 49152 bytes per block on cuda:sm_90}}
  %r = scf.forall (%i) in (1) shared_outs(%o = %out) -> (tensor<128x128xf32>) {
    %buf = bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<128x128xf32>
    %staged = scf.forall (%y, %x) in (32, 32) shared_outs(%p = %buf) -> (tensor<128x128xf32>) {
      %s = tensor.extract_slice %in[%y, %x] [4, 4] [1, 1] : tensor<128x128xf32> to tensor<4x4xf32>
      %d = tensor.extract_slice %p[%y, %x] [4, 4] [1, 1] : tensor<128x128xf32> to tensor<4x4xf32>
      %c = linalg.copy ins(%s : tensor<4x4xf32>) outs(%d : tensor<4x4xf32>) -> tensor<4x4xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %c into %p[%y, %x] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<128x128xf32>
      }
    } {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
    %t = scf.forall (%y, %x) in (32, 32) shared_outs(%p = %o) -> (tensor<128x128xf32>) {
      %s = tensor.extract_slice %staged[%y, %x] [4, 4] [1, 1] : tensor<128x128xf32> to tensor<4x4xf32>
      %d = tensor.extract_slice %p[%y, %x] [4, 4] [1, 1] : tensor<128x128xf32> to tensor<4x4xf32>
      %c = linalg.copy ins(%s : tensor<4x4xf32>) outs(%d : tensor<4x4xf32>) -> tensor<4x4xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %c into %p[%y, %x] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<128x128xf32>
      }
    } {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %o[0, 0] [128, 128] [1, 1] : tensor<128x128xf32> into tensor<128x128xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<128x128xf32>
}
