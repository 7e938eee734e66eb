// The process manager runner over $all: its own checkpoint events never
// reach the manager nor make it write more checkpoints; the checkpoint
// survives a restart; Stop from two threads at once is safe.
#include "cairn/toolkit/process_manager.h"

#include <gtest/gtest.h>

#include <thread>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn::toolkit {
namespace {

class Counter : public ProcessManager {
 public:
  std::string name() const override { return "counter"; }
  Status Handle(const RecordedEvent& e, const ReactionContext& ctx) override {
    seen.push_back(e.stream + "@" + std::to_string(e.revision.value()));
    last_command = ctx.Command(0);
    return Status::OK();
  }
  std::vector<std::string> seen;
  CommandContext last_command;
};

class ProcessManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    auto s = NativeStore::Open(dir_.path(), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  void Append(const std::string& stream, int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<EventData> e = {
          EventData{std::nullopt, "Happened", ContentType::kJson, "{}", "{}"}};
      ASSERT_TRUE(store_->Append(stream, ExpectedRevision::Any(), e).has_value());
    }
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ProcessManagerTest, AnAllSourceSkipsItsOwnCheckpointsAndGoesQuiet) {
  Counter counter;
  auto runner = ProcessManagerRunner::Start(store_.get(), &counter, ProcessManagerOptions{});
  ASSERT_TRUE(runner.has_value()) << runner.error().ToString();
  Append("x-1", 3);
  ASSERT_TRUE((*runner)->WaitFor(Position(2), std::chrono::seconds(30)).ok());
  // Idle for a while: no checkpoint is written without new events.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto before = store_->GetStreamInfo("checkpoint-counter");
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto after = store_->GetStreamInfo("checkpoint-counter");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->last_revision, before->last_revision);
  Append("x-1", 1);
  ASSERT_TRUE((*runner)
                  ->WaitFor(Position(store_->HeadPosition()->value() - 1), std::chrono::seconds(30))
                  .ok());
  EXPECT_EQ(counter.seen, (std::vector<std::string>{"x-1@0", "x-1@1", "x-1@2", "x-1@3"}));
  EXPECT_EQ(counter.last_command.user, "process:counter");
  // Two Stops at once: one stops, both return its status.
  std::thread other([&] { EXPECT_TRUE((*runner)->Stop().ok()); });
  EXPECT_TRUE((*runner)->Stop().ok());
  other.join();
  EXPECT_EQ((*runner)->WaitFor(Position(1000), std::chrono::seconds(1)).code(),
            ErrorCode::kCancelled);

  // A restart takes only what came after its checkpoint.
  Counter second;
  Append("x-2", 2);
  auto again = ProcessManagerRunner::Start(store_.get(), &second, ProcessManagerOptions{});
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  ASSERT_TRUE((*again)
                  ->WaitFor(Position(store_->HeadPosition()->value() - 1), std::chrono::seconds(30))
                  .ok());
  EXPECT_EQ(second.seen, (std::vector<std::string>{"x-2@0", "x-2@1"}));
  ASSERT_TRUE((*again)->Stop().ok());
}

}  // namespace
}  // namespace cairn::toolkit
