//===- tcl-cuda-runner.cpp - Measure a GPU batch on this machine's GPU ----===//
//
// Reads a batch written by `tcl-run --target=cuda:sm_XX --gpu-batch=FILE`,
// checks and times every candidate on a CUDA device (tcl::CUDARunner) and
// appends one measure record per candidate to a database. Resumable:
// candidates that already have a record for this platform are skipped.
//
//===----------------------------------------------------------------------===//

#include "tcl/Database/Database.h"
#include "tcl/Measure/CUDARunner.h"
#include "tcl/Target/Target.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <set>

using namespace tcl;
namespace cl = llvm::cl;

/// Exit status when there is no GPU to measure on (the automake/ctest
/// convention for a skipped test).
static constexpr int kNoGPUExitCode = 77;

static cl::OptionCategory category("tcl-cuda-runner options");
static cl::opt<std::string> batchFile(cl::Positional, cl::Optional,
                                      cl::desc("<batch .json>"),
                                      cl::cat(category));
static cl::opt<std::string> printPlatform(
    "print-platform", cl::init(""),
    cl::desc("Print the platform id that records measured on --device get "
             "for this cuda: target (e.g. cuda:sm_90@NVIDIA H200) and exit, "
             "with 77 when there is no GPU; tcl-tune --target=cuda:... asks "
             "this first"),
    cl::value_desc("target"), cl::cat(category));
static cl::opt<std::string> databaseFile(
    "database", cl::init(""),
    cl::desc("Append the measure records here (JSON Lines, created if "
             "missing); candidates already recorded for this platform are "
             "skipped"),
    cl::cat(category));
static cl::opt<int> device("device", cl::init(0),
                           cl::desc("CUDA device ordinal (default 0)"),
                           cl::cat(category));
static cl::opt<std::string>
    filter("filter", cl::init(""),
           cl::desc("Only measure workloads whose key contains this string"),
           cl::cat(category));
static cl::opt<bool> dryRun(
    "dry-run", cl::init(false),
    cl::desc("Only validate the batch (fields, PTX entries and their "
             "parameter counts) and print what would be measured; needs no "
             "GPU"),
    cl::cat(category));

namespace {
struct TaskSummary {
  std::string key;
  int64_t flops = 0;
  double defaultSeconds = 0, bestSeconds = 0;
  unsigned ok = 0, measured = 0, skipped = 0;
};
} // namespace

/// The CUDA runner on --device, or null after saying why there is none.
static std::unique_ptr<CUDARunner> openDevice() {
  NoGPUReason reason = NoGPUReason::NoDevice;
  llvm::Expected<std::unique_ptr<CUDARunner>> runner =
      CUDARunner::create(device, &reason);
  if (runner)
    return std::move(*runner);
  llvm::errs() << "tcl-cuda-runner: no GPU to measure on ("
               << (reason == NoGPUReason::NoDriver ? "no CUDA driver"
                                                   : "no CUDA device")
               << "): " << llvm::toString(runner.takeError())
               << "; nothing measured\n";
  return nullptr;
}

/// The platform id of records measured on `runner`'s device for `target`.
static std::string platformOf(const Target &target, CUDARunner &runner) {
  Platform platform = Platform::host(target);
  if (platform.gpuModel == "unknown GPU")
    platform.gpuModel = runner.getDeviceName().str();
  return platform.id();
}

