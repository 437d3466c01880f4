//===- Tuner.cpp - Tune every task of a module ----------------------------===//

#include "tcl/Search/Tuner.h"

#include "tcl/CostModel/CostModel.h"
#include "tcl/Database/Database.h"
#include "tcl/Measure/TargetMeasurer.h"
#include "tcl/Task/Task.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"

#include <chrono>
#include <memory>

using namespace tcl;

namespace {
/// Tuning state of one workload.
struct TaskState {
  TunedWorkload result;
  std::unique_ptr<ScheduleMeasurer> measurer;
  TaskContext context;
  std::unique_ptr<EvolutionarySearch> search;
  /// Every measured schedule with its median latency (0: failed).
  std::vector<MeasuredSchedule> measured;
  std::vector<double> latencies;
  bool defaultMeasured = false;

  /// Normalized throughputs of `latencies`: best latency / latency.
  std::vector<double> throughputs(llvm::ArrayRef<double> lats) const {
    std::vector<double> t;
    for (double l : lats)
      t.push_back(l > 0 && result.bestSeconds > 0 ? result.bestSeconds / l
                                                  : 0.0);
    return t;
  }
  void add(const Schedule &s, double latency, bool isDefault) {
    measured.push_back({s, 0});
    latencies.push_back(latency);
    ++result.trials;
    if (latency > 0 &&
        (result.bestSeconds == 0 || latency < result.bestSeconds))
      result.bestSeconds = latency;
    if (isDefault) {
      defaultMeasured = true;
      result.defaultSeconds = latency;
    }
  }
  void refreshThroughputs() {
    std::vector<double> t = throughputs(latencies);
    for (size_t i = 0; i < measured.size(); ++i)
      measured[i].throughput = t[i];
  }
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}
} // namespace

