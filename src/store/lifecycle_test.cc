// Stream metadata, retention at read time, soft delete and tombstones
// through the public Store API.
#include <gtest/gtest.h>

#include <filesystem>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"
#include "src/index/index_run.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::TempDir;

// (stream runs flagged kRunNoRetentionKeys, stream runs not flagged) in
// the store's index directory.
std::pair<int, int> RunFlags(const std::string& dir) {
  int flagged = 0, plain = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir + "/index")) {
    if (f.path().extension() != ".run") continue;
    auto run = index::IndexRun::Open(Env::Default(), f.path().string());
    EXPECT_TRUE(run.has_value()) << run.error().ToString();
    if (!run.has_value()) continue;
    ((*run)->info().flags & index::kRunNoRetentionKeys ? flagged : plain)++;
  }
  return {flagged, plain};
}

std::vector<uint64_t> Revisions(const Result<std::vector<RecordedEvent>>& r) {
  std::vector<uint64_t> out;
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  if (r.has_value()) {
    for (const auto& e : *r) out.push_back(e.revision.value());
  }
  return out;
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    o.memtable_entries = 32;  // runs, frozen and active tables all in play
    o.env = &env_;
    auto s = NativeStore::Open(dir_.path(), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  void Reopen() {
    ASSERT_TRUE(store_->Close().ok());
    store_.reset();
    Open();
  }
  void Add(const std::string& stream, int n, const std::string& type = "E") {
    std::vector<EventData> evs;
    for (int i = 0; i < n; ++i) evs.push_back(Ev(type));
    auto r = store_->Append(stream, ExpectedRevision::Any(), evs);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  Result<std::vector<RecordedEvent>> Read(const std::string& stream,
                                          Direction d = Direction::kForwards,
                                          std::optional<uint64_t> from = std::nullopt,
                                          uint64_t max = UINT64_MAX) {
    ReadStreamOptions o;
    o.direction = d;
    if (from) o.from = StreamRevision(*from);
    o.max_count = max;
    return store_->ReadStream(stream, o);
  }
  StreamMetadata Meta(std::optional<uint64_t> max_count, std::optional<uint64_t> tb,
                      std::string custom = "{}") {
    StreamMetadata m;
    m.max_count = max_count;
    m.truncate_before = tb;
    m.custom = std::move(custom);
    return m;
  }
  FaultInjectionEnv env_{Env::Default()};
  TempDir dir_;
  std::unique_ptr<NativeStore> store_;
};

TEST_F(LifecycleTest, MetadataIsVersionedWithAnExpectedRevision) {
  auto none = store_->GetStreamMetadata("order-1");
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_FALSE(none->revision.has_value());
  EXPECT_EQ(none->metadata.ToJson(), "{}");
  auto first = store_->SetStreamMetadata("order-1", ExpectedRevision::NoStream(),
                                         Meta(5, std::nullopt, R"({"owner":"ops","tier":2})"));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->stream, "$$order-1");
  EXPECT_EQ(first->revision, StreamRevision(0));
  auto again = store_->SetStreamMetadata("order-1", ExpectedRevision::NoStream(), Meta(6, 1));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kWrongExpectedRevision);
  ASSERT_NE(again.error().conflict(), nullptr);
  EXPECT_EQ(again.error().conflict()->stream, "$$order-1");
  EXPECT_EQ(again.error().conflict()->actual, std::optional<uint64_t>(0));
  auto second = store_->SetStreamMetadata("order-1", ExpectedRevision::Exact(StreamRevision(0)),
                                          Meta(6, 1, R"({"owner":"ops"})"));
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  auto got = store_->GetStreamMetadata("order-1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->revision, StreamRevision(1));
  EXPECT_EQ(got->metadata.max_count, std::optional<uint64_t>(6));
  EXPECT_EQ(got->metadata.truncate_before, std::optional<uint64_t>(1));
  EXPECT_EQ(got->metadata.custom, R"({"owner":"ops"})");
  EXPECT_EQ(got->metadata.ToJson(), R"({"$maxCount":6,"$tb":1,"owner":"ops"})");
  Reopen();
  EXPECT_EQ(store_->GetStreamMetadata("order-1")->revision, StreamRevision(1));
}

// Stream metadata is parsed and written again by a library that recurses
// per level: deep nesting is refused instead of running out of stack.
TEST_F(LifecycleTest, MetadataNestedPastTheLimitIsAnInvalidArgument) {
  auto nested = [](size_t depth) {
    return "{\"k\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  EXPECT_TRUE(StreamMetadata::Parse(nested(100)).has_value());
  for (size_t depth : {101, 100000}) {
    auto parsed = StreamMetadata::Parse(nested(depth));
    ASSERT_FALSE(parsed.has_value()) << depth;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message(), "stream metadata nests deeper than 100 levels");
    // "[" inside strings does not count.
  }
  EXPECT_TRUE(StreamMetadata::Parse("{\"k\":\"" + std::string(5000, '[') + "\"}").has_value());
  auto deep = store_->SetStreamMetadata("s-1", ExpectedRevision::Any(),
                                        Meta(std::nullopt, std::nullopt, nested(100000)));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LifecycleTest, BadMetadataIsAnInvalidArgumentNamingTheKey) {
  auto parsed = StreamMetadata::Parse(R"({"$maxAge":-5})");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parsed.error().message(),
            "stream metadata key '$maxAge' must be a non-negative integer");
  EXPECT_EQ(StreamMetadata::Parse("[1]").error().message(),
            "stream metadata must be a JSON object");
  EXPECT_EQ(StreamMetadata::Parse("{").error().message(), "stream metadata is not valid JSON");
  EXPECT_EQ(StreamMetadata::Parse(R"({"$maxCount":0})").error().message(),
            "stream metadata key '$maxCount' must be at least 1");
  auto bad = store_->SetStreamMetadata("s-1", ExpectedRevision::Any(), Meta(0, std::nullopt));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "stream metadata key '$maxCount' must be at least 1");
  auto custom = store_->SetStreamMetadata("s-1", ExpectedRevision::Any(),
                                          Meta(std::nullopt, std::nullopt, R"({"$tb":3})"));
  ASSERT_FALSE(custom.has_value());
  EXPECT_EQ(custom.error().code(), ErrorCode::kInvalidArgument);
  // Users cannot write system streams or system event types directly.
  auto meta_stream =
      store_->Append("$$s-1", ExpectedRevision::Any(), std::vector<EventData>{Ev("X")});
  ASSERT_FALSE(meta_stream.has_value());
  EXPECT_EQ(meta_stream.error().code(), ErrorCode::kInvalidArgument);
  auto sys_type =
      store_->Append("s-1", ExpectedRevision::Any(), std::vector<EventData>{Ev("$metadata")});
  ASSERT_FALSE(sys_type.has_value());
  EXPECT_EQ(sys_type.error().message(),
            "stream 's-1' event 0: event type '$metadata': types starting with '$' are reserved "
            "for the system");
}

