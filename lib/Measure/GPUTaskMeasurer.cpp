//===- GPUTaskMeasurer.cpp - Measure GPU schedules with tcl-cuda-runner ---===//

#include "tcl/Measure/GPUTaskMeasurer.h"

#include "tcl/Database/Database.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <algorithm>
#include <chrono>
#include <map>

using namespace tcl;

namespace {
using KnobMap = std::vector<std::pair<std::string, int64_t>>;

KnobMap sorted(KnobMap knobs) {
  std::sort(knobs.begin(), knobs.end());
  return knobs;
}

/// The last `n` characters of the file at `path` (empty if unreadable).
std::string fileTail(llvm::StringRef path, size_t n = 2000) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "";
  return (*buffer)->getBuffer().take_back(n).rtrim().str();
}

/// What an exit status of tcl-cuda-runner means.
std::string describeExit(int status, llvm::StringRef errorMessage) {
  if (status == 77)
    return "found no GPU (exit status 77)";
  if (status < 0)
    return "did not finish: " + errorMessage.str();
  return "exited with status " + std::to_string(status);
}

/// Runs `args` (args[0] is the program) with stdout and stderr into
/// `logPath`; returns the exit status (negative when it could not run or
/// died), with the reason in `errorMessage`.
int runLogged(llvm::ArrayRef<llvm::StringRef> args, llvm::StringRef logPath,
              std::string &errorMessage) {
  std::optional<llvm::StringRef> redirects[] = {
      llvm::StringRef(""), logPath, logPath};
  return llvm::sys::ExecuteAndWait(args.front(), args, std::nullopt,
                                   redirects, /*SecondsToWait=*/0,
                                   /*MemoryLimit=*/0, &errorMessage);
}
} // namespace

std::optional<std::string> tcl::findCUDARunner() {
  std::string self = llvm::sys::fs::getMainExecutable(
      nullptr, reinterpret_cast<void *>(&findCUDARunner));
  if (!self.empty()) {
    llvm::SmallString<256> sibling(llvm::sys::path::parent_path(self));
    llvm::sys::path::append(sibling, "tcl-cuda-runner");
    if (llvm::sys::fs::can_execute(sibling))
      return sibling.str().str();
  }
  if (llvm::ErrorOr<std::string> found =
          llvm::sys::findProgramByName("tcl-cuda-runner"))
    return *found;
  return std::nullopt;
}

llvm::Expected<std::string> tcl::queryGPUPlatform(llvm::StringRef runnerPath,
                                                  const Target &gpu,
                                                  int device) {
  llvm::SmallString<128> logPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "tcl-cuda-platform", "txt", logPath))
    return llvm::createStringError("cannot create a temporary file: " +
                                   ec.message());
  std::string targetArg = "--print-platform=" + gpu.str();
  std::string deviceArg = "--device=" + std::to_string(device);
  std::string errorMessage;
  int status = runLogged({runnerPath, targetArg, deviceArg}, logPath,
                         errorMessage);
  std::string output = fileTail(logPath);
  llvm::sys::fs::remove(logPath);
  if (status != 0)
    return llvm::createStringError(
        "'" + runnerPath + " " + targetArg + "' " +
        describeExit(status, errorMessage) +
        (output.empty() ? std::string() : ": " + output));
  // The id is the last line; the runner says nothing else on success.
  llvm::StringRef id = llvm::StringRef(output).rsplit('\n').second;
  if (id.empty())
    id = output;
  if (!id.starts_with(gpu.str() + "@"))
    return llvm::createStringError("'" + runnerPath + " " + targetArg +
                                   "' printed '" + output +
                                   "', not a platform id of " + gpu.str());
  return id.str();
}

llvm::Expected<std::unique_ptr<GPUTaskMeasurer>>
GPUTaskMeasurer::create(const Task &task, const Target &gpu,
                        Builder &cpuBuilder, uint64_t seed,
                        GPUMeasureOptions options) {
  if (options.runnerPath.empty())
    return llvm::createStringError("no tcl-cuda-runner given");
  if (options.workDir.empty())
    options.workDir = cpuBuilder.getWorkDir().str();
  RunnerOptions referenceOptions;
  referenceOptions.seed = seed;
  referenceOptions.threads = cpuBuilder.getTarget().threads;
  llvm::Expected<std::unique_ptr<GPUTaskBuilder>> builder =
      GPUTaskBuilder::create(task, gpu, cpuBuilder, referenceOptions);
  if (!builder)
    return builder.takeError();
  return std::unique_ptr<GPUTaskMeasurer>(
      new GPUTaskMeasurer(std::move(*builder), gpu, seed, std::move(options)));
}

