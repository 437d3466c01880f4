//===- DatabaseTest.cpp - Records and the JSON Lines database -------------===//

#include "tcl/Database/Database.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <sys/wait.h>
#include <unistd.h>

using namespace tcl;

namespace {

MeasureRecord makeRecord(llvm::StringRef workload, llvm::StringRef platform,
                         double median, llvm::StringRef error = "none",
                         uint64_t seed = 0) {
  MeasureRecord r;
  r.workloadKey = workload.str();
  r.platform = platform.str();
  r.target = "cpu:avx2,threads=2";
  r.knobs = {{"tile_par_0", 32}, {"tile_reg_0", 4}};
  if (error == "none") {
    r.latencies = {median * 1.1, median, median * 0.9};
    r.medianSeconds = median;
    r.minSeconds = median * 0.9;
  }
  r.error = error.str();
  r.seed = seed;
  return r;
}

class DatabaseTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("tcl-db-test", dir));
    path = (dir + "/db.jsonl").str();
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  void writeFile(llvm::StringRef text) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec) << ec.message();
    os << text;
  }
  std::string readFile() {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    EXPECT_TRUE(static_cast<bool>(buffer));
    return buffer ? (*buffer)->getBuffer().str() : "";
  }
  static std::string line(const MeasureRecord &r) {
    std::string s;
    llvm::raw_string_ostream(s) << r.toJSON() << "\n";
    return s;
  }

  llvm::SmallString<128> dir;
  std::string path;
};

TEST_F(DatabaseTest, RoundTripThroughFile) {
  WorkloadRecord w{"matmul_0123456789abcdef", "matmul", 150994944,
                   "func.func @kernel() {\n  return\n}\n"};
  MeasureRecord m = makeRecord(w.key, "cpu:avx2,threads=2@Test CPU", 1.5e-3,
                               "none", 18446744073709551615ull);
  m.knobs = {{"interchange", 1}, {"tile_par_0", 32}, {"unroll_red_2", 4}};
  m.message = "quote \" and newline \n";
  m.buildSeconds = 0.25;
  m.runSeconds = 1.75;
  m.timestamp = currentTimestamp();
  m.version = getTCLVersion().str();
  {
    llvm::Expected<Database> db = Database::open(path);
    ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
    ASSERT_FALSE(db->addWorkload(w));
    ASSERT_FALSE(db->append(m));
    EXPECT_EQ(db->records().size(), 1u);
  }
  std::string text = readFile();
  EXPECT_EQ(llvm::count(text, '\n'), 2);
  EXPECT_NE(text.find(R"("type":"workload")"), std::string::npos);
  EXPECT_NE(text.find(R"("type":"measure")"), std::string::npos);

  llvm::Expected<Database> db = Database::open(path, /*create=*/false);
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  ASSERT_EQ(db->workloads().size(), 1u);
  const WorkloadRecord *w2 = db->findWorkload(w.key);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->kind, w.kind);
  EXPECT_EQ(w2->flops, w.flops);
  EXPECT_EQ(w2->kernel, w.kernel);

  ASSERT_EQ(db->records().size(), 1u);
  const MeasureRecord &m2 = db->records().front();
  EXPECT_EQ(m2.workloadKey, m.workloadKey);
  EXPECT_EQ(m2.platform, m.platform);
  EXPECT_EQ(m2.target, m.target);
  EXPECT_EQ(m2.knobs, m.knobs);
  EXPECT_EQ(m2.latencies, m.latencies);
  EXPECT_EQ(m2.medianSeconds, m.medianSeconds);
  EXPECT_EQ(m2.minSeconds, m.minSeconds);
  EXPECT_EQ(m2.error, m.error);
  EXPECT_EQ(m2.message, m.message);
  EXPECT_EQ(m2.seed, m.seed);
  EXPECT_EQ(m2.buildSeconds, m.buildSeconds);
  EXPECT_EQ(m2.runSeconds, m.runSeconds);
  EXPECT_EQ(m2.timestamp, m.timestamp);
  EXPECT_EQ(m2.version, "0.1.0");
}

