// End-to-end tests of `cairn scavenge`: the exact report of a scavenge of a
// store with a tombstoned stream (whose data holds a secret), a truncated
// stream with superseded metadata and a soft-deleted stream; reads of what
// survives unchanged byte for byte; the secret gone from every file; the
// progress bar on a terminal; the locked error beside a running writer.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/cli_runner.h"
#include "tests/e2e/json_checks.h"

namespace cairn::e2e {
namespace {

using Json = nlohmann::ordered_json;

// Written into the data of the tombstoned stream only; a scavenge must leave
// it in no file of the store.
constexpr char kSecret[] = "SECRET-4b1d-scavenge-must-erase-me";

// The report's keys, in the order printed.
const char* const kReportKeys[] = {"log_bytes_before",  "log_bytes_after",    "index_bytes_before",
                                   "index_bytes_after", "segments_rewritten", "records_removed",
                                   "events_removed",    "events_scrubbed",    "bytes_read",
                                   "bytes_written",     "duration_ms"};

// The files of `dir` (recursively) whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (ReadWholeFile(entry.path()).find(needle) != std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

class ScavengeTest : public ::testing::Test {
 protected:
  RunResult Cairn(const std::vector<std::string>& args, const std::string& input = "") {
    return cli_.RunDb("db", args, input);
  }

  static std::string Shown(const std::vector<std::string>& args) {
    std::string shown = "cairn";
    for (const std::string& arg : args) shown += " " + arg;
    return shown + ": ";
  }

  // Runs `cairn --db db args`, expects exit 0 and no stderr; returns stdout.
  std::string Ok(const std::vector<std::string>& args, const std::string& input = "") {
    RunResult result = Cairn(args, input);
    EXPECT_EQ(result.exit_status, 0) << Shown(args) << result.err;
    EXPECT_EQ(result.err, "") << Shown(args);
    return result.out;
  }

  // Positions 0-9 in 6 records (one import each: an import stores a batch
  // of lines as one record when they share a creation time):
  //   [0] keep-1 | [1,2] secret-1 (data holds kSecret) | [3,4,5] trunc-1 |
  //   [6,7] soft-1 | [8] keep-1 | [9] keep-2
  // then 10: secret-1 tombstoned; 11: trunc-1 metadata {"$tb":1}; 12: its
  // metadata {"$tb":2} (supersedes 11); 13: soft-1 soft-deleted.
  void Seed() {
    struct Line {
      const char* stream;
      const char* type;
      std::string data;
      int record;
    };
    const std::string secret = std::string("{\"s\":\"") + kSecret + "\"}";
    const Line lines[] = {
        {"keep-1", "Kept", "{\"n\":0}", 0}, {"secret-1", "Told", secret, 1},
        {"secret-1", "Told", secret, 1},    {"trunc-1", "Old", "{\"n\":3}", 2},
        {"trunc-1", "Old", "{\"n\":4}", 2}, {"trunc-1", "New", "{\"n\":5}", 2},
        {"soft-1", "Gone", "{\"n\":6}", 3}, {"soft-1", "Gone", "{\"n\":7}", 3},
        {"keep-1", "Kept", "{\"n\":8}", 4}, {"keep-2", "Kept", "{\"n\":9}", 5},
    };
    for (int record = 0; record < 6; ++record) {
      std::string input;
      int n = 0;
      for (const Line& line : lines) {
        if (line.record != record) continue;
        input += "{\"stream\":\"" + std::string(line.stream) + "\",\"type\":\"" + line.type +
                 "\",\"data\":" + line.data + "}\n";
        ++n;
      }
      EXPECT_EQ(Ok({"import"}, input)
                    .rfind("{\"imported\":" + std::to_string(n) +
                               ",\"lines\":" + std::to_string(n) + ",\"batches\":1,",
                           0),
                0u)
          << "record " << record;
    }
    EXPECT_EQ(Ok({"delete", "secret-1", "--hard"}),
              "{\"stream\":\"secret-1\",\"deleted\":\"hard\","
              "\"position\":10}\n");
    EXPECT_EQ(Ok({"metadata", "trunc-1", "--set", R"({"$tb":1})"}),
              "{\"stream\":\"trunc-1\",\"metadata_revision\":0,"
              "\"position\":11}\n");
    EXPECT_EQ(Ok({"metadata", "trunc-1", "--set", R"({"$tb":2})"}),
              "{\"stream\":\"trunc-1\",\"metadata_revision\":1,"
              "\"position\":12}\n");
    EXPECT_EQ(Ok({"delete", "soft-1"}),
              "{\"stream\":\"soft-1\",\"deleted\":\"soft\","
              "\"position\":13}\n");
  }

