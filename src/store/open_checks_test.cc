// What opening refuses before it writes anything: a directory that is not a
// Cairn store (another program's files stay untouched), and a store whose
// log lost acknowledged records (a deleted, cut or damaged segment), for
// writers and readers alike (docs/failures.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Ev;
using testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Names of the entries under `dir`, recursively, with their sizes.
std::string Listing(const std::string& dir) {
  std::string out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out += e.path().string().substr(dir.size()) +
           (e.is_regular_file() ? ":" + std::to_string(e.file_size()) : "/") + " ";
  }
  return out;
}

NativeOptions Options(bool read_only = false) {
  NativeOptions o;
  o.durability = Durability::kNoSyncUnsafe;
  o.read_only = read_only;
  return o;
}

void Append(NativeStore* s, const std::string& stream, int n) {
  for (int i = 0; i < n; ++i) {
    std::vector<EventData> one = {Ev("E", R"({"i":)" + std::to_string(i) + "}")};
    ASSERT_TRUE(s->Append(stream, ExpectedRevision::Any(), one).has_value());
  }
}

// Appends `n` events to `dir`'s store, then dies as a process would: no
// checkpoint, nothing closed cleanly (every write fails from then on).
void AppendAndCrash(const std::string& dir, const std::string& stream, int n) {
  FaultInjectionEnv env(Env::Default());
  NativeOptions o = Options();
  o.env = &env;
  auto s = NativeStore::Open(dir, o);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  Append(s->get(), stream, n);
  env.SetDown(true);
  (void)(*s)->Close();
}

// Opens `dir` as a writer and as a reader; both must fail with `code` and
// exactly `message`, and leave the directory as it was.
void ExpectRefused(const std::string& dir, ErrorCode code, const std::string& message) {
  const std::string before = Listing(dir);
  for (bool read_only : {false, true}) {
    auto s = NativeStore::Open(dir, Options(read_only));
    ASSERT_FALSE(s.has_value()) << (read_only ? "reader" : "writer") << " opened";
    EXPECT_EQ(s.error().code(), code) << s.error().ToString();
    EXPECT_EQ(s.error().message(), message) << (read_only ? "reader" : "writer");
  }
  EXPECT_EQ(Listing(dir), before) << "a refused open changed the directory";
}

// A store of 300 events in one segment, checkpointed and closed.
std::string Checkpointed(const TempDir& t) {
  const std::string dir = t.Sub("db");
  auto s = NativeStore::Open(dir, Options());
  EXPECT_TRUE(s.has_value());
  Append(s->get(), "acct-1", 300);
  EXPECT_TRUE((*s)->Close().ok());
  return dir;
}

TEST(OpenChecksTest, ADeletedSegmentIsCorruptionAndNothingIsWritten) {
  TempDir t;
  const std::string dir = Checkpointed(t);
  fs::remove(dir + "/log/00000000.seg");
  ExpectRefused(dir, ErrorCode::kCorruption,
                dir + "/log/00000000.seg is missing, but " + dir +
                    "/index/MANIFEST says the store holds events (acknowledged events are lost)");
  EXPECT_FALSE(fs::exists(dir + "/log/00000000.seg"));
}

TEST(OpenChecksTest, ADeletedLogDirectoryIsCorruption) {
  TempDir t;
  const std::string dir = Checkpointed(t);
  fs::remove_all(dir + "/log");
  ExpectRefused(dir, ErrorCode::kCorruption,
                dir + "/log is missing, but " + dir +
                    "/index/MANIFEST says the store holds events (acknowledged events are lost)");
}

TEST(OpenChecksTest, ACutSegmentIsCorruption) {
  TempDir t;
  const std::string dir = Checkpointed(t);
  const std::string seg = dir + "/log/00000000.seg";
  const uint64_t size = fs::file_size(seg);
  fs::resize_file(seg, size / 2);
  ExpectRefused(dir, ErrorCode::kCorruption,
                seg + " ends at offset " + std::to_string(size / 2) + ", but " + dir +
                    "/index/MANIFEST says its records reach offset " + std::to_string(size) +
                    ": the file was cut (acknowledged events are lost)");
}

// Cut below its 32-byte header, the segment looks like the unfinished
// roll-over a crash leaves, which a writer drops and starts afresh: it
// used to do that here (and readers said "no log segments", kNotFound).
TEST(OpenChecksTest, ASegmentCutBelowItsHeaderIsCorruptionAndNothingIsWritten) {
  for (uint64_t cut : {5u, 0u}) {
    TempDir t;
    const std::string dir = Checkpointed(t);
    const std::string seg = dir + "/log/00000000.seg";
    const uint64_t size = fs::file_size(seg);
    fs::resize_file(seg, cut);
    const std::string bytes = Slurp(seg);
    ExpectRefused(dir, ErrorCode::kCorruption,
                  seg + " ends at offset " + std::to_string(cut) + ", but " + dir +
                      "/index/MANIFEST says its records reach offset " + std::to_string(size) +
                      ": the file was cut (acknowledged events are lost)");
    EXPECT_EQ(Slurp(seg), bytes);
  }
}

// Past the last checkpoint only HEAD knows where the acknowledged log ends:
// a writer used to cut the rest as a torn tail of unacknowledged writes.
TEST(OpenChecksTest, AnUnindexedTailCutBelowHeadIsCorruption) {
  TempDir t;
  const std::string dir = Checkpointed(t);
  uint64_t indexed_end = fs::file_size(dir + "/log/00000000.seg");
  AppendAndCrash(dir, "acct-2", 20);  // not checkpointed
  const std::string seg = dir + "/log/00000000.seg";
  const uint64_t cut = indexed_end + 100;
  fs::resize_file(seg, cut);
  const std::string message_start = seg + " ends at offset " + std::to_string(cut) + ", but " +
                                    dir + "/HEAD says its records reach offset ";
  for (bool read_only : {false, true}) {
    auto s = NativeStore::Open(dir, Options(read_only));
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code(), ErrorCode::kCorruption);
    EXPECT_EQ(s.error().message().substr(0, message_start.size()), message_start)
        << s.error().ToString();
  }
  EXPECT_EQ(fs::file_size(seg), cut);
}

