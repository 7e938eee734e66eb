// In-process crash tests: a fault-injecting Env fails an fsync, tears a
// write or fills the disk at each interesting point; then power is "lost"
// (every unsynced byte dropped) and the reopened store must hold exactly the
// acknowledged appends.
#include <gtest/gtest.h>

#include <cerrno>
#include <random>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

struct Acked {
  std::string stream;
  uint64_t revision;
  uint64_t position;
  Uuid id;
};

NativeOptions SmallOptions(Env* env) {
  NativeOptions o;
  o.env = env;
  o.memtable_entries = 12;  // checkpoints (run + positions + manifest) happen often
  o.segment_bytes = 4096;   // and so do segment rollovers
  return o;
}

struct Outcome {
  std::vector<Acked> acked;
  std::vector<ErrorCode> errors;  // codes of failed appends, in order
  std::vector<std::string> messages;
};

// Appends `ops` times (single- and multi-stream), recording what was
// acknowledged, then "loses power": the Env goes down, the store is closed
// (nothing more reaches the disk) and every unsynced byte is dropped.
Outcome RunThenLosePower(FaultInjectionEnv* env, const std::string& dir, int ops, uint64_t seed) {
  Outcome out;
  std::mt19937_64 rng(seed);
  if (auto store = NativeStore::Open(dir, SmallOptions(env)); store) {
    for (int i = 0; i < ops; ++i) {
      std::vector<StreamAppend> parts(rng() % 3 == 0 ? 2 : 1);
      for (size_t p = 0; p < parts.size(); ++p) {
        parts[p].stream = "s" + std::to_string(rng() % 5 + p * 5);
        size_t n = 1 + rng() % 3;
        for (size_t k = 0; k < n; ++k) {
          EventData e = testing::Ev("T", std::string(10 + rng() % 200, 'a' + rng() % 26));
          e.id = Uuid::Random();
          parts[p].events.push_back(e);
        }
      }
      auto r = (*store)->AppendMulti(parts);
      if (!r) {
        out.errors.push_back(r.error().code());
        out.messages.push_back(r.error().message());
        continue;
      }
      for (size_t p = 0; p < parts.size(); ++p) {
        size_t n = parts[p].events.size();
        for (size_t k = 0; k < n; ++k) {
          out.acked.push_back({parts[p].stream, (*r)[p].revision->value() - (n - 1 - k),
                               (*r)[p].position.value() - (n - 1 - k), *parts[p].events[k].id});
        }
      }
    }
    env->SetDown(true);
    (void)(*store)->Close();
  }
  env->SetDown(true);
  Status dropped = env->DropUnsyncedData();
  EXPECT_TRUE(dropped.ok()) << dropped.ToString();
  env->ClearFaults();
  std::sort(out.acked.begin(), out.acked.end(),
            [](const Acked& a, const Acked& b) { return a.position < b.position; });
  return out;
}

// The reopened store holds exactly `acked`, verifies clean, and takes a new
// append at the next position.
void ExpectExactly(Env* env, const std::string& dir, const std::vector<Acked>& acked,
                   const std::string& label) {
  auto store = NativeStore::Open(dir, SmallOptions(env));
  ASSERT_TRUE(store.has_value()) << label << ": " << store.error().ToString();
  auto all = (*store)->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << label << ": " << all.error().ToString();
  ASSERT_EQ(all->size(), acked.size()) << label;
  for (size_t i = 0; i < acked.size(); ++i) {
    EXPECT_EQ((*all)[i].position.value(), i) << label;
    EXPECT_EQ((*all)[i].position.value(), acked[i].position) << label;
    EXPECT_EQ((*all)[i].stream, acked[i].stream) << label;
    EXPECT_EQ((*all)[i].revision.value(), acked[i].revision) << label;
    EXPECT_EQ((*all)[i].id, acked[i].id) << label;
  }
  VerifyReport report;
  ASSERT_TRUE((*store)->Verify(&report).ok());
  EXPECT_TRUE(report.problems.empty()) << label << ": " << report.problems[0].what;
  std::vector<EventData> one = {testing::Ev("after")};
  auto r = (*store)->Append("s0", ExpectedRevision::Any(), one);
  ASSERT_TRUE(r.has_value()) << label << ": " << r.error().ToString();
  EXPECT_EQ(r->position.value(), acked.size()) << label;
  ASSERT_TRUE((*store)->Close().ok());
}

