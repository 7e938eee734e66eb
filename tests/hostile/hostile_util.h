#pragma once
// Helpers of the hostile tier: the report's input generators, snapshots of
// a directory (to show that a refused command wrote nothing), a small
// tmpfs (a full file system), and what a fresh process finds in a store.
//
// Thread safety: call from the test's thread.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/cli_runner.h"

namespace cairn::hostile {

using Json = nlohmann::ordered_json;
using e2e::ChildOptions;
using e2e::CliRunner;
using e2e::RunResult;

// Writes `data` to `path`, replacing it; fails the test when it cannot.
void WriteFile(const std::string& path, std::string_view data);

// The report's gen50k.jsonl shape: `streams` streams "acct-S", each with
// `per_stream` consecutive "Dep" events {"n":i} (one commit record per
// stream). Every line carries an id (IdOf(line index)), so the lines are
// comparable with an export.
std::string AccountLines(int streams, int per_stream);
// The report's g.jsonl shape: `lines` "Ev" events {"i":i} in streams
// "imp-<i/250>", ids IdOf(i).
std::string ImportLines(int lines);
// A canonical UUID made of `n` (distinct for distinct n).
std::string IdOf(uint64_t n);

// Every regular file under `dir`, by path relative to it, with its bytes
// (directories as "<path>/" with empty contents), for "left untouched".
std::map<std::string, std::string> Snapshot(const std::string& dir);

// The names of `dir`'s entries ending in `suffix` (scratch files).
std::vector<std::string> FilesEndingIn(const std::string& dir, std::string_view suffix);

// Events in $all of the store `db` as a fresh read-only process counts
// them (`cairn count`): -1 when it does not open (the failure is recorded
// unless `may_be_missing` and the store does not exist: then 0).
int64_t CountStored(const CliRunner& cli, const std::string& db_path, bool may_be_missing = false);

// The JSON object of one line; fails the test (and returns null) when the
// line is not one.
Json ParseObject(const std::string& line);

// Lines of `text` that are JSON objects with key `key` (e.g. "warning").
std::vector<Json> ObjectsWithKey(const std::string& text, const std::string& key);

// A tmpfs of `mib` MiB mounted at `dir` (created) for the life of the
// object; unmounted (lazily, if something still holds it) on destruction.
class Tmpfs {
 public:
  Tmpfs(std::string dir, uint64_t mib);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  // Why mounting failed (when !mounted()).
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  // Bytes still free for files.
  uint64_t FreeBytes() const;
  // Creates (or resizes) the file "filler" so that about `free_bytes` stay
  // free; fails the test when it cannot.
  void LeaveFree(uint64_t free_bytes);

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// True when the tier's slow variants were asked for (CAIRN_HOSTILE_LONG=1).
bool LongRuns();

// True in an AddressSanitizer build (CAIRN_SANITIZE, which also builds the
// `cairn` under test with it): its runtime opens files of its own (so a low
// RLIMIT_NOFILE tests the sanitizer, not the CLI) and its shadow memory and
// quarantine inflate a process's resident set.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace cairn::hostile