TEST(RecordTest, TimestampIsISO8601UTC) {
  std::string t = currentTimestamp();
  ASSERT_EQ(t.size(), 20u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

TEST(RecordTest, ErrorsNameTheField) {
  llvm::json::Object m = *makeRecord("k", "p", 1e-3).toJSON().getAsObject();
  m.erase("median_s");
  llvm::Expected<MeasureRecord> missing = MeasureRecord::fromJSON(m);
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "measure record: missing field 'median_s'");

  m["median_s"] = 1e-3;
  m["knobs"] = llvm::json::Object{{"tile_par_0", "big"}};
  llvm::Expected<MeasureRecord> mistyped = MeasureRecord::fromJSON(m);
  ASSERT_FALSE(static_cast<bool>(mistyped));
  EXPECT_EQ(llvm::toString(mistyped.takeError()),
            "measure record: field 'knobs' is not an object of integers");

  llvm::json::Object w =
      *WorkloadRecord{"k", "matmul", 1, ""}.toJSON().getAsObject();
  w["flops"] = "many";
  llvm::Expected<WorkloadRecord> badWorkload = WorkloadRecord::fromJSON(w);
  ASSERT_FALSE(static_cast<bool>(badWorkload));
  EXPECT_EQ(llvm::toString(badWorkload.takeError()),
            "workload record: field 'flops' is not an integer");

  llvm::Expected<WorkloadRecord> wrongType = WorkloadRecord::fromJSON(m);
  ASSERT_FALSE(static_cast<bool>(wrongType));
  EXPECT_EQ(llvm::toString(wrongType.takeError()),
            "workload record: field 'type' is 'measure', expected 'workload'");
}

TEST_F(DatabaseTest, MissingFileWithoutCreateIsAnError) {
  llvm::Expected<Database> db = Database::open(path, /*create=*/false);
  ASSERT_FALSE(static_cast<bool>(db));
  std::string message = llvm::toString(db.takeError());
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_FALSE(llvm::sys::fs::exists(path));

  llvm::Expected<Database> created = Database::open(path);
  ASSERT_TRUE(static_cast<bool>(created))
      << llvm::toString(created.takeError());
  EXPECT_TRUE(llvm::sys::fs::exists(path));
}

TEST_F(DatabaseTest, DuplicateWorkloadIsRejected) {
  llvm::Expected<Database> db = Database::open(path);
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  WorkloadRecord w{"matmul_1", "matmul", 2, ""};
  ASSERT_FALSE(db->addWorkload(w));
  llvm::Error err = db->addWorkload(w);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("'matmul_1' is already"),
            std::string::npos);
  EXPECT_EQ(llvm::count(readFile(), '\n'), 1);
}

TEST_F(DatabaseTest, TruncatedLastLineIsSkippedAndReplaced) {
  std::string third = line(makeRecord("w", "p", 3e-3));
  writeFile(line(makeRecord("w", "p", 1e-3)) +
            line(makeRecord("w", "p", 2e-3)) +
            third.substr(0, third.size() / 2));

  testing::internal::CaptureStderr();
  llvm::Expected<Database> db = Database::open(path);
  std::string warning = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  EXPECT_NE(warning.find(path + ":3: skipping"), std::string::npos) << warning;
  ASSERT_EQ(db->records().size(), 2u);

  ASSERT_FALSE(db->append(makeRecord("w", "p", 4e-3)));
  EXPECT_EQ(db->records().size(), 3u);
  // The cut-off record is gone and the new one is on its own line.
  EXPECT_EQ(llvm::count(readFile(), '\n'), 3);

  testing::internal::CaptureStderr();
  llvm::Expected<Database> reopened = Database::open(path);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(static_cast<bool>(reopened))
      << llvm::toString(reopened.takeError());
  ASSERT_EQ(reopened->records().size(), 3u);
  EXPECT_EQ(reopened->records()[2].medianSeconds, 4e-3);
}

