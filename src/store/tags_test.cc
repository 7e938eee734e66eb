// The category / event-type index through the public API: answers equal a
// filtered scan of $all, across runs, frozen and active memtables, and after
// the index files are deleted and rebuilt.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::TempDir;

std::vector<uint64_t> Positions(const Result<std::vector<RecordedEvent>>& r) {
  std::vector<uint64_t> out;
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  if (r.has_value()) {
    for (const auto& e : *r) out.push_back(e.position.value());
  }
  return out;
}

class TagIndexTest : public ::testing::Test {
 protected:
  NativeOptions Opts() {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    o.memtable_entries = 24;  // many runs, merges, frozen tables
    return o;
  }
  // 400 events over categories acct/order/none and types A..D.
  void Fill(NativeStore* s) {
    std::mt19937_64 rng(7);
    const char* streams[] = {"acct-1", "acct-2", "order-1", "order-22", "plain", "acct-3"};
    for (int i = 0; i < 200; ++i) {
      std::vector<EventData> evs;
      for (uint64_t k = 0; k < 1 + rng() % 3; ++k) {
        evs.push_back(Ev(std::string(1, static_cast<char>('A' + rng() % 4))));
      }
      ASSERT_TRUE(s->Append(streams[rng() % 6], ExpectedRevision::Any(), evs).has_value());
    }
  }
  // Every read shape of ReadCategory / ReadEventType against the oracle.
  void ExpectSameAsScan(NativeStore* s) {
    for (const std::string c : {"acct", "order", "nothing"}) {
      for (auto dir : {Direction::kForwards, Direction::kBackwards}) {
        for (uint64_t max : {uint64_t{1}, uint64_t{7}, UINT64_MAX}) {
          for (std::optional<Position> from :
               {std::optional<Position>(), std::optional<Position>(Position(150))}) {
            ReadAllOptions o;
            o.direction = dir;
            o.max_count = max;
            o.from = from;
            ReadAllOptions scan = o;
            scan.filter.categories = {c};
            ASSERT_EQ(Positions(s->ReadCategory(c, o)), Positions(s->ReadAll(scan)))
                << "category " << c << " backwards " << (dir == Direction::kBackwards) << " max "
                << max;
          }
        }
      }
    }
    for (const std::string t : {"A", "B", "C", "D", "Z"}) {
      for (auto dir : {Direction::kForwards, Direction::kBackwards}) {
        ReadAllOptions o;
        o.direction = dir;
        ReadAllOptions scan = o;
        scan.filter.types = {t};
        ASSERT_EQ(Positions(s->ReadEventType(t, o)), Positions(s->ReadAll(scan))) << "type " << t;
      }
    }
    // The filter narrows an index read further.
    ReadAllOptions o;
    o.filter.types = {"B"};
    ReadAllOptions scan;
    scan.filter.categories = {"order"};
    scan.filter.types = {"B"};
    ASSERT_EQ(Positions(s->ReadCategory("order", o)), Positions(s->ReadAll(scan)));
  }
  TempDir dir_;
};

TEST_F(TagIndexTest, ReadsEqualAFilteredScanAcrossRunsAndMemtables) {
  auto s = std::move(*NativeStore::Open(dir_.path(), Opts()));
  Fill(s.get());
  ExpectSameAsScan(s.get());  // live: runs, frozen and active memtables
  // Exact answers on a small case.
  auto acct = s->ReadCategory("acct", ReadAllOptions{});
  ASSERT_TRUE(acct.has_value());
  ASSERT_FALSE(acct->empty());
  for (const auto& e : *acct) EXPECT_EQ(e.stream.rfind("acct-", 0), 0u) << e.stream;
  ASSERT_TRUE(s->Close().ok());
  auto again = std::move(*NativeStore::Open(dir_.path(), Opts()));
  ExpectSameAsScan(again.get());  // everything in runs now
  VerifyReport rep;
  ASSERT_TRUE(again->Verify(&rep).ok());
  EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].file << ": " << rep.problems[0].what;
}

TEST_F(TagIndexTest, ExactEventsOfACategoryAndAType) {
  auto s = std::move(*NativeStore::Open(dir_.path(), Opts()));
  std::vector<EventData> one = {Ev("Opened")};
  ASSERT_TRUE(s->Append("account-1", ExpectedRevision::Any(), one).has_value());  // 0
  ASSERT_TRUE(s->Append("accounts", ExpectedRevision::Any(), one).has_value());   // 1
  std::vector<EventData> two = {Ev("Deposited"), Ev("Opened")};
  ASSERT_TRUE(s->Append("account-2", ExpectedRevision::Any(), two).has_value());    // 2, 3
  ASSERT_TRUE(s->Append("account-x-y", ExpectedRevision::Any(), one).has_value());  // 4
  EXPECT_EQ(Positions(s->ReadCategory("account", {})), (std::vector<uint64_t>{0, 2, 3, 4}));
  EXPECT_EQ(Positions(s->ReadEventType("Opened", {})), (std::vector<uint64_t>{0, 1, 3, 4}));
  auto bad = s->ReadCategory("account-1", {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "category 'account-1' must be non-empty and contain no '-'");
  auto empty = s->ReadEventType("", {});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(TagIndexTest, DeletedTagFilesAreRebuiltWithIdenticalAnswers) {
  std::vector<uint64_t> acct_before, b_before;
  {
    auto s = std::move(*NativeStore::Open(dir_.path(), Opts()));
    Fill(s.get());
    acct_before = Positions(s->ReadCategory("acct", {}));
    b_before = Positions(s->ReadEventType("B", {}));
    ASSERT_TRUE(s->Close().ok());
  }
  int removed = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_.Sub("index"))) {
    if (f.path().extension() == ".tag") removed += std::filesystem::remove(f.path()) ? 1 : 0;
  }
  ASSERT_GT(removed, 0);
  auto s = std::move(*NativeStore::Open(dir_.path(), Opts()));
  EXPECT_EQ(Positions(s->ReadCategory("acct", {})), acct_before);
  EXPECT_EQ(Positions(s->ReadEventType("B", {})), b_before);
  ExpectSameAsScan(s.get());
  int rebuilt = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_.Sub("index"))) {
    rebuilt += f.path().extension() == ".tag" ? 1 : 0;
  }
  EXPECT_GT(rebuilt, 0);
  VerifyReport rep;
  ASSERT_TRUE(s->Verify(&rep).ok());
  EXPECT_TRUE(rep.problems.empty());
}

}  // namespace
}  // namespace cairn
