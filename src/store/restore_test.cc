// Store::Restore: events of a backup come back with their revisions,
// positions, ids and creation times, holes included (docs/format/log.md).
#include <gtest/gtest.h>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

using testing::TempDir;

RestoreEvent At(std::string stream, uint64_t revision, uint64_t position, int64_t created,
                std::string type = "E", std::string data = "{}") {
  RestoreEvent r;
  r.stream = std::move(stream);
  r.revision = StreamRevision(revision);
  r.position = Position(position);
  r.created_ns = created;
  r.event.id = *Uuid::Parse(testing::NthUuid(position + 1));
  r.event.type = std::move(type);
  r.event.data = std::move(data);
  return r;
}

// "stream@revision:position" of each event read.
std::string Where(const Result<std::vector<RecordedEvent>>& r) {
  if (!r.has_value()) return r.error().ToString();
  std::string out;
  for (const auto& e : *r) {
    out += e.stream + "@" + std::to_string(e.revision.value()) + ":" +
           std::to_string(e.position.value()) + " ";
  }
  return out;
}

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    o.memtable_entries = 8;
    auto s = NativeStore::Open(dir_.path(), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  void Reopen() {
    ASSERT_TRUE(store_->Close().ok());
    store_.reset();
    Open();
  }
  // A backup of a store that had a scavenge and lifecycle changes: acct-1
  // lost revisions 0..1 (its "$tb" is 2), its first event left carries the
  // stream's creation; cart-1 is plain; gone-1 holds only its tombstone;
  // the positions between are holes.
  std::vector<RestoreEvent> Backup() {
    std::vector<RestoreEvent> b;
    b.push_back(At("acct-1", 2, 5, 1000, "Deposited", R"({"n":2})"));
    b.push_back(At("cart-1", 0, 6, 1000));
    b.push_back(At("acct-1", 3, 9, 2000, "Deposited", R"({"n":3})"));
    b.push_back(At("$$acct-1", 0, 12, 2000, "$metadata", R"({"$tb":2})"));
    RestoreEvent tomb = At("gone-1", StreamRevision::kTombstone, 13, 3000, "$streamDeleted");
    tomb.caller_id = false;
    b.push_back(tomb);
    b.push_back(At("cart-1", 1, 20, 4000));
    return b;
  }

  TempDir dir_;
  std::unique_ptr<NativeStore> store_;
};

TEST_F(RestoreTest, AnEmptyStoreGetsBackRevisionsPositionsIdsTimesAndHoles) {
  const std::vector<RestoreEvent> backup = Backup();
  auto r = store_->Restore(backup);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->written, 6u);
  EXPECT_EQ(r->duplicates, 0u);
  EXPECT_EQ(r->moved, 0u);
  EXPECT_EQ(r->last_position, Position(20));
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round == 0   ? "restored"
                 : round == 1 ? "reopened (tail replayed)"
                              : "checkpointed");
    auto all = store_->ReadAll(ReadAllOptions{});
    ASSERT_TRUE(all.has_value()) << all.error().ToString();
    EXPECT_EQ(Where(all),
              "acct-1@2:5 cart-1@0:6 acct-1@3:9 $$acct-1@0:12 gone-1@9223372036854775807:13 "
              "cart-1@1:20 ");
    ASSERT_EQ(all->size(), backup.size());
    for (size_t i = 0; i < backup.size(); ++i) {
      EXPECT_EQ((*all)[i].id, *backup[i].event.id) << i;
      EXPECT_EQ((*all)[i].created_ns, *backup[i].created_ns) << i;
      EXPECT_EQ((*all)[i].data, backup[i].event.data) << i;
      EXPECT_EQ((*all)[i].type, backup[i].event.type) << i;
      EXPECT_EQ((*all)[i].caller_id, backup[i].caller_id) << i;
    }
    EXPECT_EQ(store_->HeadPosition()->value(), 21u);
    EXPECT_EQ(*store_->Count(CountOf::All()), 6u);
    EXPECT_EQ(store_->Stats()->events, 6u);
    // acct-1, cart-1, $$acct-1 and gone-1 (its tombstone is its creation).
    EXPECT_EQ(store_->Stats()->streams, 4u);
    EXPECT_EQ(Where(store_->ReadStream("acct-1", ReadStreamOptions{})), "acct-1@2:5 acct-1@3:9 ");
    auto meta = store_->GetStreamMetadata("acct-1");
    ASSERT_TRUE(meta.has_value()) << meta.error().ToString();
    EXPECT_EQ(meta->metadata.truncate_before, 2u);
    EXPECT_EQ(store_->ReadStream("gone-1", ReadStreamOptions{}).error().code(),
              ErrorCode::kStreamDeleted);
    auto listed = store_->ListStreams(ListStreamsOptions{});
    ASSERT_TRUE(listed.has_value());
    std::string names;
    for (const auto& l : *listed) names += l.stream + "@" + std::to_string(l.created.value()) + " ";
    EXPECT_EQ(names, "acct-1@5 cart-1@6 gone-1@13 ");
    EXPECT_EQ(Where(store_->ReadCategory("acct", ReadAllOptions{})), "acct-1@2:5 acct-1@3:9 ");
    ReadAllOptions from_hole;
    from_hole.from = Position(14);
    EXPECT_EQ(Where(store_->ReadAll(from_hole)), "cart-1@1:20 ");
    from_hole.direction = Direction::kBackwards;
    from_hole.from = Position(11);
    from_hole.max_count = 2;
    EXPECT_EQ(Where(store_->ReadAll(from_hole)), "acct-1@3:9 cart-1@0:6 ");
    VerifyReport v;
    ASSERT_TRUE(store_->Verify(&v).ok());
    for (const auto& p : v.problems) ADD_FAILURE() << p.file << " " << p.offset << ": " << p.what;
    EXPECT_EQ(v.events_checked, 6u);
    if (round == 0) Reopen();
    if (round == 1) {
      ASSERT_TRUE(store_->Checkpoint().ok());
      Reopen();
    }
  }
  // Appends continue after the restored events.
  std::vector<EventData> one = {testing::Ev("Deposited")};
  auto a = store_->Append("acct-1", ExpectedRevision::Exact(StreamRevision(3)), one);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->revision, StreamRevision(4));
  EXPECT_EQ(a->position, Position(21));
  EXPECT_EQ(*store_->Count(CountOf::All()), 7u);
}