TEST_F(DatabaseTest, UnterminatedValidLastLineIsKept) {
  std::string first = line(makeRecord("w", "p", 1e-3));
  first.pop_back();
  writeFile(first);
  llvm::Expected<Database> db = Database::open(path);
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  ASSERT_EQ(db->records().size(), 1u);
  ASSERT_FALSE(db->append(makeRecord("w", "p", 2e-3)));

  llvm::Expected<Database> reopened = Database::open(path);
  ASSERT_TRUE(static_cast<bool>(reopened))
      << llvm::toString(reopened.takeError());
  ASSERT_EQ(reopened->records().size(), 2u);
  EXPECT_EQ(reopened->records()[0].medianSeconds, 1e-3);
  EXPECT_EQ(reopened->records()[1].medianSeconds, 2e-3);
}

TEST_F(DatabaseTest, MalformedMiddleLineIsAnError) {
  writeFile(line(makeRecord("w", "p", 1e-3)) + "{\"type\": \"measure\",\n" +
            line(makeRecord("w", "p", 2e-3)));
  llvm::Expected<Database> db = Database::open(path);
  ASSERT_FALSE(static_cast<bool>(db));
  std::string message = llvm::toString(db.takeError());
  EXPECT_EQ(message.rfind(path + ":2: ", 0), 0u) << message;

  writeFile(line(makeRecord("w", "p", 1e-3)) +
            R"({"type": "measure", "workload": "w"})" + "\n" +
            line(makeRecord("w", "p", 2e-3)));
  db = Database::open(path);
  ASSERT_FALSE(static_cast<bool>(db));
  EXPECT_EQ(llvm::toString(db.takeError()),
            path + ":2: measure record: missing field 'platform'");
}

TEST_F(DatabaseTest, ConcurrentAppendFromTwoProcesses) {
  constexpr int perChild = 200;
  pid_t children[2];
  for (int child = 0; child < 2; ++child) {
    children[child] = fork();
    ASSERT_GE(children[child], 0);
    if (children[child] != 0)
      continue;
    llvm::Expected<Database> db = Database::open(path);
    if (!db)
      _exit(2);
    for (int i = 0; i < perChild; ++i) {
      MeasureRecord r =
          makeRecord("w", "p", 1e-3 * (i + 1), "none", child * perChild + i);
      // Long enough that a torn write would show.
      r.message = std::string(3000, 'a' + child);
      if (llvm::Error err = db->append(r)) {
        llvm::consumeError(std::move(err));
        _exit(3);
      }
    }
    _exit(0);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }

  testing::internal::CaptureStderr();
  llvm::Expected<Database> db = Database::open(path);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  ASSERT_EQ(db->records().size(), 2u * perChild);
  EXPECT_EQ(llvm::count(readFile(), '\n'), 2 * perChild);
  std::vector<bool> seen(2 * perChild, false);
  for (const MeasureRecord &r : db->records()) {
    ASSERT_LT(r.seed, seen.size());
    EXPECT_FALSE(seen[r.seed]);
    seen[r.seed] = true;
    EXPECT_EQ(r.message, std::string(3000, r.seed < perChild ? 'a' : 'b'));
  }
}

