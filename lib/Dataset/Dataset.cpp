//===- Dataset.cpp - Collect measured programs for cost models ------------===//

#include "tcl/Dataset/Dataset.h"

#include "tcl/Database/Database.h"
#include "tcl/Measure/TaskMeasurer.h"
#include "tcl/Task/Task.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <chrono>
#include <random>
#include <set>

using namespace tcl;

namespace {
double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

/// The next `count` schedules of `space` to measure, in the seeded order
/// (the default schedule first), skipping those in `measured` (knob values).
/// Stops early when sampling keeps producing known schedules, i.e. the space
/// has fewer distinct schedules than asked for.
std::vector<Schedule> nextPrograms(const SearchSpace &space, uint64_t seed,
                                   std::set<std::vector<int64_t>> &measured,
                                   unsigned count) {
  std::vector<Schedule> out;
  std::mt19937_64 rng(seed);
  auto take = [&](const Schedule &s) {
    std::vector<int64_t> values(s.values.begin(), s.values.end());
    if (!measured.insert(values).second)
      return false;
    out.push_back(s);
    return true;
  };
  take(space.getDefault());
  unsigned misses = 0;
  const unsigned maxMisses = 200 + 20 * count;
  while (out.size() < count && misses < maxMisses)
    if (!take(space.sample(rng)))
      ++misses;
  return out;
}
} // namespace

llvm::Error tcl::writeManifest(llvm::StringRef path,
                               llvm::ArrayRef<DatasetTask> tasks,
                               llvm::ArrayRef<std::string> networkNames,
                               const DatasetOptions &options) {
  llvm::json::Array taskArray;
  unsigned records = 0, ok = 0;
  for (const DatasetTask &t : tasks) {
    llvm::json::Object networks;
    for (const auto &[name, weight] : t.networks)
      networks[name] = weight;
    llvm::json::Object o{{"key", t.key},         {"kind", t.kind},
                         {"flops", t.flops},     {"networks", std::move(networks)},
                         {"records", t.records}, {"ok", t.ok}};
    if (!t.skipped.empty())
      o["skipped"] = t.skipped;
    taskArray.push_back(std::move(o));
    records += t.records;
    ok += t.ok;
  }
  llvm::json::Object root{
      {"platform", Platform::host(options.target).toJSON()},
      {"target", options.target.str()},
      {"tcl_version", getTCLVersion()},
      {"created", currentTimestamp()},
      {"database", options.databasePath},
      {"seed", static_cast<int64_t>(options.seed)},
      {"programs_per_task", options.programsPerTask},
      {"networks", llvm::json::Array(networkNames)},
      {"num_tasks", static_cast<int64_t>(tasks.size())},
      {"num_records", records},
      {"num_ok", ok},
      {"tasks", std::move(taskArray)},
  };
  std::string temp = (path + ".tmp").str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(temp, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return llvm::createStringError("cannot write '" + temp +
                                     "': " + ec.message());
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
    os.close();
    if (os.has_error()) {
      os.clear_error();
      return llvm::createStringError("cannot write '" + temp + "'");
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path))
    return llvm::createStringError("cannot rename '" + temp + "' to '" +
                                   path + "': " + ec.message());
  return llvm::Error::success();
}