TEST_F(LifecycleTest, MaxCountAndTruncateBeforeHideEventsAtOnce) {
  Add("acct-1", 10);
  Add("acct-2", 2);
  ASSERT_TRUE(store_->SetStreamMetadata("acct-1", ExpectedRevision::Any(), Meta(3, std::nullopt))
                  .has_value());
  EXPECT_EQ(Revisions(Read("acct-1")), (std::vector<uint64_t>{7, 8, 9}));
  EXPECT_EQ(Revisions(Read("acct-1", Direction::kBackwards, std::nullopt, 2)),
            (std::vector<uint64_t>{9, 8}));
  EXPECT_EQ(Revisions(Read("acct-1", Direction::kForwards, 2)), (std::vector<uint64_t>{7, 8, 9}));
  EXPECT_EQ(Revisions(Read("acct-1", Direction::kBackwards, 5)), (std::vector<uint64_t>{}));
  EXPECT_EQ(Revisions(Read("acct-1", Direction::kForwards, 8, 1)), (std::vector<uint64_t>{8}));
  ASSERT_TRUE(store_->SetStreamMetadata("acct-1", ExpectedRevision::Any(), Meta(3, 8)).has_value());
  EXPECT_EQ(Revisions(Read("acct-1")), (std::vector<uint64_t>{8, 9}));
  // Category and type reads apply it too; $all shows everything stored.
  // In $all order: acct-1 8, 9 (positions 8, 9), then acct-2 0, 1 (positions 10, 11).
  EXPECT_EQ(Revisions(store_->ReadCategory("acct", {})), (std::vector<uint64_t>{8, 9, 0, 1}));
  EXPECT_EQ(Revisions(store_->ReadEventType("E", {})), (std::vector<uint64_t>{8, 9, 0, 1}));
  EXPECT_EQ(store_->ReadAll(ReadAllOptions{})->size(), 14u);  // 12 events + 2 metadata
  // The stream still exists with its real last revision; appends continue.
  EXPECT_EQ(store_->GetStreamInfo("acct-1")->last_revision, StreamRevision(9));
  Add("acct-1", 1);
  EXPECT_EQ(Revisions(Read("acct-1")), (std::vector<uint64_t>{8, 9, 10}));
  Reopen();
  EXPECT_EQ(Revisions(Read("acct-1")), (std::vector<uint64_t>{8, 9, 10}));
  // Truncating everything leaves an existing, empty stream.
  ASSERT_TRUE(store_->SetStreamMetadata("acct-2", ExpectedRevision::Any(), Meta(std::nullopt, 2))
                  .has_value());
  auto empty = Read("acct-2");
  ASSERT_FALSE(empty.has_value());  // "$tb" past the end is a soft delete
  EXPECT_EQ(empty.error().code(), ErrorCode::kNotFound);
}

