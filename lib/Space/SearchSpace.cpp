//===- SearchSpace.cpp - Sampling, mutation and checks of schedules -------===//

#include "tcl/Space/SearchSpace.h"

#include "GPUSketchRules.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/TuneExtension/TuneExtensionOps.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace tcl;

/// `<prefix>_<index>`, the name of a per-dimension knob.
static std::string knobName(llvm::StringRef prefix, int64_t index) {
  return (prefix + "_" + llvm::Twine(index)).str();
}

int SearchSpace::findKnob(StringRef name) const {
  for (auto [i, knob] : llvm::enumerate(knobs))
    if (knob.name == name)
      return i;
  return -1;
}

int64_t SearchSpace::value(const Schedule &s, StringRef knob) const {
  int i = findKnob(knob);
  assert(i >= 0 && "unknown knob");
  return s.values[i];
}

/// Splits an affine expression `c0 * d0 + c1 * d1 + ... + c` into its loops
/// and coefficients; fails on anything else (mod, floordiv, products of
/// dims, negative coefficients).
static LogicalResult accessTerms(AffineExpr expr,
                                 SearchSpace::AccessTerms &terms) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    terms.push_back({dim.getPosition(), 1});
    return success();
  }
  if (isa<AffineConstantExpr>(expr))
    return success();
  auto bin = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!bin)
    return failure();
  if (bin.getKind() == AffineExprKind::Add)
    return success(succeeded(accessTerms(bin.getLHS(), terms)) &&
                   succeeded(accessTerms(bin.getRHS(), terms)));
  if (bin.getKind() == AffineExprKind::Mul) {
    auto dim = dyn_cast<AffineDimExpr>(bin.getLHS());
    auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
    if (!dim || !c || c.getValue() < 0)
      return failure();
    terms.push_back({dim.getPosition(), c.getValue()});
    return success();
  }
  return failure();
}

/// Bytes per element of a value of type `type` (or of its elements); index
/// and other non-numeric types count as 8.
static int64_t elementBytes(Type type) {
  Type element = getElementTypeOrSelf(type);
  if (!element.isIntOrFloat())
    return 8;
  return llvm::divideCeil(element.getIntOrFloatBitWidth(), 8);
}

LogicalResult SearchSpace::recordOperandAccess(Operation *op) {
  auto anchor = cast<linalg::LinalgOp>(op);
  inputAccess.clear();
  inputBytes.clear();
  for (OpOperand *input : anchor.getDpsInputOperands()) {
    // A scalar input (a fill value) has no dims: it touches one element.
    SmallVector<AccessTerms> dims;
    for (AffineExpr expr : anchor.getMatchingIndexingMap(input).getResults()) {
      AccessTerms terms;
      if (failed(accessTerms(expr, terms))) {
        inputAccess.clear();
        inputBytes.clear();
        return failure();
      }
      dims.push_back(std::move(terms));
    }
    inputAccess.push_back(std::move(dims));
    inputBytes.push_back(elementBytes(input->get().getType()));
  }
  outputBytes = elementBytes(anchor->getResult(0).getType());
  return success();
}

SmallVector<int64_t> SearchSpace::getTileShape(ArrayRef<AccessTerms> access,
                                               ArrayRef<int64_t> tile) {
  SmallVector<int64_t> shape;
  for (const AccessTerms &terms : access) {
    int64_t extent = 1;
    for (auto [loop, coeff] : terms) {
      assert(loop < tile.size() && "tile has a size per anchor loop");
      extent += coeff * (tile[loop] - 1);
    }
    shape.push_back(extent);
  }
  return shape;
}

/// Largest option of `knob` that satisfies `pred`, or its smallest option.
static int64_t largestOption(const Knob &knob,
                             llvm::function_ref<bool(int64_t)> pred) {
  for (int64_t v : llvm::reverse(knob.options))
    if (pred(v))
      return v;
  return knob.options.front();
}

