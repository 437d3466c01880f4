//===- SearchSpace.h - Schedule spaces over transform-dialect knobs -*- C++ -*-===//
//
// A search space is a transform-dialect script with free choices: each choice
// is a `transform.tune.knob` (an integer from a list of options, e.g. a tile
// size) or a `transform.tune.alternatives` (one of several sub-schedules,
// e.g. a contraction lowering). A schedule resolves every choice; printed, it
// is a plain transform script (`selected` on every knob) that stock
// `mlir-opt --transform-interpreter` replays.
//
// Sketch rules (SketchRules.cpp) build the space of a task on a CPU target
// with Ansor's multi-level tiling (Zheng et al., OSDI'20, Sec. 4.1) reduced
// to the two levels MLIR's tiling exposes cheaply:
//
//   S  tile the root over output dims into `scf.forall` (threads, OpenMP);
//      fuse the anchor, its fill and the elementwise consumers into it
//   R  tile the anchor's reduction loops (cache blocking)
//   S  tile the parallel loops to a register tile  \ vectorized as one op
//   R  tile the reduction loops by an unroll factor /
//
// followed by vectorization (convolutions and pooling are first decomposed
// to 1-D; grouped convolutions, which have no 1-D decomposition, are
// generalized with their unit window loops folded away), hoisting of
// loop-invariant transfers out of the reduction loops, and vector lowering
// with the chosen contraction strategy.
//
// On a GPU target (`cuda:sm_XX`) GPU sketch rules (GPUSketchRules.cpp) build
// the space of matmul, batch_matmul and conv_2d_nhwc_hwcf tasks instead, the
// classic shared-memory tiling of GPU GEMMs (e.g. Ansor's GPU sketch, OSDI'20
// Sec. 4.1, and CUTLASS's threadblock/thread tiles):
//
//   block tile    tile the root over output dims into `scf.forall` mapped
//                 to `#gpu.block<z|y|x>`; fuse the anchor, its fill and the
//                 elementwise consumers into it
//   reduction     tile the anchor's reduction loops (`scf.for`)
//   promotion     optionally copy the operand tiles of one reduction step
//                 into workgroup (shared) memory, the copies spread over
//                 the block's threads
//   thread tile   tile the anchor, fill and consumers into `scf.forall`
//                 mapped to `#gpu.thread<z|y|x>`
//
// See docs/gpu.md. The schedule stays on tensors; `--tcl-lower-to-nvvm`
// bufferizes and maps the loops to a `gpu.launch`.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_SPACE_SEARCHSPACE_H
#define TCL_SPACE_SEARCHSPACE_H

#include "tcl/Target/Target.h"
#include "tcl/Task/Task.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <array>
#include <random>
#include <utility>
#include <vector>
#include <string>

namespace tcl {

/// One free choice of a search space.
struct Knob {
  enum class Kind {
    /// `transform.tune.knob`: the value is one of `options`.
    Value,
    /// `transform.tune.alternatives`: the value is a region index; `options`
    /// is `0..n-1` and `labels` names each region.
    Alternatives,
  };
  Kind kind = Kind::Value;
  /// Unique within the space, e.g. `tile_par_1`, `unroll_red_2`.
  std::string name;
  llvm::SmallVector<int64_t> options;
  llvm::SmallVector<std::string> labels;
  /// What the knob controls, for `--help`-style listings.
  std::string doc;
};

/// A resolved point of a space: one value per knob, in knob order.
struct Schedule {
  std::string workloadKey;
  llvm::SmallVector<int64_t> values;
  bool operator==(const Schedule &other) const {
    return workloadKey == other.workloadKey && values == other.values;
  }
};

/// The schedule space of one task on one target.
class SearchSpace {
public:
  /// Applies the sketch rules of `target` (CPU or GPU) to `task` (its anchor
  /// must be a Linalg op with static shapes). Fails with a diagnostic on the
  /// anchor for an op kind the rules do not cover.
  static mlir::FailureOr<SearchSpace> forTask(const Task &task,
                                              const Target &target);

  llvm::ArrayRef<Knob> getKnobs() const { return knobs; }
  llvm::StringRef getWorkloadKey() const { return workloadKey; }
  /// Index of the knob called `name`, or -1.
  int findKnob(llvm::StringRef name) const;

  /// The default schedule: a tiled, fused, vectorized, parallel schedule
  /// chosen by rules of thumb (register tile of about two vectors by eight
  /// rows, for grouped convolutions rows of output columns rather than of
  /// groups; cache tiles of 256 on the reduction, enough thread tiles for
  /// all threads). On a GPU: block tiles of up to 64 along the two innermost
  /// distributed dims (1 along a third), 4x4 outputs per thread (up to 256
  /// threads), a reduction step of up to 16 on the innermost reduction loop
  /// (1 on the others) and shared-memory promotion when it fits.
  Schedule getDefault() const;

