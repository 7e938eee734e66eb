// Store::Backup: a copy taken while the store is in use opens as an
// identical store (read-only and for writing), shares no file that either
// store writes again, holds exactly the events below its head when taken
// beside appends and scavenges, waits for a scavenge's swap and starts over
// when one overlaps it, and leaves nothing behind when it fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Ev;
using testing::TempDir;

NativeOptions Opts(Env* env = nullptr) {
  NativeOptions o;
  o.durability = Durability::kNoSyncUnsafe;
  o.segment_bytes = 4096;   // many closed segments
  o.memtable_entries = 16;  // many runs, frozen and active memtables
  o.env = env;
  return o;
}

std::unique_ptr<NativeStore> OpenOrDie(const std::string& dir, const NativeOptions& o = Opts()) {
  auto s = NativeStore::Open(dir, o);
  EXPECT_TRUE(s.has_value()) << dir << ": " << s.error().ToString();
  return s.has_value() ? std::move(*s) : nullptr;
}

std::unique_ptr<NativeStore> OpenReadOnlyOrDie(const std::string& dir, NativeOptions o = Opts()) {
  o.read_only = true;
  return OpenOrDie(dir, o);
}

void Append(NativeStore* s, const std::string& stream, int n,
            const std::string& data = "{\"v\":1}") {
  std::vector<EventData> evs;
  for (int i = 0; i < n; ++i) evs.push_back(Ev("E", data));
  auto r = s->Append(stream, ExpectedRevision::Any(), evs);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
}

// Every field of a recorded event.
std::string Show(const RecordedEvent& e) {
  return std::to_string(e.position.value()) + " " + e.stream + "/" +
         std::to_string(e.revision.value()) + " " + e.id.ToString() + " " + e.type + " " +
         std::to_string(static_cast<int>(e.content_type)) + " " + e.data + " " + e.metadata + " " +
         std::to_string(e.created_ns) + (e.caller_id ? " caller" : " engine");
}

std::string Show(const Result<std::vector<RecordedEvent>>& r) {
  if (!r.has_value()) return std::string("error ") + ErrorCodeName(r.error().code()) + "\n";
  std::string out;
  for (const auto& e : *r) out += "  " + Show(e) + "\n";
  return out;
}

// Everything reads show of a store, as text: $all, every stream (listed,
// read, counted, its metadata), every category and type, the counts.
std::string Dump(NativeStore* s) {
  std::string out;
  auto head = s->HeadPosition();
  auto count = s->Count(CountOf::All());
  auto stats = s->Stats();
  if (!head || !count || !stats) return "error reading the counts";
  out += "head " + std::to_string(head->value()) + " count " + std::to_string(*count) +
         " stats.events " + std::to_string(stats->events) + " stats.streams " +
         std::to_string(stats->streams) + "\n";
  auto all = s->ReadAll(ReadAllOptions{});
  out += "$all\n" + Show(all);
  std::set<std::string> categories, types;
  if (all.has_value()) {
    for (const auto& e : *all) types.insert(e.type);
  }
  ListStreamsOptions lo;
  lo.limit = 1'000'000;
  auto list = s->ListStreams(lo);
  if (!list.has_value()) return out + "list error " + list.error().ToString();
  for (const auto& x : *list) {
    out += "stream " + x.stream + " created " + std::to_string(x.created.value()) + " last " +
           std::to_string(x.last_revision.value()) + "@" + std::to_string(x.last_position.value()) +
           " visible " + std::to_string(x.event_count) + " state " +
           std::to_string(static_cast<int>(x.state)) + "\n";
    out += Show(s->ReadStream(x.stream, ReadStreamOptions{}));
    auto n = s->Count(CountOf::Stream(x.stream));
    out += "  count " + (n ? std::to_string(*n) : ErrorCodeName(n.error().code())) + "\n";
    auto meta = s->GetStreamMetadata(x.stream);
    out += "  metadata " +
           (meta ? meta->metadata.ToJson() + " rev " +
                       (meta->revision ? std::to_string(meta->revision->value()) : "none")
                 : ErrorCodeName(meta.error().code())) +
           "\n";
    const auto dash = x.stream.find('-');
    if (dash != std::string::npos && dash > 0 && x.stream[0] != '$') {
      categories.insert(x.stream.substr(0, dash));
    }
  }
  for (const auto& c : categories) out += "category " + c + "\n" + Show(s->ReadCategory(c, {}));
  for (const auto& t : types) out += "type " + t + "\n" + Show(s->ReadEventType(t, {}));
  return out;
}

// Verify's problems, one a line ("" when clean).
std::string Problems(NativeStore* s) {
  VerifyReport v;
  Status st = s->Verify(&v);
  if (!st.ok()) return "verify failed: " + st.ToString();
  std::string out;
  for (const auto& p : v.problems)
    out += p.file + " @" + std::to_string(p.offset) + ": " + p.what + "\n";
  return out;
}