TEST_F(LifecycleTest, MaxAgeHidesOldEvents) {
  Add("temp-1", 2);
  env_.AdvanceClock(int64_t{100} * 1000000000);  // 100 s later
  Add("temp-1", 1);
  StreamMetadata m;
  m.max_age_seconds = 50;
  ASSERT_TRUE(store_->SetStreamMetadata("temp-1", ExpectedRevision::Any(), m).has_value());
  EXPECT_EQ(Revisions(Read("temp-1")), (std::vector<uint64_t>{2}));
  EXPECT_EQ(Revisions(Read("temp-1", Direction::kBackwards, std::nullopt, 5)),
            (std::vector<uint64_t>{2}));
  EXPECT_EQ(Revisions(store_->ReadCategory("temp", {})), (std::vector<uint64_t>{2}));
  env_.AdvanceClock(int64_t{60} * 1000000000);
  EXPECT_EQ(Revisions(Read("temp-1")), (std::vector<uint64_t>{}));  // exists, all expired
}

TEST_F(LifecycleTest, SoftDeleteHidesThenRecreationContinuesTheNumbering) {
  Add("cart-1", 3, "Added");
  StreamMetadata custom;
  custom.custom = R"({"owner":"web"})";
  ASSERT_TRUE(
      store_->SetStreamMetadata("cart-1", ExpectedRevision::NoStream(), custom).has_value());
  auto wrong = store_->DeleteStream("cart-1", ExpectedRevision::Exact(StreamRevision(1)));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kWrongExpectedRevision);
  EXPECT_EQ(wrong.error().conflict()->expected, "1");
  EXPECT_EQ(wrong.error().conflict()->actual, std::optional<uint64_t>(2));
  auto del = store_->DeleteStream("cart-1", ExpectedRevision::Exact(StreamRevision(2)));
  ASSERT_TRUE(del.has_value()) << del.error().ToString();
  EXPECT_EQ(Read("cart-1").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetStreamInfo("cart-1").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Revisions(store_->ReadCategory("cart", {})), (std::vector<uint64_t>{}));
  EXPECT_EQ(store_->DeleteStream("cart-1", ExpectedRevision::Any()).error().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteStream("never-1", ExpectedRevision::Any()).error().code(),
            ErrorCode::kNotFound);
  // Other metadata survives the delete.
  auto meta = store_->GetStreamMetadata("cart-1");
  EXPECT_EQ(meta->metadata.ToJson(), R"({"$tb":3,"owner":"web"})");
  // "exists" fails, "no stream" recreates; revisions continue at 3.
  auto exists = store_->Append("cart-1", ExpectedRevision::StreamExists(),
                               std::vector<EventData>{Ev("Added")});
  ASSERT_FALSE(exists.has_value());
  EXPECT_EQ(exists.error().code(), ErrorCode::kWrongExpectedRevision);
  Reopen();
  auto again = store_->Append("cart-1", ExpectedRevision::NoStream(),
                              std::vector<EventData>{Ev("Added"), Ev("Paid")});
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->revision, StreamRevision(4));
  EXPECT_EQ(Revisions(Read("cart-1")), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(Revisions(store_->ReadCategory("cart", {})), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(store_->GetStreamInfo("cart-1")->last_revision, StreamRevision(4));
}

// Category and type reads skip the retention lookup of a stream whose
// metadata stream and tombstone every Bloom filter and memtable rules out;
// a tombstone, "$maxCount" or soft delete in another run than the events (or
// still in the memtable) must still hide them.
TEST_F(LifecycleTest, CategoryReadsApplyDeletesAndMetadataHeldInOtherRuns) {
  Add("user-1", 2);
  Add("user-2", 3);
  Add("user-3", 2);
  Add("user-4", 1);
  Reopen();  // the events in one run
  // That run holds no metadata or tombstone: category reads skip its filter.
  EXPECT_EQ(RunFlags(dir_.path()), std::make_pair(1, 0));
  ASSERT_TRUE(store_->TombstoneStream("user-1", ExpectedRevision::Any()).has_value());
  ASSERT_TRUE(store_->SetStreamMetadata("user-2", ExpectedRevision::Any(), Meta(1, std::nullopt))
                  .has_value());
  ASSERT_TRUE(store_->DeleteStream("user-3", ExpectedRevision::Any()).has_value());
  // In $all order: user-2 @2 (position 4), user-4 @0 (position 7).
  EXPECT_EQ(Revisions(store_->ReadCategory("user", {})),
            (std::vector<uint64_t>{2, 0}));  // memtable
  EXPECT_EQ(Revisions(store_->ReadEventType("E", {})), (std::vector<uint64_t>{2, 0}));
  Reopen();  // the deletes and the metadata in a second run
  EXPECT_EQ(RunFlags(dir_.path()), std::make_pair(1, 1));  // which must not be skipped
  EXPECT_EQ(Revisions(store_->ReadCategory("user", {})), (std::vector<uint64_t>{2, 0}));
  Add("user-2", 1);
  Add("user-4", 1);
  EXPECT_EQ(Revisions(store_->ReadCategory("user", {})), (std::vector<uint64_t>{0, 3, 1}));
  Reopen();  // and the last events in a third
  EXPECT_EQ(Revisions(store_->ReadCategory("user", {})), (std::vector<uint64_t>{0, 3, 1}));
  ReadAllOptions back;
  back.direction = Direction::kBackwards;
  EXPECT_EQ(Revisions(store_->ReadCategory("user", back)), (std::vector<uint64_t>{1, 3, 0}));
}

TEST_F(LifecycleTest, TombstoneIsForever) {
  Add("user-1", 2);
  auto wrong = store_->TombstoneStream("user-1", ExpectedRevision::NoStream());
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kWrongExpectedRevision);
  auto t = store_->TombstoneStream("user-1", ExpectedRevision::Exact(StreamRevision(1)));
  ASSERT_TRUE(t.has_value()) << t.error().ToString();
  EXPECT_EQ(t->revision, StreamRevision(StreamRevision::kTombstone));
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(Read("user-1").error().code(), ErrorCode::kStreamDeleted);
    EXPECT_EQ(Read("user-1").error().message(), "stream 'user-1' is deleted (tombstoned)");
    EXPECT_EQ(store_->GetStreamInfo("user-1").error().code(), ErrorCode::kStreamDeleted);
    EXPECT_EQ(store_->GetStreamMetadata("user-1").error().code(), ErrorCode::kStreamDeleted);
    for (auto e : {ExpectedRevision::Any(), ExpectedRevision::NoStream(),
                   ExpectedRevision::StreamExists(), ExpectedRevision::Exact(StreamRevision(1))}) {
      auto a = store_->Append("user-1", e, std::vector<EventData>{Ev("E")});
      ASSERT_FALSE(a.has_value());
      EXPECT_EQ(a.error().code(), ErrorCode::kStreamDeleted) << e.ToString();
    }
    EXPECT_EQ(store_->SetStreamMetadata("user-1", ExpectedRevision::Any(), {}).error().code(),
              ErrorCode::kStreamDeleted);
    EXPECT_EQ(store_->DeleteStream("user-1", ExpectedRevision::Any()).error().code(),
              ErrorCode::kStreamDeleted);
    EXPECT_EQ(store_->TombstoneStream("user-1", ExpectedRevision::Any()).error().code(),
              ErrorCode::kStreamDeleted);
    EXPECT_EQ(Revisions(store_->ReadCategory("user", {})), (std::vector<uint64_t>{}));
    // A multi-stream append naming it fails whole.
    StreamAppend ok{"user-2", ExpectedRevision::Any(), {Ev("E")}};
    StreamAppend dead{"user-1", ExpectedRevision::Any(), {Ev("E")}};
    auto multi = store_->AppendMulti(std::vector<StreamAppend>{ok, dead});
    ASSERT_FALSE(multi.has_value());
    EXPECT_EQ(multi.error().code(), ErrorCode::kStreamDeleted);
    EXPECT_EQ(store_->GetStreamInfo("user-2").error().code(), ErrorCode::kNotFound);
    Reopen();
  }
  // $all keeps the events and shows the tombstone.
  auto all = store_->ReadAll(ReadAllOptions{});
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].type, "$streamDeleted");
  EXPECT_EQ((*all)[2].stream, "user-1");
  EXPECT_EQ((*all)[2].revision, StreamRevision(StreamRevision::kTombstone));
  // A stream that never existed can be tombstoned, so it is never created.
  ASSERT_TRUE(store_->TombstoneStream("ghost-1", ExpectedRevision::NoStream()).has_value());
  EXPECT_EQ(store_->Append("ghost-1", ExpectedRevision::NoStream(), std::vector<EventData>{Ev("E")})
                .error()
                .code(),
            ErrorCode::kStreamDeleted);
  VerifyReport rep;
  ASSERT_TRUE(store_->Verify(&rep).ok());
  EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].what;
}

