//===- SequenceFeatures.h - Primitive-sequence features --------*- C++ -*-===//
//
// The input of the sequence cost models (TLP, ASPLOS'23, sec. 4.1; TCL's
// Mamba model): a schedule as the sequence of transform ops it applies, one
// token per op, in program order, each with its resolved parameters.
//
// Token layout (kNumTokenFeatures floats, log-scaled as log2(1 + x)):
//   [0, kNumPrimitiveKinds)        one-hot primitive kind (the op name, with
//                                  the lowering strategy for
//                                  `vector.lower_contraction`; see
//                                  getPrimitiveKinds())
//   kTokenDepth                    nesting depth of the op in the schedule
//   kTokenSelected                 for `tune.alternatives`: the selected
//                                  region index (raw, not log-scaled)
//   kTokenInterchanged             1 if the op has a non-identity
//                                  `interchange`
//   kTokenNumSizes                 number of tile / vector sizes
//   kTokenSizeBegin + 3 * i + {0,1,2} for the i-th of at most kMaxTokenSizes
//                                  sizes: log2(1 + size), log2(1 + extent of
//                                  the anchor loop it tiles) and
//                                  log2(1 + ceil(extent / size)) (tiles);
//                                  0 for untiled (size 0) entries and where
//                                  the loop is unknown.
//   kTokenParallelVolume,          over the op's non-zero sizes whose
//   kTokenReductionVolume          anchor loop is known, split by the
//                                  loop's role (parallel / reduction):
//                                  log2(1 + product of the sizes); 0 when
//                                  the op has no such size of that role.
//                                  The tile footprint, which no single size
//                                  slot gives.
//   kTokenParallelTiles,           likewise log2(1 + product of the tile
//   kTokenReductionTiles           counts ceil(extent / size)): the number
//                                  of tiles (parallel: the work items a
//                                  forall distributes).
//   kTokenInnermostSize            log2(1 + size) on the output's innermost
//                                  (contiguous) dim, 0 when the op has none:
//                                  the vector width a tile leaves there.
//   kTokenTileIterations,          for an op that gives sizes > 0 to known
//   kTokenInputTileBytes,          loops (a tiling or vectorization), the
//   kTokenOutputTileBytes,         iteration-space tile the ops after it
//   kTokenTileIntensity            work on: each anchor loop's size is the
//                                  last such size given to it so far in the
//                                  sequence (its extent before any). Of that
//                                  tile: log2(1 + iterations), log2(1 +
//                                  bytes of the input operand tiles it
//                                  reads), log2(1 + bytes of its output
//                                  tile) and log2(1 + iterations / (input +
//                                  output bytes)); an input dim indexed by
//                                  `sum c_l d_l + c` spans
//                                  `1 + sum c_l (size_l - 1)` elements
//                                  (SearchSpace::getTileShape(), so a
//                                  strided conv's input window counts its
//                                  halo). The working set of each loop
//                                  level, which the statement features of
//                                  the lowered program measure as bytes per
//                                  buffer (TenSet) and the sizes alone do
//                                  not give. Input bytes and intensity are
//                                  0 when the anchor's indexing maps are not
//                                  sums of scaled loops.
// The role split is what lets one model compare ops whose loops are in
// different orders (a matmul's k is loop 2, a conv's reductions loops 4-6).
// Ops inside a non-selected region of `tune.alternatives` are not part of the
// sequence. Sequences longer than the model's maximum are cropped at the end
// and shorter ones padded with zero tokens (mask 0).
//
// The workload embedding paired with the sequence is the task embedding of
// tcl::StatementFeatureExtractor (kNumTaskFeatures values).
//
//===----------------------------------------------------------------------===//

#ifndef TCL_FEATURES_SEQUENCEFEATURES_H
#define TCL_FEATURES_SEQUENCEFEATURES_H

#include "tcl/Space/SearchSpace.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace tcl {

/// Version of the token layout; saved with every model trained on it. Bump
/// it on any change of the meaning or order of a token feature or of the
/// primitive vocabulary.
inline constexpr unsigned kSequenceFeatureVersion = 3;

/// Primitive kinds in the one-hot (the vocabulary; the last is "other").
llvm::ArrayRef<std::string> getPrimitiveKinds();

inline constexpr unsigned kNumPrimitiveKinds = 32;
inline constexpr unsigned kMaxTokenSizes = 8;
enum TokenFeature : unsigned {
  kTokenDepth = kNumPrimitiveKinds,
  kTokenSelected,
  kTokenInterchanged,
  kTokenNumSizes,
  kTokenSizeBegin,
  kTokenParallelVolume = kTokenSizeBegin + 3 * kMaxTokenSizes,
  kTokenReductionVolume,
  kTokenParallelTiles,
  kTokenReductionTiles,
  kTokenInnermostSize,
  kTokenTileIterations,
  kTokenInputTileBytes,
  kTokenOutputTileBytes,
  kTokenTileIntensity,
  kNumTokenFeatures
};

/// Turns schedules of one space into token sequences. Creation parses the
/// space's script once (in a private context) to learn which transform ops
/// it applies and which knob feeds each of their parameters; extraction then
/// only fills in knob values, and is safe to call from several threads.
class SequenceFeatureExtractor {
public:
  /// Fails when the space's script does not parse (an internal error).
  static llvm::Expected<SequenceFeatureExtractor>
  create(const SearchSpace &space);

  SequenceFeatureExtractor(SequenceFeatureExtractor &&);
  SequenceFeatureExtractor &operator=(SequenceFeatureExtractor &&);
  ~SequenceFeatureExtractor();

  /// Number of tokens of `schedule` (before cropping).
  unsigned getLength(const Schedule &schedule) const;

  /// Writes the first min(length, maxLength) tokens of `schedule` to
  /// `tokens` (maxLength x kNumTokenFeatures, row-major, zero-filled beyond
  /// the sequence) and 1/0 to `mask` (maxLength). Returns the length before
  /// cropping.
  unsigned extract(const Schedule &schedule, unsigned maxLength, float *tokens,
                   float *mask) const;

  /// The primitive names of `schedule`, in order (for tests and debugging).
  std::vector<std::string> describe(const Schedule &schedule) const;

private:
  struct Impl;
  explicit SequenceFeatureExtractor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace tcl

#endif // TCL_FEATURES_SEQUENCEFEATURES_H