// Path (relative to `dir`) -> bytes of every regular file under `dir`.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    out[fs::relative(f.path(), dir).string()] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return out;
}

// Names of the entries of `dir`, sorted ("" entries when it does not exist).
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& f : fs::directory_iterator(dir)) out.push_back(f.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

size_t RunFiles(const std::string& index_dir) {
  size_t n = 0;
  for (const auto& name : Names(index_dir)) {
    const std::string ext = fs::path(name).extension().string();
    n += ext == ".run" || ext == ".ids" || ext == ".tag" ? 1 : 0;
  }
  return n;
}

// Several streams and categories, caller and engine ids, metadata bytes,
// a multi-stream append, stream metadata, a checkpoint, then a restore
// whose positions skip (holes in the log tail) and a few appends: 5 index
// entries past the checkpoint, fewer than a memtable holds.
void Scene(NativeStore* s) {
  for (int i = 0; i < 120; ++i) {
    EventData e =
        Ev(i % 3 == 0 ? "Deposited" : "Withdrawn",
           "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 40, 'x') + "\"}");
    if (i % 2 == 0) e.id = *Uuid::Parse(testing::NthUuid(1000 + i));
    if (i % 5 == 0) e.metadata = "{\"by\":\"test\"}";
    auto r = s->Append("acct-" + std::to_string(i % 7), ExpectedRevision::Any(),
                       std::vector<EventData>{e});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  std::vector<StreamAppend> multi(2);
  multi[0].stream = "order-1";
  multi[0].events = {Ev("Placed"), Ev("Paid")};
  multi[1].stream = "acct-0";
  multi[1].events = {Ev("Debited")};
  ASSERT_TRUE(s->AppendMulti(multi).has_value());
  StreamMetadata m;
  m.custom = R"({"owner":"ann"})";
  ASSERT_TRUE(s->SetStreamMetadata("acct-1", ExpectedRevision::Any(), m).has_value());
  // Index runs for sure (the flusher writes them when it gets to it); what
  // follows stays in the memtable, unindexed on disk.
  ASSERT_TRUE(s->Checkpoint().ok());
  const uint64_t head = s->HeadPosition()->value();
  std::vector<RestoreEvent> restored(2);
  for (int k = 0; k < 2; ++k) {
    restored[k].stream = "rest-1";
    restored[k].revision = StreamRevision(3 + k);
    restored[k].position = Position(head + 4 + 3 * k);  // holes before each
    restored[k].created_ns = 1'700'000'000'000'000'000 + k;
    restored[k].event = Ev("Restored", "{\"k\":" + std::to_string(k) + "}");
  }
  ASSERT_TRUE(s->Restore(restored).has_value());
  Append(s, "acct-2", 3);  // after the holes, in the unindexed tail
}

TEST(BackupTest, AnEmptyStoreCopiesToAnEmptyStore) {
  TempDir dir;
  auto s = OpenOrDie(dir.Sub("src"));
  auto rep = s->Backup(dir.Sub("copy"));
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->head, Position(0));
  EXPECT_EQ(rep->events, 0u);
  EXPECT_EQ(rep->segments_linked, 0u);
  EXPECT_EQ(rep->segments_copied, 1u);
  EXPECT_EQ(rep->files_linked, 0u);
  EXPECT_EQ(rep->bytes_copied, 32u + 32u);  // a segment header and HEAD
  EXPECT_EQ(rep->attempts, 1);
  EXPECT_EQ(Names(dir.Sub("copy")), (std::vector<std::string>{"HEAD", "index", "log"}));
  EXPECT_EQ(Names(dir.Sub("copy/log")), std::vector<std::string>{"00000000.seg"});
  EXPECT_EQ(Names(dir.Sub("copy/index")), std::vector<std::string>{});
  const std::string before = Dump(s.get());
  {
    auto r = OpenReadOnlyOrDie(dir.Sub("copy"));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(Dump(r.get()), before);
    EXPECT_EQ(Problems(r.get()), "");
  }
  auto w = OpenOrDie(dir.Sub("copy"));
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(Dump(w.get()), before);
  Append(w.get(), "new-1", 2);
  EXPECT_EQ(*w->Count(CountOf::All()), 2u);
  EXPECT_EQ(Problems(w.get()), "");
  EXPECT_EQ(*s->Count(CountOf::All()), 0u);
}

TEST(BackupTest, ACopyOfClosedSegmentsRunsAndAnUnindexedTailOpensIdentical) {
  TempDir dir;
  const std::string src = dir.Sub("src"), copy = dir.Sub("copy");
  auto s = OpenOrDie(src);
  Scene(s.get());
  auto st = s->Stats();
  ASSERT_TRUE(st.has_value());
  // What the copy must carry: closed segments, runs, and log records past
  // the last checkpoint (frozen or active memtables).
  ASSERT_GE(st->segments, 4u);
  ASSERT_GT(st->index_runs, 0u);
  ASSERT_GT(st->memtable_entries, 0u);
  const std::string before = Dump(s.get());

  auto rep = s->Backup(copy);
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->head, *s->HeadPosition());
  EXPECT_EQ(rep->events, *s->Count(CountOf::All()));
  EXPECT_EQ(rep->head.value() - rep->events, 4u + 2u);  // the restore's holes
  EXPECT_EQ(rep->segments_linked + rep->segments_copied, Names(copy + "/log").size());
  EXPECT_EQ(rep->segments_copied, 1u);
  EXPECT_EQ(rep->files_linked, rep->segments_linked + RunFiles(copy + "/index"));
  EXPECT_EQ(rep->attempts, 1);
  EXPECT_GT(RunFiles(copy + "/index"), 0u);
  // Closed segments are the source's files under a second name; the last
  // one is a copy of its own.
  EXPECT_EQ(fs::hard_link_count(copy + "/log/00000000.seg"), 2u);
  const std::string last = Names(copy + "/log").back();
  EXPECT_EQ(fs::hard_link_count(copy + "/log/" + last), 1u);
  EXPECT_EQ(fs::hard_link_count(copy + "/index/positions.idx"), 1u);
  EXPECT_FALSE(fs::exists(copy + "/log.partial"));

  {
    auto r = OpenReadOnlyOrDie(copy);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(Dump(r.get()), before);
    EXPECT_EQ(Problems(r.get()), "");
  }
  {
    auto w = OpenOrDie(copy);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(Dump(w.get()), before);
    EXPECT_EQ(Problems(w.get()), "");
    ASSERT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(Dump(s.get()), before);
  EXPECT_EQ(Problems(s.get()), "");
}

// Appends, checkpoints and scavenges of the copy never change a byte of the
// source, nor those of the source a byte of the copy: the linked files are
// closed segments and runs, which neither store writes again (a scavenge
// renames new files over them), and the files a writer writes in place
// (the last segment, positions.idx, HEAD, MANIFEST) are the copy's own.
TEST(BackupTest, TheCopyAndTheSourceGoOnWithoutTouchingEachOther) {
  TempDir dir;
  const std::string src = dir.Sub("src"), copy = dir.Sub("copy");
  uint64_t head = 0;
  {
    auto s = OpenOrDie(src);
    Scene(s.get());
    auto rep = s->Backup(copy);
    ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
    ASSERT_GT(rep->segments_linked, 0u);
    head = rep->head.value();
    ASSERT_TRUE(s->Close().ok());
  }
  const auto src_files = Files(src);
  {
    auto w = OpenOrDie(copy);
    ASSERT_NE(w, nullptr);
    for (int i = 0; i < 20; ++i) Append(w.get(), "copy-" + std::to_string(i % 3), 5);
    ASSERT_TRUE(w->TombstoneStream("acct-3", ExpectedRevision::Any()).has_value());
    auto scav = w->Scavenge({});
    ASSERT_TRUE(scav.has_value()) << scav.error().ToString();
    EXPECT_GT(scav->segments_rewritten, 0u);
    Append(w.get(), "copy-0", 1);
    ASSERT_TRUE(w->Checkpoint().ok());
    EXPECT_EQ(w->HeadPosition()->value(), head + 100 + 1 + 1);
    EXPECT_EQ(Problems(w.get()), "");
    ASSERT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(Files(src), src_files);
  const auto copy_files = Files(copy);
  {
    auto s = OpenOrDie(src);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->HeadPosition()->value(), head);
    for (int i = 0; i < 20; ++i) Append(s.get(), "src-" + std::to_string(i % 3), 5);
    ASSERT_TRUE(s->TombstoneStream("acct-4", ExpectedRevision::Any()).has_value());
    auto scav = s->Scavenge({});
    ASSERT_TRUE(scav.has_value()) << scav.error().ToString();
    EXPECT_GT(scav->segments_rewritten, 0u);
    EXPECT_EQ(Problems(s.get()), "");
    ASSERT_TRUE(s->Close().ok());
  }
  EXPECT_EQ(Files(copy), copy_files);
  auto w = OpenOrDie(copy);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(Problems(w.get()), "");
  EXPECT_EQ(w->ReadStream("src-0", ReadStreamOptions{}).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(w->ReadStream("copy-0", ReadStreamOptions{})->size(), 36u);
  EXPECT_EQ(w->ReadStream("acct-4", ReadStreamOptions{})->size(), 17u);
  EXPECT_EQ(w->ReadStream("acct-3", ReadStreamOptions{}).error().code(), ErrorCode::kStreamDeleted);
}

// The soft-deleted, tombstoned, truncated and capped streams of a scavenge
// test's scene, scavenged.
void ScavengeScene(NativeStore* s) {
  for (int round = 0; round < 5; ++round) {
    Append(s, "keep-1", 3);
    Append(s, "gone-1", 2, std::string(100, 'g'));
    Append(s, "trunc-1", 2);
    Append(s, "cap-1", 2);
    Append(s, "soft-1", 2);
  }
  StreamMetadata tb;
  tb.truncate_before = 6;
  ASSERT_TRUE(s->SetStreamMetadata("trunc-1", ExpectedRevision::Any(), tb).has_value());
  StreamMetadata cap;
  cap.max_count = 3;
  ASSERT_TRUE(s->SetStreamMetadata("cap-1", ExpectedRevision::Any(), cap).has_value());
  ASSERT_TRUE(s->TombstoneStream("gone-1", ExpectedRevision::Any()).has_value());
  ASSERT_TRUE(s->DeleteStream("soft-1", ExpectedRevision::Any()).has_value());
  Append(s, "keep-1", 1);
}

TEST(BackupTest, ACopyTakenBeforeAScavengeKeepsTheOldFilesAndOneAfterItTheNew) {
  TempDir dir;
  const std::string src = dir.Sub("src");
  auto s = OpenOrDie(src);
  ScavengeScene(s.get());
  const std::string unscavenged = Dump(s.get());
  auto before = s->Backup(dir.Sub("before"));
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  auto scav = s->Scavenge({});
  ASSERT_TRUE(scav.has_value()) << scav.error().ToString();
  ASSERT_GT(scav->events_removed, 0u);
  Append(s.get(), "keep-1", 4);  // in the segment the scavenge rolled to
  const std::string scavenged = Dump(s.get());
  auto after = s->Backup(dir.Sub("after"));
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  EXPECT_EQ(after->events, *s->Count(CountOf::All()));
  EXPECT_EQ(after->head.value() - after->events, scav->events_removed);
  for (const char* name : {"before", "after"}) {
    SCOPED_TRACE(name);
    const std::string& want = std::string(name) == "before" ? unscavenged : scavenged;
    {
      auto r = OpenReadOnlyOrDie(dir.Sub(name));
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(Dump(r.get()), want);
      EXPECT_EQ(Problems(r.get()), "");
    }
    auto w = OpenOrDie(dir.Sub(name));
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(Dump(w.get()), want);
    EXPECT_EQ(Problems(w.get()), "");
  }
}

// A scavenge rolls to a new segment and checkpoints into it, but HEAD (which
// appends write) still ends in the segment before: the manifest's resume
// address reaches further than HEAD. A copy ending at HEAD would carry a
// manifest that resumes in a segment it lacks, and a writer of the copy
// would append below the resume address, records its next open never
// replays. The copy ends at the manifest's resume address instead.
TEST(BackupTest, AManifestThatReachesPastHeadSetsTheEndOfTheCopy) {
  TempDir dir;
  const std::string src = dir.Sub("src"), copy = dir.Sub("copy");
  auto s = OpenOrDie(src);
  for (int i = 0; i < 10; ++i) Append(s.get(), "a-1", 10, std::string(60, 'a'));
  Append(s.get(), "a-1", 1);  // something unindexed for the roll's checkpoint
  ASSERT_GT(s->Stats()->memtable_entries, 0u);
  auto scav = s->Scavenge({});  // nothing to remove: it only rolls and checkpoints
  ASSERT_TRUE(scav.has_value()) << scav.error().ToString();
  ASSERT_EQ(scav->segments_rewritten, 0u);
  const uint64_t segments = s->Stats()->segments;
  const std::string before = Dump(s.get());
  auto rep = s->Backup(copy);
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->segments_linked, segments - 1);
  EXPECT_EQ(rep->segments_copied, 1u);
  EXPECT_EQ(fs::file_size(copy + "/log/" + Names(copy + "/log").back()), 32u);
  {
    auto w = OpenOrDie(copy);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(Dump(w.get()), before);
    Append(w.get(), "a-1", 2);
    testing::AbandonAsCrashed(std::move(w));  // no checkpoint: the next open replays
  }
  // The abandoned handle still holds the copy's lock: read it read-only.
  auto r = OpenReadOnlyOrDie(copy);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->ReadStream("a-1", ReadStreamOptions{})->size(), 103u);
  EXPECT_EQ(Problems(r.get()), "");
}