TEST_F(LifecycleTest, StreamSubscriptionOfATombstonedStreamEndsWithStreamDeleted) {
  Add("job-1", 1);
  auto sub = store_->Subscribe(SubscribeOptions::Stream("job-1"));
  ASSERT_TRUE(sub.has_value());
  auto m = (*sub)->Next(std::chrono::milliseconds(1000));
  ASSERT_TRUE(m.has_value() && m->has_value());
  EXPECT_EQ((*m)->kind, SubscriptionMessage::Kind::kEvent);
  ASSERT_TRUE(store_->TombstoneStream("job-1", ExpectedRevision::Any()).has_value());
  for (int i = 0; i < 3; ++i) {
    m = (*sub)->Next(std::chrono::milliseconds(1000));
    if (!m.has_value()) break;
  }
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), ErrorCode::kStreamDeleted);
}

std::string Describe(const std::vector<StreamSummary>& v) {
  std::string out;
  for (const auto& x : v) {
    const char* state = x.state == StreamState::kLive          ? "live"
                        : x.state == StreamState::kSoftDeleted ? "soft"
                                                               : "tomb";
    out += x.stream + "@" + std::to_string(x.created.value()) + ":" + state + ":" +
           std::to_string(x.event_count) + " ";
  }
  return out;
}

