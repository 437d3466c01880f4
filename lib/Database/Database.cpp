//===- Database.cpp - Append-only JSON Lines database ---------------------===//

#include "tcl/Database/Database.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <variant>

using namespace tcl;
using llvm::Error;
using llvm::StringRef;
using llvm::Twine;

namespace {
/// Closes a file descriptor (and so releases its flock) on scope exit.
class ScopedFile {
public:
  explicit ScopedFile(int fd) : fd(fd) {}
  ScopedFile(const ScopedFile &) = delete;
  ScopedFile &operator=(const ScopedFile &) = delete;
  ~ScopedFile() {
    if (fd >= 0)
      ::close(fd);
  }
  int get() const { return fd; }

private:
  int fd;
};

/// The last line of a file: its offset, its bytes without the newline, and
/// whether it ends in one.
struct LastLine {
  off_t start = 0;
  std::string text;
  bool terminated = true;
};
} // namespace

using ParsedLine = std::variant<WorkloadRecord, MeasureRecord>;

/// Error for a failed system call on the database file, with errno's text.
static Error systemError(StringRef path, const Twine &what) {
  return llvm::createStringError("database '" + path + "': " + what + ": " +
                                 std::strerror(errno));
}

/// flock() that retries when interrupted by a signal.
static int lockFile(int fd, int operation) {
  int result;
  do {
    result = ::flock(fd, operation);
  } while (result != 0 && errno == EINTR);
  return result;
}

/// Parses one non-blank line into a record; errors give the problem only
/// (the caller adds file and line).
static llvm::Expected<ParsedLine> parseLine(StringRef line) {
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(line);
  if (!json)
    return json.takeError();
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return llvm::createStringError("not a JSON object");
  std::optional<StringRef> type = object->getString("type");
  if (!type)
    return llvm::createStringError("missing string field 'type'");
  if (*type == "workload") {
    llvm::Expected<WorkloadRecord> workload = WorkloadRecord::fromJSON(*object);
    if (!workload)
      return workload.takeError();
    return ParsedLine(std::move(*workload));
  }
  if (*type == "measure") {
    llvm::Expected<MeasureRecord> record = MeasureRecord::fromJSON(*object);
    if (!record)
      return record.takeError();
    return ParsedLine(std::move(*record));
  }
  return llvm::createStringError("unknown record type '" + *type +
                                 "' (expected 'workload' or 'measure')");
}

llvm::Expected<Database> Database::open(StringRef path, bool create) {
  int flags = O_RDONLY | O_CLOEXEC | (create ? O_CREAT : 0);
  ScopedFile file(::open(path.str().c_str(), flags, 0644));
  if (file.get() < 0)
    return systemError(path, "cannot open");
  // A shared lock keeps a concurrent append from showing up as a cut-off
  // last line.
  if (lockFile(file.get(), LOCK_SH) != 0)
    return systemError(path, "cannot lock");
  // Read into memory rather than mapping: append() may shorten the file.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getOpenFile(file.get(), path, /*FileSize=*/-1,
                                      /*RequiresNullTerminator=*/false,
                                      /*IsVolatile=*/true);
  if (!buffer)
    return llvm::createStringError(
        "database '" + path + "': cannot read: " + buffer.getError().message());

  llvm::SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  size_t lastNonBlank = lines.size();
  for (size_t i = lines.size(); i > 0; --i) {
    if (!lines[i - 1].trim().empty()) {
      lastNonBlank = i - 1;
      break;
    }
  }

  Database db(path.str());
  for (auto [i, line] : llvm::enumerate(lines)) {
    if (line.trim().empty())
      continue;
    llvm::Expected<ParsedLine> parsed = parseLine(line);
    if (!parsed) {
      std::string location = (path + ":" + Twine(i + 1)).str();
      if (i == lastNonBlank) {
        llvm::WithColor::warning(llvm::errs())
            << location << ": skipping cut-off or malformed last line: "
            << llvm::toString(parsed.takeError()) << "\n";
        continue;
      }
      return llvm::createStringError(location + ": " +
                                     llvm::toString(parsed.takeError()));
    }
    if (auto *workload = std::get_if<WorkloadRecord>(&*parsed)) {
      if (!db.findWorkload(workload->key))
        db.index(std::move(*workload));
      continue;
    }
    db.index(std::get<MeasureRecord>(std::move(*parsed)));
  }
  return std::move(db);
}

void Database::index(WorkloadRecord workload) {
  workloadList.push_back(std::move(workload));
  const WorkloadRecord &stored = workloadList.back();
  workloadsByKey[stored.key] = &stored;
}

void Database::index(MeasureRecord record) {
  recordList.push_back(std::move(record));
  const MeasureRecord &stored = recordList.back();
  recordsByWorkload[stored.workloadKey].push_back(&stored);
}