Schedule SearchSpace::getDefault() const {
  if (isGPU())
    return getDefaultGPUSchedule(*this);
  Schedule s;
  s.workloadKey = workloadKey;
  s.values.resize(knobs.size(), 0);
  auto set = [&](StringRef name, int64_t v) { s.values[findKnob(name)] = v; };
  auto knob = [&](StringRef name) -> const Knob & {
    return knobs[findKnob(name)];
  };
  unsigned rank = outputToLoop.size();
  int64_t vw = vectorWidth;
  // Register tile: about two vectors along the innermost output dim, up to
  // eight rows along the next dim that is free to vary (for a generalized
  // convolution, the next output image dim).
  SmallVector<int64_t> reg(rank, 1);
  if (rank > 0) {
    int64_t innerCap = category == Category::Elementwise ? 4 * vw : 2 * vw;
    int64_t innerExtent = loopExtents[outputToLoop[rank - 1]];
    reg[rank - 1] = largestOption(knob(knobName("tile_reg", rank - 1)),
                                  [&](int64_t v) {
                                    return v <= innerCap &&
                                           innerExtent % v == 0 &&
                                           (v % vw == 0 || v < vw);
                                  });
    for (int j = static_cast<int>(rank) - 2; j >= 0; --j) {
      const Knob &k = knob(knobName("tile_reg", j));
      if (k.options.size() == 1)
        continue;
      // Rows along groups share no operand, rows along an image dim share
      // the filter.
      if (generalizeConv && !llvm::is_contained(imageLoops, outputToLoop[j]))
        continue;
      reg[j] = largestOption(k, [](int64_t v) { return v <= 8; });
      break;
    }
  }
  // Thread tiles: multiples of the register tile, capped, then split until
  // every thread has at least two tiles where the shape allows it.
  SmallVector<int64_t> par(rank, 1);
  for (unsigned j = 0; j < rank; ++j) {
    int64_t cap = j + 1 == rank ? 256 : 64;
    int64_t extent = loopExtents[outputToLoop[j]];
    par[j] = largestOption(knob(knobName("tile_par", j)), [&](int64_t v) {
      return extent % v == 0 && v % reg[j] == 0 && v <= std::max(cap, reg[j]);
    });
  }
  auto numTiles = [&] {
    int64_t n = 1;
    for (unsigned j = 0; j < rank; ++j)
      n *= loopExtents[outputToLoop[j]] / par[j];
    return n;
  };
  while (numTiles() < 2 * static_cast<int64_t>(threads)) {
    int best = -1;
    int64_t bestRatio = 1;
    for (unsigned j = 0; j < rank; ++j)
      if (par[j] / reg[j] > bestRatio) {
        bestRatio = par[j] / reg[j];
        best = j;
      }
    if (best < 0)
      break;
    int64_t extent = loopExtents[outputToLoop[best]];
    par[best] = largestOption(knob(knobName("tile_par", best)),
                              [&](int64_t v) {
                                return v < par[best] && extent % v == 0 &&
                                       v % reg[best] == 0;
                              });
  }
  for (unsigned j = 0; j < rank; ++j) {
    set(knobName("tile_par", j), par[j]);
    set(knobName("tile_reg", j), reg[j]);
  }
  // Reductions: cache tile of at most 256 on the innermost reduction loop;
  // generic reductions (contiguous) get a vector-wide register tile.
  int innermostRed = -1;
  for (unsigned l = 0; l < loopExtents.size(); ++l)
    if (isReduction[l])
      innermostRed = l;
  for (unsigned l = 0; l < loopExtents.size(); ++l) {
    if (!isReduction[l])
      continue;
    std::string red = knobName("tile_red", l);
    std::string unroll = knobName("unroll_red", l);
    int64_t cache = static_cast<int>(l) == innermostRed
                        ? largestOption(knob(red),
                                        [](int64_t v) { return v <= 256; })
                        : loopExtents[l];
    set(red, cache);
    int64_t u = genericAnchor && static_cast<int>(l) == innermostRed
                    ? largestOption(knob(unroll),
                                    [&](int64_t v) {
                                      return v <= vw && cache % v == 0;
                                    })
                    : 1;
    set(unroll, u);
  }
  return s;
}