// A writer that never checkpointed leaves HEAD and the log, no MANIFEST:
// the copy is its log, which its open indexes.
TEST(BackupTest, AStoreThatNeverCheckpointedIsCopiedFromItsLog) {
  TempDir dir;
  NativeOptions o = Opts();
  o.memtable_entries = 1 << 20;
  auto s = OpenOrDie(dir.Sub("src"), o);
  for (int i = 0; i < 30; ++i)
    Append(s.get(), "s-" + std::to_string(i % 4), 5, std::string(50, 'z'));
  ASSERT_FALSE(fs::exists(dir.Sub("src/index/MANIFEST")));
  const std::string before = Dump(s.get());
  auto rep = s->Backup(dir.Sub("copy"));
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->events, 150u);
  EXPECT_GT(rep->segments_linked, 0u);
  EXPECT_EQ(Names(dir.Sub("copy/index")), std::vector<std::string>{});
  auto r = OpenReadOnlyOrDie(dir.Sub("copy"), o);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Dump(r.get()), before);
  EXPECT_EQ(Problems(r.get()), "");
}

// Builds before HEAD wrote none: without it the log is copied as it is on
// disk (a read-only open reads it so), and the copy has no HEAD either.
TEST(BackupTest, AStoreWithoutHeadIsCopiedWhole) {
  TempDir dir;
  std::string before;
  {
    auto s = OpenOrDie(dir.Sub("src"));
    Scene(s.get());
    before = Dump(s.get());
    ASSERT_TRUE(s->Close().ok());
  }
  fs::remove(dir.Sub("src/HEAD"));
  auto r = OpenReadOnlyOrDie(dir.Sub("src"));
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(Dump(r.get()), before);
  auto rep = r->Backup(dir.Sub("copy"));
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->head, *r->HeadPosition());
  EXPECT_EQ(rep->events, *r->Count(CountOf::All()));
  EXPECT_EQ(rep->segments_copied, 1u);
  EXPECT_EQ(rep->segments_linked + 1, Names(dir.Sub("src/log")).size());
  EXPECT_FALSE(fs::exists(dir.Sub("copy/HEAD")));
  {
    auto c = OpenReadOnlyOrDie(dir.Sub("copy"));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(Dump(c.get()), before);
  }
  auto w = OpenOrDie(dir.Sub("copy"));
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(Dump(w.get()), before);
  EXPECT_EQ(Problems(w.get()), "");
}