TEST_F(RestoreTest, AReaderFollowsARestoreAndCountsItsHoles) {
  NativeOptions ro;
  ro.read_only = true;
  auto reader = NativeStore::Open(dir_.path(), ro);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  const std::vector<RestoreEvent> backup = Backup();
  ASSERT_TRUE(store_->Restore(backup).has_value());
  EXPECT_EQ(Where((*reader)->ReadAll(ReadAllOptions{})),
            "acct-1@2:5 cart-1@0:6 acct-1@3:9 $$acct-1@0:12 gone-1@9223372036854775807:13 "
            "cart-1@1:20 ");
  EXPECT_EQ(*(*reader)->Count(CountOf::All()), 6u);
  EXPECT_EQ((*reader)->HeadPosition()->value(), 21u);
}

TEST_F(RestoreTest, ARestoreRunAgainSkipsWhatIsStoredAndWritesTheRest) {
  const std::vector<RestoreEvent> backup = Backup();
  // Interrupted after three events, then run again whole.
  auto first = store_->Restore(std::span<const RestoreEvent>(backup).first(3));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->written, 3u);
  Reopen();
  auto again = store_->Restore(backup);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->duplicates, 3u);
  EXPECT_EQ(again->written, 3u);
  EXPECT_EQ(Where(store_->ReadAll(ReadAllOptions{})),
            "acct-1@2:5 cart-1@0:6 acct-1@3:9 $$acct-1@0:12 gone-1@9223372036854775807:13 "
            "cart-1@1:20 ");
  // And once more: everything is a duplicate, nothing is written.
  auto third = store_->Restore(backup);
  ASSERT_TRUE(third.has_value()) << third.error().ToString();
  EXPECT_EQ(third->duplicates, 6u);
  EXPECT_EQ(third->written, 0u);
  EXPECT_EQ(third->last_position, std::nullopt);
  EXPECT_EQ(store_->HeadPosition()->value(), 21u);
}

TEST_F(RestoreTest, ARevisionNotAboveTheStreamsLastIsRefusedNamingTheEvent) {
  ASSERT_TRUE(store_->Restore(Backup()).has_value());
  // Revision 3 of acct-1 is stored with another id.
  std::vector<RestoreEvent> bad = {At("cart-1", 2, 30, 5000), At("acct-1", 3, 31, 5000)};
  size_t failed = 99;
  auto r = store_->Restore(bad, &failed);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "restored event 1 (stream 'acct-1'): revision 3 is not above the stream's last "
            "revision 3 (and no event with this id is stored there)");
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(store_->HeadPosition()->value(), 21u);  // nothing of the call was written
  // A tombstoned stream takes nothing more.
  failed = 99;
  r = store_->Restore(std::vector<RestoreEvent>{At("gone-1", 0, 40, 5000)}, &failed);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kStreamDeleted);
  EXPECT_EQ(failed, 0u);
}

