#pragma once
// For backend implementers: how a backend makes OpenStore (store.h) open
// the URLs of its scheme. The native engine registers "file" (and plain
// paths) itself; a remote or PostgreSQL backend library registers its
// scheme when it is loaded, or when its program calls its registration
// function before the first OpenStore.
//
// Thread safety: registration and OpenStore may run on any thread.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn {

// Opens a store of one backend. `url` is the whole URL as given to
// OpenStore (the scheme included, or a plain path for "file").
using BackendFactory =
    std::function<Result<std::unique_ptr<Store>>(std::string_view url, const OpenOptions&)>;

// Makes OpenStore use `factory` for URLs of `scheme` (lowercase letters,
// digits, '+', '-', '.'; starting with a letter). Registering a scheme again
// replaces its factory. kInvalidArgument for a malformed scheme.
Status RegisterBackend(std::string_view scheme, BackendFactory factory);

// The scheme OpenStore picks for `url`, lowercased: the part before "://"
// when it is a valid scheme, else "file": anything else is a plain path
// (absolute or relative, even one holding ':').
// kInvalidArgument for an empty URL.
Result<std::string> UrlScheme(std::string_view url);

// The path a "file" URL names: a plain path as given; "file:///a/b",
// "file://localhost/a/b" and "file:/a/b" as "/a/b", with %XX escapes
// decoded. kInvalidArgument for another host, a query or fragment, a bad
// escape, "file:" without an absolute path, or an empty path.
Result<std::string> FileUrlPath(std::string_view url);

}  // namespace cairn
