#pragma once
// JsonLog: the server's structured log, one JSON object per line:
//   {"time":"2026-12-07T23:14:24.123Z","level":"info","msg":"listening",...}
// `msg` is a stable short name scripts may match on ("listening",
// "stopping", "stopped", "client_error", ...); the other keys depend on it.
// Thread safe: lines from several threads never interleave.

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

namespace cairn::server {

class JsonLog {
 public:
  explicit JsonLog(std::FILE* out = stderr) : out_(out) {}
  JsonLog(const JsonLog&) = delete;
  JsonLog& operator=(const JsonLog&) = delete;

  void Info(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
    Write("info", msg, std::move(fields));
  }
  void Warn(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
    Write("warn", msg, std::move(fields));
  }
  void Error(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
    Write("error", msg, std::move(fields));
  }
  void Write(std::string_view level, std::string_view msg, nlohmann::json fields);

 private:
  std::FILE* const out_;
  std::mutex mu_;
};

}  // namespace cairn::server
