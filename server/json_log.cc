#include "server/json_log.h"

#include <chrono>
#include <ctime>
#include <string>

namespace cairn::server {
namespace {

// UTC with milliseconds, RFC 3339.
std::string Now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void JsonLog::Write(std::string_view level, std::string_view msg, nlohmann::json fields) {
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["time"] = Now();
  line["level"] = level;
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto& [k, v] : fields.items()) line[k] = std::move(v);
  }
  // Invalid UTF-8 in a field (a client's stream name) is replaced, never thrown.
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::lock_guard l(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace cairn::server
