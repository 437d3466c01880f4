//===- Record.cpp - Workload and measure records as JSON ------------------===//
//
// Reading is strict about types and names the offending field, since a
// database is read by tools that run long after the line was written.
//
//===----------------------------------------------------------------------===//

#include "tcl/Database/Record.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"

#include <ctime>

using namespace tcl;
using llvm::Error;
using llvm::StringRef;
namespace json = llvm::json;

namespace {
/// Reads the fields of one record object, keeping the first problem found so
/// that fromJSON reads as a list of fields.
class FieldReader {
public:
  FieldReader(const json::Object &object, StringRef recordKind)
      : object(object), recordKind(recordKind) {}

  /// Checks that `"type"` is this reader's record kind.
  void checkType() {
    std::string type;
    required("type", type);
    if (!problem.empty() || type == recordKind)
      return;
    fail(("field 'type' is '" + type + "', expected '" + recordKind + "'")
             .str());
  }

  template <typename T> void required(StringRef field, T &out) {
    read(field, out, /*isRequired=*/true);
  }
  template <typename T> void optional(StringRef field, T &out) {
    read(field, out, /*isRequired=*/false);
  }

  Error takeError() {
    if (problem.empty())
      return Error::success();
    return llvm::createStringError(recordKind + " record: " + problem);
  }

private:
  template <typename T> void read(StringRef field, T &out, bool isRequired) {
    if (!problem.empty())
      return;
    const json::Value *value = object.get(field);
    if (!value) {
      if (isRequired)
        fail(("missing field '" + field + "'").str());
      return;
    }
    if (!convert(*value, out))
      fail(("field '" + field + "' is not " + describe(out)).str());
  }

  void fail(std::string message) { problem = std::move(message); }

  static bool convert(const json::Value &v, std::string &out) {
    std::optional<StringRef> s = v.getAsString();
    if (s)
      out = s->str();
    return s.has_value();
  }
  static bool convert(const json::Value &v, int64_t &out) {
    std::optional<int64_t> i = v.getAsInteger();
    if (i)
      out = *i;
    return i.has_value();
  }
  static bool convert(const json::Value &v, uint64_t &out) {
    std::optional<uint64_t> u = v.getAsUINT64();
    if (u)
      out = *u;
    return u.has_value();
  }
  static bool convert(const json::Value &v, double &out) {
    std::optional<double> d = v.getAsNumber();
    if (d)
      out = *d;
    return d.has_value();
  }
  static bool convert(const json::Value &v, llvm::SmallVector<double> &out) {
    const json::Array *array = v.getAsArray();
    if (!array)
      return false;
    out.clear();
    for (const json::Value &element : *array) {
      std::optional<double> d = element.getAsNumber();
      if (!d)
        return false;
      out.push_back(*d);
    }
    return true;
  }
  static bool convert(const json::Value &v,
                      std::vector<std::pair<std::string, int64_t>> &out) {
    const json::Object *knobs = v.getAsObject();
    if (!knobs)
      return false;
    out.clear();
    for (const auto &[name, value] : *knobs) {
      std::optional<int64_t> i = value.getAsInteger();
      if (!i)
        return false;
      out.push_back({name.str(), *i});
    }
    llvm::sort(out);
    return true;
  }

  static StringRef describe(const std::string &) { return "a string"; }
  static StringRef describe(const int64_t &) { return "an integer"; }
  static StringRef describe(const uint64_t &) {
    return "a non-negative integer";
  }
  static StringRef describe(const double &) { return "a number"; }
  static StringRef describe(const llvm::SmallVector<double> &) {
    return "an array of numbers";
  }
  static StringRef
  describe(const std::vector<std::pair<std::string, int64_t>> &) {
    return "an object of integers";
  }

  const json::Object &object;
  StringRef recordKind;
  std::string problem;
};
} // namespace

json::Value WorkloadRecord::toJSON() const {
  return json::Object{{"type", "workload"},
                      {"key", key},
                      {"kind", kind},
                      {"flops", flops},
                      {"kernel", kernel}};
}

llvm::Expected<WorkloadRecord> WorkloadRecord::fromJSON(const json::Object &o) {
  FieldReader reader(o, "workload");
  WorkloadRecord w;
  reader.checkType();
  reader.required("key", w.key);
  reader.required("kind", w.kind);
  reader.required("flops", w.flops);
  reader.required("kernel", w.kernel);
  if (Error err = reader.takeError())
    return std::move(err);
  return w;
}

json::Value MeasureRecord::toJSON() const {
  json::Object knobObject;
  for (const auto &[name, value] : knobs)
    knobObject[name] = value;
  return json::Object{{"type", "measure"},
                      {"workload", workloadKey},
                      {"platform", platform},
                      {"target", target},
                      {"knobs", std::move(knobObject)},
                      {"latencies", json::Array(latencies)},
                      {"median_s", medianSeconds},
                      {"min_s", minSeconds},
                      {"error", error},
                      {"message", message},
                      {"seed", seed},
                      {"build_s", buildSeconds},
                      {"run_s", runSeconds},
                      {"timestamp", timestamp},
                      {"version", version}};
}

llvm::Expected<MeasureRecord> MeasureRecord::fromJSON(const json::Object &o) {
  FieldReader reader(o, "measure");
  MeasureRecord m;
  reader.checkType();
  reader.required("workload", m.workloadKey);
  reader.required("platform", m.platform);
  reader.required("knobs", m.knobs);
  reader.required("latencies", m.latencies);
  reader.required("median_s", m.medianSeconds);
  reader.required("min_s", m.minSeconds);
  reader.required("error", m.error);
  reader.optional("target", m.target);
  reader.optional("message", m.message);
  reader.optional("seed", m.seed);
  reader.optional("build_s", m.buildSeconds);
  reader.optional("run_s", m.runSeconds);
  reader.optional("timestamp", m.timestamp);
  reader.optional("version", m.version);
  if (Error err = reader.takeError())
    return std::move(err);
  return m;
}

namespace {
constexpr const char *kTimestampFormat = "%Y-%m-%dT%H:%M:%SZ";

std::string formatTimestamp(const std::tm &utc) {
  char buffer[sizeof("YYYY-MM-DDTHH:MM:SSZ")];
  std::strftime(buffer, sizeof(buffer), kTimestampFormat, &utc);
  return buffer;
}
} // namespace

std::string tcl::currentTimestamp() {
  std::time_t now = std::time(nullptr);
  std::tm utc;
  gmtime_r(&now, &utc);
  return formatTimestamp(utc);
}

bool tcl::isTimestamp(StringRef text) {
  // Parsed and printed again: only the canonical, zero-padded spelling
  // survives the round trip.
  std::string copy = text.str();
  std::tm utc{};
  const char *end = strptime(copy.c_str(), kTimestampFormat, &utc);
  return end && *end == '\0' && formatTimestamp(utc) == copy;
}

StringRef tcl::getTCLVersion() { return TCL_VERSION; }