constexpr int kOps = 40;

// Counts the syncs and appends a clean run performs.
std::pair<int, int> CleanRunCounts() {
  testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  Outcome o = RunThenLosePower(&env, dir.path(), kOps, 1);
  EXPECT_EQ(o.errors.size(), 0u);
  return {env.syncs(), env.appends()};
}

TEST(FaultCrashTest, PowerLossAfterCleanRunKeepsEveryAcknowledgedAppend) {
  testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  Outcome o = RunThenLosePower(&env, dir.path(), kOps, 7);
  ASSERT_TRUE(o.errors.empty());
  ExpectExactly(&env, dir.path(), o.acked, "clean");
}

TEST(FaultCrashTest, FailedFsyncAtEachPoint) {
  auto [syncs, appends] = CleanRunCounts();
  ASSERT_GT(syncs, 20);
  for (int k = 1; k <= syncs; ++k) {
    testing::TempDir dir;
    FaultInjectionEnv env(Env::Default());
    env.FailSyncAt(k, EIO);
    Outcome o = RunThenLosePower(&env, dir.path(), kOps, 1);
    std::string label = "fsync failure at sync " + std::to_string(k);
    for (size_t i = 0; i < o.errors.size(); ++i) {
      // The append whose fsync failed reports EIO; later ones are refused.
      ErrorCode want = i == 0 ? ErrorCode::kIOError : ErrorCode::kFailedPrecondition;
      ASSERT_EQ(o.errors[i], want) << label << " error " << i << ": " << o.messages[i];
    }
    ExpectExactly(&env, dir.path(), o.acked, label);
  }
}

TEST(FaultCrashTest, TornWriteAtEachPoint) {
  auto [syncs, appends] = CleanRunCounts();
  ASSERT_GT(appends, 20);
  for (int k = 1; k <= appends; ++k) {
    for (size_t keep : {0, 5, 13, 100}) {
      testing::TempDir dir;
      FaultInjectionEnv env(Env::Default());
      env.TearAppendAt(k, keep);
      Outcome o = RunThenLosePower(&env, dir.path(), kOps, 1);
      std::string label = "torn append " + std::to_string(k) + " keeping " + std::to_string(keep);
      for (ErrorCode c : o.errors) {
        ASSERT_TRUE(c == ErrorCode::kIOError || c == ErrorCode::kFailedPrecondition)
            << label << ": " << ErrorCodeName(c);
      }
      ExpectExactly(&env, dir.path(), o.acked, label);
    }
  }
}

TEST(FaultCrashTest, DiskFullFailsOneAppendAndTheStoreRecovers) {
  auto [syncs, appends] = CleanRunCounts();
  for (int k = 1; k <= appends; k += 3) {
    testing::TempDir dir;
    FaultInjectionEnv env(Env::Default());
    env.FailAppendAt(k, ENOSPC);
    Outcome o = RunThenLosePower(&env, dir.path(), kOps, 1);
    std::string label = "ENOSPC at append " + std::to_string(k);
    ASSERT_LE(o.errors.size(), 1u) << label;
    for (ErrorCode c : o.errors) ASSERT_EQ(c, ErrorCode::kNoSpace) << label;
    ExpectExactly(&env, dir.path(), o.acked, label);
  }
}

