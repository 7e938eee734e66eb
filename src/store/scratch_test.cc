// Scratch files of an operation that fails (a full disk while writing an
// index run or rewriting segments) are removed at once: they used to stay
// until the next writer open, holding the space the user was freeing (L6 of
// the hostile-user report).
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Ev;
using testing::TempDir;

// Files under `dir` whose name ends with `suffix`.
std::vector<std::string> Scratch(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().string().ends_with(suffix)) out.push_back(e.path().string());
  }
  return out;
}

class ScratchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    o.segment_bytes = 4096;
    o.env = &env_;
    auto s = NativeStore::Open(dir_.path(), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  void Append(const std::string& stream, int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<EventData> one = {Ev("E", R"({"pad":"0123456789012345678901234567890"})")};
      ASSERT_TRUE(store_->Append(stream, ExpectedRevision::Any(), one).has_value());
    }
  }

  TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
  std::unique_ptr<NativeStore> store_;
};

TEST_F(ScratchTest, AFailedCheckpointLeavesNoTemporaryRunFile) {
  Append("acct-1", 50);
  env_.FailSyncsOf(".run.tmp", ENOSPC);  // every index run fails to be written
  Status s = store_->Checkpoint();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNoSpace) << s.ToString();
  EXPECT_EQ(Scratch(dir_.path(), ".tmp"), std::vector<std::string>{});
  env_.ClearFaults();  // room again
  // The next checkpoint works and the store is whole.
  Status again = store_->Checkpoint();
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(*store_->Count(CountOf::All()), 50u);
}

TEST_F(ScratchTest, ACheckpointThatFailsAtItsManifestLeavesNoRunFile) {
  Append("acct-1", 50);
  auto runs = [&] {
    return Scratch(dir_.path(), ".run").size() + Scratch(dir_.path(), ".ids").size() +
           Scratch(dir_.path(), ".tag").size();
  };
  const size_t before = runs();
  env_.FailSyncsOf("MANIFEST", ENOSPC);  // the runs are written, the manifest is not
  Status s = store_->Checkpoint();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNoSpace) << s.ToString();
  EXPECT_EQ(runs(), before);  // no run file that no manifest names
  env_.ClearFaults();
  Status again = store_->Checkpoint();
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_GT(runs(), before);
  EXPECT_EQ(*store_->Count(CountOf::All()), 50u);
}

TEST_F(ScratchTest, AScavengeThatFailsBeforeItsCommitLeavesNoRewrittenSegment) {
  Append("acct-1", 60);  // several segments
  StreamMetadata m;
  m.max_count = 1;
  ASSERT_TRUE(store_->SetStreamMetadata("acct-1", ExpectedRevision::Any(), m).has_value());
  ASSERT_TRUE(store_->Checkpoint().ok());
  env_.FailAppendAt(3, ENOSPC);  // in the middle of rewriting segments
  auto r = store_->Scavenge({});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNoSpace) << r.error().ToString();
  EXPECT_EQ(Scratch(dir_.path(), ".scav"), std::vector<std::string>{});
  EXPECT_EQ(Scratch(dir_.path(), ".tmp"), std::vector<std::string>{});
  // Nothing was changed, and a scavenge with room completes.
  EXPECT_EQ(*store_->Count(CountOf::All()), 61u);
  auto again = store_->Scavenge({});
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->events_removed, 59u);
}

}  // namespace
}  // namespace cairn
