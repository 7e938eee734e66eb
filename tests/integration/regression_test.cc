// Minimal reproductions of engine bugs found by the model test
// (model_test.cc) or while writing its model. Each names the seed that found
// it, if any, and the result the engine gave; each stays as a regression test
// once fixed.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "cairn/store.h"
#include "src/base/testing.h"
#include "tests/integration/printers.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::TempDir;

// Forwards to the default Env; calls `on_manifest_read` once, right after
// the first read of a MANIFEST, before the bytes reach the caller.
class HookEnv final : public Env {
 public:
  std::function<void()> on_manifest_read;

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& p) override {
    return base_->OpenWritable(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& p) override {
    return base_->OpenRandomAccess(p);
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& p, uint64_t n,
                                              bool random) override {
    return base_->MapFile(p, n, random);
  }
  Status WriteFileAtomic(const std::string& p, std::string_view d) override {
    return base_->WriteFileAtomic(p, d);
  }
  Result<std::string> ReadFile(const std::string& p) override {
    auto bytes = base_->ReadFile(p);
    if (p.size() >= 8 && p.substr(p.size() - 8) == "MANIFEST" && on_manifest_read) {
      auto hook = std::move(on_manifest_read);
      on_manifest_read = nullptr;
      hook();
    }
    return bytes;
  }
  Status WriteAt(const std::string& p, uint64_t o, std::string_view d) override {
    return base_->WriteAt(p, o, d);
  }
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  Result<bool> FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    return base_->ListDir(p);
  }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return base_->RenameFile(f, t);
  }
  Status TruncateFile(const std::string& p, uint64_t n) override {
    return base_->TruncateFile(p, n);
  }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }
  int64_t NowNanos() override { return base_->NowNanos(); }
  int64_t MonotonicNanos() override { return base_->MonotonicNanos(); }

 private:
  Env* base_ = Env::Default();
};

