//===- StatementFeatures.h - TenSet/Ansor-style program features -*- C++
//-*-===//
//
// Fixed-length feature vectors of the loop nest a schedule produces, after
// Ansor (Zheng et al., OSDI'20, Sec. 5.2) and TenSet (Zheng et al.,
// NeurIPS'21, Sec. 4): one vector per *statement*, i.e. per store that
// remains in an innermost loop body (the vectorized fill of the accumulator,
// the anchor's vector contraction, each fused consumer), describing its
// arithmetic, vectorization, unrolling, parallelism, loop nest and, for each
// buffer it touches, the bytes moved, the working sets at each tiling level,
// the access strides and the reuse distance.
//
// How the loop nest is obtained: analytically. Applying a schedule with the
// transform interpreter and walking the resulting scf/vector IR costs
// milliseconds per candidate (parsing, tiling, vectorization, pattern
// rewrites), and the evolutionary search scores thousands of candidates per
// round. The sketch rules (docs/search-space.md) fix the loop structure a
// schedule produces; only tile sizes, loop order and the contraction
// lowering vary with the knobs. So the task's kernel is parsed once (indexing
// maps, shapes, element types and body ops of the fill, the anchor and the
// consumers), and each candidate's loop nest is computed from the knob values:
//
//   fill, consumers:  forall over output dims (tile_par_j)
//                       for over output dims (tile_par_j / tile_reg_j)
//                         vector body of the register tile (tile_reg_j)
//   anchor:           forall over output dims (tile_par_j)
//                       for over reduction loops (extent / tile_red_l)
//                         for over all loops in loop order, the two innermost
//                         parallel ones swapped by `interchange`
//                         (tile_par_j / tile_reg_j, tile_red_l / unroll_red_l)
//                           vector body (tile_reg_j x unroll_red_l)
//
// Loops of one iteration are not materialized and are left out. Tiles that do
// not divide an extent give partial tiles: trip counts are the exact number
// of tiles averaged over the enclosing tiles, and a partial register tile
// executes as a full masked vector. A written tile (the accumulator) is
// accessed in the innermost loop that indexes it, as
// hoist_loop_invariant_subsets moves it out of the scf.for loops that do not
// (never out of the scf.forall); reads of inputs stay in the innermost body,
// as in the scheduled IR, whose input slices LICM does not move. The filter
// transpose that conv_2d_nhwc_fhwc tasks get (untiled, the same for every
// schedule) is not a statement here; the anchor's filter access uses the
// transposed (HWCF) layout.
//
// Cost: about 2 us per candidate after about 1-2 ms to read the kernel once
// per task (CostModelTest.FeatureCost, one core of the development machine).
//
// Every feature is log2(1 + x) of the quantity x, including flags (0 or 1)
// and ratios in [0, 1]. Layout (the enums below name every index):
//
//   statement, 118 floats        buffer b (b < 5) at 43 + 15 b, 15 floats
//     0-6    op counts per body    0-1    read / write flags
//     7-13   op counts in total    2-5    bytes, unique bytes, lines,
//     14-15  FLOPs per body, total        unique lines
//     16-20  vectorization         6-8    thread / cache / register tile
//     21-22  unrolling                    bytes (working sets)
//     23-26  parallelism           9-10   lane stride, loop stride
//     27-31  loop nest             11-13  reuse count, distance in
//     32-37  kind, lowering,              iterations and in bytes
//            interchange           14     executions
//     38-41  arithmetic intensity
//     42     number of buffers   task, 20 floats: 0-2 category, 3-4 loops,
//                                  5-12 loop extents, 13-19 FLOPs, bytes,
//   program row, 374 floats:       intensity, consumers, fill, vector
//     task 0-19, anchor 20-137,    width, threads
//     fill 138-255, consumers 256-373
//
//===----------------------------------------------------------------------===//

#ifndef TCL_FEATURES_STATEMENTFEATURES_H
#define TCL_FEATURES_STATEMENTFEATURES_H

#include "tcl/Space/SearchSpace.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <vector>

