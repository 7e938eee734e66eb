// Scavenge through the public API: what it removes, what it keeps exactly,
// the disk really shrinking, erased bytes gone from every file, appends and
// subscriptions going on during it, and a crash at each step of its commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>
#include <thread>

#include "cairn/native.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::TempDir;

constexpr char kSecret[] = "SECRET-ERASE-ME-7f3a";

NativeOptions Opts() {
  NativeOptions o;
  o.durability = Durability::kNoSyncUnsafe;
  o.segment_bytes = 16384;  // many closed segments
  o.memtable_entries = 64;  // many runs
  return o;
}

std::unique_ptr<NativeStore> OpenOrDie(const std::string& dir) {
  auto s = NativeStore::Open(dir, Opts());
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s.has_value() ? std::move(*s) : nullptr;
}

void Append(NativeStore* s, const std::string& stream, int n,
            const std::string& data = "{\"v\":1}") {
  std::vector<EventData> evs;
  for (int i = 0; i < n; ++i) evs.push_back(Ev("E", data));
  auto r = s->Append(stream, ExpectedRevision::Any(), evs);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
}

// Everything a reader can see, as text: each stream's read (or its error),
// category and type reads, the stream list.
std::string Visible(NativeStore* s) {
  std::string out;
  auto show = [&](const Result<std::vector<RecordedEvent>>& r) {
    if (!r.has_value()) return std::string("error:") + std::string(ErrorCodeName(r.error().code()));
    std::string t;
    for (const auto& e : *r) {
      t += e.stream + "/" + std::to_string(e.revision.value()) + "@" +
           std::to_string(e.position.value()) + ":" + e.type + ":" + e.id.ToString() + ":" +
           e.data + ":" + e.metadata + ":" + std::to_string(e.created_ns) + " ";
    }
    return t;
  };
  for (const char* stream : {"keep-1", "keep-2", "gone-1", "trunc-1", "cap-1", "soft-1"}) {
    out += std::string(stream) + " => " + show(s->ReadStream(stream, ReadStreamOptions{})) + "\n";
  }
  for (const char* c : {"keep", "gone", "trunc", "cap", "soft"}) {
    out +=
        std::string("category ") + c + " => " + show(s->ReadCategory(c, ReadAllOptions{})) + "\n";
  }
  out += "type E => " + show(s->ReadEventType("E", ReadAllOptions{})) + "\n";
  // Listed in the order of their first stored event, which moves when a
  // scavenge removes a stream's first events: compare as a set.
  auto list = s->ListStreams(ListStreamsOptions{});
  if (!list.has_value()) return out + "list error: " + list.error().ToString();
  std::vector<std::string> lines;
  for (const auto& x : *list) {
    lines.push_back("list " + x.stream + " " + std::to_string(x.last_revision.value()) + " " +
                    std::to_string(x.event_count) + " " +
                    std::to_string(static_cast<int>(x.state)) + "\n");
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) out += l;
  auto meta = s->GetStreamMetadata("keep-1");
  if (!meta.has_value()) return out + "metadata error: " + meta.error().ToString();
  out += "meta keep-1 " + meta->metadata.ToJson() + " rev " +
         std::to_string(meta->revision ? meta->revision->value() : 999) + "\n";
  return out;
}

bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

// The standard scene: 2 live streams, one tombstoned holding the secret,
// one truncated, one capped, one soft-deleted, metadata written 3 times.
void Scene(NativeStore* s) {
  for (int round = 0; round < 5; ++round) {
    Append(s, "keep-1", 3);
    Append(s, "gone-1", 2, std::string("{\"pii\":\"") + kSecret + "\"}");
    Append(s, "trunc-1", 2);
    Append(s, "cap-1", 2);
    Append(s, "soft-1", 2);
    Append(s, "keep-2", 1);
  }
  StreamMetadata m;
  m.custom = R"({"owner":"a"})";
  ASSERT_TRUE(s->SetStreamMetadata("keep-1", ExpectedRevision::Any(), m).has_value());
  m.custom = R"({"owner":"b"})";
  ASSERT_TRUE(s->SetStreamMetadata("keep-1", ExpectedRevision::Any(), m).has_value());
  m.custom = R"({"owner":"c"})";
  ASSERT_TRUE(s->SetStreamMetadata("keep-1", ExpectedRevision::Any(), m).has_value());
  StreamMetadata tb;
  tb.truncate_before = 6;
  ASSERT_TRUE(s->SetStreamMetadata("trunc-1", ExpectedRevision::Any(), tb).has_value());
  StreamMetadata cap;
  cap.max_count = 3;
  ASSERT_TRUE(s->SetStreamMetadata("cap-1", ExpectedRevision::Any(), cap).has_value());
  ASSERT_TRUE(s->TombstoneStream("gone-1", ExpectedRevision::Any()).has_value());
  ASSERT_TRUE(s->DeleteStream("soft-1", ExpectedRevision::Any()).has_value());
  Append(s, "keep-2", 1);  // something after the deletes
}