TEST(FaultCrashTest, FailingCheckpointsBoundMemoryAndAppendsResumeWhenTheyWork) {
  testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  NativeOptions o;
  o.env = &env;
  o.memtable_entries = 4;
  o.max_unflushed_entries = 8;
  auto store = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(store.has_value());
  env.FailSyncsOf("/index/", EIO);  // checkpoints fail; the log still works
  uint64_t acked = 0;
  Status refused;
  for (int i = 0; i < 40 && refused.ok(); ++i) {
    std::vector<EventData> one = {testing::Ev("T")};
    auto r = (*store)->Append("s", ExpectedRevision::Any(), one);
    if (r) {
      ++acked;
    } else {
      refused = r.error();
    }
  }
  ASSERT_FALSE(refused.ok()) << "appends never waited for the failing checkpoints";
  EXPECT_EQ(refused.code(), ErrorCode::kIOError);
  EXPECT_EQ(refused.message().rfind("append refused: index checkpoints keep failing", 0), 0u)
      << refused.message();
  // Frozen memtables hold at most max_unflushed_entries, plus the active one.
  EXPECT_LE(acked, 8u + 4u);
  env.ClearFaults();  // the disk works again: the flusher's retry succeeds
  std::vector<EventData> one = {testing::Ev("T")};
  auto r = (*store)->Append("s", ExpectedRevision::Any(), one);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->position.value(), acked);
  ASSERT_TRUE((*store)->Close().ok());
  auto again = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->ReadStream("s", ReadStreamOptions{})->size(), acked + 1);
}

// A durable batch's index entries are added while its fsync runs. When the
// fsync fails they must never be read, checkpointed or persisted: reads see
// only acknowledged events, Checkpoint refuses (naming the failed fsync),
// and the reopened store holds exactly what was acknowledged.
TEST(FaultCrashTest, AFailedFsyncLeavesNoIndexEntryOfItsBatchBehind) {
  testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  NativeOptions o;
  o.env = &env;
  o.memtable_entries = 4;  // the failed batch alone would fill a memtable
  std::vector<Uuid> kept;
  {
    auto store = NativeStore::Open(dir.path(), o);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    for (int i = 0; i < 3; ++i) {
      std::vector<EventData> one = {testing::Ev("T")};
      one[0].id = Uuid::Random();
      kept.push_back(*one[0].id);
      ASSERT_TRUE((*store)->Append("s", ExpectedRevision::Any(), one).has_value());
    }
    env.FailSyncsOf("/log/", EIO);
    std::vector<EventData> batch;
    for (int i = 0; i < 6; ++i) batch.push_back(testing::Ev("Lost"));
    auto failed = (*store)->Append("s", ExpectedRevision::Any(), batch);
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code(), ErrorCode::kIOError) << failed.error().ToString();
    env.ClearFaults();
    auto s = (*store)->ReadStream("s", ReadStreamOptions{});
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    ASSERT_EQ(s->size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*s)[i].id, kept[i]);
    EXPECT_EQ((*store)->ReadEventType("Lost", ReadAllOptions{})->size(), 0u);
    EXPECT_EQ((*store)->HeadPosition()->value(), 3u);
    Status cp = (*store)->Checkpoint();
    EXPECT_EQ(cp.code(), ErrorCode::kFailedPrecondition) << cp.ToString();
    EXPECT_NE(cp.message().find("after a failed fsync"), std::string::npos) << cp.message();
    (void)(*store)->Close();
  }
  auto store = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto all = (*store)->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*all)[i].id, kept[i]);
  EXPECT_EQ((*store)->ReadEventType("Lost", ReadAllOptions{})->size(), 0u);
  VerifyReport report;
  ASSERT_TRUE((*store)->Verify(&report).ok());
  EXPECT_TRUE(report.problems.empty()) << report.problems[0].what;
  std::vector<EventData> one = {testing::Ev("T")};
  auto r = (*store)->Append("s", ExpectedRevision::Any(), one);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->position.value(), 3u);
  EXPECT_EQ(r->revision->value(), 3u);
  ASSERT_TRUE((*store)->Checkpoint().ok());
  ASSERT_TRUE((*store)->Close().ok());
}

