//===- Dataset.cpp - Collect measured programs for cost models ------------===//

#include "tcl/Dataset/Dataset.h"

#include "tcl/Database/Database.h"
#include "tcl/Measure/TargetMeasurer.h"
#include "tcl/Task/Task.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <chrono>
#include <cmath>
#include <limits>
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
                               const DatasetOptions &options,
                               llvm::StringRef platformId) {
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
  Platform platform = Platform::host(options.target);
  if (options.target.isGPU())
    platform.gpuModel = platformId.split('@').second.str();
  llvm::json::Value platformJSON = platform.toJSON();
  if (llvm::json::Object *o = platformJSON.getAsObject())
    (*o)["id"] = platformId;
  llvm::json::Object root{
      {"platform", std::move(platformJSON)},
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
  if (options.selector)
    root["sampler"] = llvm::json::Object{
        {"budget", options.budget},
        {"rounds", static_cast<int64_t>(options.rounds)},
        {"pool_per_task", static_cast<int64_t>(options.programsPerTask)}};
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
  if (options.selector && !(options.budget > 0 && options.budget <= 1))
    return llvm::createStringError(
        llvm::formatv("budget fraction {0} is outside (0, 1]", options.budget)
            .str());
  if (options.selector &&
      (!options.remeasure.empty() || !options.remeasureBefore.empty()))
    return llvm::createStringError(
        "measuring programs again is not supported with a sampler");
  if (options.selector && options.rounds == 0)
    return llvm::createStringError("the number of rounds must be positive");

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
      if (!options.only.empty() && !options.only.contains(w.task->key))
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
        options.filter.empty() && options.only.empty()
            ? "the networks have no tasks"
            : "no task matches the filter");

  // A GPU platform is named by the runner that measures on it; asked
  // before the database is created, so a machine without a GPU writes
  // nothing.
  llvm::Expected<std::string> platform =
      measurePlatformId(options.target, options.gpu);
  if (!platform)
    return platform.takeError();
  std::string platformId = *platform;
  llvm::Expected<Database> db = Database::open(options.databasePath, true);
  if (!db)
    return db.takeError();

  llvm::SmallString<128> dir(options.workDir);
  if (dir.empty())
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("tcl-dataset", dir))
      return llvm::createStringError("cannot create a work directory: " +
                                     ec.message());
  Builder builder(builderTarget(options.target), std::string(dir),
                  options.jobs);
  llvm::raw_ostream *log = options.log;
  bool tty = log && log == &llvm::errs() && llvm::errs().is_displayed();
  auto interrupted = [&] {
    return options.interrupted && options.interrupted->load();
  };
  auto saveManifest = [&]() -> llvm::Error {
    if (options.manifestPath.empty())
      return llvm::Error::success();
    return writeManifest(options.manifestPath, result, networkNames, options,
                         platformId);
  };

  // Work still to do, for the ETA: new programs and, per task, the
  // programs to measure again (DatasetOptions::remeasure, remeasureBefore).
  auto measureAgain = [&](const MeasureRecord &rec) {
    return options.remeasure.contains(rec.error) ||
           (!options.remeasureBefore.empty() &&
            rec.timestamp < options.remeasureBefore);
  };
  unsigned toMeasure = 0;
  std::vector<unsigned> redo(result.size(), 0);
  auto missing = [&](const DatasetTask &t) {
    return t.records < options.programsPerTask
               ? options.programsPerTask - t.records
               : 0u;
  };
  for (auto [index, t] : llvm::enumerate(result)) {
    std::vector<const MeasureRecord *> records =
        db->latestRecordsFor(t.key, platformId);
    t.records = static_cast<unsigned>(records.size());
    for (const MeasureRecord *rec : records) {
      t.ok += rec->ok();
      redo[index] += measureAgain(*rec);
    }
    toMeasure += missing(t) + redo[index];
  }
  if (log) {
    *log << "tcl-dataset: " << result.size() << " workloads from "
         << networks.size() << " networks on " << platformId << ", ";
    if (options.selector)
      *log << "pools of " << options.programsPerTask
           << " programs each (the budget follows)";
    else
      *log << options.programsPerTask << " programs each; " << toMeasure
           << " to measure";
    *log << "; database " << options.databasePath << "\n";
    unsigned again = 0;
    for (unsigned n : redo)
      again += n;
    if (again)
      *log << "tcl-dataset: " << again
           << " programs to measure again (--remeasure)\n";
  }

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

  // The measurer of workload `index` with its reference output, its
  // workload in the database; null (and DatasetTask::skipped set) when the
  // task cannot be prepared.
  auto prepare = [&](unsigned index) -> std::unique_ptr<ScheduleMeasurer> {
    DatasetTask &task = result[index];
    llvm::Expected<std::unique_ptr<ScheduleMeasurer>> measurer =
        createScheduleMeasurer(*firstInstance[index], options.target, builder,
                               options.runner, options.gpu, options.seed);
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
      return nullptr;
    }
    return std::move(*measurer);
  };
  auto addWorkload = [&](const DatasetTask &task,
                         const ScheduleMeasurer &m) -> llvm::Error {
    if (db->findWorkload(task.key))
      return llvm::Error::success();
    return db->addWorkload(
        {task.key, task.kind, task.flops, m.getKernelText().str()});
  };
  // Measures `programs` of `task` in batches, appending a record for each
  // and calling onRecord(i, record) for programs[i]; `target` is the
  // task's record count to show in the progress line. `previousOk`
  // non-empty: the programs are measured again, the new records supersede
  // records that were successful where previousOk[i] is set, and the
  // task's program count stays.
  auto measurePrograms =
      [&](ScheduleMeasurer &m, DatasetTask &task, size_t position,
          llvm::ArrayRef<Schedule> programs, unsigned target,
          llvm::function_ref<void(size_t, const MeasureRecord &)> onRecord,
          llvm::ArrayRef<bool> previousOk = {}) -> llvm::Error {
    for (size_t begin = 0; begin < programs.size() && !interrupted();
         begin += options.batchSize) {
      llvm::ArrayRef<Schedule> batch = programs.slice(
          begin, std::min<size_t>(options.batchSize, programs.size() - begin));
      llvm::Error appendError = llvm::Error::success();
      auto onTrial = [&](size_t indexInBatch, const MeasureRecord &rec) {
        if (interrupted() || appendError)
          return;
        if (llvm::Error err = db->append(rec)) {
          appendError = std::move(err);
          return;
        }
        if (onRecord)
          onRecord(begin + indexInBatch, rec);
        bool again = !previousOk.empty();
        task.records += !again;
        ++task.added;
        task.ok += rec.ok();
        task.ok -= again && previousOk[begin + indexInBatch];
        ++measuredNow;
        if (!log)
          return;
        double elapsed = secondsSince(start);
        double eta = elapsed / measuredNow *
                     (std::max(toMeasure, measuredNow) - measuredNow);
        if (!tty && task.added % 32 != 0 &&
            begin + indexInBatch + 1 != programs.size())
          return;
        *log << llvm::format(
            "%s[%zu/%zu] %-36s programs %u/%u (%u ok)  all %u/%u  %.0fs "
            "elapsed  ETA %.0fs%s",
            tty ? "\r" : "", position + 1, result.size(), task.key.c_str(),
            task.records, target, task.ok, measuredNow, toMeasure, elapsed,
            eta, tty ? "\x1b[K" : "\n");
      };
      llvm::Error measured =
          m.measureRecords(batch, platformId, options.seed, onTrial);
      if (appendError) {
        llvm::consumeError(std::move(measured));
        return appendError;
      }
      if (measured)
        return llvm::createStringError("measuring '" + task.key +
                                       "' failed: " +
                                       llvm::toString(std::move(measured)));
    }
    if (log && tty)
      *log << "\n";
    return llvm::Error::success();
  };

  if (options.selector) {
    // Active learning: every task's pool is the first programsPerTask
    // programs of its seeded sequence (those a full collection measures);
    // records already in the database that are in a pool count as measured.
    PoolSelector &selector = *options.selector;
    // Each task's measurer (with its reference output) is kept across
    // rounds: preparing it again every round re-runs the naive reference
    // for the ~3 programs a round measures per task (keeping them made the
    // 10% collection of 216 tasks 1.5x faster). Memory: one reference
    // output tensor per task for the whole collection.
    struct PoolTask {
      unsigned index;
      size_t position;
      int64_t first;
      std::vector<Schedule> candidates;
      std::unique_ptr<ScheduleMeasurer> measurer;
    };
    std::vector<PoolTask> pools;
    int64_t poolSize = 0, observed = 0;
    for (auto [position, index] : llvm::enumerate(order)) {
      if (interrupted())
        break;
      DatasetTask &task = result[index];
      std::unique_ptr<ScheduleMeasurer> m = prepare(index);
      if (!m)
        continue;
      if (llvm::Error err = addWorkload(task, *m))
        return std::move(err);
      const SearchSpace &space = m->getSpace();
      std::set<std::vector<int64_t>> none;
      PoolTask pool{index, position, poolSize,
                    nextPrograms(space, options.seed ^ llvm::hash_value(task.key),
                                 none, options.programsPerTask),
                    nullptr};
      if (llvm::Error err = selector.addTask(task.key, task.kind,
                                             *firstInstance[index], space,
                                             pool.candidates))
        return llvm::createStringError("workload '" + task.key +
                                       "': " + llvm::toString(std::move(err)));
      std::map<std::vector<int64_t>, int64_t> candidateOf;
      for (auto [i, c] : llvm::enumerate(pool.candidates))
        candidateOf[std::vector<int64_t>(c.values.begin(), c.values.end())] =
            pool.first + static_cast<int64_t>(i);
      for (const MeasureRecord *rec :
           db->latestRecordsFor(task.key, platformId)) {
        llvm::Expected<Schedule> s = space.fromKnobMap(rec->knobs);
        if (!s) {
          llvm::consumeError(s.takeError());
          continue;
        }
        auto it = candidateOf.find(
            std::vector<int64_t>(s->values.begin(), s->values.end()));
        if (it == candidateOf.end())
          continue;
        selector.observe(it->second, rec->ok() ? rec->medianSeconds
                                               : std::numeric_limits<double>::infinity());
        ++observed;
      }
      poolSize += static_cast<int64_t>(pool.candidates.size());
      pool.measurer = std::move(m);
      pools.push_back(std::move(pool));
    }
    // As tcl::budgetCount (Sampler.h): rounded, at least 1.
    const int64_t total =
        poolSize > 0
            ? std::max<int64_t>(1, std::llround(options.budget * poolSize))
            : 0;
    const int64_t perRound = (total + options.rounds - 1) / options.rounds;
    int64_t remaining = std::max<int64_t>(0, total - observed);
    toMeasure = static_cast<unsigned>(remaining);
    if (log)
      *log << "tcl-dataset: sampler: pool of " << poolSize << " programs in "
           << pools.size() << " tasks; budget " << total << " ("
           << llvm::formatv("{0}", options.budget) << "), " << observed << " measured earlier, "
           << remaining << " to measure in rounds of " << perRound << "\n";
    for (unsigned round = 1; remaining > 0 && !interrupted(); ++round) {
      llvm::Expected<std::vector<int64_t>> picks =
          selector.chooseNext(std::min(perRound, remaining));
      if (!picks)
        return picks.takeError();
      if (log)
        *log << "tcl-dataset: round " << round << ": measuring "
             << picks->size() << " programs\n";
      // Picks are ascending, so each task's picks are contiguous.
      size_t next = 0;
      for (const PoolTask &pool : pools) {
        if (interrupted() || next == picks->size())
          break;
        const int64_t end = pool.first + static_cast<int64_t>(pool.candidates.size());
        std::vector<Schedule> programs;
        std::vector<int64_t> ids;
        for (; next < picks->size() && (*picks)[next] < end; ++next) {
          ids.push_back((*picks)[next]);
          programs.push_back(pool.candidates[(*picks)[next] - pool.first]);
        }
        if (programs.empty())
          continue;
        DatasetTask &task = result[pool.index];
        auto onRecord = [&](size_t i, const MeasureRecord &rec) {
          selector.observe(ids[i], rec.ok()
                                       ? rec.medianSeconds
                                       : std::numeric_limits<double>::infinity());
          --remaining;
        };
        if (llvm::Error err =
                measurePrograms(*pool.measurer, task, pool.position, programs,
                                task.records + static_cast<unsigned>(programs.size()),
                                onRecord))
          return std::move(err);
      }
      if (llvm::Error err = saveManifest())
        return std::move(err);
    }
  } else {
    for (auto [position, index] : llvm::enumerate(order)) {
      DatasetTask &task = result[index];
      if (interrupted())
        break;
      if (task.records >= options.programsPerTask && !redo[index])
        continue;
      std::unique_ptr<ScheduleMeasurer> m = prepare(index);
      if (!m) {
        toMeasure -= missing(task) + redo[index];
        if (llvm::Error err = saveManifest())
          return std::move(err);
        continue;
      }
      if (llvm::Error err = addWorkload(task, *m))
        return std::move(err);
      const SearchSpace &space = m->getSpace();
      std::set<std::vector<int64_t>> measured;
      std::vector<Schedule> again;
      llvm::SmallVector<bool> againWasOk;
      for (const MeasureRecord *rec :
           db->latestRecordsFor(task.key, platformId)) {
        llvm::Expected<Schedule> s = space.fromKnobMap(rec->knobs);
        if (!s) {
          llvm::consumeError(s.takeError());
          continue;
        }
        measured.insert(
            std::vector<int64_t>(s->values.begin(), s->values.end()));
        if (measureAgain(*rec)) {
          again.push_back(std::move(*s));
          againWasOk.push_back(rec->ok());
        }
      }
      if (again.size() < redo[index])
        toMeasure -= redo[index] - static_cast<unsigned>(again.size());
      if (llvm::Error err =
              measurePrograms(*m, task, position, again,
                              options.programsPerTask, nullptr, againWasOk))
        return std::move(err);
      unsigned wanted = missing(task);
      uint64_t taskSeed = options.seed ^ llvm::hash_value(task.key);
      std::vector<Schedule> programs;
      if (wanted)
        programs = nextPrograms(space, taskSeed, measured, wanted);
      if (programs.size() < wanted) {
        if (log)
          *log << "tcl-dataset: " << task.key << ": the space has only "
               << task.records + programs.size() << " distinct schedules\n";
        toMeasure -= wanted - static_cast<unsigned>(programs.size());
      }
      if (llvm::Error err = measurePrograms(*m, task, position, programs,
                                            options.programsPerTask, nullptr))
        return std::move(err);
      if (llvm::Error err = saveManifest())
        return std::move(err);
    }
  }
  if (log && interrupted())
    *log << "tcl-dataset: interrupted; " << measuredNow
         << " new records are in " << options.databasePath
         << "; run again to continue\n";
  if (llvm::Error err = saveManifest())
    return std::move(err);
  return result;
}