TEST(ScavengeTest, RemovesWhatReadsCannotShowAndKeepsTheRestExactly) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  Scene(s.get());
  const std::string before = Visible(s.get());
  const uint64_t head = s->HeadPosition()->value();
  ASSERT_TRUE(AnyFileContains(dir.path(), kSecret));
  std::vector<std::string> phases;
  ScavengeOptions o;
  o.progress = [&](const ScavengeProgress& p) {
    if (phases.empty() || phases.back() != p.phase) phases.emplace_back(p.phase);
  };
  auto rep = s->Scavenge(o);
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  // gone-1: 10 events; trunc-1: 6 of 10 (revisions 0-5); cap-1: 7 of 10;
  // soft-1: 9 of 10 (its last is kept scrubbed); keep-1 metadata: 2 of 3.
  EXPECT_EQ(rep->events_removed, 10u + 6 + 7 + 9 + 2);
  EXPECT_EQ(rep->events_scrubbed, 1u);
  EXPECT_GT(rep->segments_rewritten, 0u);
  EXPECT_LT(rep->log_bytes_after, rep->log_bytes_before);
  EXPECT_EQ(phases.front(), "rewrite");
  EXPECT_EQ(phases.back(), "done");
  EXPECT_EQ(Visible(s.get()), before);
  EXPECT_EQ(s->HeadPosition()->value(), head);
  EXPECT_EQ(*s->Count(CountOf::All()), head - rep->events_removed);
  EXPECT_FALSE(AnyFileContains(dir.path(), kSecret));
  VerifyReport v;
  ASSERT_TRUE(s->Verify(&v).ok());
  for (const auto& p : v.problems)
    ADD_FAILURE() << p.file << " offset " << p.offset << ": " << p.what;
  // $all keeps its positions: every surviving event is where it was.
  auto all = s->ReadAll(ReadAllOptions{});
  ASSERT_EQ(all->size(), head - rep->events_removed);
  for (size_t i = 1; i < all->size(); ++i) ASSERT_LT((*all)[i - 1].position, (*all)[i].position);
  // Regression: a scavenge with nothing to remove rewrote the segment of an
  // already scrubbed last event, scrubbing it again.
  auto idle = s->Scavenge({});
  ASSERT_TRUE(idle.has_value()) << idle.error().ToString();
  EXPECT_EQ(idle->events_removed, 0u);
  EXPECT_EQ(idle->events_scrubbed, 0u);
  EXPECT_EQ(idle->segments_rewritten, 0u);
  EXPECT_EQ(Visible(s.get()), before);
  // Appends continue from the kept revisions.
  auto again = s->Append("soft-1", ExpectedRevision::NoStream(), std::vector<EventData>{Ev("E")});
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->revision, StreamRevision(10));
  EXPECT_EQ(
      s->Append("gone-1", ExpectedRevision::Any(), std::vector<EventData>{Ev("E")}).error().code(),
      ErrorCode::kStreamDeleted);
  const std::string after_append = Visible(s.get());
  ASSERT_TRUE(s->Close().ok());
  s = OpenOrDie(dir.path());
  EXPECT_EQ(Visible(s.get()), after_append);
  ASSERT_TRUE(s->Verify(&v).ok());
  EXPECT_TRUE(v.problems.empty());
  // A second scavenge removes only soft-1's scrubbed placeholder (revision
  // 9): since soft-1 was recreated at revision 10 it is no longer the last.
  auto second = s->Scavenge({});
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->events_removed, 1u);
  EXPECT_EQ(second->events_scrubbed, 0u);
  auto third = s->Scavenge({});
  ASSERT_TRUE(third.has_value()) << third.error().ToString();
  EXPECT_EQ(third->events_removed, 0u);
  EXPECT_EQ(third->segments_rewritten, 0u);
  EXPECT_EQ(Visible(s.get()), after_append);
}

