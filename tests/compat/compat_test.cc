// Format compatibility: the v1 golden store (tests/compat/v1) must open and
// read back exactly the events it was written with. The golden has three log
// segments, checkpointed runs, event-id runs and an unindexed tail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

constexpr int kEvents = 60;

NativeOptions GoldenOptions() {
  NativeOptions o;
  o.segment_bytes = 2048;   // several segments
  o.memtable_entries = 16;  // several runs, the last ones unflushed
  return o;
}

std::string Data(int i) { return "{\"n\":" + std::to_string(i) + "}"; }
std::string Stream(int i) { return "golden-" + std::to_string(i % 4); }

// Writes the golden store. Run by hand for a new format version only.
void WriteGolden(const std::string& dir) {
  std::filesystem::remove_all(dir);
  auto store = NativeStore::Open(dir, GoldenOptions());
  ASSERT_TRUE(store.has_value());
  for (int i = 0; i < kEvents; ++i) {
    EventData e = testing::EvId("Golden" + std::to_string(i % 3), testing::NthUuid(i + 1), Data(i));
    if (i % 5 == 0) e.metadata = "{\"m\":" + std::to_string(i) + "}";
    if (i % 7 == 0) e.content_type = ContentType::kBinary;
    std::vector<EventData> one = {e};
    ASSERT_TRUE((*store)->Append(Stream(i), ExpectedRevision::Any(), one).has_value());
  }
  // Leave the store as a crash would (the memtable tail unindexed): the
  // golden then also exercises tail replay. The lock is released by exit.
  testing::AbandonAsCrashed(std::move(*store));
  std::filesystem::remove(dir + "/LOCK");
}

TEST(CompatTest, V1GoldenStoreReadsBackExactly) {
  if (const char* out = std::getenv("CAIRN_WRITE_GOLDEN")) {
    WriteGolden(out);
    GTEST_SKIP() << "wrote the golden store to " << out;
  }
  testing::TempDir tmp;
  std::filesystem::copy(CAIRN_GOLDEN_DIR, tmp.Sub("store"),
                        std::filesystem::copy_options::recursive);
  auto store = NativeStore::Open(tmp.Sub("store"), GoldenOptions());
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto all = (*store)->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    const RecordedEvent& e = (*all)[i];
    EXPECT_EQ(e.position.value(), static_cast<uint64_t>(i));
    EXPECT_EQ(e.stream, Stream(i));
    EXPECT_EQ(e.revision.value(), static_cast<uint64_t>(i / 4));
    EXPECT_EQ(e.type, "Golden" + std::to_string(i % 3));
    EXPECT_EQ(e.id.ToString(), testing::NthUuid(i + 1));
    EXPECT_EQ(e.data, Data(i));
    EXPECT_EQ(e.metadata, i % 5 == 0 ? "{\"m\":" + std::to_string(i) + "}" : "");
    EXPECT_EQ(e.content_type, i % 7 == 0 ? ContentType::kBinary : ContentType::kJson);
    EXPECT_GT(e.created_ns, 1'700'000'000'000'000'000);
  }
  auto g2 = (*store)->ReadStream("golden-2", ReadStreamOptions{});
  ASSERT_TRUE(g2.has_value());
  ASSERT_EQ(g2->size(), 15u);
  EXPECT_EQ((*g2)[14].position.value(), 58u);
  VerifyReport report;
  ASSERT_TRUE((*store)->Verify(&report).ok());
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(report.events_checked, static_cast<uint64_t>(kEvents));
  // A retried append of a golden event is recognised through the id runs.
  EventData again = testing::EvId("Golden1", testing::NthUuid(2), Data(1));
  std::vector<EventData> one = {again};
  auto dup = (*store)->Append(Stream(1), ExpectedRevision::Any(), one);
  ASSERT_TRUE(dup.has_value());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->position.value(), 1u);
}

// A version 1 store has no category/type index: a writer builds it at open
// (and writes a version 2 manifest); a reader answers from a scan meanwhile.
TEST(CompatTest, V1GoldenStoreGetsItsTagIndex) {
  testing::TempDir tmp;
  std::filesystem::copy(CAIRN_GOLDEN_DIR, tmp.Sub("store"),
                        std::filesystem::copy_options::recursive);
  std::vector<uint64_t> all, golden1;
  for (int i = 0; i < kEvents; ++i) {
    all.push_back(static_cast<uint64_t>(i));
    if (i % 3 == 1) golden1.push_back(static_cast<uint64_t>(i));
  }
  auto positions = [](const Result<std::vector<RecordedEvent>>& r) {
    std::vector<uint64_t> out;
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (r.has_value()) {
      for (const auto& e : *r) out.push_back(e.position.value());
    }
    return out;
  };
  {
    NativeOptions ro = GoldenOptions();
    ro.read_only = true;
    auto reader = NativeStore::Open(tmp.Sub("store"), ro);
    ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
    EXPECT_EQ(positions((*reader)->ReadCategory("golden", {})), all);
    EXPECT_EQ(positions((*reader)->ReadEventType("Golden1", {})), golden1);
  }
  auto store = NativeStore::Open(tmp.Sub("store"), GoldenOptions());
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_EQ(positions((*store)->ReadCategory("golden", {})), all);
  EXPECT_EQ(positions((*store)->ReadEventType("Golden1", {})), golden1);
  VerifyReport report;
  ASSERT_TRUE((*store)->Verify(&report).ok());
  EXPECT_TRUE(report.problems.empty());
  // The golden's indexed part is now in .tag runs named by a v2 manifest.
  int tags = 0;
  for (const auto& f : std::filesystem::directory_iterator(tmp.Sub("store/index"))) {
    tags += f.path().extension() == ".tag" ? 1 : 0;
  }
  EXPECT_GT(tags, 0);
}

}  // namespace
}  // namespace cairn