  /// A uniformly drawn valid schedule: tile sizes are drawn outermost level
  /// first, each inner level among the divisors of the outer one, and draws
  /// that break the register-tile budget are redrawn.
  Schedule sample(std::mt19937_64 &rng) const;

  /// Changes one knob of `schedule` to another valid value (retrying until
  /// the constraints hold); returns `schedule` unchanged if no knob can move.
  Schedule mutate(const Schedule &schedule, std::mt19937_64 &rng) const;

  /// Checks that every value is among its knob's options and that the
  /// constraints hold: inner tiles divide outer tiles, the register tile has
  /// at most `maxRegisterTileElements` elements, and convolution register
  /// tiles are 1 along the decomposed height dims (the window dims and
  /// strided output image dims of grouped convolutions). The error names the
  /// knob and the broken constraint.
  ///
  /// GPU spaces check instead that thread tiles divide block tiles, and the
  /// target's limits: threads per block (and per block dim), blocks per grid
  /// dim, shared memory per block (getSharedMemoryBytes()) and registers
  /// (getEstimatedRegisters()); the error names the limit and the value.
  llvm::Error verify(const Schedule &schedule) const;

  /// Prints the schedule as `transform.named_sequence @<name>` taking the
  /// payload root, with `tcl.workload = "<key>"` and every knob `selected`.
  /// Applying it transforms every op with `tcl.task = "<key>"` below the
  /// root.
  void printSequence(const Schedule &schedule, llvm::StringRef name,
                     llvm::raw_ostream &os) const;

  /// A complete transform module: the named sequence `@tcl_<key>` and an
  /// entry point `@__transform_main` that includes it. For a GPU space the
  /// entry point also bufferizes the module and maps the task's loops to a
  /// `gpu.launch` (`transform.gpu.map_forall_to_blocks generate_gpu_launch`,
  /// `transform.gpu.map_nested_forall_to_threads`), as `--tcl-lower-to-nvvm`
  /// does for every kernel of a module.
  std::string printScript(const Schedule &schedule) const;

  /// Reads the knob values of a schedule from a named sequence printed by
  /// printSequence (matched by knob name). Fails, with a diagnostic naming
  /// the knob, on a knob without `selected`, a missing knob, or an unknown
  /// one.
  mlir::FailureOr<Schedule> readSchedule(mlir::Operation *namedSequence) const;

  /// The schedule as (knob name, value) pairs in knob order, the form
  /// measure records store.
  std::vector<std::pair<std::string, int64_t>>
  toKnobMap(const Schedule &schedule) const;

  /// The schedule whose knobs have the given values. Fails, naming the knob,
  /// when a knob of the space is missing or an unknown knob is given; the
  /// result is verified (see verify()).
  llvm::Expected<Schedule>
  fromKnobMap(llvm::ArrayRef<std::pair<std::string, int64_t>> knobs) const;

  /// Structure of the task as the sketch rules see it, for feature
  /// extraction: "contraction", "convolution" or "elementwise".
  llvm::StringRef getCategoryName() const;
  /// Extent of each loop of the anchor op, in loop order.
  llvm::ArrayRef<int64_t> getLoopExtents() const { return loopExtents; }
  /// Whether each anchor loop is a reduction.
  llvm::ArrayRef<bool> getReductionLoops() const { return isReduction; }
  /// For output dim j of the task's root, the anchor loop it iterates.
  llvm::ArrayRef<unsigned> getOutputToLoop() const { return outputToLoop; }
  /// How an operand dim is indexed by the anchor's loops: the loops and
  /// their coefficients of an affine expression `c0 * d0 + c1 * d1 + c`
  /// (`2 * oh + kh` for a strided conv's input rows).
  using AccessTerms = llvm::SmallVector<std::pair<unsigned, int64_t>>;
  /// For each input operand of the anchor, its indexing as one AccessTerms
  /// per operand dim. Empty when some indexing map is not of that form
  /// (mod, floordiv, products of dims).
  llvm::ArrayRef<llvm::SmallVector<AccessTerms>> getInputAccess() const {
    return inputAccess;
  }
  /// Bytes per element of each input operand (parallel to getInputAccess())
  /// and of the output.
  llvm::ArrayRef<int64_t> getInputBytes() const { return inputBytes; }
  int64_t getOutputBytes() const { return outputBytes; }
  /// Shape of the tile of an operand indexed by `access` (one entry of
  /// getInputAccess()) that one tile of the anchor's iteration space
  /// touches: `tile` gives the tile's size along every anchor loop (each
  /// >= 1, indexed by loop); an operand dim indexed by `sum c_l d_l + c`
  /// spans `1 + sum c_l (tile_l - 1)` elements.
  static llvm::SmallVector<int64_t>
  getTileShape(llvm::ArrayRef<AccessTerms> access,
               llvm::ArrayRef<int64_t> tile);