// A read-only process's handle on the store in `dir` (its writer is open).
std::unique_ptr<NativeStore> OpenReaderOrDie(const std::string& dir) {
  NativeOptions ro = Opts();
  ro.read_only = true;
  auto s = NativeStore::Open(dir, ro);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s.has_value() ? std::move(*s) : nullptr;
}

// Mappings of this process onto files of `dir` whose directory entry is
// gone (renamed over or removed): a reader still holding the segment files a
// scavenge replaced keeps their disk space.
std::vector<std::string> DeletedMappings(const std::string& dir) {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> out;
  for (std::string line; std::getline(maps, line);) {
    if (line.find(dir) != std::string::npos && line.find("(deleted)") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

// $all as "position:stream/revision:id" lines.
std::string AllEvents(NativeStore* s) {
  auto all = s->ReadAll(ReadAllOptions{});
  if (!all.has_value()) return std::string("error:") + all.error().ToString();
  std::string out;
  for (const auto& e : *all) {
    out += std::to_string(e.position.value()) + ":" + e.stream + "/" +
           std::to_string(e.revision.value()) + ":" + e.id.ToString() + "\n";
  }
  return out;
}

// Regression: a read-only process that had the store open when its writer
// scavenged failed its next manifest reload with kFailedPrecondition ("was
// scavenged by its writer; reopen it"). It now adopts the rewritten files.
TEST(ScavengeTest, AReadOnlyProcessFollowsItsWriterAcrossScavenges) {
  TempDir dir;
  auto w = OpenOrDie(dir.path());
  Scene(w.get());
  auto follower = OpenReaderOrDie(dir.path());
  ASSERT_NE(follower, nullptr);
  NativeStore* r = follower.get();
  const std::string before = Visible(w.get());
  ASSERT_EQ(Visible(r), before);
  ASSERT_TRUE(DeletedMappings(dir.path()).empty());

  auto first = w->Scavenge({});
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_GT(first->segments_rewritten, 0u);
  // The reader still maps the replaced files until its next read, which
  // sees the new log generation in HEAD and adopts the rewritten files,
  // although nothing was appended since: $all (which shows what the
  // scavenge removed until it is removed) now matches the writer's.
  EXPECT_FALSE(DeletedMappings(dir.path()).empty());
  EXPECT_EQ(AllEvents(r), AllEvents(w.get()));
  EXPECT_EQ(Visible(r), before);
  EXPECT_EQ(DeletedMappings(dir.path()), std::vector<std::string>{});
  EXPECT_EQ(r->Stats()->log_bytes, w->Stats()->log_bytes);
  // And follows the appends that come next.
  Append(w.get(), "keep-2", 100);
  EXPECT_EQ(Visible(r), Visible(w.get()));
  Append(w.get(), "keep-2", 1);
  EXPECT_EQ(Visible(r), Visible(w.get()));
  EXPECT_EQ(AllEvents(r), AllEvents(w.get()));
  EXPECT_EQ(DeletedMappings(dir.path()), std::vector<std::string>{});
  EXPECT_EQ(r->Stats()->log_bytes, w->Stats()->log_bytes);
  EXPECT_EQ(r->HeadPosition().value(), w->HeadPosition().value());

  // A second scavenge: trunc-1's 4 remaining events go, and its metadata
  // event (a tombstoned stream's metadata hides nothing any more).
  ASSERT_TRUE(w->TombstoneStream("trunc-1", ExpectedRevision::Any()).has_value());
  auto second = w->Scavenge({});
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->events_removed, 5u);
  Append(w.get(), "keep-1", 100);
  EXPECT_EQ(Visible(r), Visible(w.get()));
  Append(w.get(), "keep-1", 1);
  EXPECT_EQ(Visible(r), Visible(w.get()));
  EXPECT_EQ(AllEvents(r), AllEvents(w.get()));
  EXPECT_EQ(DeletedMappings(dir.path()), std::vector<std::string>{});

  // A read made from inside another read's visitor while an adoption is
  // due does not wait for it (it would wait for itself): it answers from
  // the files already mapped, and the next read adopts.
  Append(w.get(), "keep-2", 100);
  bool nested_done = false;
  std::string nested_keep1;
  std::vector<std::string> during;
  Status outer = r->ReadAll(ReadAllOptions{}, [&](const EventView&) {
    if (nested_done) return true;
    nested_done = true;
    EXPECT_TRUE(w->TombstoneStream("cap-1", ExpectedRevision::Any()).has_value());
    auto third = w->Scavenge({});
    EXPECT_TRUE(third.has_value()) << third.error().ToString();
    Append(w.get(), "keep-2", 1);
    auto k = r->ReadStream("keep-1", ReadStreamOptions{});
    EXPECT_TRUE(k.has_value()) << k.error().ToString();
    if (k.has_value()) nested_keep1 = std::to_string(k->size());
    during = DeletedMappings(dir.path());
    return true;
  });
  ASSERT_TRUE(outer.ok()) << outer.ToString();
  ASSERT_TRUE(nested_done);
  EXPECT_EQ(nested_keep1, std::to_string(w->ReadStream("keep-1", ReadStreamOptions{})->size()));
  EXPECT_FALSE(during.empty());  // the nested read did not adopt
  EXPECT_EQ(Visible(r), Visible(w.get()));
  EXPECT_EQ(AllEvents(r), AllEvents(w.get()));
  EXPECT_EQ(DeletedMappings(dir.path()), std::vector<std::string>{});
}

// Regression (review): HEAD is written only by appends, so right after a
// scavenge it can still point into the segment the scavenge rolled away
// from and rewrote, at an offset of the old, longer file. A reader adopting
// the scavenge then must not take that offset as the rewritten segment's
// end (it read past the end of the new file).
TEST(ScavengeTest, AReaderAdoptsAScavengeWhoseHeadPredatesItsRoll) {
  TempDir dir;
  auto w = OpenOrDie(dir.path());
  Scene(w.get());
  auto follower = OpenReaderOrDie(dir.path());
  ASSERT_NE(follower, nullptr);
  NativeStore* r = follower.get();
  ASSERT_EQ(Visible(r), Visible(w.get()));
  // The reader falls behind: events it has not indexed, then a stream that
  // the scavenge removes from the active segment; nothing is appended after.
  Append(w.get(), "keep-1", 5);
  Append(w.get(), "doomed-1", 30, std::string(200, 'z'));
  ASSERT_TRUE(w->TombstoneStream("doomed-1", ExpectedRevision::Any()).has_value());
  auto rep = w->Scavenge({});
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  ASSERT_GE(rep->events_removed, 30u);
  EXPECT_EQ(Visible(r), Visible(w.get()));
  EXPECT_EQ(AllEvents(r), AllEvents(w.get()));
  VerifyReport v;
  ASSERT_TRUE(r->Verify(&v).ok());
  for (const auto& p : v.problems)
    ADD_FAILURE() << p.file << " offset " << p.offset << ": " << p.what;
  EXPECT_EQ(DeletedMappings(dir.path()), std::vector<std::string>{});
  EXPECT_EQ(r->Stats()->log_bytes, w->Stats()->log_bytes);
  // And it follows the appends that come next.
  Append(w.get(), "keep-2", 3);
  EXPECT_EQ(Visible(r), Visible(w.get()));
  EXPECT_EQ(AllEvents(r), AllEvents(w.get()));
}

// Readers of a read-only process keep reading (from other threads) while
// it adopts scavenge after scavenge of its writer: every read succeeds and
// is consistent, and in the end the reader sees what the writer sees.
TEST(ScavengeTest, ReadersOfAReadOnlyProcessRunOnWhileItAdoptsScavenges) {
  TempDir dir;
  auto w = OpenOrDie(dir.path());
  Scene(w.get());
  auto follower = OpenReaderOrDie(dir.path());
  ASSERT_NE(follower, nullptr);
  NativeStore* r = follower.get();
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  auto reader = [&](int which) {
    while (!stop.load()) {
      if (which == 0) {
        auto all = r->ReadAll(ReadAllOptions{});
        ASSERT_TRUE(all.has_value()) << all.error().ToString();
        for (size_t i = 1; i < all->size(); ++i) {
          ASSERT_LT((*all)[i - 1].position, (*all)[i].position);
        }
      } else {
        // keep-2 only grows: revisions 0..n-1, in order, never a gap.
        auto k = r->ReadStream("keep-2", ReadStreamOptions{});
        ASSERT_TRUE(k.has_value()) << k.error().ToString();
        for (size_t i = 0; i < k->size(); ++i) ASSERT_EQ((*k)[i].revision.value(), i);
        auto c = r->ReadCategory("keep", ReadAllOptions{});
        ASSERT_TRUE(c.has_value()) << c.error().ToString();
      }
      reads.fetch_add(1);
    }
  };
  std::thread t0(reader, 0), t1(reader, 1);
  for (int round = 0; round < 4; ++round) {
    const std::string doomed = "tmp-" + std::to_string(round);
    Append(w.get(), doomed, 30);
    ASSERT_TRUE(w->TombstoneStream(doomed, ExpectedRevision::Any()).has_value());
    auto rep = w->Scavenge({});
    ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
    EXPECT_GE(rep->events_removed, 30u);
    for (int k = 0; k < 4; ++k) Append(w.get(), "keep-2", 40);
  }
  stop.store(true);
  t0.join();
  t1.join();
  EXPECT_GT(reads.load(), 0);
  Append(w.get(), "keep-2", 1);
  EXPECT_EQ(Visible(r), Visible(w.get()));
  EXPECT_EQ(AllEvents(r), AllEvents(w.get()));
  EXPECT_EQ(DeletedMappings(dir.path()), std::vector<std::string>{});
}

TEST(ScavengeTest, AppendsAndSubscriptionsGoOnDuringAScavenge) {
  TempDir dir;
  // Memtables of a realistic size: with tiny ones the flusher, not the
  // scavenge, would be what the test measures.
  NativeOptions o = Opts();
  o.memtable_entries = 4096;
  auto opened = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  auto s = std::move(*opened);
  Scene(s.get());
  auto sub = std::move(*s->Subscribe(SubscribeOptions::Stream("live-1")));
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread writer([&] {
    while (!stop.load()) {
      std::vector<EventData> one = {Ev("Live")};
      auto r = s->Append("live-1", ExpectedRevision::Any(), one);
      if (!r.has_value()) {
        ADD_FAILURE() << r.error().ToString();
        return;
      }
      ++appended;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::vector<uint64_t> got;
  std::thread reader([&] {
    for (;;) {
      auto m = sub->Next(std::chrono::milliseconds(50));
      if (!m.has_value()) {
        ADD_FAILURE() << m.error().ToString();
        return;
      }
      if (!m->has_value()) {
        if (stop.load() && got.size() == static_cast<size_t>(appended.load())) return;
        continue;
      }
      if ((*m)->kind == SubscriptionMessage::Kind::kEvent)
        got.push_back((*m)->event.revision.value());
    }
  });
  for (int i = 0; i < 3; ++i) {
    auto rep = s->Scavenge({});
    ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop.store(true);
  writer.join();
  reader.join();
  ASSERT_EQ(got.size(), static_cast<size_t>(appended.load()));
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], i);
  auto live = s->ReadStream("live-1", ReadStreamOptions{});
  ASSERT_EQ(live->size(), static_cast<size_t>(appended.load()));
  VerifyReport v;
  ASSERT_TRUE(s->Verify(&v).ok());
  for (const auto& p : v.problems)
    ADD_FAILURE() << p.file << " offset " << p.offset << ": " << p.what;
}

// Regression (found by BackupTest's backups beside appends and scavenges):
// a memtable frozen before a scavenge's swap and checkpointed after it
// counted its position entries as the log had them before the swap, which
// had as many more records below the cut as the scavenge dropped whole. Its
// manifest then named that many entries of positions.idx past its resume
// address; the next open indexed those records again (duplicate entries,
// "position index entry N names position P at another address").
TEST(ScavengeTest, AMemtableFrozenBeforeTheSwapIsCheckpointedInTheNewLayout) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  NativeOptions o = Opts();
  o.env = &env;
  auto opened = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  auto s = std::move(*opened);
  Scene(s.get());
  ScavengeOptions so;
  so.test_hook = [&](std::string_view step) {
    if (step != "indexed") return Status::OK();
    // Checkpoints fail until the swap is done: the memtable these appends
    // freeze waits for its checkpoint across the swap.
    env.FailSyncsOf(".run.tmp", EIO);
    for (int i = 0; i < 3; ++i) Append(s.get(), "late-1", 30);
    return Status::OK();
  };
  auto rep = s->Scavenge(so);
  env.ClearFaults();
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  ASSERT_GT(rep->records_removed, 0u);
  // The flusher retries the failed checkpoint on its own (every 200 ms);
  // until then Checkpoint reports the last failure.
  Status checkpointed = s->Checkpoint();
  for (int i = 0; i < 600 && !checkpointed.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    checkpointed = s->Checkpoint();
  }
  ASSERT_TRUE(checkpointed.ok()) << checkpointed.ToString();
  const std::string all = AllEvents(s.get());
  const std::string visible = Visible(s.get());
  ASSERT_TRUE(s->Close().ok());
  s.reset();
  s = OpenOrDie(dir.path());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(AllEvents(s.get()), all);
  EXPECT_EQ(Visible(s.get()), visible);
  VerifyReport v;
  ASSERT_TRUE(s->Verify(&v).ok());
  for (const auto& p : v.problems)
    ADD_FAILURE() << p.file << " offset " << p.offset << ": " << p.what;
}

// One scavenge at a time: a second one, started while the first rewrites,
// is kBusy at once and changes nothing; the first completes.
TEST(ScavengeTest, ASecondScavengeWhileOneRunsIsBusy) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  Scene(s.get());
  Result<ScavengeReport> second = Status(ErrorCode::kCancelled, "not run");
  bool tried = false;
  ScavengeOptions o;
  o.progress = [&](const ScavengeProgress& p) {
    if (std::string(p.phase) != "rewrite" || tried) return;
    tried = true;
    // From another thread: the first holds its lock on this one.
    second = std::async(std::launch::async, [&] { return s->Scavenge(); }).get();
  };
  auto first = s->Scavenge(o);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_TRUE(tried);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().ToString(), "busy: a scavenge of this store is already running");
}

// A crash at each step of the commit protocol leaves a store that opens,
// shows every visible event unchanged and verifies clean.
// Close does not wait for a whole scavenge: one that has not reached its
// commit point stops at the next segment with an error, Close completes,
// and the reopened store is the old one (its scratch files removed).
TEST(ScavengeTest, AScavengeStopsBeforeItsCommitWhenCloseBegins) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  Scene(s.get());
  const std::string before = Visible(s.get());
  std::future<Status> closer;
  int segments_seen = 0;
  ScavengeOptions o;
  o.progress = [&](const ScavengeProgress& p) {
    if (std::string(p.phase) != "rewrite" || ++segments_seen != 1) return;
    closer = std::async(std::launch::async, [&] { return s->Close(); });
    // Close has begun once a new call is refused (it then waits for us).
    while (s->Count(CountOf::All()).has_value()) std::this_thread::yield();
  };
  auto r = s->Scavenge(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kClosed);
  EXPECT_EQ(r.error().message(), "scavenge stopped: the store is closing; nothing was changed");
  EXPECT_EQ(segments_seen, 1);
  ASSERT_TRUE(closer.valid());
  Status closed = closer.get();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  s.reset();

  s = OpenOrDie(dir.path());
  EXPECT_EQ(Visible(s.get()), before);
  for (const auto& f : std::filesystem::directory_iterator(dir.path() + "/log")) {
    EXPECT_NE(f.path().extension(), ".scav") << f.path();
  }
  EXPECT_TRUE(AnyFileContains(dir.path(), kSecret));  // nothing was removed
  ASSERT_TRUE(s->Scavenge({}).has_value());           // a later one does the job
  EXPECT_FALSE(AnyFileContains(dir.path(), kSecret));
}

