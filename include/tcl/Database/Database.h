//===- Database.h - Append-only JSON Lines database ------------*- C++ -*-===//
//
// A TCL database is a JSON Lines file of workload and measure records (see
// Record.h), one record per line. It is only ever appended to, one whole
// line per write() under an exclusive flock() followed by fsync(), so that
//
//   - a record is complete or absent after the writing process is killed
//     (a cut-off last line is skipped when the file is read and dropped by
//     the next append), and
//   - several tuners can append to one file at the same time.
//
// The in-memory index answers the queries the tuner and `--tcl-apply-best`
// need: the best record of a workload on a platform, all its records, the
// platforms measured.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_DATABASE_DATABASE_H
#define TCL_DATABASE_DATABASE_H

#include "tcl/Database/Record.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <deque>
#include <string>
#include <vector>

namespace tcl {

/// An open database file and the records read from it.
///
/// Records are kept in file order. Pointers and references into workloads()
/// and records() stay valid when records are added. Records that other
/// processes append after open() are seen after opening the file again.
class Database {
public:
  Database(Database &&) = default;
  Database &operator=(Database &&) = default;
  /// Not copyable: the index points into the record lists.
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  /// Reads every line of the JSON Lines file at `path`. With `create`, a
  /// missing file is created empty; without, it is an error. A last line
  /// that is cut off or malformed (a writer killed mid-record) is skipped
  /// with a warning on stderr naming `path:line`; a malformed line anywhere
  /// else, or a measure/workload line with a missing or mistyped field, is
  /// an error naming `path:line` and the problem. Blank lines are ignored;
  /// a workload line repeating an earlier key (two tuners that added the
  /// same workload) is ignored.
  static llvm::Expected<Database> open(llvm::StringRef path,
                                       bool create = true);

  /// Appends a workload line, like append(). Fails if a workload with the
  /// same key is already in the database, or when the file cannot be
  /// written.
  llvm::Error addWorkload(const WorkloadRecord &workload);

  /// Appends a measure line (see the file comment for the guarantees) and
  /// adds it to the index. If the last line of the file does not end in a
  /// newline, a newline is written first when the line holds a valid record;
  /// a last line that is not a valid record (cut off by a killed writer,
  /// skipped by open()) is removed with a warning on stderr, so that it
  /// does not become a malformed line in the middle of the file. Errors
  /// name the file and the failed system call.
  llvm::Error append(const MeasureRecord &record);

  /// The file this database reads and appends to.
  llvm::StringRef getPath() const { return path; }

  const std::deque<WorkloadRecord> &workloads() const { return workloadList; }
  const std::deque<MeasureRecord> &records() const { return recordList; }

  /// The workload with key `key`, or null.
  const WorkloadRecord *findWorkload(llvm::StringRef key) const;

  /// The successful record (MeasureRecord::ok()) of `workloadKey` on
  /// `platformId` with the lowest median latency (the earliest one on a
  /// tie), or null when there is none.
  const MeasureRecord *best(llvm::StringRef workloadKey,
                            llvm::StringRef platformId) const;

  /// All records of `workloadKey` on `platformId`, failed ones included, in
  /// file order.
  std::vector<const MeasureRecord *>
  recordsFor(llvm::StringRef workloadKey, llvm::StringRef platformId) const;

  /// One record per program (knob map) of `workloadKey` on `platformId`:
  /// its latest in file order, because a program measured again (e.g. by
  /// `tcl-dataset --remeasure` after a fix) supersedes its earlier records;
  /// in the order of each program's first record. Training data, dataset
  /// counts and the sampler read these; best() still looks at every record.
  std::vector<const MeasureRecord *>
  latestRecordsFor(llvm::StringRef workloadKey,
                   llvm::StringRef platformId) const;

  /// The platform id with the most measured programs, each counted once
  /// however often it was measured (latestRecordsFor); "" for none, ties
  /// go to the first in StringMap order.
  std::string busiestPlatform() const;

  /// The platform ids that have records; with a `workloadKey`, those that
  /// have records of that workload.
  llvm::StringSet<> platforms(llvm::StringRef workloadKey = {}) const;

private:
  explicit Database(std::string path) : path(std::move(path)) {}

  void index(WorkloadRecord workload);
  void index(MeasureRecord record);
  /// Appends `json` and a newline to the file in one write() (see append()).
  llvm::Error writeLine(const llvm::json::Value &json);

  std::string path;
  std::deque<WorkloadRecord> workloadList;
  std::deque<MeasureRecord> recordList;
  /// Workload key -> workload.
  llvm::StringMap<const WorkloadRecord *> workloadsByKey;
  /// Workload key -> its measure records, in file order.
  llvm::StringMap<std::vector<const MeasureRecord *>> recordsByWorkload;
};

} // namespace tcl

#endif // TCL_DATABASE_DATABASE_H