/// --print-platform.
static int printPlatformId(llvm::StringRef spelling) {
  llvm::Expected<Target> target = Target::parse(spelling);
  if (!target) {
    llvm::errs() << "tcl-cuda-runner: --print-platform: "
                 << llvm::toString(target.takeError()) << "\n";
    return 1;
  }
  if (!target->isGPU()) {
    llvm::errs() << "tcl-cuda-runner: --print-platform: '" << spelling
                 << "' is not a cuda: target\n";
    return 1;
  }
  std::unique_ptr<CUDARunner> runner = openDevice();
  if (!runner)
    return kNoGPUExitCode;
  llvm::outs() << platformOf(*target, *runner) << "\n";
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tcl-cuda-runner: check and time a GPU batch on this machine's GPU\n\n"
      "The batch comes from `tcl-run --target=cuda:sm_XX --gpu-batch=FILE`\n"
      "on any machine. Each candidate's PTX is loaded with the CUDA driver\n"
      "(libcuda.so.1, loaded at run time), run once on the batch's seeded\n"
      "inputs and checked against the builder's CPU reference, then timed\n"
      "with CUDA events (warm-up, then repeats per the batch's timing).\n"
      "Failures are recorded as runtime_error (e.g. CUDA_ERROR_ILLEGAL_ADDRESS,\n"
      "CUDA_ERROR_LAUNCH_FAILED), build_error (PTX JIT), wrong_answer or\n"
      "timeout; a failing candidate never stops the run.\n\n"
      "Exit status: 0 when every candidate has a record, 1 on bad input,\n"
      "77 when there is no GPU (no driver or no device); nothing is written\n"
      "then.\n\n"
      "Example:\n"
      "  tcl-run mm.mlir --target=cuda:sm_90 --samples=64 --gpu-batch=b.json\n"
      "  tcl-cuda-runner b.json --database=gpu.jsonl\n");

  if (!printPlatform.empty())
    return printPlatformId(printPlatform);
  if (batchFile.empty()) {
    llvm::errs() << "tcl-cuda-runner: no batch file given (see --help)\n";
    return 1;
  }
  llvm::Expected<GPUBatch> batch = readGPUBatch(batchFile);
  if (!batch) {
    llvm::errs() << "tcl-cuda-runner: " << llvm::toString(batch.takeError())
                 << "\n";
    return 1;
  }
  llvm::Expected<Target> target = Target::parse(batch->target);
  if (!target) {
    llvm::errs() << "tcl-cuda-runner: " << batchFile << ": "
                 << llvm::toString(target.takeError()) << "\n";
    return 1;
  }
  size_t candidates = 0;
  for (const GPUTask &task : batch->tasks)
    for (auto [i, c] : llvm::enumerate(task.candidates)) {
      ++candidates;
      if (llvm::Error err = checkPTXParameters(c.program)) {
        llvm::errs() << "tcl-cuda-runner: " << batchFile << ": workload '"
                     << task.workload.key << "', candidate " << i << ": "
                     << llvm::toString(std::move(err)) << "\n";
        return 1;
      }
    }
  llvm::errs() << "tcl-cuda-runner: " << batchFile << ": "
               << batch->tasks.size() << " workloads, " << candidates
               << " candidates for " << batch->target << " (TCL "
               << batch->version << ", seed " << batch->seed << ")\n";
  if (dryRun) {
    for (const GPUTask &task : batch->tasks)
      llvm::outs() << task.workload.key << ": " << task.candidates.size()
                   << " candidates, "
                   << task.reference.indices.size()
                   << " reference values\n";
    return 0;
  }
  if (databaseFile.empty()) {
    llvm::errs() << "tcl-cuda-runner: --database=FILE is required (or "
                    "--dry-run)\n";
    return 1;
  }
  std::unique_ptr<CUDARunner> runner = openDevice();
  if (!runner)
    return kNoGPUExitCode;
  llvm::Expected<Database> db = Database::open(databaseFile, /*create=*/true);
  if (!db) {
    llvm::errs() << "tcl-cuda-runner: " << llvm::toString(db.takeError())
                 << "\n";
    return 1;
  }

  std::string platformId = platformOf(*target, *runner);
  llvm::errs() << "tcl-cuda-runner: measuring on " << platformId
               << " (device " << device << ": " << runner->getDeviceName()
               << "), records to '" << databaseFile << "'\n";

  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  std::vector<TaskSummary> summaries;
  bool writeFailed = false;
  size_t done = 0;
  for (const GPUTask &task : batch->tasks) {
    if (!filter.empty() &&
        !llvm::StringRef(task.workload.key).contains(filter))
      continue;
    if (!db->findWorkload(task.workload.key))
      if (llvm::Error err = db->addWorkload(task.workload)) {
        llvm::errs() << "tcl-cuda-runner: " << llvm::toString(std::move(err))
                     << "\n";
        return 1;
      }
    std::set<std::vector<std::pair<std::string, int64_t>>> recorded;
    for (const MeasureRecord *r : db->recordsFor(task.workload.key, platformId))
      recorded.insert(r->knobs);
    TaskSummary summary;
    summary.key = task.workload.key;
    summary.flops = task.workload.flops;
    std::vector<size_t> indices;
    for (auto [i, c] : llvm::enumerate(task.candidates)) {
      std::vector<std::pair<std::string, int64_t>> knobs = c.knobs;
      std::sort(knobs.begin(), knobs.end());
      if (recorded.count(knobs))
        ++summary.skipped;
      else
        indices.push_back(i);
    }
    llvm::errs() << "[" << summaries.size() + 1 << "/" << batch->tasks.size()
                 << "] " << task.workload.key << ": " << indices.size()
                 << " to measure";
    if (summary.skipped)
      llvm::errs() << " (" << summary.skipped << " already recorded)";
    llvm::errs() << "\n";
    runner->measure(
        *batch, task, indices, [&](size_t i, const MeasureResult &result) {
          ++done;
          ++summary.measured;
          MeasureRecord record;
          record.workloadKey = task.workload.key;
          record.platform = platformId;
          record.target = batch->target;
          record.knobs = task.candidates[i].knobs;
          record.error = stringifyErrorCode(result.error).str();
          record.message = result.message.substr(0, 4000);
          record.latencies = result.latencies;
          record.medianSeconds = result.medianSeconds;
          record.minSeconds = result.minSeconds;
          record.seed = batch->seed;
          record.runSeconds = result.runSeconds;
          record.timestamp = currentTimestamp();
          record.version = batch->version;
          if (llvm::Error err = db->append(record)) {
            llvm::errs() << "tcl-cuda-runner: "
                         << llvm::toString(std::move(err)) << "\n";
            writeFailed = true;
          }
          if (result.ok()) {
            ++summary.ok;
            if (i == 0)
              summary.defaultSeconds = result.medianSeconds;
            if (!summary.bestSeconds ||
                result.medianSeconds < summary.bestSeconds)
              summary.bestSeconds = result.medianSeconds;
          }
          llvm::errs() << llvm::format("  candidate %zu: ", i);
          if (result.ok())
            llvm::errs() << llvm::format("%.4f ms, %.1f GFLOP/s",
                                         result.medianSeconds * 1e3,
                                         result.gflops);
          else
            llvm::errs() << stringifyErrorCode(result.error) << ": "
                         << llvm::StringRef(result.message).take_front(200);
          llvm::errs() << llvm::format(" [%zu done, %.0fs]\n", done,
                                       elapsed());
        });
    summaries.push_back(summary);
  }

  llvm::outs() << llvm::format("\n%-40s %10s %12s %10s %12s %10s %9s\n",
                               "workload", "MFLOP", "default ms", "GFLOP/s",
                               "best ms", "GFLOP/s", "ok");
  for (const TaskSummary &s : summaries) {
    auto gflops = [&](double seconds) {
      return seconds > 0 ? s.flops / seconds / 1e9 : 0.0;
    };
    llvm::outs() << llvm::format(
        "%-40s %10.1f %12.4f %10.1f %12.4f %10.1f %5u/%-3u\n", s.key.c_str(),
        s.flops / 1e6, s.defaultSeconds * 1e3, gflops(s.defaultSeconds),
        s.bestSeconds * 1e3, gflops(s.bestSeconds), s.ok, s.measured);
  }
  return writeFailed ? 1 : 0;
}