TEST_F(DatabaseTest, ResumeAndBest) {
  const char *platformA = "cpu:avx2,threads=2@CPU A";
  const char *platformB = "cpu:avx2,threads=1@CPU A";
  {
    llvm::Expected<Database> db = Database::open(path);
    ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
    ASSERT_FALSE(db->append(makeRecord("w1", platformA, 3e-3)));
    ASSERT_FALSE(db->append(makeRecord("w1", platformA, 2e-3, "none", 7)));
    ASSERT_FALSE(db->append(makeRecord("w1", platformA, 0, "timeout")));
    MeasureRecord wrong = makeRecord("w1", platformA, 1e-4);
    wrong.error = "wrong_answer";
    ASSERT_FALSE(db->append(wrong));
    ASSERT_FALSE(db->append(makeRecord("w1", platformB, 1e-3)));
    ASSERT_FALSE(db->append(makeRecord("w2", platformB, 5e-3)));
  }
  llvm::Expected<Database> db = Database::open(path);
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  ASSERT_EQ(db->records().size(), 6u);

  const MeasureRecord *best = db->best("w1", platformA);
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(best->medianSeconds, 2e-3);
  EXPECT_EQ(best->seed, 7u);
  EXPECT_EQ(db->recordsFor("w1", platformA).size(), 4u);
  ASSERT_NE(db->best("w1", platformB), nullptr);
  EXPECT_EQ(db->best("w1", platformB)->medianSeconds, 1e-3);
  EXPECT_EQ(db->best("w2", platformA), nullptr);
  EXPECT_EQ(db->best("w3", platformA), nullptr);

  llvm::StringSet<> all = db->platforms();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_TRUE(all.contains(platformA));
  EXPECT_TRUE(all.contains(platformB));
  llvm::StringSet<> ofW2 = db->platforms("w2");
  EXPECT_EQ(ofW2.size(), 1u);
  EXPECT_TRUE(ofW2.contains(platformB));

  // Appending after the reopen updates the index.
  ASSERT_FALSE(db->append(makeRecord("w1", platformA, 1.5e-3, "none", 9)));
  EXPECT_EQ(db->best("w1", platformA)->seed, 9u);
}

TEST_F(DatabaseTest, LatestRecordOfAProgramSupersedesEarlierOnes) {
  const char *platform = "cpu:avx2,threads=2@CPU A";
  llvm::Expected<Database> db = Database::open(path);
  ASSERT_TRUE(static_cast<bool>(db)) << llvm::toString(db.takeError());
  MeasureRecord first = makeRecord("w1", platform, 0, "build_error");
  MeasureRecord other = makeRecord("w1", platform, 4e-3);
  other.knobs = {{"tile_par_0", 8}, {"tile_reg_0", 4}};
  MeasureRecord again = makeRecord("w1", platform, 3e-3, "none", 5);
  ASSERT_FALSE(db->append(first));
  ASSERT_FALSE(db->append(other));
  ASSERT_FALSE(db->append(makeRecord("w1", "cpu:sse4.2,threads=1@CPU A", 1)));
  ASSERT_FALSE(db->append(again));

  // Every record stays; the re-measured program is one entry, its latest
  // record, at the place of its first one.
  EXPECT_EQ(db->recordsFor("w1", platform).size(), 3u);
  std::vector<const MeasureRecord *> latest =
      db->latestRecordsFor("w1", platform);
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0]->knobs, first.knobs);
  EXPECT_TRUE(latest[0]->ok());
  EXPECT_EQ(latest[0]->seed, 5u);
  EXPECT_EQ(latest[1]->knobs, other.knobs);
  EXPECT_TRUE(db->latestRecordsFor("w2", platform).empty());

  // A later failure supersedes a success too (the latest measurement
  // counts), while best() still sees every successful record.
  ASSERT_FALSE(db->append(makeRecord("w1", platform, 0, "timeout")));
  latest = db->latestRecordsFor("w1", platform);
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0]->error, "timeout");
  EXPECT_EQ(db->best("w1", platform)->medianSeconds, 3e-3);

  // The busiest platform counts programs, not records: five measurements
  // of one program do not outweigh two programs measured four times.
  for (double latency : {2.0, 3.0, 4.0, 5.0})
    ASSERT_FALSE(
        db->append(makeRecord("w1", "cpu:sse4.2,threads=1@CPU A", latency)));
  EXPECT_EQ(db->recordsFor("w1", "cpu:sse4.2,threads=1@CPU A").size(), 5u);
  EXPECT_EQ(db->recordsFor("w1", platform).size(), 4u);
  EXPECT_EQ(db->busiestPlatform(), platform);
}

} // namespace