std::unique_ptr<Store> OpenOrDie(const std::string& dir, const StoreOptions& o) {
  auto s = Store::Open(dir, o);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

void AppendOne(Store* s, const std::string& stream) {
  std::vector<EventData> one = {Ev("E")};
  auto r = s->Append(stream, ExpectedRevision::Any(), one);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
}

// Found by CAIRN_SEED=2 (also 15, 17, 20, 28): a read-only handle whose
// memtable is full re-reads the writer's MANIFEST to adopt its runs, and
// fails with kNotFound when the writer has not written one yet.
TEST(RegressionTest, FollowerRefreshBeforeTheWritersFirstManifest) {
  TempDir dir;
  StoreOptions w;
  w.durability = Durability::kNoSyncUnsafe;  // default memtable: no flush, no MANIFEST
  auto writer = OpenOrDie(dir.path(), w);
  ASSERT_NE(writer, nullptr);
  AppendOne(writer.get(), "a");
  StoreOptions r = w;
  r.read_only = true;
  r.memtable_entries = 1;
  auto reader = OpenOrDie(dir.path(), r);  // indexes one entry: its memtable is full
  ASSERT_NE(reader, nullptr);
  AppendOne(writer.get(), "a");
  auto all = reader->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();  // got kNotFound: MANIFEST
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(reader->HeadPosition().value(), 2u);  // got 1: the failed refresh is ignored
}

// Found by CAIRN_SEED=6 (also 9, 16, 27, 36, 37, 41, 49, 52, 53): a
// read-only open reads the MANIFEST, the writer then merges those runs and
// deletes their files, and the open fails with kNotFound naming a run.
TEST(RegressionTest, ReadOnlyOpenRacingARunMerge) {
  TempDir dir;
  StoreOptions w;
  w.durability = Durability::kNoSyncUnsafe;
  w.memtable_entries = 1;  // one run per append
  auto writer = OpenOrDie(dir.path(), w);
  ASSERT_NE(writer, nullptr);
  for (int i = 0; i < 3; ++i) {
    AppendOne(writer.get(), "a");
    ASSERT_TRUE(writer->Checkpoint().ok());
  }
  ASSERT_EQ(writer->Stats()->index_runs, 3u);

  HookEnv env;
  env.on_manifest_read = [&] {
    // Between the reader's MANIFEST read and its run opens: a fourth run
    // of the same size makes the writer merge all four.
    AppendOne(writer.get(), "a");
    ASSERT_TRUE(writer->Checkpoint().ok());
    for (int i = 0; i < 500 && writer->Stats()->index_runs != 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(writer->Stats()->index_runs, 1u) << "the writer did not merge its runs";
  };
  StoreOptions r = w;
  r.read_only = true;
  r.env = &env;
  auto reader = Store::Open(dir.path(), r);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();  // got kNotFound: 00000000.run
  auto all = (*reader)->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  EXPECT_GE(all->size(), 3u);
}

// The same race on a read-only handle that is already open: when its
// memtable is full it re-reads the MANIFEST to adopt the writer's runs, and
// fails if they are merged away before it opens them. HeadPosition() hides
// the error and reports a stale head.
TEST(RegressionTest, FollowerRefreshRacingARunMerge) {
  TempDir dir;
  StoreOptions w;
  w.durability = Durability::kNoSyncUnsafe;
  w.memtable_entries = 1;
  {
    auto writer = OpenOrDie(dir.path(), w);
    ASSERT_NE(writer, nullptr);
    for (int i = 0; i < 3; ++i) {
      AppendOne(writer.get(), "a");
      ASSERT_TRUE(writer->Checkpoint().ok());
    }
    ASSERT_EQ(writer->Stats()->index_runs, 3u);
  }
  w.memtable_entries = 1000;  // from here on runs are written only by Checkpoint
  auto writer = OpenOrDie(dir.path(), w);
  ASSERT_NE(writer, nullptr);
  HookEnv env;
  StoreOptions r = w;
  r.read_only = true;
  r.memtable_entries = 1;
  r.env = &env;
  auto reader = OpenOrDie(dir.path(), r);
  ASSERT_NE(reader, nullptr);
  AppendOne(writer.get(), "a");
  ASSERT_EQ(reader->HeadPosition().value(), 4u);  // the reader's memtable is now full
  AppendOne(writer.get(), "a");
  env.on_manifest_read = [&] {
    ASSERT_TRUE(writer->Checkpoint().ok());  // a fourth run: the writer merges all four
    for (int i = 0; i < 500 && writer->Stats()->index_runs != 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(writer->Stats()->index_runs, 1u) << "the writer did not merge its runs";
  };
  auto all = reader->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();  // got kNotFound: 00000000.run
  EXPECT_EQ(all->size(), 5u);
}

// Found while writing the model: store.h says a retried append whose events
// are all stored is a duplicate, but with Any (or StreamExists) the engine
// looked only at the stream's last events: once anything was appended after
// them, the retry wrote the same ids a second time.
TEST(RegressionTest, AnyRetryAfterLaterAppendsIsADuplicate) {
  TempDir dir;
  StoreOptions o;
  o.durability = Durability::kNoSyncUnsafe;
  auto s = OpenOrDie(dir.path(), o);
  ASSERT_NE(s, nullptr);
  std::vector<EventData> first = {testing::EvId("A", testing::NthUuid(1))};
  auto r1 = s->Append("x", ExpectedRevision::Any(), first);
  ASSERT_TRUE(r1.has_value()) << r1.error().ToString();
  AppendOne(s.get(), "x");
  auto retry = s->Append("x", ExpectedRevision::Any(), first);
  ASSERT_TRUE(retry.has_value()) << retry.error().ToString();
  EXPECT_TRUE(retry->duplicate);  // got false: written again at revision 2
  EXPECT_EQ(retry->revision, std::optional(StreamRevision(0)));
  EXPECT_EQ(retry->position, Position(0));
  EXPECT_EQ(s->HeadPosition().value(), 2u);
}

// Found while writing the model: store.h promises kNotFound for a read of a
// stream with no events, but a read with max_count 0 returned OK before the
// stream was looked up.
TEST(RegressionTest, ZeroCountReadOfMissingStreamIsNotFound) {
  TempDir dir;
  StoreOptions o;
  o.durability = Durability::kNoSyncUnsafe;
  auto s = OpenOrDie(dir.path(), o);
  ASSERT_NE(s, nullptr);
  ReadStreamOptions zero;
  zero.max_count = 0;
  auto r = s->ReadStream("missing", zero);
  ASSERT_FALSE(r.has_value()) << "read of a missing stream succeeded";
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

// Found in review: a read-only handle mapped segments with a length taken
// from its own options; a writer with larger segments grew the file past
// the reader's map, and reading there would fault. Segments are now mapped
// with the whole 32-bit offset range reserved.
TEST(RegressionTest, ReaderWithSmallerSegmentOptionReadsALargerSegment) {
  TempDir dir;
  StoreOptions w;
  w.durability = Durability::kNoSyncUnsafe;
  w.segment_bytes = 64ull << 20;
  auto writer = OpenOrDie(dir.path(), w);
  ASSERT_NE(writer, nullptr);
  StoreOptions r = w;
  r.read_only = true;
  r.segment_bytes = 4096;
  r.max_append_bytes = 4096;
  auto reader = OpenOrDie(dir.path(), r);
  ASSERT_NE(reader, nullptr);
  std::vector<EventData> big = {Ev("Big", std::string(3 << 20, 'x'))};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(writer->Append("s", ExpectedRevision::Any(), big).has_value());
  }
  auto all = reader->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[3].data.size(), 3u << 20);
}

}  // namespace
}  // namespace cairn
