//===- GPUBatch.cpp - JSON form of a GPU measurement batch ----------------===//

#include "tcl/Measure/GPUBatch.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace tcl;
using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Path;
using llvm::json::Value;

static constexpr llvm::StringLiteral kFormat = "tcl-gpu-batch";

GPUReference tcl::sampleReference(ElementKind kind, const void *output,
                                  size_t n, size_t maxPoints) {
  GPUReference ref;
  size_t points = std::min(n, maxPoints);
  for (size_t p = 0; p < points; ++p) {
    // Evenly spread, first and last element included.
    size_t i = points == 1 ? 0 : p * (n - 1) / (points - 1);
    ref.indices.push_back(static_cast<int64_t>(i));
    ref.values.push_back(loadElement(kind, output, i));
  }
  return ref;
}

static Value batchToJSON(const GPUBatch &batch) {
  Array tasks;
  for (const GPUTask &task : batch.tasks) {
    Array candidates;
    for (const GPUCandidate &c : task.candidates) {
      Object knobs;
      for (const auto &[name, value] : c.knobs)
        knobs[name] = value;
      candidates.push_back(Object{{"knobs", std::move(knobs)},
                                  {"program", toJSON(c.program)}});
    }
    Array indices, values;
    for (int64_t i : task.reference.indices)
      indices.push_back(i);
    for (double v : task.reference.values)
      values.push_back(v);
    tasks.push_back(Object{
        {"workload", task.workload.toJSON()},
        {"reference",
         Object{{"indices", std::move(indices)}, {"values", std::move(values)}}},
        {"candidates", std::move(candidates)}});
  }
  const GPUTiming &t = batch.timing;
  return Object{{"format", kFormat},
                {"version", batch.version},
                {"target", batch.target},
                {"seed", static_cast<int64_t>(batch.seed)},
                {"timing", Object{{"warmup", t.warmup},
                                  {"min_repeat_s", t.minRepeatSeconds},
                                  {"min_repeats", t.minRepeats},
                                  {"max_repeats", t.maxRepeats},
                                  {"timeout_s", t.timeoutSeconds},
                                  {"rtol", t.rtol},
                                  {"atol", t.atol}}},
                {"tasks", std::move(tasks)}};
}

llvm::Error tcl::writeGPUBatch(const GPUBatch &batch, llvm::StringRef path) {
  std::string temporary = (path + ".tmp").str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(temporary, ec);
    if (ec)
      return llvm::createStringError(ec, "cannot write GPU batch '%s': %s",
                                     temporary.c_str(), ec.message().c_str());
    os << batchToJSON(batch) << "\n";
    os.close();
    if (os.has_error())
      return llvm::createStringError(os.error(), "cannot write GPU batch '%s'",
                                     temporary.c_str());
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, path))
    return llvm::createStringError(ec, "cannot rename '%s' to '%s': %s",
                                   temporary.c_str(), path.str().c_str(),
                                   ec.message().c_str());
  return llvm::Error::success();
}

namespace {
/// Reads a batch, reporting the first problem at its JSON path.
struct BatchReader {
  GPUBatch batch;
  /// Why a candidate's program or a task's workload record is invalid.
  std::string programError;

  bool readTiming(const Value &v, Path path) {
    GPUTiming &t = batch.timing;
    llvm::json::ObjectMapper m(v, path);
    return m && m.map("warmup", t.warmup) &&
           m.map("min_repeat_s", t.minRepeatSeconds) &&
           m.map("min_repeats", t.minRepeats) &&
           m.map("max_repeats", t.maxRepeats) &&
           m.map("timeout_s", t.timeoutSeconds) && m.map("rtol", t.rtol) &&
           m.map("atol", t.atol);
  }