TEST(BackupTest, RefusesADestinationThatIsNotAnEmptyDirectory) {
  TempDir dir;
  auto s = OpenOrDie(dir.Sub("src"));
  Append(s.get(), "a-1", 3);
  fs::create_directories(dir.Sub("full"));
  std::ofstream(dir.Sub("full/keep.txt")) << "mine";
  std::ofstream(dir.Sub("file")) << "a file";
  const auto full_before = Files(dir.Sub("full"));

  auto full = s->Backup(dir.Sub("full"));
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(full.error().message(),
            "backup destination '" + dir.Sub("full") +
                "' is not empty: it must not exist or be an empty directory");
  EXPECT_EQ(Files(dir.Sub("full")), full_before);
  EXPECT_EQ(Names(dir.Sub("full")), std::vector<std::string>{"keep.txt"});

  auto file = s->Backup(dir.Sub("file"));
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(file.error().message().rfind(
                "backup destination '" + dir.Sub("file") + "' exists and is not a directory", 0),
            0u)
      << file.error().message();
  EXPECT_TRUE(fs::is_regular_file(dir.Sub("file")));
  EXPECT_EQ(fs::file_size(dir.Sub("file")), 6u);

  auto none = s->Backup("");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidArgument);

  // The store itself is a directory that is not empty.
  auto itself = s->Backup(dir.Sub("src"));
  ASSERT_FALSE(itself.has_value());
  EXPECT_EQ(itself.error().code(), ErrorCode::kInvalidArgument);

  // An empty directory is fine, and so is one with parents to create.
  fs::create_directories(dir.Sub("empty"));
  ASSERT_TRUE(s->Backup(dir.Sub("empty")).has_value());
  ASSERT_TRUE(s->Backup(dir.Sub("a/b/c/")).has_value());
  auto r = OpenReadOnlyOrDie(dir.Sub("a/b/c"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r->Count(CountOf::All()), 3u);
}

