#include "src/env/fault_env.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace cairn {
namespace {

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_fenv_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  FaultInjectionEnv env_{Env::Default()};
};

TEST_F(FaultEnvTest, DropUnsyncedKeepsOnlySyncedBytes) {
  auto f = *env_.OpenWritable(dir_ + "/f");
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("-lost").ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(*env_.ReadFile(dir_ + "/f"), "durable");
}

TEST_F(FaultEnvTest, LinkFileGivesASecondNameUnlessLinksFail) {
  ASSERT_TRUE(env_.WriteFileAtomic(dir_ + "/a", "bytes").ok());
  auto linked = env_.LinkFile(dir_ + "/a", dir_ + "/b");
  ASSERT_TRUE(linked.has_value()) << linked.error().ToString();
  EXPECT_TRUE(*linked);
  EXPECT_EQ(std::filesystem::hard_link_count(dir_ + "/a"), 2u);
  // The bytes outlive the first name.
  ASSERT_TRUE(env_.RemoveFile(dir_ + "/a").ok());
  EXPECT_EQ(*env_.ReadFile(dir_ + "/b"), "bytes");
  // A name that exists, or a file that does not, is an error.
  ASSERT_TRUE(env_.WriteFileAtomic(dir_ + "/c", "other").ok());
  EXPECT_EQ(env_.LinkFile(dir_ + "/b", dir_ + "/c").error().code(), ErrorCode::kIOError);
  EXPECT_EQ(env_.LinkFile(dir_ + "/missing", dir_ + "/d").error().code(), ErrorCode::kNotFound);
  // Injected: "this file system cannot link", nothing changed.
  env_.FailLinks(true);
  auto refused = env_.LinkFile(dir_ + "/b", dir_ + "/e");
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(*refused);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/e"));
  env_.ClearFaults();
  EXPECT_TRUE(*env_.LinkFile(dir_ + "/b", dir_ + "/e"));
  // RemoveDir removes an empty directory only.
  ASSERT_TRUE(env_.CreateDirs(dir_ + "/sub").ok());
  ASSERT_TRUE(env_.WriteFileAtomic(dir_ + "/sub/f", "x").ok());
  EXPECT_EQ(env_.RemoveDir(dir_ + "/sub").code(), ErrorCode::kIOError);
  ASSERT_TRUE(env_.RemoveFile(dir_ + "/sub/f").ok());
  ASSERT_TRUE(env_.RemoveDir(dir_ + "/sub").ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/sub"));
}

TEST_F(FaultEnvTest, FailedSyncLeavesBytesUnsynced) {
  auto f = *env_.OpenWritable(dir_ + "/f");
  ASSERT_TRUE(f->Append("abc").ok());
  env_.FailSyncAt(1, EIO);
  Status s = f->Sync();
  EXPECT_EQ(s.code(), ErrorCode::kIOError);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(*env_.ReadFile(dir_ + "/f"), "");
}

TEST_F(FaultEnvTest, FailedAppendWithEnospcIsNoSpace) {
  auto f = *env_.OpenWritable(dir_ + "/f");
  env_.FailAppendAt(2, ENOSPC);
  ASSERT_TRUE(f->Append("one").ok());
  EXPECT_EQ(f->Append("two").code(), ErrorCode::kNoSpace);
  ASSERT_TRUE(f->Append("three").ok());
  EXPECT_EQ(*env_.ReadFile(dir_ + "/f"), "onethree");
}

TEST_F(FaultEnvTest, TornAppendKeepsPrefixAndGoesDown) {
  auto f = *env_.OpenWritable(dir_ + "/f");
  env_.TearAppendAt(1, 4);
  EXPECT_EQ(f->Append("0123456789").code(), ErrorCode::kIOError);
  EXPECT_EQ(f->Append("more").code(), ErrorCode::kIOError);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(*env_.ReadFile(dir_ + "/f"), "0123");
}

// The POSIX file under the fault Env: written zeros reserve space like
// fallocate (Size, where appends go, does not move; the bytes read as
// zeros) and appends then overwrite them.
TEST_F(FaultEnvTest, WriteZerosReservesWithoutMovingTheAppendPoint) {
  auto f = *env_.OpenWritable(dir_ + "/f");
  ASSERT_TRUE(f->Append("head").ok());
  ASSERT_TRUE(f->WriteZeros(4u << 20).ok());
  EXPECT_EQ(f->Size(), 4u);
  EXPECT_EQ(*env_.FileSize(dir_ + "/f"), 4u << 20);
  ASSERT_TRUE(f->Append("tail").ok());
  EXPECT_EQ(f->Size(), 8u);
  ASSERT_TRUE(f->WriteZeros(5u << 20).ok());  // only the bytes past 4 MiB are new
  EXPECT_EQ(*env_.FileSize(dir_ + "/f"), 5u << 20);
  EXPECT_EQ(env_.zero_fills(), 2);
  EXPECT_EQ(env_.preallocations(), 0);
  std::string bytes = *env_.ReadFile(dir_ + "/f");
  EXPECT_EQ(bytes.substr(0, 8), "headtail");
  EXPECT_EQ(bytes.find_first_not_of('\0', 8), std::string::npos);
  // Cut back, the zeros are written again on the next request.
  ASSERT_TRUE(f->Truncate(8).ok());
  ASSERT_TRUE(f->WriteZeros(64).ok());
  EXPECT_EQ(*env_.ReadFile(dir_ + "/f"), std::string("headtail") + std::string(56, '\0'));
}

// Synced zeros survive a power loss like a synced reservation; unsynced
// appends into them do not.
TEST_F(FaultEnvTest, SyncedZerosSurvivePowerLossAsZeros) {
  auto f = *env_.OpenWritable(dir_ + "/f");
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->WriteZeros(100).ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("-lost").ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(*env_.ReadFile(dir_ + "/f"), std::string("durable") + std::string(93, '\0'));
}

}  // namespace
}  // namespace cairn
