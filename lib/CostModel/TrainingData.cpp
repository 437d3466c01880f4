//===- TrainingData.cpp - Measure records as model inputs -----------------===//

#include "tcl/CostModel/TrainingData.h"

#include "tcl/Features/SequenceFeatures.h"
#include "tcl/Features/StatementFeatures.h"
#include "tcl/Space/SearchSpace.h"
#include "tcl/Task/Task.h"
#include "tcl/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace tcl;

void tcl::appendProgram(TrainingData &data,
                        const SequenceFeatureExtractor &sequence,
                        const StatementFeatureExtractor &statements,
                        const Schedule &schedule, int64_t group, float label,
                        double latency) {
  size_t n = data.labels.size();
  size_t tokenStride = static_cast<size_t>(data.maxLength) * kNumTokenFeatures;
  data.groups.push_back(group);
  data.labels.push_back(label);
  data.latencies.push_back(latency);
  data.tokens.resize((n + 1) * tokenStride);
  data.mask.resize((n + 1) * data.maxLength);
  sequence.extract(schedule, data.maxLength,
                   data.tokens.data() + n * tokenStride,
                   data.mask.data() + n * data.maxLength);
  llvm::ArrayRef<float> task = statements.getTaskFeatures();
  data.workload.insert(data.workload.end(), task.begin(), task.end());
  std::vector<float> rows = statements.extractStatements(schedule);
  data.statements.insert(data.statements.end(), rows.begin(), rows.end());
  data.segments.insert(data.segments.end(), rows.size() / kNumStatementFeatures,
                       static_cast<int64_t>(n));
}

llvm::Error
tcl::forEachTask(const Database &db, const TrainingDataOptions &options,
                 llvm::function_ref<llvm::Error(const TaskRecords &)> fn,
                 unsigned *skipped) {
  unsigned skippedRecords = 0;
  mlir::DialectRegistry registry;
  registerTCLDialects(registry);
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "; ";
    return mlir::success();
  });

  for (const WorkloadRecord &workload : db.workloads()) {
    if (!options.workloads.empty() && !options.workloads.contains(workload.key))
      continue;
    std::vector<const MeasureRecord *> records =
        db.latestRecordsFor(workload.key, options.platform);
    if (options.maxPerTask && records.size() > options.maxPerTask)
      records.resize(options.maxPerTask);
    double best = std::numeric_limits<double>::infinity();
    for (const MeasureRecord *r : records)
      if (r->ok())
        best = std::min(best, r->medianSeconds);
    if (!std::isfinite(best))
      continue;
    auto fail = [&](const llvm::Twine &why) {
      return llvm::createStringError("workload '" + workload.key + "': " + why);
    };

    diagnostics.clear();
    mlir::OwningOpRef<mlir::ModuleOp> kernel =
        mlir::parseSourceString<mlir::ModuleOp>(workload.kernel,
                                                mlir::ParserConfig(&context));
    if (!kernel)
      return fail("cannot parse the kernel: " + diagnostics);
    llvm::SmallVector<Task> tasks = collectAnnotatedTasks(*kernel);
    if (tasks.size() != 1)
      return fail("expected one annotated task in the kernel, found " +
                  llvm::Twine(tasks.size()));
    llvm::Expected<Target> target = Target::parse(records.front()->target);
    if (!target)
      return fail(llvm::toString(target.takeError()));
    mlir::FailureOr<SearchSpace> space = SearchSpace::forTask(tasks[0], *target);
    if (mlir::failed(space))
      return fail("cannot build the search space: " + diagnostics);
    llvm::Expected<SequenceFeatureExtractor> sequences =
        SequenceFeatureExtractor::create(*space);
    if (!sequences)
      return sequences.takeError();
    llvm::Expected<StatementFeatureExtractor> statements =
        StatementFeatureExtractor::create(*space, tasks[0]);
    if (!statements)
      return statements.takeError();

    TaskRecords task;
    task.workload = &workload;
    task.space = &*space;
    task.sequence = &*sequences;
    task.statements = &*statements;
    for (const MeasureRecord *r : records) {
      llvm::Expected<Schedule> schedule = space->fromKnobMap(r->knobs);
      if (!schedule) {
        llvm::consumeError(schedule.takeError());
        ++skippedRecords;
        continue;
      }
      task.schedules.push_back(std::move(*schedule));
      task.labels.push_back(
          r->ok() ? static_cast<float>(best / r->medianSeconds) : 0.0f);
      task.latencies.push_back(r->ok()
                                   ? r->medianSeconds
                                   : std::numeric_limits<double>::infinity());
    }
    if (llvm::Error err = fn(task))
      return err;
  }
  if (skipped)
    *skipped = skippedRecords;
  return llvm::Error::success();
}

