//===- SketchPrinter.h - Printing sketches as transform IR -----*- C++ -*-===//
//
// What the CPU and GPU sketch printers (SketchRules.cpp, GPUSketchRules.cpp)
// share, internal to TCLSpace: fresh SSA names, tile-size lists of knob
// params and constants, the opening of a schedule's named sequence (knob
// params, the task match and handles to its ops) and the fusion of the
// task's ops into its outermost forall.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_LIB_SPACE_SKETCHPRINTER_H
#define TCL_LIB_SPACE_SKETCHPRINTER_H

#include "tcl/Space/SearchSpace.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace tcl::sketch {

/// Prints transform IR lines with fresh SSA names.
class Printer {
public:
  explicit Printer(llvm::raw_ostream &os) : os(os) {}
  std::string fresh(llvm::StringRef prefix) {
    return ("%" + prefix + llvm::Twine(counter++)).str();
  }
  llvm::raw_ostream &line() { return os.indent(indent); }
  llvm::raw_ostream &os;
  unsigned indent = 4;
  unsigned counter = 0;
};

/// A tile-size list mixing knob params (SSA names) and constants.
struct TileSizes {
  llvm::SmallVector<std::string> entries;
  unsigned numParams = 0;
  void param(const std::string &ssa) {
    entries.push_back(ssa);
    ++numParams;
  }
  void constant(int64_t v) { entries.push_back(std::to_string(v)); }
  /// "[a, b, ...]".
  std::string str() const;
  /// Entries that tile (not the constant 0).
  unsigned numTiled() const;
  /// The operand types of an op taking the target handle and the params.
  std::string operandTypes() const;
};

/// Handles to a task's ops inside the printed foreach body.
struct TaskHandles {
  /// The consumer chain, first consumer first.
  llvm::SmallVector<std::string> consumers;
  /// The fill producing the anchor's init, or "".
  std::string fill;
  /// What to tile first: the last consumer, or the anchor "%a".
  std::string root;
};

/// What printPrologue needs of a SearchSpace (whose fields only the sketch
/// builders may read).
struct SpaceShape {
  llvm::StringRef workloadKey;
  llvm::ArrayRef<Knob> knobs;
  unsigned numConsumers = 0;
  bool hasFill = false;
  unsigned initOperandIndex = 0;
  bool transposeFilter = false;
};

/// Prints the opening of `@name`: one `transform.tune.knob` per value knob
/// (its SSA name, "%" + knob name, into `params`), the match of the task's
/// anchors, a `transform.foreach` over them (with the NHWC/FHWC filter
/// transpose when the space has it; the anchor is then "%a") and handles to
/// the consumers and fill. Leaves the printer indented for the body.
TaskHandles printPrologue(Printer &p, const SpaceShape &space,
                          const Schedule &schedule, llvm::StringRef name,
                          llvm::StringMap<std::string> &params);

/// The task's ops inside the forall after fuseIntoForall.
struct FusedOps {
  /// The tiled consumers, first consumer first (the tiled root last).
  llvm::SmallVector<std::string> consumers;
  /// The tiled anchor, and the tiled fill ("" when none).
  std::string anchor, fill;
};

/// Fuses, into `forall` (updated to the last containing-op handle, named
/// with `forallPrefix`), the consumers other than the tiled root (last
/// first), the anchor and the fill: the root was tiled into `tiledRoot`.
FusedOps fuseIntoForall(Printer &p, const TaskHandles &task,
                        const std::string &tiledRoot, std::string &forall,
                        llvm::StringRef forallPrefix);

} // namespace tcl::sketch

#endif // TCL_LIB_SPACE_SKETCHPRINTER_H