llvm::Expected<std::vector<DatasetTask>>
tcl::collectDataset(llvm::ArrayRef<DatasetNetwork> networks,
                    const DatasetOptions &options) {
  if (options.programsPerTask == 0)
    return llvm::createStringError("programs per task must be positive");
  if (options.batchSize == 0)
    return llvm::createStringError("the batch size must be positive");

  // Distinct workloads across networks, in order of first appearance, with
  // their weight in each network.
  std::vector<llvm::SmallVector<Task>> tasksPerNetwork;
  for (const DatasetNetwork &n : networks)
    tasksPerNetwork.push_back(findTasks(n.module));
  std::vector<DatasetTask> result;
  std::vector<const Task *> firstInstance;
  llvm::StringMap<unsigned> indexOf;
  std::vector<std::string> networkNames;
  // Per network, the workloads that first appear in it (for interleaving).
  std::vector<std::vector<unsigned>> firstIn;
  for (auto [network, tasks] : llvm::zip(networks, tasksPerNetwork)) {
    networkNames.push_back(network.name);
    firstIn.emplace_back();
    for (const Workload &w : groupWorkloads(tasks)) {
      if (!options.filter.empty() &&
          !llvm::StringRef(w.task->key).contains(options.filter))
        continue;
      auto [it, inserted] =
          indexOf.try_emplace(w.task->key, static_cast<unsigned>(result.size()));
      if (inserted) {
        DatasetTask t;
        t.key = w.task->key;
        t.kind = w.task->kind;
        t.flops = w.task->flops;
        firstIn.back().push_back(static_cast<unsigned>(result.size()));
        result.push_back(std::move(t));
        firstInstance.push_back(w.task);
      }
      result[it->second].networks[network.name] += w.weight;
    }
  }
  if (result.empty())
    return llvm::createStringError(
        options.filter.empty() ? "the networks have no tasks"
                               : "no task matches the filter");

  llvm::Expected<Database> db = Database::open(options.databasePath, true);
  if (!db)
    return db.takeError();
  Platform platform = Platform::host(options.target);
  std::string platformId = platform.id();

  llvm::SmallString<128> dir(options.workDir);
  if (dir.empty())
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("tcl-dataset", dir))
      return llvm::createStringError("cannot create a work directory: " +
                                     ec.message());
  Builder builder(options.target, std::string(dir), options.jobs);
  llvm::raw_ostream *log = options.log;
  bool tty = log && log == &llvm::errs() && llvm::errs().is_displayed();
  auto interrupted = [&] {
    return options.interrupted && options.interrupted->load();
  };
  auto saveManifest = [&]() -> llvm::Error {
    if (options.manifestPath.empty())
      return llvm::Error::success();
    return writeManifest(options.manifestPath, result, networkNames, options);
  };

  // Work still to do, for the ETA.
  unsigned toMeasure = 0;
  for (DatasetTask &t : result) {
    t.records = static_cast<unsigned>(db->recordsFor(t.key, platformId).size());
    for (const MeasureRecord *rec : db->recordsFor(t.key, platformId))
      t.ok += rec->ok();
    if (t.records < options.programsPerTask)
      toMeasure += options.programsPerTask - t.records;
  }
  if (log)
    *log << "tcl-dataset: " << result.size() << " workloads from "
         << networks.size() << " networks on " << platformId << ", "
         << options.programsPerTask << " programs each; " << toMeasure
         << " to measure; database " << options.databasePath << "\n";

  std::vector<unsigned> order;
  order.reserve(result.size());
  if (options.interleave) {
    for (size_t round = 0; order.size() < result.size(); ++round)
      for (const std::vector<unsigned> &own : firstIn)
        if (round < own.size())
          order.push_back(own[round]);
  } else {
    for (unsigned i = 0; i < result.size(); ++i)
      order.push_back(i);
  }

  auto start = std::chrono::steady_clock::now();
  unsigned measuredNow = 0;
  for (auto [position, index] : llvm::enumerate(order)) {
    DatasetTask &task = result[index];
    if (interrupted())
      break;
    if (task.records >= options.programsPerTask)
      continue;
    llvm::Expected<std::unique_ptr<TaskMeasurer>> measurer =
        TaskMeasurer::create(*firstInstance[index], builder, options.runner);
    if (measurer) {
      if (llvm::Error err = (*measurer)->prepareReference())
        task.skipped = llvm::toString(std::move(err));
    } else {
      task.skipped = llvm::toString(measurer.takeError());
    }
    if (!task.skipped.empty()) {
      if (log)
        *log << "tcl-dataset: skipping " << task.key << ": " << task.skipped
             << "\n";
      toMeasure -= options.programsPerTask - task.records;
      if (llvm::Error err = saveManifest())
        return std::move(err);
      continue;
    }
    TaskMeasurer &m = **measurer;
    const SearchSpace &space = m.getSpace();
    if (!db->findWorkload(task.key))
      if (llvm::Error err = db->addWorkload(
              {task.key, task.kind, task.flops, m.getKernelText().str()}))
        return std::move(err);

    std::set<std::vector<int64_t>> measured;
    for (const MeasureRecord *rec : db->recordsFor(task.key, platformId))
      if (llvm::Expected<Schedule> s = space.fromKnobMap(rec->knobs))
        measured.insert(std::vector<int64_t>(s->values.begin(), s->values.end()));
      else
        llvm::consumeError(s.takeError());
    uint64_t taskSeed = options.seed ^ llvm::hash_value(task.key);
    std::vector<Schedule> programs =
        nextPrograms(space, taskSeed, measured,
                     options.programsPerTask - task.records);
    if (programs.size() < options.programsPerTask - task.records) {
      if (log)
        *log << "tcl-dataset: " << task.key << ": the space has only "
             << task.records + programs.size() << " distinct schedules\n";
      toMeasure -= options.programsPerTask - task.records -
                   static_cast<unsigned>(programs.size());
    }

    for (size_t begin = 0; begin < programs.size() && !interrupted();
         begin += options.batchSize) {
      llvm::ArrayRef<Schedule> batch = llvm::ArrayRef(programs).slice(
          begin, std::min<size_t>(options.batchSize, programs.size() - begin));
      llvm::Error appendError = llvm::Error::success();
      auto onTrial = [&](const Trial &trial, unsigned, unsigned) {
        if (interrupted() || appendError)
          return;
        MeasureRecord rec = m.makeRecord(trial, platformId, options.seed);
        if (llvm::Error err = db->append(rec)) {
          appendError = std::move(err);
          return;
        }
        ++task.records;
        ++task.added;
        task.ok += rec.ok();
        ++measuredNow;
        if (!log)
          return;
        double elapsed = secondsSince(start);
        double eta = elapsed / measuredNow * (toMeasure - measuredNow);
        if (!tty && task.added % 32 != 0 &&
            task.records != options.programsPerTask)
          return;
        *log << llvm::format(
            "%s[%zu/%zu] %-36s programs %u/%u (%u ok)  all %u/%u  %.0fs "
            "elapsed  ETA %.0fs%s",
            tty ? "\r" : "", position + 1, result.size(), task.key.c_str(),
            task.records, options.programsPerTask, task.ok, measuredNow,
            toMeasure, elapsed, eta, tty ? "\x1b[K" : "\n");
      };
      m.measure(batch, onTrial);
      if (appendError)
        return std::move(appendError);
    }
    if (log && tty)
      *log << "\n";
    if (llvm::Error err = saveManifest())
      return std::move(err);
  }
  if (log && interrupted())
    *log << "tcl-dataset: interrupted; " << measuredNow
         << " new records are in " << options.databasePath
         << "; run again to continue\n";
  if (llvm::Error err = saveManifest())
    return std::move(err);
  return result;
}
