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

}  // namespace
}  // namespace cairn