Schedule SearchSpace::sample(std::mt19937_64 &rng) const {
  auto pick = [&](ArrayRef<int64_t> options) {
    return options[std::uniform_int_distribution<size_t>(
        0, options.size() - 1)(rng)];
  };
  auto dividing = [](const Knob &k, int64_t outer) {
    SmallVector<int64_t> r;
    for (int64_t v : k.options)
      if (outer % v == 0)
        r.push_back(v);
    return r;
  };
  Schedule s;
  s.workloadKey = workloadKey;
  s.values.resize(knobs.size(), 0);
  for (unsigned attempt = 0;; ++attempt) {
    for (auto [i, knob] : llvm::enumerate(knobs)) {
      StringRef name = knob.name;
      std::string outer;
      if (name.consume_front("tile_reg_"))
        outer = ("tile_par_" + name).str();
      else if (name.consume_front("unroll_red_"))
        outer = ("tile_red_" + name).str();
      else if (name.consume_front("thread_tile_"))
        outer = ("block_tile_" + name).str();
      if (outer.empty()) {
        s.values[i] = pick(knob.options);
        continue;
      }
      SmallVector<int64_t> options =
          dividing(knob, s.values[findKnob(outer)]);
      s.values[i] = pick(options);
    }
    llvm::Error err = verify(s);
    if (!err)
      break;
    llvm::consumeError(std::move(err));
    // Budgets that reject 100 draws in a row: fall back to the default.
    if (attempt >= 100) {
      s = getDefault();
      break;
    }
  }
  return s;
}

Schedule SearchSpace::mutate(const Schedule &schedule,
                             std::mt19937_64 &rng) const {
  for (unsigned attempt = 0; attempt < 100; ++attempt) {
    Schedule s = schedule;
    size_t i = std::uniform_int_distribution<size_t>(0, knobs.size() - 1)(rng);
    const Knob &knob = knobs[i];
    if (knob.options.size() < 2)
      continue;
    s.values[i] = knob.options[std::uniform_int_distribution<size_t>(
        0, knob.options.size() - 1)(rng)];
    if (s.values[i] == schedule.values[i])
      continue;
    if (llvm::Error err = verify(s)) {
      llvm::consumeError(std::move(err));
      continue;
    }
    return s;
  }
  return schedule;
}

llvm::Error SearchSpace::verify(const Schedule &schedule) const {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("schedule for workload '" + workloadKey +
                                   "': " + why);
  };
  if (schedule.values.size() != knobs.size())
    return fail("expected " + llvm::Twine(knobs.size()) + " knob values, got " +
                llvm::Twine(schedule.values.size()));
  for (auto [knob, v] : llvm::zip(knobs, schedule.values))
    if (!llvm::is_contained(knob.options, v))
      return fail("knob '" + knob.name + "' = " + llvm::Twine(v) +
                  " is not one of its options");
  if (isGPU())
    return verifyGPUSchedule(*this, schedule);
  int64_t regElements = 1;
  for (unsigned j = 0; j < outputToLoop.size(); ++j) {
    int64_t par = value(schedule, knobName("tile_par", j));
    int64_t reg = value(schedule, knobName("tile_reg", j));
    if (par % reg != 0)
      return fail("register tile tile_reg_" + llvm::Twine(j) + " = " +
                  llvm::Twine(reg) + " does not divide thread tile tile_par_" +
                  llvm::Twine(j) + " = " + llvm::Twine(par));
    regElements *= reg;
  }
  if (regElements > maxRegisterTileElements)
    return fail("register tile has " + llvm::Twine(regElements) +
                " elements, more than the budget of " +
                llvm::Twine(maxRegisterTileElements));
  for (unsigned l = 0; l < loopExtents.size(); ++l) {
    if (!isReduction[l])
      continue;
    int64_t red = value(schedule, knobName("tile_red", l));
    int64_t unroll = value(schedule, knobName("unroll_red", l));
    if (red % unroll != 0)
      return fail("unroll_red_" + llvm::Twine(l) + " = " + llvm::Twine(unroll) +
                  " does not divide tile_red_" + llvm::Twine(l) + " = " +
                  llvm::Twine(red));
  }
  return llvm::Error::success();
}