/// Reads the last line of the open file `fd` of `size` bytes, backwards in
/// blocks, so that appending costs the same for any file size.
static llvm::Expected<LastLine> readLastLine(int fd, off_t size,
                                             StringRef path) {
  LastLine last;
  if (size == 0)
    return last;
  char byte;
  if (::pread(fd, &byte, 1, size - 1) != 1)
    return systemError(path, "cannot read");
  last.terminated = byte == '\n';
  off_t end = last.terminated ? size - 1 : size;
  constexpr off_t blockSize = 4096;
  char block[blockSize];
  while (end > 0) {
    off_t begin = std::max<off_t>(0, end - blockSize);
    ssize_t n = ::pread(fd, block, end - begin, begin);
    if (n != end - begin)
      return systemError(path, "cannot read");
    StringRef chunk(block, n);
    size_t newline = chunk.rfind('\n');
    if (newline != StringRef::npos) {
      last.text.insert(0, chunk.substr(newline + 1).str());
      last.start = begin + newline + 1;
      return last;
    }
    last.text.insert(0, chunk.str());
    end = begin;
  }
  last.start = 0;
  return last;
}

Error Database::writeLine(const llvm::json::Value &json) {
  std::string line;
  llvm::raw_string_ostream(line) << json << '\n';

  ScopedFile file(
      ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (file.get() < 0)
    return systemError(path, "cannot open for appending");
  if (lockFile(file.get(), LOCK_EX) != 0)
    return systemError(path, "cannot lock");
  struct stat status;
  if (::fstat(file.get(), &status) != 0)
    return systemError(path, "cannot stat");
  llvm::Expected<LastLine> last =
      readLastLine(file.get(), status.st_size, path);
  if (!last)
    return last.takeError();
  if (!StringRef(last->text).trim().empty()) {
    llvm::Expected<ParsedLine> parsed = parseLine(last->text);
    if (!parsed) {
      llvm::WithColor::warning(llvm::errs())
          << path << ": removing the cut-off or malformed last line ("
          << llvm::toString(parsed.takeError()) << ") before appending\n";
      if (::ftruncate(file.get(), last->start) != 0)
        return systemError(path, "cannot remove the malformed last line");
    } else if (!last->terminated) {
      line.insert(0, "\n");
    }
  }

  // One write() of the whole line: with O_APPEND and the lock, a record is
  // never interleaved with another writer's, and a kill leaves it whole or
  // cut off at the end of the file, where open() and the next append cope.
  ssize_t written;
  do {
    written = ::write(file.get(), line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0)
    return systemError(path, "cannot write");
  if (static_cast<size_t>(written) != line.size())
    return llvm::createStringError("database '" + path + "': short write (" +
                                   Twine(written) + " of " +
                                   Twine(line.size()) + " bytes)");
  if (::fsync(file.get()) != 0)
    return systemError(path, "cannot fsync");
  return Error::success();
}

Error Database::addWorkload(const WorkloadRecord &workload) {
  if (findWorkload(workload.key))
    return llvm::createStringError("database '" + path + "': workload '" +
                                   workload.key + "' is already present");
  if (Error err = writeLine(workload.toJSON()))
    return err;
  index(workload);
  return Error::success();
}

Error Database::append(const MeasureRecord &record) {
  if (Error err = writeLine(record.toJSON()))
    return err;
  index(record);
  return Error::success();
}

const WorkloadRecord *Database::findWorkload(StringRef key) const {
  return workloadsByKey.lookup(key);
}

const MeasureRecord *Database::best(StringRef workloadKey,
                                    StringRef platformId) const {
  const MeasureRecord *best = nullptr;
  for (const MeasureRecord *record : recordsFor(workloadKey, platformId))
    if (record->ok() && (!best || record->medianSeconds < best->medianSeconds))
      best = record;
  return best;
}

std::vector<const MeasureRecord *>
Database::recordsFor(StringRef workloadKey, StringRef platformId) const {
  std::vector<const MeasureRecord *> result;
  auto it = recordsByWorkload.find(workloadKey);
  if (it == recordsByWorkload.end())
    return result;
  for (const MeasureRecord *record : it->second)
    if (record->platform == platformId)
      result.push_back(record);
  return result;
}

std::vector<const MeasureRecord *>
Database::latestRecordsFor(StringRef workloadKey, StringRef platformId) const {
  std::vector<const MeasureRecord *> result;
  std::map<decltype(MeasureRecord::knobs), size_t> slotOf;
  for (const MeasureRecord *record : recordsFor(workloadKey, platformId)) {
    auto [it, added] = slotOf.try_emplace(record->knobs, result.size());
    if (added)
      result.push_back(record);
    else
      result[it->second] = record;
  }
  return result;
}

std::string Database::busiestPlatform() const {
  // Distinct programs (platform, knobs) per workload, as latestRecordsFor
  // keeps them.
  llvm::StringMap<unsigned> counts;
  for (const auto &entry : recordsByWorkload) {
    std::set<std::pair<StringRef, decltype(MeasureRecord::knobs)>> programs;
    for (const MeasureRecord *r : entry.second)
      if (programs.emplace(r->platform, r->knobs).second)
        ++counts[r->platform];
  }
  std::string best;
  unsigned most = 0;
  for (const auto &entry : counts)
    if (entry.second > most) {
      most = entry.second;
      best = entry.first().str();
    }
  return best;
}

llvm::StringSet<> Database::platforms(StringRef workloadKey) const {
  llvm::StringSet<> result;
  for (const MeasureRecord &record : recordList)
    if (workloadKey.empty() || record.workloadKey == workloadKey)
      result.insert(record.platform);
  return result;
}