TEST(BackupTest, AFailedBackupLeavesNothingInItsDestination) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  auto s = OpenOrDie(dir.Sub("src"), Opts(&env));
  Scene(s.get());
  env.FailSyncsOf("backup-target", EIO);
  auto made = s->Backup(dir.Sub("backup-target"));
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().code(), ErrorCode::kIOError) << made.error().ToString();
  EXPECT_FALSE(fs::exists(dir.Sub("backup-target")));
  // A directory that was there stays, empty.
  fs::create_directories(dir.Sub("backup-target"));
  made = s->Backup(dir.Sub("backup-target"));
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().code(), ErrorCode::kIOError);
  EXPECT_TRUE(fs::is_directory(dir.Sub("backup-target")));
  EXPECT_EQ(Names(dir.Sub("backup-target")), std::vector<std::string>{});
  env.ClearFaults();
  auto ok = s->Backup(dir.Sub("backup-target"));
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  auto r = OpenReadOnlyOrDie(dir.Sub("backup-target"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Dump(r.get()), Dump(s.get()));
}

TEST(BackupTest, CopiesWhatTheFileSystemCannotLink) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  auto s = OpenOrDie(dir.Sub("src"), Opts(&env));
  Scene(s.get());
  env.FailLinks(true);
  auto rep = s->Backup(dir.Sub("copy"));
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->files_linked, 0u);
  EXPECT_EQ(rep->segments_linked, 0u);
  EXPECT_EQ(rep->segments_copied, Names(dir.Sub("copy/log")).size());
  uint64_t bytes = 0;
  for (const auto& [name, data] : Files(dir.Sub("copy"))) bytes += data.size();
  EXPECT_EQ(rep->bytes_copied, bytes);
  EXPECT_EQ(fs::hard_link_count(dir.Sub("copy/log/00000000.seg")), 1u);
  auto r = OpenReadOnlyOrDie(dir.Sub("copy"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Dump(r.get()), Dump(s.get()));
  EXPECT_EQ(Problems(r.get()), "");
}

