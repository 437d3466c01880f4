//===- ValidFraction.h - The --valid-fraction check of the trainers -*- C++ -*-===//
//
// tcl-train and tcl-distill both take --valid-fraction (checkpoint
// selection, CheckpointSelector in tcl/CostModel/Trainer.h) and check it
// before loading any data.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_TOOLS_VALIDFRACTION_H
#define TCL_TOOLS_VALIDFRACTION_H

#include <string>

namespace tcl_tools {

/// "" when --valid-fraction=`fraction` is usable with --ema-decay=`emaDecay`,
/// else the error to print: the fraction must be in [0, 1) (0: off), and
/// checkpoint selection keeps one epoch's weights, so it excludes averaging.
inline std::string checkValidFraction(double fraction, double emaDecay) {
  if (!(fraction >= 0 && fraction < 1))
    return "--valid-fraction must be in [0, 1), got " +
           std::to_string(fraction);
  if (fraction > 0 && emaDecay > 0)
    return "--valid-fraction keeps one epoch's weights; it does not "
           "combine with --ema-decay";
  return "";
}

} // namespace tcl_tools

#endif // TCL_TOOLS_VALIDFRACTION_H
