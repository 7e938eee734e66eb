// OpenStore, URL parsing and the backend registry (include/cairn/backend.h).
// Linked with the engine, so the "file" backend is registered.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/admin.h"
#include "cairn/backend.h"
#include "cairn/store.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::TempDir;

TEST(UrlTest, SchemeIsBeforeColonSlashSlashElseTheUrlIsAPath) {
  EXPECT_EQ(*UrlScheme("/var/lib/events"), "file");
  EXPECT_EQ(*UrlScheme("relative/dir"), "file");
  EXPECT_EQ(*UrlScheme("data:2024"), "file");
  EXPECT_EQ(*UrlScheme("file:///var/lib/events"), "file");
  EXPECT_EQ(*UrlScheme("PostgreSQL://db.example/events"), "postgresql");
  EXPECT_EQ(*UrlScheme("kurrentdb+discover://a:2113"), "kurrentdb+discover");
  EXPECT_EQ(*UrlScheme("1x://y"), "file");  // not a scheme: a (strange) path
  EXPECT_EQ(UrlScheme("").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(UrlScheme("").error().message(), "store URL is empty");
}

TEST(UrlTest, FileUrlPathDecodesEscapesAndRefusesWhatIsNotALocalPath) {
  EXPECT_EQ(*FileUrlPath("/var/lib/events"), "/var/lib/events");
  EXPECT_EQ(*FileUrlPath("rel/a?b"), "rel/a?b");  // a plain path is taken as given
  EXPECT_EQ(*FileUrlPath("file:///var/lib/my%20events"), "/var/lib/my events");
  EXPECT_EQ(*FileUrlPath("FILE://localhost/a/%3Fb"), "/a/?b");
  EXPECT_EQ(*FileUrlPath("file:/var/lib/events"), "/var/lib/events");  // RFC 8089 short form
  auto error = [](std::string_view url) { return FileUrlPath(url).error().ToString(); };
  EXPECT_EQ(error("file://db.example/a"),
            "invalid_argument: file URL 'file://db.example/a' names host 'db.example': only "
            "local paths (file:///path) can be opened");
  EXPECT_EQ(error("file://"), "invalid_argument: file URL 'file://' has no path");
  EXPECT_EQ(error("file:///"), "invalid_argument: file URL 'file:///' has no path");
  EXPECT_EQ(error("file:///a?read_only=1"),
            "invalid_argument: file URL 'file:///a?read_only=1' has a query or fragment; write "
            "'?' as %3F and '#' as %23");
  EXPECT_EQ(error("file:///a%2"),
            "invalid_argument: file URL 'file:///a%2' has a bad %-escape at offset 9");
  EXPECT_EQ(error("file:///a%zz"),
            "invalid_argument: file URL 'file:///a%zz' has a bad %-escape at offset 9");
  EXPECT_EQ(error("file:///a%00"),
            "invalid_argument: file URL 'file:///a%00' decodes to a path holding a NUL byte");
  EXPECT_EQ(error("http://x/y"), "invalid_argument: store URL 'http://x/y' is not a file URL");
  EXPECT_EQ(error("file:events"),
            "invalid_argument: file URL 'file:events' has no absolute path (write "
            "file:///abs/path or a plain path)");
  EXPECT_EQ(error("file:/"), "invalid_argument: file URL 'file:/' has no path");
}

TEST(OpenStoreTest, FileUrlsAndPathsOpenTheNativeEngine) {
  TempDir dir;
  const std::string path = dir.Sub("my store");
  {
    auto store = OpenStore("file://" + dir.path() + "/my%20store");
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    std::vector<EventData> events = {Ev("Opened")};
    auto r = (*store)->Append("s-1", ExpectedRevision::NoStream(), events);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_NE(AdminOf(store->get()), nullptr);  // the native engine administers itself
    ASSERT_TRUE((*store)->Close().ok());
  }
  OpenOptions ro;
  ro.read_only = true;
  auto reader = OpenStore(path, ro);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto events = (*reader)->ReadStream("s-1", ReadStreamOptions{});
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, "Opened");
  std::vector<EventData> more = {Ev("Refused")};
  EXPECT_EQ((*reader)->Append("s-1", ExpectedRevision::Any(), more).error().code(),
            ErrorCode::kReadOnly);

  OpenOptions no_create;
  no_create.create_if_missing = false;
  auto missing = OpenStore(dir.Sub("absent"), no_create);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(AdminOf(nullptr), nullptr);
}

TEST(OpenStoreTest, AnUnregisteredSchemeIsUnimplemented) {
  auto r = OpenStore("postgresql://localhost/events");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().ToString(),
            "unimplemented: no backend for 'postgresql' URLs is linked into this program");
}

TEST(OpenStoreTest, ARegisteredBackendGetsTheWholeUrlAndTheOptions) {
  std::string seen_url;
  bool seen_read_only = false;
  // The factory below refers to this test's locals: replace it before they
  // go, whatever fails first.
  struct Unregister {
    ~Unregister() {
      (void)RegisterBackend(
          "test-mem", [](std::string_view, const OpenOptions&) -> Result<std::unique_ptr<Store>> {
            return Status(ErrorCode::kUnimplemented, "test backend removed");
          });
    }
  } unregister;
  ASSERT_TRUE(RegisterBackend("Test-Mem",
                              [&](std::string_view url,
                                  const OpenOptions& o) -> Result<std::unique_ptr<Store>> {
                                seen_url = std::string(url);
                                seen_read_only = o.read_only;
                                return Status(ErrorCode::kUnavailable, "test backend is down");
                              })
                  .ok());
  OpenOptions ro;
  ro.read_only = true;
  auto r = OpenStore("test-mem://host/x", ro);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().ToString(), "unavailable: test backend is down");
  EXPECT_EQ(seen_url, "test-mem://host/x");
  EXPECT_TRUE(seen_read_only);
  EXPECT_EQ(RegisterBackend("9mem", nullptr).ToString(),
            "invalid_argument: backend scheme '9mem' is not a URL scheme (a letter, then "
            "letters, digits, '+', '-' or '.')");
  EXPECT_EQ(RegisterBackend("mem2", nullptr).ToString(),
            "invalid_argument: backend 'mem2' has no factory");
}

}  // namespace
}  // namespace cairn
