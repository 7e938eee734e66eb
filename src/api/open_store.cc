// OpenStore and the registry of backends by URL scheme (backend.h).
#include <cctype>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "cairn/backend.h"
#include "cairn/store.h"

namespace cairn {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory, std::less<>> factories;  // guarded by mu
};

Registry& TheRegistry() {
  static Registry* registry = new Registry;  // never destroyed: used by static registrars
  return *registry;
}

bool IsSchemeChar(char c, bool first) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (std::isalpha(u)) return true;
  return !first && (std::isdigit(u) || c == '+' || c == '-' || c == '.');
}

bool ValidScheme(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsSchemeChar(s[i], i == 0)) return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status RegisterBackend(std::string_view scheme, BackendFactory factory) {
  if (!ValidScheme(scheme)) {
    return Status::InvalidArgument("backend scheme '" + std::string(scheme) +
                                   "' is not a URL scheme (a letter, then letters, digits, "
                                   "'+', '-' or '.')");
  }
  if (!factory)
    return Status::InvalidArgument("backend '" + std::string(scheme) + "' has no factory");
  Registry& r = TheRegistry();
  std::lock_guard l(r.mu);
  r.factories[Lower(scheme)] = std::move(factory);
  return Status::OK();
}

Result<std::string> UrlScheme(std::string_view url) {
  if (url.empty()) return Status::InvalidArgument("store URL is empty");
  const size_t sep = url.find("://");
  if (sep != std::string_view::npos && ValidScheme(url.substr(0, sep))) {
    return Lower(url.substr(0, sep));
  }
  return std::string("file");
}

Result<std::string> FileUrlPath(std::string_view url) {
  if (url.empty()) return Status::InvalidArgument("store URL is empty");
  const std::string quoted = "'" + std::string(url) + "'";
  const size_t sep = url.find("://");
  size_t path_at = 0;  // where the URL's path starts
  if (sep != std::string_view::npos && ValidScheme(url.substr(0, sep))) {
    if (Lower(url.substr(0, sep)) != "file") {
      return Status::InvalidArgument("store URL " + quoted + " is not a file URL");
    }
    const std::string_view rest = url.substr(sep + 3);
    const size_t slash = rest.find('/');
    const std::string_view host = rest.substr(0, slash);
    if (!host.empty() && Lower(host) != "localhost") {
      return Status::InvalidArgument("file URL " + quoted + " names host '" + std::string(host) +
                                     "': only local paths (file:///path) can be opened");
    }
    if (slash == std::string_view::npos) {
      return Status::InvalidArgument("file URL " + quoted + " has no path");
    }
    path_at = sep + 3 + slash;
  } else if (url.size() >= 5 && Lower(url.substr(0, 5)) == "file:") {
    // RFC 8089's short form, file:/abs/path; "file:rel" names no absolute path.
    if (url.size() == 5 || url[5] != '/') {
      return Status::InvalidArgument("file URL " + quoted +
                                     " has no absolute path (write file:///abs/path or a plain "
                                     "path)");
    }
    path_at = 5;
  } else {
    return std::string(url);  // a plain path, taken as given
  }
  const std::string_view path = url.substr(path_at);
  if (path.size() == 1) return Status::InvalidArgument("file URL " + quoted + " has no path");
  if (path.find_first_of("?#") != std::string_view::npos) {
    return Status::InvalidArgument("file URL " + quoted +
                                   " has a query or fragment; write '?' as %3F and '#' as %23");
  }
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out.push_back(path[i]);
      continue;
    }
    const int hi = i + 2 < path.size() ? HexValue(path[i + 1]) : -1;
    const int lo = hi >= 0 ? HexValue(path[i + 2]) : -1;
    if (lo < 0) {
      return Status::InvalidArgument("file URL " + quoted + " has a bad %-escape at offset " +
                                     std::to_string(path_at + i));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.find('\0') != std::string::npos) {
    return Status::InvalidArgument("file URL " + quoted + " decodes to a path holding a NUL byte");
  }
  return out;
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const OpenOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::string scheme, UrlScheme(url));
  BackendFactory factory;
  {
    Registry& r = TheRegistry();
    std::lock_guard l(r.mu);
    auto it = r.factories.find(scheme);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    return Status(ErrorCode::kUnimplemented,
                  "no backend for '" + scheme + "' URLs is linked into this program" +
                      (scheme == "file" ? " (link cairn::core, the native engine)" : ""));
  }
  return factory(url, options);
}

}  // namespace cairn