llvm::Expected<std::vector<TunedWorkload>>
tcl::tuneModule(mlir::ModuleOp module, const TuneOptions &options) {
  if (options.trials == 0)
    return llvm::createStringError("trials must be at least 1");
  if (options.databasePath.empty())
    return llvm::createStringError("no database file given");
  // A GPU platform is named by the runner that measures on it.
  llvm::Expected<std::string> platform =
      measurePlatformId(options.target, options.gpu);
  if (!platform)
    return platform.takeError();
  std::string platformId = *platform;
  llvm::Expected<std::unique_ptr<CostModel>> model =
      createCostModel(options.costModel, options.seed, platformId);
  if (!model)
    return model.takeError();
  llvm::SmallVector<Task> tasks = findTasks(module);
  if (tasks.empty())
    return llvm::createStringError(
        "the module has no tunable ops (Linalg contractions, convolutions, "
        "pooling, reductions or elementwise ops with static shapes)");
  std::vector<Workload> workloads = groupWorkloads(tasks);

  llvm::Expected<Database> db = Database::open(options.databasePath);
  if (!db)
    return db.takeError();

  llvm::SmallString<128> dir(options.workDir);
  if (dir.empty())
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("tcl-tune", dir))
      return llvm::createStringError("cannot create a work directory: " +
                                     ec.message());
  Builder builder(builderTarget(options.target), std::string(dir),
                  options.jobs);
  llvm::raw_ostream *log = options.log;
  bool tty = log && log == &llvm::errs() && llvm::errs().is_displayed();
  auto interrupted = [&] {
    return options.interrupted && options.interrupted->load();
  };

  // Prepare every workload: kernel, space, reference, earlier records.
  std::vector<TaskState> states(workloads.size());
  unsigned trialsDone = 0;
  for (auto [w, state] : llvm::zip(workloads, states)) {
    TunedWorkload &r = state.result;
    r.key = w.task->key;
    r.platform = platformId;
    r.kind = w.task->kind;
    r.functions.assign(w.functions.begin(), w.functions.end());
    r.weight = w.weight;
    r.flops = w.task->flops;
    llvm::Expected<std::unique_ptr<ScheduleMeasurer>> measurer =
        createScheduleMeasurer(*w.task, options.target, builder,
                               options.runner, options.gpu, options.seed);
    if (!measurer) {
      r.skipped = llvm::toString(measurer.takeError());
      continue;
    }
    if (llvm::Error err = (*measurer)->prepareReference()) {
      r.skipped = llvm::toString(std::move(err));
      continue;
    }
    state.measurer = std::move(*measurer);
    const SearchSpace &space = state.measurer->getSpace();
    state.context.space = &space;
    state.context.kernelText = state.measurer->getKernelText().str();
    state.context.flops = r.flops;
    state.search = std::make_unique<EvolutionarySearch>(
        space, options.search, options.seed ^ llvm::hash_value(r.key));
    if (!db->findWorkload(r.key))
      if (llvm::Error err = db->addWorkload(
              {r.key, r.kind, r.flops, state.context.kernelText}))
        return std::move(err);
    Schedule def = space.getDefault();
    for (const MeasureRecord *rec : db->recordsFor(r.key, platformId)) {
      llvm::Expected<Schedule> s = space.fromKnobMap(rec->knobs);
      if (!s) {
        if (log)
          *log << "tcl: warning: ignoring a record of '" << r.key
               << "': " << llvm::toString(s.takeError()) << "\n";
        continue;
      }
      state.add(*s, rec->ok() ? rec->medianSeconds : 0, *s == def);
      ++trialsDone;
    }
    state.refreshThroughputs();
    if (!state.measured.empty()) {
      std::vector<Schedule> schedules;
      for (const MeasuredSchedule &m : state.measured)
        schedules.push_back(m.schedule);
      (*model)->update(state.context, schedules,
                       state.throughputs(state.latencies));
    }
  }

  std::vector<unsigned> tunable;
  std::vector<ScheduledTask> scheduled;
  for (unsigned i = 0; i < states.size(); ++i) {
    if (!states[i].measurer)
      continue;
    tunable.push_back(i);
    scheduled.push_back({double(states[i].result.weight),
                         double(states[i].result.flops),
                         states[i].result.kind});
  }
  if (tunable.empty())
    return llvm::createStringError("no task could be prepared for tuning: " +
                                   states.front().result.skipped);
  TaskScheduler scheduler(scheduled, options.strategy, options.seed);
  if (log)
    *log << "tcl-tune: " << tunable.size() << " workloads on " << platformId
         << ", " << options.trials << " trials (" << trialsDone
         << " from the database), cost model '" << (*model)->getName()
         << "', database " << options.databasePath << "\n";

  auto start = std::chrono::steady_clock::now();
  unsigned startTrials = trialsDone;
  unsigned exhaustedInARow = 0;
  while (trialsDone < options.trials && !interrupted() &&
         exhaustedInARow < tunable.size()) {
    unsigned slot = scheduler.next();
    TaskState &state = states[tunable[slot]];
    const SearchSpace &space = *state.context.space;
    unsigned n = std::min(options.measuresPerRound, options.trials - trialsDone);
    std::vector<Schedule> batch;
    Schedule def = space.getDefault();
    if (!state.defaultMeasured)
      batch.push_back(def);
    std::vector<Schedule> proposed = state.search->proposeBatch(
        **model, state.context, state.measured, n - batch.size());
    for (Schedule &s : proposed)
      if (!(s == def) || state.defaultMeasured)
        batch.push_back(std::move(s));
    if (batch.empty()) {
      ++exhaustedInARow;
      scheduler.record(slot, state.result.bestSeconds);
      continue;
    }
    exhaustedInARow = 0;

    std::vector<Schedule> newSchedules;
    std::vector<double> newLatencies;
    auto onRecord = [&](size_t index, const MeasureRecord &rec) {
      const Schedule &schedule = batch[index];
      // A measurement cut short by Ctrl-C is not a result.
      if (interrupted())
        return;
      if (llvm::Error err = db->append(rec)) {
        if (log)
          *log << "\ntcl: error: " << llvm::toString(std::move(err)) << "\n";
        return;
      }
      double latency = rec.ok() ? rec.medianSeconds : 0;
      state.add(schedule, latency, schedule == def);
      newSchedules.push_back(schedule);
      newLatencies.push_back(latency);
      ++trialsDone;
      if (!log)
        return;
      double elapsed = secondsSince(start);
      unsigned doneNow = trialsDone - startTrials;
      double eta = doneNow ? elapsed / doneNow * (options.trials - trialsDone)
                           : 0;
      double gflops = state.result.bestSeconds > 0
                          ? state.result.flops / state.result.bestSeconds / 1e9
                          : 0;
      *log << llvm::format("%s[%u/%zu] %-36s trials %u/%u  best %.1f GFLOP/s"
                           "  %.0fs elapsed  ETA %.0fs%s",
                           tty ? "\r" : "", slot + 1, tunable.size(),
                           state.result.key.c_str(), trialsDone,
                           options.trials, gflops, elapsed, eta,
                           tty ? "\x1b[K" : "\n");
    };
    llvm::Error measured = state.measurer->measureRecords(
        batch, platformId, options.seed, onRecord);
    if (measured) {
      if (log && tty)
        *log << "\n";
      return llvm::createStringError(
          "measuring '" + state.result.key + "' failed (" +
          std::to_string(trialsDone - startTrials) +
          " new records are in " + options.databasePath +
          "): " + llvm::toString(std::move(measured)));
    }
    state.refreshThroughputs();
    if (!newSchedules.empty())
      (*model)->update(state.context, newSchedules,
                       state.throughputs(newLatencies));
    scheduler.record(slot, state.result.bestSeconds);
  }
  if (log && tty)
    *log << "\n";
  if (log && interrupted())
    *log << "tcl-tune: interrupted; " << trialsDone - startTrials
         << " new records are in " << options.databasePath << "\n";

  std::vector<TunedWorkload> results;
  for (TaskState &s : states)
    results.push_back(std::move(s.result));
  return results;
}