TEST(ScavengeTest, AScavengeAskedToStopChangesNothingAndTheNextOneWorks) {
  TempDir dir;
  auto s = OpenOrDie(dir.path());
  Scene(s.get());
  const std::string before = Visible(s.get());
  std::atomic<bool> stop{false};
  int segments_seen = 0;
  ScavengeOptions o;
  o.stop = &stop;
  o.progress = [&](const ScavengeProgress& p) {
    if (std::string(p.phase) == "rewrite" && ++segments_seen == 1) stop.store(true);
  };
  auto r = s->Scavenge(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(r.error().message(), "scavenge stopped: asked to stop; nothing was changed");
  EXPECT_EQ(segments_seen, 1);
  EXPECT_EQ(Visible(s.get()), before);
  EXPECT_TRUE(AnyFileContains(dir.path(), kSecret));  // nothing was removed
  for (const auto& f : std::filesystem::directory_iterator(dir.path() + "/log")) {
    EXPECT_NE(f.path().extension(), ".scav") << f.path();
  }
  ASSERT_TRUE(s->Scavenge({}).has_value());  // a later one does the job
  EXPECT_FALSE(AnyFileContains(dir.path(), kSecret));
}

class ScavengeCrashTest : public ::testing::TestWithParam<const char*> {};

// Leaves `dir` as a writer killed right after its scavenge's intent file
// became durable (docs/format/scavenge-intent.md), and returns the file.
std::string CrashAfterTheIntent(const std::string& dir) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(
      {
        auto s = NativeStore::Open(dir, Opts());
        if (!s.has_value()) std::_Exit(1);
        ScavengeOptions o;
        o.test_hook = [](std::string_view at) {
          if (at == "intent") std::_Exit(7);
          return Status::OK();
        };
        (void)(*s)->Scavenge(o);
        std::_Exit(2);
      },
      ::testing::ExitedWithCode(7), "");
  std::ifstream in(dir + "/index/SCAVENGE", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The intent as a build before session 15 wrote it (version 1), or with
// another version field: the same bytes, checksummed again.
std::string RewriteIntent(const std::string& v2, std::optional<uint32_t> version) {
  std::string out = version ? v2.substr(0, 8) : std::string("CAIRNSCV");
  if (version) PutFixed32(&out, *version);
  out += v2.substr(12, v2.size() - 16);
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

TEST(ScavengeIntentTest, AVersionOneIntentLeftByAnOlderBuildIsRolledForward) {
  TempDir dir;
  std::string before;
  uint64_t log_before = 0;
  {
    auto s = OpenOrDie(dir.path());
    Scene(s.get());
    before = Visible(s.get());
    log_before = s->Stats()->log_bytes;
    ASSERT_TRUE(s->Close().ok());
  }
  const std::string v2 = CrashAfterTheIntent(dir.path());
  ASSERT_GT(v2.size(), 16u);
  ASSERT_EQ(v2.substr(0, 12), std::string("CAIRNINT\x02\0\0\0", 12));
  std::ofstream(dir.Sub("index/SCAVENGE"), std::ios::binary | std::ios::trunc)
      << RewriteIntent(v2, std::nullopt);
  auto s = OpenOrDie(dir.path());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Visible(s.get()), before);
  EXPECT_LT(s->Stats()->log_bytes, log_before);  // the rewritten segments are in place
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("index/SCAVENGE")));
  for (const auto& f : std::filesystem::directory_iterator(dir.Sub("log"))) {
    EXPECT_NE(f.path().extension(), ".scav") << f.path();
  }
  VerifyReport v;
  ASSERT_TRUE(s->Verify(&v).ok());
  EXPECT_EQ(v.problems.size(), 0u);
}