namespace tcl {

/// Version of the feature layout below; saved with every model trained on
/// it. Bump it on any change of the meaning or order of a feature.
inline constexpr unsigned kFeatureVersion = 1;

/// Buffers described per statement; a statement touching more keeps the ones
/// with the most bytes accessed.
inline constexpr unsigned kMaxBuffers = 5;

/// Features of one buffer access of a statement, at offset
/// `kBufferBegin + b * kNumBufferFeatures` for the b-th buffer, buffers
/// sorted by decreasing `kBufferBytes` (ties: operand order). Missing
/// buffers are all zero. Sizes are in bytes, strides in elements.
enum BufferFeature : unsigned {
  /// The statement reads / writes the buffer (flags; an accumulator has
  /// both).
  kBufferIsRead,
  kBufferIsWrite,
  /// Bytes accessed by all executions of the access (register-tile
  /// footprint times executions).
  kBufferBytes,
  /// Distinct bytes touched by the whole statement.
  kBufferUniqueBytes,
  /// 64-byte cache lines accessed by all executions, and distinct lines.
  kBufferLines,
  kBufferUniqueLines,
  /// Working sets: distinct bytes touched by one thread tile (one
  /// scf.forall iteration), one cache tile (one iteration of the innermost
  /// reduction cache loop) and one register tile (one vector access).
  kBufferThreadTileBytes,
  kBufferCacheTileBytes,
  kBufferRegisterTileBytes,
  /// Address step between vector lanes (0: broadcast, 1: contiguous).
  kBufferLaneStride,
  /// Address step between iterations of the innermost loop enclosing the
  /// access (0 when no loop encloses it).
  kBufferLoopStride,
  /// Reuse through the innermost enclosing loop that does not index the
  /// buffer: its trip count, the body executions between two reuses, and
  /// the bytes all accesses of the statement touch in between (0, 0, 0 when
  /// every enclosing loop indexes the buffer).
  kBufferReuseCount,
  kBufferReuseDistanceIterations,
  kBufferReuseDistanceBytes,
  /// Executions of the access: product of the trip counts of its enclosing
  /// loops.
  kBufferExecutions,
  kNumBufferFeatures
};

/// Features of one statement. Op counts are per point of the statement's
/// iteration space times the points of one execution of the innermost body
/// (`...PerBody`) or of all executions (`...Total`); both include the lanes
/// of masked partial vectors. A multiply feeding only an add is one
/// multiply-add (`Mad`); FLOPs count a multiply-add as 2 and every other
/// float op (add/sub, mul, div/rem, compare/select/min/max, `math` dialect
/// op) as 1.
enum StatementFeature : unsigned {
  kMadPerBody,
  kAddSubPerBody,
  kMulPerBody,
  kDivPerBody,
  kCmpSelectPerBody,
  kMathPerBody,
  /// Integer ops, casts and anything else that is not a float op.
  kOtherPerBody,
  kMadTotal,
  kAddSubTotal,
  kMulTotal,
  kDivTotal,
  kCmpSelectTotal,
  kMathTotal,
  kOtherTotal,
  kFlopsPerBody,
  kFlopsTotal,
  /// Lanes of the vectorized dim: the innermost output dim's register tile,
  /// or the innermost reduction loop's unroll with the `dot` lowering.
  kVectorLanes,
  /// Native vectors (target f32 width) processed by one body execution.
  kNativeVectorsPerBody,
  /// Bytes of the register tile of the statement's result.
  kVectorBytes,
  /// Useful points / executed points (< 1 with masked partial vectors).
  kVectorUtilization,
  /// kVectorLanes / native f32 vector width.
  kVectorLanesPerNative,
  /// Register-tile points per lane (what is unrolled around the vectors),
  /// and how many dims besides the vectorized one have a register tile > 1.
  kUnrollProduct,
  kUnrollDims,
  /// scf.forall: iterations, dims with more than one iteration, iterations
  /// of its innermost dim, and load balance iterations / (threads *
  /// ceil(iterations / threads)).
  kParallelProduct,
  kParallelDims,
  kParallelInnermost,
  kParallelBalance,
  /// Materialized loops (forall dims and scf.for), body executions (product
  /// of all trip counts), product of the cache-loop and of the
  /// register-loop trip counts, and the innermost loop's trip count.
  kNumLoops,
  kOuterProduct,
  kCacheLoopProduct,
  kRegisterLoopProduct,
  kInnermostTrip,
  /// Statement kind (one-hot).
  kIsFill,
  kIsAnchor,
  kIsConsumer,
  /// Schedule choices that are not tile sizes (flags; anchor only).
  kLoweringOuterProduct,
  kLoweringDot,
  kInterchanged,
  /// Arithmetic intensity (FLOPs / bytes) of one register tile, one thread
  /// tile, one cache tile (working sets as above, summed over buffers), and
  /// of the whole statement (total FLOPs / total bytes accessed).
  kIntensityRegisterTile,
  kIntensityThreadTile,
  kIntensityCacheTile,
  kIntensityTotal,
  /// Buffers the statement touches (may exceed kMaxBuffers).
  kNumBuffers,
  kBufferBegin,
  kNumStatementFeatures = kBufferBegin + kMaxBuffers * kNumBufferFeatures
};

/// Loops of the anchor described by the task embedding; further loops are
/// counted in kTaskNumLoops only.
inline constexpr unsigned kMaxTaskLoops = 8;

/// Features of a task, the same for all its schedules.
enum TaskFeature : unsigned {
  /// SearchSpace::getCategoryName, one-hot.
  kTaskIsContraction,
  kTaskIsConvolution,
  kTaskIsElementwise,
  kTaskNumLoops,
  kTaskNumReductionLoops,
  /// Extent of anchor loop i at kTaskLoopExtentBegin + i (0 beyond the
  /// anchor's loops).
  kTaskLoopExtentBegin,
  kTaskFlops = kTaskLoopExtentBegin + kMaxTaskLoops,
  /// Bytes of the kernel's tensor arguments, and FLOPs / those bytes.
  kTaskBytes,
  kTaskIntensity,
  kTaskNumConsumers,
  kTaskHasFill,
  kTaskVectorWidth,
  kTaskThreads,
  kNumTaskFeatures
};

/// One row per candidate for models that take a flat vector (XGBoost, MLP):
/// the task embedding, then the anchor statement, the fill statement (zero
/// without a fill) and the consumer statements summed feature by feature
/// before log scaling (zero without consumers).
enum ProgramFeatureOffset : unsigned {
  kProgramTaskBegin = 0,
  kProgramAnchorBegin = kNumTaskFeatures,
  kProgramFillBegin = kProgramAnchorBegin + kNumStatementFeatures,
  kProgramConsumersBegin = kProgramFillBegin + kNumStatementFeatures,
  kNumProgramFeatures = kProgramConsumersBegin + kNumStatementFeatures
};

static_assert(kNumStatementFeatures == 118 && kNumTaskFeatures == 20 &&
                  kNumProgramFeatures == 374,
              "update the layout in the file comment and kFeatureVersion");

/// Kind of a statement.
enum class StatementKind { Fill, Anchor, Consumer };

/// Computes statement features of schedules of one task. Creation reads the
/// task's IR once; extraction only does arithmetic on the knob values and
/// is safe to call from several threads at once.
class StatementFeatureExtractor {
public:
  /// Reads the fill, anchor and consumers of `task` (the task `space` was
  /// built for). Fails when the task's ops are not Linalg ops with static
  /// shapes or do not match the space's loop structure.
  static llvm::Expected<StatementFeatureExtractor>
  create(const SearchSpace &space, const Task &task);