TEST(OpenChecksTest, DamageBelowHeadIsNeverCutAsATornTail) {
  TempDir t;
  const std::string dir = Checkpointed(t);
  AppendAndCrash(dir, "acct-2", 3);
  // The last record of the log: acknowledged (HEAD reaches past it).
  const std::string seg = dir + "/log/00000000.seg";
  std::string bytes = Slurp(seg);
  const size_t at = bytes.rfind(R"({"i":2})");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5] ^= 0x01;
  Spit(seg, bytes);
  auto s = NativeStore::Open(dir, Options());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(s.error().message().find("record checksum mismatch; it lies below the durable end the "
                                     "writer recorded in HEAD"),
            std::string::npos)
      << s.error().ToString();
  EXPECT_EQ(Slurp(seg), bytes);  // nothing cut
  // Without HEAD, nothing says the record was acknowledged: it is cut as a
  // torn tail, and the cut is reported.
  fs::remove(dir + "/HEAD");
  s = NativeStore::Open(dir, Options());
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  ASSERT_TRUE((*s)->Stats()->open_cut.has_value());
  EXPECT_EQ(*(*s)->Count(CountOf::All()), 302u);
}

TEST(OpenChecksTest, AClosedSegmentCutBelowItsLastIndexedRecordIsCorruption) {
  TempDir t;
  const std::string dir = t.Sub("db");
  NativeOptions o = Options();
  o.segment_bytes = 4096;
  {
    auto s = NativeStore::Open(dir, o);
    ASSERT_TRUE(s.has_value());
    Append(s->get(), "acct-1", 200);  // many segments
    ASSERT_TRUE((*s)->Close().ok());
  }
  const std::string seg = dir + "/log/00000001.seg";
  const uint64_t size = fs::file_size(seg);
  // Its last record cut short, then most of the segment gone.
  fs::resize_file(seg, size - 10);
  auto s = NativeStore::Open(dir, o);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kCorruption);
  EXPECT_TRUE(s.error().message().starts_with(seg + " offset ") &&
              s.error().message().ends_with(": record truncated"))
      << s.error().ToString();
  fs::resize_file(seg, 100);
  s = NativeStore::Open(dir, o);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kCorruption);
  const std::string start =
      seg + " ends at offset 100, but the index holds a record of it at offset ";
  EXPECT_EQ(s.error().message().substr(0, start.size()), start) << s.error().ToString();
}

TEST(OpenChecksTest, AnotherProgramsDirectoryIsRefusedAndLeftUntouched) {
  TempDir t;
  struct Case {
    std::vector<std::pair<std::string, std::string>> files;
    std::string message;  // after "'<dir>' "
  };
  const std::vector<Case> cases = {
      {{{"config.json", "{}"}},
       "is not empty and is not a Cairn store (no log/ directory; it holds 'config.json'): a "
       "store is created only in a missing or empty directory"},
      {{{"HEAD", "ref: refs/heads/main\n"}},
       "is not empty and is not a Cairn store (no log/ directory; it holds 'HEAD'): a store is "
       "created only in a missing or empty directory"},
      {{{"config.json", "{}"}, {"log/notes.txt", "hello"}},
       "is not a Cairn store: <dir>/log holds 'notes.txt', which is not a log segment"},
      {{{"log/00000000.seg", "junk\n"}},
       "is not a Cairn store: <dir>/log/00000000.seg is not a Cairn log segment"},
      {{{"log/00000000.seg", std::string(40, 'x')}},
       "is not a Cairn store: <dir>/log/00000000.seg is not a Cairn log segment"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string dir = t.Sub("foreign-" + std::to_string(n++));
    for (const auto& [name, bytes] : c.files) {
      fs::create_directories(fs::path(dir + "/" + name).parent_path());
      Spit(dir + "/" + name, bytes);
    }
    std::string message = "'" + dir + "' " + c.message;
    for (size_t at; (at = message.find("<dir>")) != std::string::npos;) {
      message.replace(at, 5, dir);
    }
    const std::string before = Listing(dir);
    auto s = NativeStore::Open(dir, Options());
    ASSERT_FALSE(s.has_value()) << dir;
    EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument) << s.error().ToString();
    EXPECT_EQ(s.error().message(), message);
    EXPECT_EQ(Listing(dir), before);
    for (const auto& [name, bytes] : c.files) EXPECT_EQ(Slurp(dir + "/" + name), bytes);
  }
}

TEST(OpenChecksTest, AMissingOrEmptyDirectoryOrACutShortCreationBecomesAStore) {
  TempDir t;
  fs::create_directories(t.Sub("empty"));
  fs::create_directories(t.Sub("skeleton/index"));
  Spit(t.Sub("skeleton/LOCK"), "123\n");
  for (const char* name : {"missing", "empty", "skeleton"}) {
    auto s = NativeStore::Open(t.Sub(name), Options());
    ASSERT_TRUE(s.has_value()) << name << ": " << s.error().ToString();
    Append(s->get(), "acct-1", 2);
    EXPECT_EQ(*(*s)->Count(CountOf::All()), 2u) << name;
  }
  // A reader never creates one.
  auto r = NativeStore::Open(t.Sub("other"), Options(/*read_only=*/true));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(t.Sub("other")));
}

}  // namespace
}  // namespace cairn