std::string SearchSpace::printScript(const Schedule &schedule) const {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string name = "tcl_" + workloadKey;
  os << "module attributes {transform.with_named_sequence} {\n";
  printSequence(schedule, name, os);
  if (isGPU()) {
    printGPUEntryPoint(*this, schedule, name, os);
    os << "}\n";
    return text;
  }
  os << "  transform.named_sequence @__transform_main(%root: !transform.any_op "
        "{transform.readonly}) {\n"
     << "    transform.include @" << name
     << " failures(propagate) (%root) : (!transform.any_op) -> ()\n"
     << "    transform.yield\n  }\n}\n";
  return text;
}

FailureOr<Schedule> SearchSpace::readSchedule(Operation *namedSequence) const {
  Schedule s;
  s.workloadKey = workloadKey;
  s.values.assign(knobs.size(), 0);
  SmallVector<bool> seen(knobs.size(), false);
  auto record = [&](Operation *op, StringRef name,
                    std::optional<int64_t> v) -> LogicalResult {
    int i = findKnob(name);
    if (i < 0)
      return op->emitError("tcl: knob '")
             << name << "' is not in the search space of workload '"
             << workloadKey << "'";
    if (!v)
      return op->emitError("tcl: knob '")
             << name << "' has no selected value; a schedule must resolve "
             << "every knob";
    s.values[i] = *v;
    seen[i] = true;
    return success();
  };
  WalkResult walk = namedSequence->walk([&](Operation *op) {
    if (auto knob = dyn_cast<transform::tune::KnobOp>(op)) {
      std::optional<int64_t> v;
      if (auto attr = dyn_cast_or_null<IntegerAttr>(knob.getSelectedAttr()))
        v = attr.getInt();
      return failed(record(op, knob.getName(), v)) ? WalkResult::interrupt()
                                                   : WalkResult::advance();
    }
    if (auto alt = dyn_cast<transform::tune::AlternativesOp>(op)) {
      std::optional<int64_t> v;
      if (auto attr = alt.getSelectedRegionAttrAttr())
        v = attr.getInt();
      return failed(record(op, alt.getName(), v)) ? WalkResult::interrupt()
                                                  : WalkResult::advance();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  for (auto [knob, present] : llvm::zip(knobs, seen))
    if (!present)
      return namedSequence->emitError("tcl: schedule for workload '")
             << workloadKey << "' does not set knob '" << knob.name << "'";
  return s;
}

std::vector<std::pair<std::string, int64_t>>
SearchSpace::toKnobMap(const Schedule &schedule) const {
  std::vector<std::pair<std::string, int64_t>> map;
  for (auto [knob, v] : llvm::zip(knobs, schedule.values))
    map.push_back({knob.name, v});
  return map;
}

llvm::Expected<Schedule> SearchSpace::fromKnobMap(
    llvm::ArrayRef<std::pair<std::string, int64_t>> map) const {
  Schedule s;
  s.workloadKey = workloadKey;
  s.values.assign(knobs.size(), 0);
  SmallVector<bool> seen(knobs.size(), false);
  for (const auto &[name, v] : map) {
    int i = findKnob(name);
    if (i < 0)
      return llvm::createStringError("knob '" + name +
                                     "' is not in the search space of "
                                     "workload '" +
                                     workloadKey + "'");
    s.values[i] = v;
    seen[i] = true;
  }
  for (auto [knob, present] : llvm::zip(knobs, seen))
    if (!present)
      return llvm::createStringError("schedule for workload '" + workloadKey +
                                     "' does not set knob '" + knob.name + "'");
  if (llvm::Error err = verify(s))
    return std::move(err);
  return s;
}

StringRef SearchSpace::getCategoryName() const {
  switch (category) {
  case Category::Contraction:
    return "contraction";
  case Category::Convolution:
    return "convolution";
  case Category::Elementwise:
    return "elementwise";
  }
  llvm_unreachable("unknown category");
}