  /// Same, from the task's kernel module as MLIR text (tcl::buildTaskKernel,
  /// TaskContext::kernelText), parsed in a private context. Fails with the
  /// parser's diagnostics, or when the module holds no annotated task.
  static llvm::Expected<StatementFeatureExtractor>
  createFromKernel(const SearchSpace &space, llvm::StringRef kernelText);

  StatementFeatureExtractor(StatementFeatureExtractor &&);
  StatementFeatureExtractor &operator=(StatementFeatureExtractor &&);
  ~StatementFeatureExtractor();

  /// Statements in program order: the fill (if any), the anchor, the
  /// consumers.
  unsigned getNumStatements() const;
  StatementKind getStatementKind(unsigned statement) const;

  /// The task embedding, kNumTaskFeatures values.
  llvm::ArrayRef<float> getTaskFeatures() const;

  /// Statement features of `schedule` (a valid schedule of the space):
  /// getNumStatements() x kNumStatementFeatures values, row-major.
  std::vector<float> extractStatements(const Schedule &schedule) const;

  /// Writes the kNumProgramFeatures values of `schedule` to `row`.
  void extractProgram(const Schedule &schedule, float *row) const;

private:
  struct Impl;
  explicit StatementFeatureExtractor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace tcl

#endif // TCL_FEATURES_STATEMENTFEATURES_H