TEST_F(RestoreTest, StaticChecksNameTheEvent) {
  struct Case {
    RestoreEvent event;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({At("$x", 0, 1, 1),
                   "restored event 1 (stream '$x'): the only reserved streams "
                   "are \"$$<stream>\" metadata"});
  cases.push_back({At("$$x", 0, 1, 1, "E"),
                   "restored event 1 (stream '$$x'): a metadata stream "
                   "holds only \"$metadata\" events, not 'E'"});
  cases.push_back({At("$$x", 0, 1, 1, "$metadata", "[1]"),
                   "restored event 1 (stream '$$x'): stream metadata must be a JSON object"});
  cases.push_back({At("x", 0, 1, 1, "$other"),
                   "restored event 1 (stream 'x'): event type '$other' is reserved (only "
                   "\"$metadata\" in \"$$<stream>\" and \"$streamDeleted\" are restored)"});
  cases.push_back({At("x", 5, 1, 1, "$streamDeleted"),
                   "restored event 1 (stream 'x'): a tombstone (\"$streamDeleted\") has revision "
                   "9223372036854775807, not 5"});
  cases.push_back({At("x", StreamRevision::kTombstone, 1, 1, "E"),
                   "restored event 1 (stream 'x'): revision 9223372036854775807 is not below the "
                   "tombstone's (9223372036854775807)"});
  cases.push_back({At("x", 1, 0, 1, "E"),
                   "restored event 1 (stream 'x'): position 0 is not above the position of the "
                   "event before it (0): events are restored in $all order"});
  for (const Case& c : cases) {
    std::vector<RestoreEvent> events = {At("ok-1", 0, 0, 1), c.event};
    size_t failed = 99;
    auto r = store_->Restore(events, &failed);
    ASSERT_FALSE(r.has_value()) << c.message;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message().substr(0, c.message.size()), c.message);
    EXPECT_EQ(failed, 1u) << c.message;
  }
  EXPECT_EQ(store_->HeadPosition()->value(), 0u);
}

TEST_F(RestoreTest, PositionsAlreadyPassedMoveToTheNextAndEmptyFieldsAreChosenAsAnAppendWould) {
  std::vector<EventData> two = {testing::Ev("E"), testing::EvId("E", testing::NthUuid(77))};
  ASSERT_TRUE(store_->Append("s-1", ExpectedRevision::Any(), two).has_value());  // positions 0, 1
  std::vector<RestoreEvent> events;
  events.push_back(At("t-1", 0, 1, 1000));  // position 1 is taken: goes to 2
  events.push_back(At("t-1", 1, 7, 1000));  // kept
  RestoreEvent plain;                       // after s-1's last revision, next position
  plain.stream = "s-1";
  plain.event.type = "E";
  events.push_back(plain);
  RestoreEvent retried = plain;  // s-1 already holds this caller id: a duplicate
  retried.event.id = *Uuid::Parse(testing::NthUuid(77));
  events.push_back(retried);
  RestoreEvent tomb;  // no revision: the tombstone's
  tomb.stream = "t-1";
  tomb.event.type = "$streamDeleted";
  events.push_back(tomb);
  auto r = store_->Restore(events);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->written, 4u);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(r->moved, 1u);
  EXPECT_EQ(Where(store_->ReadAll(ReadAllOptions{})),
            "s-1@0:0 s-1@1:1 t-1@0:2 t-1@1:7 s-1@2:8 t-1@9223372036854775807:9 ");
  auto all = store_->ReadAll(ReadAllOptions{});
  EXPECT_EQ((*all)[2].created_ns, 1000);
  EXPECT_GT((*all)[4].created_ns, 1000);  // the time of the restore
  EXPECT_FALSE((*all)[4].caller_id);      // its id was made by the engine
  EXPECT_EQ(*store_->Count(CountOf::All()), 6u);
}

TEST_F(RestoreTest, ASoftDeletedStreamRestoredFromItsScrubbedLastEventIsRecreatedAfterIt) {
  // What a scavenged soft-deleted stream leaves: its last event (scrubbed,
  // hidden by "$tb") and its metadata.
  std::vector<RestoreEvent> events;
  events.push_back(At("s-1", 4, 10, 1000, "E", ""));
  events.push_back(At("$$s-1", 1, 11, 1000, "$metadata", R"({"$tb":5})"));
  ASSERT_TRUE(store_->Restore(events).has_value());
  EXPECT_EQ(store_->ReadStream("s-1", ReadStreamOptions{}).error().code(), ErrorCode::kNotFound);
  std::vector<EventData> one = {testing::Ev("E")};
  auto a = store_->Append("s-1", ExpectedRevision::NoStream(), one);
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->revision, StreamRevision(5));
  EXPECT_EQ(Where(store_->ReadStream("s-1", ReadStreamOptions{})), "s-1@5:12 ");
}

}  // namespace
}  // namespace cairn