int64_t tcl::appendTask(TrainingData &data, const TaskRecords &task) {
  int64_t group = static_cast<int64_t>(data.groupKeys.size());
  data.groupKeys.push_back(task.workload->key);
  data.groupKinds.push_back(task.workload->kind);
  for (size_t i = 0; i < task.schedules.size(); ++i)
    appendProgram(data, *task.sequence, *task.statements, task.schedules[i],
                  group, task.labels[i], task.latencies[i]);
  return group;
}

llvm::Expected<TrainingData>
tcl::loadTrainingData(const Database &db, const TrainingDataOptions &options,
                      unsigned *skipped) {
  TrainingData data;
  data.maxLength = options.maxLength;
  llvm::Error err = forEachTask(
      db, options,
      [&](const TaskRecords &task) {
        appendTask(data, task);
        return llvm::Error::success();
      },
      skipped);
  if (err)
    return std::move(err);
  return data;
}

std::vector<float> tcl::latencyWeights(const TrainingData &data, double power) {
  std::vector<double> best(data.groupKeys.size(),
                           std::numeric_limits<double>::infinity());
  for (size_t i = 0; i < data.size(); ++i)
    best[data.groups[i]] = std::min(best[data.groups[i]], data.latencies[i]);
  std::vector<double> raw(best.size(), 0.0);
  double sum = 0;
  unsigned counted = 0;
  for (size_t g = 0; g < best.size(); ++g)
    if (std::isfinite(best[g]) && best[g] > 0) {
      raw[g] = std::pow(best[g], power);
      sum += raw[g];
      ++counted;
    }
  std::vector<float> weights(data.size(), 0.0f);
  if (counted == 0)
    return weights;
  for (size_t i = 0; i < data.size(); ++i)
    weights[i] = static_cast<float>(raw[data.groups[i]] * counted / sum);
  return weights;
}

TrainingData
tcl::selectGroups(const TrainingData &data,
                  llvm::function_ref<bool(llvm::StringRef key)> keep) {
  TrainingData out;
  out.maxLength = data.maxLength;
  std::vector<int64_t> groupOf(data.groupKeys.size(), -1);
  for (size_t g = 0; g < data.groupKeys.size(); ++g) {
    if (!keep(data.groupKeys[g]))
      continue;
    groupOf[g] = static_cast<int64_t>(out.groupKeys.size());
    out.groupKeys.push_back(data.groupKeys[g]);
    out.groupKinds.push_back(data.groupKinds[g]);
  }
  size_t tokenStride = static_cast<size_t>(data.maxLength) * kNumTokenFeatures;
  size_t statement = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    size_t first = statement;
    while (statement < data.segments.size() &&
           data.segments[statement] == static_cast<int64_t>(i))
      ++statement;
    int64_t group = groupOf[data.groups[i]];
    if (group < 0)
      continue;
    int64_t n = static_cast<int64_t>(out.size());
    auto copy = [](auto &to, const auto &from, size_t begin, size_t end) {
      to.insert(to.end(), from.begin() + begin, from.begin() + end);
    };
    out.groups.push_back(group);
    out.labels.push_back(data.labels[i]);
    out.latencies.push_back(data.latencies[i]);
    copy(out.tokens, data.tokens, i * tokenStride, (i + 1) * tokenStride);
    copy(out.mask, data.mask, i * data.maxLength, (i + 1) * data.maxLength);
    copy(out.workload, data.workload, i * kNumTaskFeatures,
         (i + 1) * kNumTaskFeatures);
    copy(out.statements, data.statements, first * kNumStatementFeatures,
         statement * kNumStatementFeatures);
    out.segments.insert(out.segments.end(), statement - first, n);
  }
  return out;
}

llvm::Expected<TrainingData> tcl::takeValidationGroups(TrainingData &data,
                                                       double fraction,
                                                       uint64_t seed) {
  if (!(fraction > 0 && fraction < 1))
    return llvm::createStringError("validation fraction must be in (0, 1), "
                                   "got " +
                                   std::to_string(fraction));
  std::vector<std::string> keys = data.groupKeys;
  if (keys.size() < 2)
    return llvm::createStringError(
        "holding out validation tasks needs at least two tasks, got " +
        std::to_string(keys.size()));
  // A stream of its own: the same seed also drives training's shuffles.
  std::mt19937_64 rng(seed ^ 0x76616c6964ULL);
  std::shuffle(keys.begin(), keys.end(), rng);
  const size_t count = std::clamp<size_t>(
      static_cast<size_t>(std::lround(fraction * keys.size())), 1,
      keys.size() - 1);
  llvm::StringSet<> held;
  for (size_t i = 0; i < count; ++i)
    held.insert(keys[i]);
  TrainingData valid =
      selectGroups(data, [&](llvm::StringRef key) { return held.contains(key); });
  data = selectGroups(
      data, [&](llvm::StringRef key) { return !held.contains(key); });
  return valid;
}