llvm::Error GPUTaskMeasurer::prepareReference() {
  llvm::Expected<GPUReference> computed =
      builder->computeReference(options.reference);
  if (!computed)
    return computed.takeError();
  reference = std::move(*computed);
  return llvm::Error::success();
}

llvm::Error GPUTaskMeasurer::measureRecords(llvm::ArrayRef<Schedule> schedules,
                                            llvm::StringRef platformId,
                                            uint64_t recordSeed,
                                            RecordFn onRecord) {
  if (recordSeed != seed)
    return llvm::createStringError(
        "GPU measurement seed " + std::to_string(recordSeed) +
        " differs from the reference's " + std::to_string(seed));
  WorkloadRecord workload = builder->getWorkloadRecord();

  // Lower every schedule; a failure is its record.
  GPUBatch batch;
  batch.target = gpu.str();
  batch.seed = seed;
  batch.timing = options.timing;
  batch.version = getTCLVersion().str();
  GPUTask task;
  task.workload = workload;
  task.reference = reference;
  std::vector<std::optional<MeasureRecord>> records(schedules.size());
  std::vector<double> lowerSeconds(schedules.size(), 0);
  std::map<KnobMap, size_t> byKnobs;
  auto baseRecord = [&](const Schedule &schedule) {
    MeasureRecord rec;
    rec.workloadKey = workload.key;
    rec.platform = platformId.str();
    rec.target = gpu.str();
    rec.knobs = getSpace().toKnobMap(schedule);
    rec.seed = seed;
    rec.timestamp = currentTimestamp();
    rec.version = getTCLVersion().str();
    return rec;
  };
  for (auto [i, schedule] : llvm::enumerate(schedules)) {
    auto start = std::chrono::steady_clock::now();
    llvm::Expected<GPUCandidate> candidate = builder->lower(schedule);
    lowerSeconds[i] = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    if (!candidate) {
      MeasureRecord rec = baseRecord(schedule);
      rec.error = stringifyErrorCode(ErrorCode::BuildError).str();
      rec.message = llvm::toString(candidate.takeError()).substr(0, 4000);
      rec.buildSeconds = lowerSeconds[i];
      records[i] = std::move(rec);
      continue;
    }
    byKnobs.emplace(sorted(candidate->knobs), i);
    task.candidates.push_back(std::move(*candidate));
  }

  llvm::Error status = llvm::Error::success();
  if (!task.candidates.empty()) {
    batch.tasks.push_back(std::move(task));
    llvm::SmallString<256> stem(options.workDir);
    llvm::sys::path::append(stem,
                            workload.key + "_gpu" + std::to_string(round++));
    std::string batchPath = (stem + ".json").str(),
                dbPath = (stem + ".jsonl").str(), logPath = (stem + ".log").str();
    llvm::sys::fs::remove(dbPath);
    if (llvm::Error err = writeGPUBatch(batch, batchPath))
      return err;
    std::string dbArg = "--database=" + dbPath;
    std::string deviceArg = "--device=" + std::to_string(options.device);
    std::string errorMessage;
    int exit = runLogged({options.runnerPath, batchPath, dbArg, deviceArg},
                         logPath, errorMessage);

    // Whatever the runner recorded counts, even if it stopped early.
    if (llvm::sys::fs::exists(dbPath)) {
      llvm::Expected<Database> db = Database::open(dbPath);
      if (!db)
        return db.takeError();
      for (const MeasureRecord &rec : db->records()) {
        auto it = byKnobs.find(sorted(rec.knobs));
        if (it == byKnobs.end())
          continue;
        if (rec.platform != platformId)
          return llvm::createStringError(
              "tcl-cuda-runner measured on '" + rec.platform +
              "', not on the tuned platform '" + platformId + "'");
        MeasureRecord copy = rec;
        copy.buildSeconds = lowerSeconds[it->second];
        records[it->second] = std::move(copy);
      }
    }
    if (exit != 0) {
      status = llvm::createStringError(
          "tcl-cuda-runner " + describeExit(exit, errorMessage) + " on '" +
          batchPath + "' (log '" + logPath + "'): " + fileTail(logPath, 1000));
    } else {
      for (const std::string &path : {batchPath, dbPath, logPath})
        llvm::sys::fs::remove(path);
    }
  }
  for (auto [i, rec] : llvm::enumerate(records))
    if (rec)
      onRecord(i, *rec);
  return status;
}