  // Parses the one report line of a scavenge and checks its keys and order.
  static Json Report(const RunResult& result) {
    std::vector<std::string> lines = SplitLines(result.out);
    EXPECT_EQ(lines.size(), 1u) << result.out;
    if (lines.size() != 1) return Json::object();
    Json report = Json::parse(lines[0]);
    std::vector<std::string> keys;
    for (const auto& [key, value] : report.items()) {
      keys.push_back(key);
      EXPECT_TRUE(value.is_number_unsigned()) << key << ": " << value;
    }
    EXPECT_EQ(keys, std::vector<std::string>(std::begin(kReportKeys), std::end(kReportKeys)));
    return report;
  }

  CliRunner cli_;
};

TEST_F(ScavengeTest, RemovesWhatReadsCannotShowAndKeepsTheRest) {
  Seed();
  const std::string db = cli_.Path("db");
  EXPECT_FALSE(FilesContaining(db, kSecret).empty())
      << "the secret should be in the log before the scavenge";

  // What reads of the surviving streams print, before.
  const std::vector<std::vector<std::string>> unchanged = {
      {"read", "keep-1"},
      {"read", "keep-2"},
      {"read", "trunc-1"},
      {"read", "trunc-1", "--backwards"},
      {"read-all", "--category", "keep"},
      {"read-all", "--category", "trunc"},
      {"read-all", "--stream-prefix", "keep-"},
      {"read-all", "--type", "Kept"},
      {"read-all", "--type", "New"},
      {"streams", "--prefix", "keep-"},
      {"metadata", "trunc-1"},
      {"metadata", "soft-1"},
      {"count", "--stream", "trunc-1"},
      {"count", "--category", "keep"},
  };
  std::map<std::vector<std::string>, std::string> before;
  for (const auto& args : unchanged) before[args] = Ok(args);
  const std::string all_before = Ok({"read-all"});
  const Json stats_before = Json::parse(Ok({"stats"}));

  RunResult scavenged = Cairn({"scavenge"});
  ASSERT_EQ(scavenged.exit_status, 0) << scavenged.err;
  EXPECT_EQ(scavenged.err, "");  // no progress bar: stderr is not a terminal
  Json report = Report(scavenged);
  // Removed: 1, 2 (tombstoned stream), 3, 4 (before "$tb"), 6 (soft-deleted)
  // and 11 (superseded metadata); records [1,2] and [11] vanish whole.
  // Scrubbed: 7, the soft-deleted stream's last event. One closed segment.
  EXPECT_EQ(report["events_removed"], 6);
  EXPECT_EQ(report["events_scrubbed"], 1);
  EXPECT_EQ(report["records_removed"], 2);
  EXPECT_EQ(report["segments_rewritten"], 1);
  EXPECT_LT(report["log_bytes_after"], report["log_bytes_before"]);
  EXPECT_LT(report["index_bytes_after"], report["index_bytes_before"]);
  EXPECT_EQ(report["log_bytes_before"], stats_before["log_bytes"]);
  EXPECT_EQ(report["index_bytes_before"], stats_before["index_bytes"]);
  EXPECT_GT(report["bytes_read"], 0);
  EXPECT_GT(report["bytes_written"], 0);
  EXPECT_LT(report["bytes_written"], report["bytes_read"]);

  EXPECT_EQ(FilesContaining(db, kSecret), std::vector<std::string>{});
  for (const auto& args : unchanged) {
    EXPECT_EQ(Ok(args), before[args]) << Shown(args);
  }
  const Json stats_after = Json::parse(Ok({"stats"}));
  EXPECT_EQ(report["log_bytes_after"], stats_after["log_bytes"]);
  EXPECT_EQ(report["index_bytes_after"], stats_after["index_bytes"]);
  EXPECT_EQ(stats_after["events"], 8);
  EXPECT_EQ(Ok({"count"}), "{\"count\":8}\n");

  // $all keeps every other event byte for byte, at its position; the
  // scrubbed one keeps stream, revision, position, id, type and created.
  std::map<uint64_t, std::string> old_lines;
  for (const std::string& line : SplitLines(all_before)) {
    old_lines[Json::parse(line)["position"].get<uint64_t>()] = line;
  }
  std::vector<uint64_t> positions;
  for (const std::string& line : SplitLines(Ok({"read-all"}))) {
    Json event = Json::parse(line);
    const uint64_t position = event["position"].get<uint64_t>();
    positions.push_back(position);
    if (position != 7) {
      EXPECT_EQ(line, old_lines[position]);
      continue;
    }
    Json old = Json::parse(old_lines[7]);
    // Empty bytes are no JSON: they print as base64 (docs/format/jsonl.md),
    // and the event stays a JSON event.
    EXPECT_EQ(event["data_base64"], "") << line;
    EXPECT_EQ(event.count("data"), 0u) << line;
    EXPECT_EQ(event.count("content_type"), 0u) << line;
    for (const char* key : {"stream", "revision", "id", "type", "created"}) {
      EXPECT_EQ(event[key], old[key]) << key;
    }
  }
  EXPECT_EQ(positions, (std::vector<uint64_t>{0, 5, 7, 8, 9, 10, 12, 13}));
  // Metadata streams are never hidden from reads, so the superseded
  // metadata event (11) showed until the scavenge removed it.
  std::vector<uint64_t> metadata;
  for (const std::string& line : SplitLines(Ok({"read-all", "--type", "$metadata"}))) {
    metadata.push_back(Json::parse(line)["position"].get<uint64_t>());
  }
  EXPECT_EQ(metadata, (std::vector<uint64_t>{12, 13}));

  // Stream states survive. A stream's "created" is the position of its
  // first stored event, so it moves (and with it the listing order) where
  // that event was removed: trunc-1 3 -> 5, soft-1 6 -> 7, secret-1 1 -> 10.
  EXPECT_EQ(Ok({"streams"}),
            "{\"stream\":\"keep-1\",\"created\":0,\"last_revision\":1,"
            "\"last_position\":8,\"event_count\":2,\"state\":\"live\"}\n"
            "{\"stream\":\"trunc-1\",\"created\":5,\"last_revision\":2,"
            "\"last_position\":5,\"event_count\":1,\"state\":\"live\"}\n"
            "{\"stream\":\"soft-1\",\"created\":7,\"last_revision\":1,"
            "\"last_position\":7,\"event_count\":0,"
            "\"state\":\"soft_deleted\"}\n"
            "{\"stream\":\"keep-2\",\"created\":9,\"last_revision\":0,"
            "\"last_position\":9,\"event_count\":1,\"state\":\"live\"}\n"
            "{\"stream\":\"secret-1\",\"created\":10,"
            "\"last_revision\":9223372036854775807,\"last_position\":10,"
            "\"event_count\":0,\"state\":\"tombstoned\"}\n");
  // Revisions continue: the tombstone holds, the soft-deleted stream is
  // recreated after its scrubbed last revision.
  RunResult dead = Cairn({"append", "secret-1", "--type", "T"});
  EXPECT_EQ(dead.exit_status, 5);
  EXPECT_EQ(ErrorWithoutMessage(dead), Json::parse(R"({"error":"stream_deleted"})"));
  EXPECT_EQ(Ok({"append", "soft-1", "--type", "Back", "--expect", "no-stream"}),
            "{\"stream\":\"soft-1\",\"revision\":2,\"position\":14}\n");
  EXPECT_EQ(Json::parse(Ok({"verify"}))["ok"], true);
}

// On a terminal, stderr shows a bar per phase fed by the progress callback
// and erases it before the report is printed on stdout.
TEST_F(ScavengeTest, DrawsAProgressBarOnATerminal) {
  Seed();
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0) << std::strerror(errno);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string terminal = ::ptsname(master);
  pid_t pid = cli_.Start({"--db", cli_.Path("db"), "scavenge"}, "/dev/null", "bar", terminal);
  ChildGuard guard(pid);
  // Read until the child's side closes (EIO), so it never blocks on a full
  // terminal buffer.
  std::string drawn;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{master, POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    drawn.append(buf, static_cast<size_t>(n));
  }
  RunResult result = cli_.Wait(pid, "bar");
  guard.Release();
  ::close(master);
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(Report(result)["events_removed"], 6);
  EXPECT_NE(drawn.find("\rscavenge rewrite ["), std::string::npos) << drawn;
  EXPECT_NE(drawn.find("100% 1/1 segments, "), std::string::npos) << drawn;
  EXPECT_NE(drawn.find(" MB read, "), std::string::npos) << drawn;
  EXPECT_NE(drawn.find("\rscavenge index ["), std::string::npos) << drawn;
  EXPECT_EQ(drawn.find('{'), std::string::npos) << drawn;  // no JSON here
  ASSERT_GE(drawn.size(), 5u);
  EXPECT_EQ(drawn.substr(drawn.size() - 5), "\r\033[2K") << drawn;
}

// A running writer (an import fed through a FIFO) holds the write lock: the
// scavenge fails with "locked", exit 1, and changes nothing; once the writer
// is gone it runs.
TEST_F(ScavengeTest, FailsWithLockedBesideARunningWriter) {
  Seed();
  std::string fifo = cli_.Path("feed");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int read_end = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(read_end, 0);
  int feed = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(feed, 0);
  pid_t writer = cli_.Start({"--db", cli_.Path("db"), "import"}, fifo, "w");
  ChildGuard writer_guard(writer);
  ::close(read_end);
  // Import stores both lines as soon as its input has nothing more for now.
  const std::string lines =
      "{\"stream\":\"late-1\",\"type\":\"A\"}\n"
      "{\"stream\":\"late-2\",\"type\":\"B\"}\n";
  EXPECT_EQ(::write(feed, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  // Wait (generously) until the writer has stored both lines: it holds the
  // lock by then.
  for (int attempt = 0; attempt < 600; ++attempt) {
    if (Cairn({"count"}).out == "{\"count\":16}\n") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  RunResult locked = Cairn({"scavenge"});
  ::close(feed);
  RunResult written = cli_.Wait(writer, "w");
  writer_guard.Release();

  EXPECT_EQ(locked.exit_status, 1) << locked.err;
  EXPECT_EQ(locked.out, "");
  EXPECT_EQ(ErrorWithoutMessage(locked), Json::parse(R"({"error":"locked"})"));
  EXPECT_EQ(written.exit_status, 0) << written.err;
  EXPECT_EQ(written.out, "{\"imported\":2,\"lines\":2,\"batches\":1,\"last_position\":15}\n");
  EXPECT_FALSE(FilesContaining(cli_.Path("db"), kSecret).empty());

  RunResult scavenged = Cairn({"scavenge"});
  EXPECT_EQ(scavenged.exit_status, 0) << scavenged.err;
  EXPECT_EQ(Report(scavenged)["events_removed"], 6);
  EXPECT_EQ(FilesContaining(cli_.Path("db"), kSecret), std::vector<std::string>{});
}

TEST_F(ScavengeTest, UsageAndMissingStore) {
  // Needs an existing store: never creates one.
  RunResult missing = cli_.RunDb("missing", {"scavenge"});
  EXPECT_EQ(missing.exit_status, 4);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(ErrorWithoutMessage(missing), Json::parse(R"({"error":"not_found"})"));
  EXPECT_FALSE(std::filesystem::exists(cli_.Path("missing")));

  RunResult no_db = cli_.Run({"scavenge"});
  EXPECT_EQ(no_db.exit_status, 2);
  EXPECT_EQ(ErrorWithoutMessage(no_db), Json::parse(R"({"error":"invalid_argument"})"));
  RunResult extra = Cairn({"scavenge", "now"});
  EXPECT_EQ(extra.exit_status, 2);
  EXPECT_EQ(ErrorWithoutMessage(extra), Json::parse(R"({"error":"invalid_argument"})"));

  // A store with nothing to remove: nothing rewritten.
  EXPECT_EQ(Ok({"append", "s-1", "--type", "T"}),
            "{\"stream\":\"s-1\",\"revision\":0,\"position\":0}\n");
  Json report = Report(Cairn({"scavenge"}));
  EXPECT_EQ(report["segments_rewritten"], 0);
  EXPECT_EQ(report["events_removed"], 0);
  EXPECT_EQ(report["bytes_written"], 0);

  RunResult help = cli_.Run({"scavenge", "--help"});
  EXPECT_EQ(help.exit_status, 0);
  for (const char* word :
       {"tombstoned", "$tb", "$maxCount", "$maxAge", "locked", "events_removed", "duration_ms"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
  RunResult top = cli_.Run({"--help"});
  EXPECT_NE(top.out.find("scavenge"), std::string::npos);
}

}  // namespace
}  // namespace cairn::e2e