TEST(FaultCrashTest, GarbageTailIsCutOnOpen) {
  testing::TempDir dir;
  std::vector<Acked> acked;
  {
    auto store = NativeStore::Open(dir.path());
    ASSERT_TRUE(store.has_value());
    std::vector<EventData> one = {testing::EvId("T", testing::NthUuid(1))};
    auto r = (*store)->Append("a", ExpectedRevision::NoStream(), one);
    acked.push_back({"a", 0, 0, *one[0].id});
    ASSERT_TRUE((*store)->Close().ok());
  }
  std::string seg = dir.path() + "/log/00000000.seg";
  uint64_t size = *Env::Default()->FileSize(seg);
  ASSERT_TRUE(Env::Default()->WriteAt(seg, size, std::string("\x40\x00\x00\x00garbage", 11)).ok());
  ExpectExactly(Env::Default(), dir.path(), acked, "garbage tail");
  // The append in ExpectExactly went where the garbage was.
  auto store = NativeStore::Open(dir.path());
  ASSERT_TRUE(store.has_value());
  EXPECT_EQ((*store)->HeadPosition()->value(), 2u);
}

TEST(FaultCrashTest, CorruptionInTheMiddleIsReportedNeverReturned) {
  testing::TempDir dir;
  {
    NativeOptions o;
    o.segment_bytes = 4096;
    auto store = NativeStore::Open(dir.path(), o);
    ASSERT_TRUE(store.has_value());
    for (int i = 0; i < 60; ++i) {
      std::vector<EventData> one = {testing::Ev("T", std::string(100, 'x'))};
      ASSERT_TRUE((*store)->Append("s" + std::to_string(i % 3), ExpectedRevision::Any(), one));
    }
    ASSERT_TRUE((*store)->Close().ok());
  }
  // Damage a byte of event data in the first segment (record at offset 32).
  std::string seg = dir.path() + "/log/00000000.seg";
  std::string bytes = *Env::Default()->ReadFile(seg);
  ASSERT_TRUE(Env::Default()->WriteAt(seg, 32 + 100, std::string(1, bytes[132] ^ 0x01)).ok());

  auto store = NativeStore::Open(dir.path());
  ASSERT_TRUE(store.has_value()) << store.error().ToString();  // indexed: no re-read
  auto r = (*store)->ReadStream("s0", ReadStreamOptions{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(r.error().message(), seg + " offset 32: record checksum mismatch");
  auto all = (*store)->ReadAll(ReadAllOptions{});
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code(), ErrorCode::kCorruption);
  // Streams whose events are elsewhere still read.
  auto s2 = (*store)->ReadStream("s2", ReadStreamOptions{});
  ASSERT_TRUE(s2.has_value()) << s2.error().ToString();
  EXPECT_EQ(s2->size(), 20u);
  VerifyReport report;
  ASSERT_TRUE((*store)->Verify(&report).ok());
  ASSERT_EQ(report.problems.size(), 1u) << report.problems[1].what;
  EXPECT_EQ(report.problems[0].file, seg);
  EXPECT_EQ(report.problems[0].offset, 32u);
  EXPECT_EQ(report.problems[0].what, seg + " offset 32: record checksum mismatch");
}

TEST(FaultCrashTest, CorruptionInUnindexedTailRefusesToOpen) {
  testing::TempDir dir;
  {
    auto store = NativeStore::Open(dir.path());
    ASSERT_TRUE(store.has_value());
    for (int i = 0; i < 5; ++i) {
      std::vector<EventData> one = {testing::Ev("T", std::string(100, 'x'))};
      ASSERT_TRUE((*store)->Append("s", ExpectedRevision::Any(), one));
    }
    testing::AbandonAsCrashed(std::move(*store));  // no checkpoint: the tail stays unindexed
  }
  std::string seg = dir.path() + "/log/00000000.seg";
  std::string bytes = *Env::Default()->ReadFile(seg);
  ASSERT_TRUE(Env::Default()->WriteAt(seg, 32 + 100, std::string(1, bytes[132] ^ 0x01)).ok());
  NativeOptions ro;
  ro.read_only = true;  // the leaked writer still holds the lock
  auto store = NativeStore::Open(dir.path(), ro);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(store.error().message().find(seg + " offset 32: record checksum mismatch"),
            std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find("damaged in the middle"), std::string::npos);
}

}  // namespace
}  // namespace cairn