  bool readCandidate(const Value &v, GPUTask &task, Path path) {
    const Object *o = v.getAsObject();
    if (!o) {
      path.report("expected an object");
      return false;
    }
    GPUCandidate c;
    std::map<std::string, int64_t> knobs;
    llvm::json::ObjectMapper m(v, path);
    if (!m.map("knobs", knobs))
      return false;
    c.knobs.assign(knobs.begin(), knobs.end());
    const Value *program = o->get("program");
    if (!program) {
      path.field("program").report("missing value");
      return false;
    }
    llvm::Expected<GPUProgram> parsed = programFromJSON(*program);
    if (!parsed) {
      path.field("program").report("invalid GPU program");
      programError = llvm::toString(parsed.takeError());
      return false;
    }
    c.program = std::move(*parsed);
    if (c.program.result < 0) {
      path.field("program").report("the program has no result buffer");
      return false;
    }
    int64_t n = c.program.buffers[c.program.result].numElements();
    for (int64_t i : task.reference.indices)
      if (i < 0 || i >= n) {
        path.field("program").report(
            "a reference position is outside the result buffer");
        return false;
      }
    task.candidates.push_back(std::move(c));
    return true;
  }

  bool readTask(const Value &v, Path path) {
    const Object *o = v.getAsObject();
    llvm::json::ObjectMapper m(v, path);
    GPUTask task;
    if (!o || !m)
      return false;
    const Object *workload = o->getObject("workload");
    if (!workload) {
      path.field("workload").report("expected a workload record");
      return false;
    }
    llvm::Expected<WorkloadRecord> record = WorkloadRecord::fromJSON(*workload);
    if (!record) {
      programError = llvm::toString(record.takeError());
      path.field("workload").report("invalid workload record");
      return false;
    }
    task.workload = std::move(*record);
    const Value *ref = o->get("reference");
    if (!ref) {
      path.field("reference").report("missing value");
      return false;
    }
    llvm::json::ObjectMapper r(*ref, path.field("reference"));
    if (!r || !r.map("indices", task.reference.indices) ||
        !r.map("values", task.reference.values))
      return false;
    if (task.reference.indices.size() != task.reference.values.size()) {
      path.field("reference").report("indices and values differ in length");
      return false;
    }
    const Array *candidates = o->getArray("candidates");
    if (!candidates) {
      path.field("candidates").report("expected an array");
      return false;
    }
    for (auto [i, c] : llvm::enumerate(*candidates))
      if (!readCandidate(c, task, path.field("candidates").index(i)))
        return false;
    batch.tasks.push_back(std::move(task));
    return true;
  }

  bool read(const Value &v, Path path) {
    const Object *o = v.getAsObject();
    llvm::json::ObjectMapper m(v, path);
    std::string format;
    int64_t seed = 0;
    if (!o || !m || !m.map("format", format))
      return false;
    if (format != kFormat) {
      path.field("format").report("not a TCL GPU batch");
      return false;
    }
    if (!m.map("version", batch.version) || !m.map("target", batch.target) ||
        !m.map("seed", seed))
      return false;
    batch.seed = static_cast<uint64_t>(seed);
    if (!llvm::StringRef(batch.target).starts_with("cuda:")) {
      path.field("target").report("expected a cuda: target");
      return false;
    }
    const Value *timing = o->get("timing");
    if (!readTiming(timing ? *timing : Value(nullptr), path.field("timing")))
      return false;
    const Array *tasks = o->getArray("tasks");
    if (!tasks) {
      path.field("tasks").report("expected an array");
      return false;
    }
    for (auto [i, t] : llvm::enumerate(*tasks))
      if (!readTask(t, path.field("tasks").index(i)))
        return false;
    return true;
  }
};
} // namespace

llvm::Expected<GPUBatch> tcl::readGPUBatch(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path);
  if (!file)
    return llvm::createStringError(file.getError(),
                                   "cannot read GPU batch '%s': %s",
                                   path.str().c_str(),
                                   file.getError().message().c_str());
  llvm::Expected<Value> json = llvm::json::parse((*file)->getBuffer());
  if (!json)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(), "GPU batch '%s': %s",
        path.str().c_str(), llvm::toString(json.takeError()).c_str());
  Path::Root root("batch");
  BatchReader reader;
  if (!reader.read(*json, root)) {
    std::string why = llvm::toString(root.getError());
    if (!reader.programError.empty())
      why += ": " + reader.programError;
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "GPU batch '%s': %s", path.str().c_str(),
                                   why.c_str());
  }
  return std::move(reader.batch);
}