TEST(BackupTest, AClosedStoreRefuses) {
  TempDir dir;
  auto s = OpenOrDie(dir.Sub("src"));
  ASSERT_TRUE(s->Close().ok());
  auto rep = s->Backup(dir.Sub("copy"));
  ASSERT_FALSE(rep.has_value());
  EXPECT_EQ(rep.error().code(), ErrorCode::kClosed);
  EXPECT_FALSE(fs::exists(dir.Sub("copy")));
}

// Forwards to the default Env; hooks see FileExists answers and MANIFEST
// reads. With `simulate_sleep`, sleeps advance a simulated monotonic clock
// instead of waiting.
class HookEnv final : public Env {
 public:
  // Called after FileExists(path) found `path` (from any thread).
  std::function<void(const std::string& path)> on_exists;
  // Called once, after the next read of a MANIFEST, before the caller
  // gets its bytes; cleared before it runs.
  std::function<void()> on_manifest_read;
  bool simulate_sleep = false;

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& p) override {
    return base_->OpenWritable(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& p) override {
    return base_->OpenRandomAccess(p);
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& p, uint64_t n,
                                              bool random) override {
    return base_->MapFile(p, n, random);
  }
  Status WriteFileAtomic(const std::string& p, std::string_view d) override {
    return base_->WriteFileAtomic(p, d);
  }
  Result<std::string> ReadFile(const std::string& p) override {
    auto bytes = base_->ReadFile(p);
    if (p.ends_with("/MANIFEST")) {
      std::function<void()> hook;
      {
        std::lock_guard l(mu_);
        hook.swap(on_manifest_read);
      }
      if (hook) hook();
    }
    return bytes;
  }
  Status WriteAt(const std::string& p, uint64_t o, std::string_view d) override {
    return base_->WriteAt(p, o, d);
  }
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  Result<bool> FileExists(const std::string& p) override {
    auto r = base_->FileExists(p);
    if (r.has_value() && *r && on_exists) on_exists(p);
    return r;
  }
  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    return base_->ListDir(p);
  }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return base_->RenameFile(f, t);
  }
  Result<bool> LinkFile(const std::string& f, const std::string& t) override {
    return base_->LinkFile(f, t);
  }
  Status RemoveDir(const std::string& p) override { return base_->RemoveDir(p); }
  Status TruncateFile(const std::string& p, uint64_t n) override {
    return base_->TruncateFile(p, n);
  }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }
  int64_t NowNanos() override { return base_->NowNanos(); }
  int64_t MonotonicNanos() override { return base_->MonotonicNanos() + slept_ns_.load(); }
  void SleepForMicroseconds(int64_t micros) override {
    if (!simulate_sleep) return base_->SleepForMicroseconds(micros);
    slept_ns_.fetch_add(micros * 1000);
  }
  int64_t slept_ns() const { return slept_ns_.load(); }
  void SetManifestHook(std::function<void()> hook) {
    std::lock_guard l(mu_);
    on_manifest_read = std::move(hook);
  }

 private:
  Env* base_ = Env::Default();
  std::mutex mu_;
  std::atomic<int64_t> slept_ns_{0};
};

