#pragma once
// How the `cairn` command reports to its caller: exit statuses, one JSON
// error object per failure on stderr, and a progress bar drawn on stderr
// only when stderr is a terminal (scripts never see it).
//
// Thread safety: these functions write to the process's stdio; call them from
// one thread.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::cli {

// Exit statuses of `cairn`. Stable: scripts branch on them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // any error not listed below
// Bad input: flags, arguments, flag JSON, an import line, a name or a limit
// the engine refuses (kInvalidArgument). Nothing was changed.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitWrongRevision = 3;
inline constexpr int kExitNotFound = 4;
inline constexpr int kExitStreamDeleted = 5;
inline constexpr int kExitCorruption = 6;  // also: verify found problems

// The one table from engine error codes to exit statuses.
int ExitStatusFor(ErrorCode code);

// The JSON error object of `status` (which must not be OK):
// {"error":"<code name>","message":"..."} plus "stream", "expected" and
// "actual" (null when the stream does not exist) for a revision conflict,
// and "hint" (what to do next) for corruption.
nlohmann::ordered_json ErrorJson(const Status& status);

// The name of the subcommand being run ("verify", "export", ...), for
// hints that depend on it. Set once by main.
void SetCommandName(std::string_view name);

// Writes {"warning":"<code name>","message":"<context>: <message>"} on
// stderr: a failure that does not change the exit status, because it came
// after the command's data was stored.
void WriteWarning(const Status& status, std::string_view context);

// Writes `error` as one line on stderr.
void WriteErrorLine(const nlohmann::ordered_json& error);

// Writes the error object of `status` on stderr and returns its exit status.
int ReportError(const Status& status);

// Writes {"error":"invalid_argument","message":message} on stderr and
// returns kExitUsage.
int ReportUsageError(std::string_view message);

// Writes `value` as one compact JSON line on stdout (invalid UTF-8 in
// strings is replaced, never thrown on).
void WriteJsonLine(const nlohmann::ordered_json& value);

// Compact JSON text of `value`, replacing invalid UTF-8 instead of throwing.
std::string DumpJson(const nlohmann::ordered_json& value);

// A one-line progress bar on stderr, drawn only when stderr is a terminal
// and redrawn at most ten times a second. Cleared by Finish() or on
// destruction, so error lines written afterwards start on a clean line.
class ProgressBar {
 public:
  // `total` is the amount that means 100%; 0 disables the bar.
  ProgressBar(std::string label, uint64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Records that `done` of `total` is complete; `detail` (e.g. "3/7
  // segments") is shown after the percentage.
  void Update(uint64_t done, std::string_view detail = {});
  // Replaces the label (e.g. on a change of phase) and the total; the next
  // Update() draws at once.
  void Restart(std::string label, uint64_t total);
  // Erases the bar; further updates are ignored.
  void Finish();

 private:
  void Draw(uint64_t done, std::string_view detail);

  std::string label_;
  uint64_t total_;
  bool enabled_;
  bool finished_ = false;
  bool drawn_ = false;
  int64_t last_draw_ns_ = 0;
};

}  // namespace cairn::cli