llvm::Expected<NetworkTasks> tcl::readNetworkManifest(llvm::StringRef path) {
  auto failWith = [&](const llvm::Twine &why) {
    return llvm::createStringError("manifest '" + path + "': " + why);
  };
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path);
  if (!file)
    return failWith(file.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*file)->getBuffer());
  if (!json)
    return failWith(llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Array *tasks = root ? root->getArray("tasks") : nullptr;
  if (!tasks)
    return failWith("no 'tasks' array");
  NetworkTasks result;
  for (const llvm::json::Value &t : *tasks) {
    const llvm::json::Object *o = t.getAsObject();
    std::optional<llvm::StringRef> key = o ? o->getString("key") : std::nullopt;
    const llvm::json::Object *networks = o ? o->getObject("networks") : nullptr;
    if (!key || !networks)
      return failWith("a task without 'key' or 'networks'");
    for (const auto &[name, weight] : *networks)
      result[name.str()][key->str()] = weight.getAsInteger().value_or(1);
  }
  return result;
}

llvm::StringSet<> tcl::workloadKeys(const NetworkTasks &networks) {
  llvm::StringSet<> keys;
  for (const auto &[network, tasks] : networks)
    for (const auto &[key, weight] : tasks)
      keys.insert(key);
  return keys;
}