// An intent file that stays (a scavenge a crash interrupted) holds a backup
// off for its bounded wait, then fails it; once the file is gone it works.
TEST(BackupTest, AnInterruptedScavengeFailsTheBackupAfterItsWait) {
  TempDir dir;
  HookEnv env;
  env.simulate_sleep = true;
  auto s = OpenOrDie(dir.Sub("src"), Opts(&env));
  Append(s.get(), "a-1", 5);
  std::ofstream(dir.Sub("src/index/SCAVENGE")) << "left by a crash";
  auto rep = s->Backup(dir.Sub("copy"));
  ASSERT_FALSE(rep.has_value());
  EXPECT_EQ(rep.error().code(), ErrorCode::kBusy);
  EXPECT_EQ(rep.error().message(),
            "a scavenge is swapping files of " + dir.Sub("src") +
                "; try again (if no process writes the store, a scavenge was interrupted: open "
                "the store for writing once to finish it)");
  // The bounded wait (10 s) passed in simulated time: the test did not wait.
  EXPECT_GT(env.slept_ns(), 9'000'000'000);
  EXPECT_FALSE(fs::exists(dir.Sub("copy")));
  fs::remove(dir.Sub("src/index/SCAVENGE"));
  ASSERT_TRUE(s->Backup(dir.Sub("copy")).has_value());
}

// A backup that finds a scavenge swapping files waits for the swap to end
// and copies the new files: one try.
// Large memtables: no index merge removes a run under the try (which would
// make it start over too).
NativeOptions FewRuns(Env* env) {
  NativeOptions o = Opts(env);
  o.memtable_entries = 1 << 20;
  return o;
}

TEST(BackupTest, WaitsForAScavengeSwapInProgress) {
  TempDir dir;
  HookEnv env;
  auto s = OpenOrDie(dir.Sub("src"), FewRuns(&env));
  ScavengeScene(s.get());
  std::mutex mu;
  std::condition_variable cv;
  bool seen = false;
  env.on_exists = [&](const std::string& path) {
    if (!path.ends_with("/index/SCAVENGE")) return;
    std::lock_guard l(mu);
    seen = true;
    cv.notify_all();
  };
  std::future<Result<BackupReport>> backup;
  ScavengeOptions o;
  o.test_hook = [&](std::string_view step) {
    if (step != "segments") return Status::OK();
    // The intent file exists and segments are renamed; the manifest is not.
    backup = std::async(std::launch::async, [&] { return s->Backup(dir.Sub("copy")); });
    std::unique_lock l(mu);
    // Bounds a broken build only; the backup normally looks at once.
    cv.wait_for(l, std::chrono::seconds(60), [&] { return seen; });
    return Status::OK();
  };
  auto scav = s->Scavenge(o);
  ASSERT_TRUE(scav.has_value()) << scav.error().ToString();
  ASSERT_TRUE(seen);
  auto rep = backup.get();
  env.on_exists = nullptr;
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->attempts, 1);
  EXPECT_EQ(rep->events, *s->Count(CountOf::All()));
  auto r = OpenReadOnlyOrDie(dir.Sub("copy"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Dump(r.get()), Dump(s.get()));
  EXPECT_EQ(Problems(r.get()), "");
}

// A scavenge that runs whole between a try's read of MANIFEST and its
// copies (its runs are gone, its segments renamed): the try is thrown away
// and the next one copies the scavenged store.
TEST(BackupTest, AScavengeDuringATryMakesItStartOver) {
  TempDir dir;
  HookEnv env;
  auto s = OpenOrDie(dir.Sub("src"), FewRuns(&env));
  ScavengeScene(s.get());
  ASSERT_TRUE(s->Checkpoint().ok());  // a manifest to read
  const std::string unscavenged = Dump(s.get());
  bool scavenged = false;
  env.SetManifestHook([&] {
    auto scav = s->Scavenge({});
    ASSERT_TRUE(scav.has_value()) << scav.error().ToString();
    ASSERT_GT(scav->segments_rewritten, 0u);
    scavenged = true;
  });
  auto rep = s->Backup(dir.Sub("copy"));
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  ASSERT_TRUE(scavenged);
  EXPECT_EQ(rep->attempts, 2);
  EXPECT_EQ(rep->events, *s->Count(CountOf::All()));
  const std::string now = Dump(s.get());
  ASSERT_NE(now, unscavenged);
  auto r = OpenReadOnlyOrDie(dir.Sub("copy"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Dump(r.get()), now);
  EXPECT_EQ(Problems(r.get()), "");
}

// Backups from a read-only handle while a writer handle of the same process
// appends from one thread and scavenges from another: each copy holds
// exactly the events below its head. Scavenges only remove events of
// streams tombstoned for them ("doomed-N"), which a copy holds or not
// depending on when it was taken: a copy's events are the writer's final
// events below the copy's head, plus doomed events as they were before.
TEST(BackupTest, ABackupBesideAppendsAndScavengesHoldsExactlyTheEventsBelowItsHead) {
  TempDir dir;
  const std::string src = dir.Sub("src");
  NativeOptions o = Opts();
  o.segment_bytes = 32768;
  o.memtable_entries = 128;
  auto w = OpenOrDie(src, o);
  constexpr int kDoomed = 12;
  for (int i = 0; i < kDoomed; ++i)
    Append(w.get(), "doomed-" + std::to_string(i), 15, std::string(80, 'd'));
  Append(w.get(), "live-0", 5);
  std::map<uint64_t, std::string> initial;  // position -> event, before any scavenge
  auto before = w->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  for (const auto& e : *before) initial[e.position.value()] = Show(e);
  auto r = OpenReadOnlyOrDie(src, o);
  ASSERT_NE(r, nullptr);

  std::atomic<bool> stop{false};
  std::atomic<int> scavenges{0};
  std::atomic<bool> scavenger_done{false};
  std::thread appender([&] {
    // Bounded, so the scavenges' work is too.
    for (int i = 0; !stop.load() && i < 5000; ++i) {
      EventData e = Ev("Live", "{\"i\":" + std::to_string(i) + "}");
      if (i % 2 == 0) e.id = Uuid::Random();
      auto a = w->Append("live-" + std::to_string(i % 5), ExpectedRevision::Any(),
                         std::vector<EventData>{e});
      if (!a.has_value()) {
        ADD_FAILURE() << a.error().ToString();
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));  // pacing, not timing
    }
  });
  std::thread scavenger([&] {
    for (int i = 0; i < kDoomed && !stop.load(); ++i) {
      auto t = w->TombstoneStream("doomed-" + std::to_string(i), ExpectedRevision::Any());
      if (!t.has_value()) {
        ADD_FAILURE() << t.error().ToString();
        break;
      }
      auto scav = w->Scavenge({});
      if (!scav.has_value()) {
        ADD_FAILURE() << scav.error().ToString();
        break;
      }
      scavenges.fetch_add(1);
    }
    scavenger_done.store(true);
  });
  struct Taken {
    std::string dir;
    BackupReport report;
  };
  std::vector<Taken> taken;
  // Backups until every scavenge has run, about two per scavenge (pacing:
  // how they overlap is not what the test checks).
  for (int i = 0; !scavenger_done.load() || i < 4; ++i) {
    const std::string to = dir.Sub("copy-" + std::to_string(i));
    auto rep = r->Backup(to);
    ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
    taken.push_back({to, *rep});
    while (!scavenger_done.load() && 2 * (scavenges.load() + 1) <= i + 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  stop.store(true);
  appender.join();
  scavenger.join();
  auto final_read = w->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(final_read.has_value()) << final_read.error().ToString();
  const std::vector<RecordedEvent>& final_events = *final_read;
  auto doomed = [](const RecordedEvent& e) {
    return e.stream.starts_with("doomed-") && e.revision.value() != StreamRevision::kTombstone;
  };
  int attempts = 0;
  for (const Taken& t : taken) {
    SCOPED_TRACE(t.dir);
    attempts += t.report.attempts;
    auto copy = OpenReadOnlyOrDie(t.dir, o);
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(copy->HeadPosition()->value(), t.report.head.value());
    auto events = copy->ReadAll(ReadAllOptions{});
    ASSERT_TRUE(events.has_value()) << events.error().ToString();
    EXPECT_EQ(*copy->Count(CountOf::All()), t.report.events);
    EXPECT_EQ(events->size(), t.report.events);
    std::string got, want;
    for (const auto& e : *events) {
      if (!doomed(e)) {
        got += Show(e) + "\n";
      } else {
        auto it = initial.find(e.position.value());
        EXPECT_TRUE(it != initial.end() && it->second == Show(e)) << Show(e);
      }
    }
    for (const auto& e : final_events) {
      if (e.position < t.report.head && !doomed(e)) want += Show(e) + "\n";
    }
    EXPECT_EQ(got, want);
    EXPECT_EQ(Problems(copy.get()), "") << "attempts " << t.report.attempts;
  }
  EXPECT_EQ(Problems(w.get()), "");
  // Not asserted (timing): how much the backups overlapped.
  std::printf("%zu backups in %d tries beside %d scavenges; last head %llu of %llu\n", taken.size(),
              attempts, scavenges.load(),
              static_cast<unsigned long long>(taken.back().report.head.value()),
              static_cast<unsigned long long>(w->HeadPosition()->value()));
}

}  // namespace
}  // namespace cairn