  /// Number of fused elementwise consumers; whether a fill is fused.
  unsigned getNumConsumers() const { return numConsumers; }
  bool hasFusedFill() const { return hasFill; }
  /// Native f32 vector width and thread count of the target.
  unsigned getVectorWidth() const { return vectorWidth; }
  unsigned getThreads() const { return threads; }

  /// Whether the space schedules for a GPU (GPU sketch rules).
  bool isGPU() const { return device == DeviceKind::CUDA; }
  /// GPU spaces: the output dims distributed over blocks and threads
  /// (at most three, the innermost ones; mapped to z, y, x, x last).
  llvm::ArrayRef<unsigned> getGPUDims() const { return gpuDims; }
  /// GPU spaces: threads per block along x, y, z of a schedule.
  std::array<int64_t, 3> getBlockDims(const Schedule &schedule) const;
  /// GPU spaces: bytes of shared memory a schedule allocates per block: the
  /// operand tiles of one reduction step when promoted, and the anchor's
  /// output tile when elementwise consumers are fused (it is then an
  /// intermediate the consumers read).
  int64_t getSharedMemoryBytes(const Schedule &schedule) const;
  /// GPU spaces: estimated 32-bit registers per thread: one per output
  /// element of the thread tile (accumulators) plus 32 for addresses, loop
  /// counters and operands. An estimate; ptxas decides the real count.
  int64_t getEstimatedRegisters(const Schedule &schedule) const;

  /// Largest register tile, in output elements.
  static constexpr int64_t maxRegisterTileElements = 512;

private:
  friend class SketchBuilder;
  friend class GPUSketchBuilder;
  std::string workloadKey;
  llvm::SmallVector<Knob> knobs;

  /// Structure of the task as seen by the sketch rules.
  enum class Category { Contraction, Convolution, Elementwise };
  Category category = Category::Elementwise;
  /// Anchor loop extents and which are reductions.
  llvm::SmallVector<int64_t> loopExtents;
  llvm::SmallVector<bool> isReduction;
  /// For output dim j of the root, the anchor loop it iterates.
  llvm::SmallVector<unsigned> outputToLoop;
  /// Anchor loops forced to a register tile of 1 (decomposed conv dims;
  /// folded window dims and strided image dims of generalized convs).
  llvm::SmallVector<unsigned> unitRegisterLoops;
  unsigned numConsumers = 0;
  bool hasFill = false;
  /// The anchor is a `linalg.conv_2d_nhwc_fhwc`, turned into the HWCF
  /// layout (a `linalg.transpose` of the filter) before tiling.
  bool transposeFilter = false;
  /// The anchor is a convolution without an upstream 1-D decomposition
  /// (`linalg.conv_2d_nhwgc_gfhwc`): its register tile, with unit window
  /// loops, is generalized, its unit loops are folded away and the remaining
  /// contraction is vectorized.
  bool generalizeConv = false;
  /// Output image loops of a generalized convolution (e.g. oh, ow): the
  /// default register tile puts its rows there rather than along groups.
  llvm::SmallVector<unsigned> imageLoops;
  /// The anchor is a `linalg.generic` (reductions over contiguous data).
  bool genericAnchor = false;
  unsigned initOperandIndex = 0;
  unsigned vectorWidth = 16;
  unsigned threads = 1;

  /// The device the space schedules for.
  DeviceKind device = DeviceKind::CPU;
  /// GPU spaces: see getGPUDims().
  llvm::SmallVector<unsigned> gpuDims;
  /// GPU spaces: the target (for messages) and its limits.
  std::string targetName;
  GPULimits gpuLimits;
  /// See getInputAccess(), getInputBytes() and getOutputBytes().
  llvm::SmallVector<llvm::SmallVector<AccessTerms>> inputAccess;
  llvm::SmallVector<int64_t> inputBytes;
  int64_t outputBytes = 4;
  /// Fills inputAccess, inputBytes and outputBytes from `anchor` (a Linalg
  /// op); fails, leaving inputAccess empty, on an indexing map that is not
  /// a sum of scaled loops and constants.
  mlir::LogicalResult recordOperandAccess(mlir::Operation *anchor);
  /// GPU spaces: a zero of each operand's element type (`0.0 : f32`), the
  /// padding values of the promotion copies.
  llvm::SmallVector<std::string> zeroValues;

  int64_t value(const Schedule &s, llvm::StringRef knob) const;
};

} // namespace tcl

#endif // TCL_SPACE_SEARCHSPACE_H
