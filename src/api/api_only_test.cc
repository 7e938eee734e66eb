// Linked with cairn::api alone, as a remote client is: the API library
// builds and runs without the engine, and OpenStore says what is missing.
#include <gtest/gtest.h>

#include "cairn/admin.h"
#include "cairn/store.h"
#include "cairn/types.h"

namespace cairn {
namespace {

TEST(ApiOnlyTest, WithoutTheEngineAFileUrlSaysToLinkIt) {
  auto r = OpenStore("/var/lib/events");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().ToString(),
            "unimplemented: no backend for 'file' URLs is linked into this program (link "
            "cairn::core, the native engine)");
  EXPECT_EQ(AdminOf(nullptr), nullptr);
}

TEST(ApiOnlyTest, ValueTypesAndMetadataWorkWithoutTheEngine) {
  EXPECT_EQ(ExpectedRevision::Parse("no-stream")->ToString(), "no_stream");
  EXPECT_EQ(CategoryOf("account-1"), "account");
  auto m = StreamMetadata::Parse(R"({"$maxCount":3,"owner":"ada"})");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->max_count, std::optional<uint64_t>(3));
  EXPECT_EQ(m->ToJson(), R"({"$maxCount":3,"owner":"ada"})");
}

}  // namespace
}  // namespace cairn