TEST_F(LifecycleTest, ListStreamsInCreationOrderWithPrefixPagingAndStates) {
  Add("acct-1", 3);   // positions 0-2
  Add("order-1", 1);  // 3
  Add("acct-2", 2);   // 4-5
  Add("plain", 1);    // 6
  Add("acct-3", 2);   // 7-8
  Add("acct-4", 1);   // 9
  ASSERT_TRUE(store_->SetStreamMetadata("acct-1", ExpectedRevision::Any(), Meta(2, std::nullopt))
                  .has_value());
  ASSERT_TRUE(store_->TombstoneStream("acct-3", ExpectedRevision::Any()).has_value());
  ASSERT_TRUE(store_->DeleteStream("acct-4", ExpectedRevision::Any()).has_value());
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ListStreamsOptions all;
    EXPECT_EQ(Describe(*store_->ListStreams(all)),
              "acct-1@0:live:2 order-1@3:live:1 acct-2@4:live:2 plain@6:live:1 acct-3@7:tomb:0 "
              "acct-4@9:soft:0 ");
    ListStreamsOptions page;
    page.limit = 2;
    auto first = store_->ListStreams(page);
    EXPECT_EQ(Describe(*first), "acct-1@0:live:2 order-1@3:live:1 ");
    page.after = first->back().created;
    EXPECT_EQ(Describe(*store_->ListStreams(page)), "acct-2@4:live:2 plain@6:live:1 ");
    for (std::string prefix : {"acct-", "ac"}) {
      ListStreamsOptions p;
      p.prefix = prefix;
      EXPECT_EQ(Describe(*store_->ListStreams(p)),
                "acct-1@0:live:2 acct-2@4:live:2 acct-3@7:tomb:0 acct-4@9:soft:0 ")
          << prefix;
      p.include_deleted = false;
      EXPECT_EQ(Describe(*store_->ListStreams(p)), "acct-1@0:live:2 acct-2@4:live:2 ") << prefix;
    }
    ListStreamsOptions one;
    one.prefix = "acct-2";
    auto x = store_->ListStreams(one);
    ASSERT_EQ(x->size(), 1u);
    EXPECT_EQ((*x)[0].last_revision, StreamRevision(1));
    EXPECT_EQ((*x)[0].last_position, Position(5));
    EXPECT_EQ(*store_->Count(CountOf::All()), 13u);  // 10 events, 2 metadata events, 1 tombstone
    EXPECT_EQ(*store_->Count(CountOf::Stream("acct-1")), 2u);
    EXPECT_EQ(*store_->Count(CountOf::Stream("order-1")), 1u);
    EXPECT_EQ(store_->Count(CountOf::Stream("acct-3")).error().code(), ErrorCode::kStreamDeleted);
    EXPECT_EQ(store_->Count(CountOf::Stream("acct-4")).error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(*store_->Count(CountOf::Category("acct")), 4u);  // acct-1: 2 visible, acct-2: 2
    EXPECT_EQ(*store_->Count(CountOf::Category("none")), 0u);
    if (round == 0) {
      Reopen();  // everything in runs
    } else if (round == 1) {
      // The creation tags come back when the tag index is rebuilt.
      ASSERT_TRUE(store_->Close().ok());
      store_.reset();
      for (const auto& f : std::filesystem::directory_iterator(dir_.Sub("index"))) {
        if (f.path().extension() == ".tag") std::filesystem::remove(f.path());
      }
      Open();
    }
  }
}

}  // namespace
}  // namespace cairn