TEST(ScavengeIntentTest, ANewerVersionIsRefusedNamingIt) {
  TempDir dir;
  {
    auto s = OpenOrDie(dir.path());
    Scene(s.get());
    ASSERT_TRUE(s->Close().ok());
  }
  const std::string v2 = CrashAfterTheIntent(dir.path());
  const std::string intent = dir.Sub("index/SCAVENGE");
  std::ofstream(intent, std::ios::binary | std::ios::trunc) << RewriteIntent(v2, 3);
  auto s = NativeStore::Open(dir.path(), Opts());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().ToString(), "failed_precondition: " + intent +
                                      ": scavenge intent file has version 3, newer than this "
                                      "build reads (2): open the store with the build that "
                                      "wrote it");
  std::ofstream(intent, std::ios::binary | std::ios::trunc) << RewriteIntent(v2, 2) + "x";
  s = NativeStore::Open(dir.path(), Opts());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().ToString(), "corruption: " + intent + ": scavenge intent file is damaged");
}

TEST_P(ScavengeCrashTest, CrashAtStepLeavesOldOrNewStore) {
  // "fast": the child is a fork at EXPECT_EXIT (the store is closed, so no
  // thread of it exists), and works on this test's directory.
  GTEST_FLAG_SET(death_test_style, "fast");
  TempDir dir;
  std::string before;
  {
    auto s = OpenOrDie(dir.path());
    Scene(s.get());
    before = Visible(s.get());
    ASSERT_TRUE(s->Close().ok());
  }
  const std::string step = GetParam();
  EXPECT_EXIT(
      {
        auto s = NativeStore::Open(dir.path(), Opts());
        if (!s.has_value()) std::_Exit(1);
        ScavengeOptions o;
        o.test_hook = [&](std::string_view at) {
          if (at == step) std::_Exit(7);  // the process dies here, nothing closed
          return Status::OK();
        };
        (void)(*s)->Scavenge(o);
        std::_Exit(2);
      },
      ::testing::ExitedWithCode(7), "");
  {
    // A read-only process first, before any writer finishes the job: it
    // either says the scavenge was interrupted or reads the store whole. A
    // kill after the intent file was removed used to leave HEAD pointing
    // into the rewritten segment, which readers called a truncated record.
    NativeOptions ro = Opts();
    ro.read_only = true;
    auto r = NativeStore::Open(dir.path(), ro);
    const bool interrupted =
        step == "intent" || step == "segments" || step == "manifest" || step == "head";
    if (interrupted) {
      ASSERT_FALSE(r.has_value()) << step;
      EXPECT_EQ(r.error().code(), ErrorCode::kFailedPrecondition) << r.error().ToString();
      EXPECT_NE(r.error().message().find("was interrupted; open the store for writing once"),
                std::string::npos)
          << r.error().ToString();
    } else {
      ASSERT_TRUE(r.has_value()) << step << ": " << r.error().ToString();
      EXPECT_EQ(Visible(r->get()), before) << step;
      VerifyReport rv;
      ASSERT_TRUE((*r)->Verify(&rv).ok());
      for (const auto& p : rv.problems)
        ADD_FAILURE() << step << ": " << p.file << " offset " << p.offset << ": " << p.what;
    }
  }
  auto s = OpenOrDie(dir.path());
  EXPECT_EQ(Visible(s.get()), before);
  VerifyReport v;
  ASSERT_TRUE(s->Verify(&v).ok());
  for (const auto& p : v.problems)
    ADD_FAILURE() << p.file << " offset " << p.offset << ": " << p.what;
  const bool committed = step != "rewritten" && step != "indexed";
  EXPECT_EQ(AnyFileContains(dir.path(), kSecret), !committed) << step;
  // Whatever happened, a new scavenge completes the job.
  ASSERT_TRUE(s->Scavenge({}).has_value());
  EXPECT_FALSE(AnyFileContains(dir.path(), kSecret));
  EXPECT_EQ(Visible(s.get()), before);
}

INSTANTIATE_TEST_SUITE_P(Steps, ScavengeCrashTest,
                         ::testing::Values("rewritten", "indexed", "intent", "segments", "manifest",
                                           "head", "removed"));

}  // namespace
}  // namespace cairn
