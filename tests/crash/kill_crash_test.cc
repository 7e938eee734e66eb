// kill -9 crash driver: runs cairn_crash_writer, kills it at a random moment,
// reopens the store and checks every acknowledged event against the oracle
// the writer printed. CAIRN_CRASH_KILLS sets the number of kills (default 12;
// the long tier runs 200), CAIRN_SEED replays a run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

struct Acked {
  std::string stream;
  uint64_t revision;
  std::string id;
};

uint64_t EnvOr(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : def;
}

// Runs the writer until killed after `delay_ms`; returns the complete lines.
std::string RunAndKill(const std::string& dir, uint64_t seed, int delay_ms) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(CAIRN_CRASH_WRITER, CAIRN_CRASH_WRITER, dir.c_str(), std::to_string(seed).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  bool killed = false;
  for (;;) {
    int wait_ms = 0;
    if (!killed) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        kill(pid, SIGKILL);
        killed = true;
      } else {
        wait_ms = static_cast<int>(left);
      }
    }
    pollfd p{fds[0], POLLIN, 0};
    int rc = poll(&p, 1, killed ? 1000 : wait_ms);
    if (rc > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;  // EOF: the writer is gone
      out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer exited on its own with status " << status;
  // Only complete lines are acknowledgements.
  return out.substr(0, out.rfind('\n') + 1);
}

TEST(KillCrashTest, AcknowledgedAppendsSurviveKill9) {
  uint64_t seed = EnvOr("CAIRN_SEED", std::random_device{}());
  uint64_t kills = EnvOr("CAIRN_CRASH_KILLS", 12);
  std::printf("kill crash test: seed %llu, %llu kills\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(kills));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  std::map<uint64_t, Acked> oracle;  // position -> event
  for (uint64_t k = 0; k < kills; ++k) {
    int delay = 30 + static_cast<int>(rng() % 400);
    std::string lines = RunAndKill(dir.path(), seed + k, delay);
    std::istringstream in(lines);
    std::string tag, stream, id;
    uint64_t rev, pos;
    while (in >> tag >> stream >> rev >> pos >> id) oracle[pos] = {stream, rev, id};

    auto store = NativeStore::Open(dir.path());
    ASSERT_TRUE(store.has_value()) << "kill " << k << ": " << store.error().ToString();
    std::map<std::string, uint64_t> next_rev;
    uint64_t expect_pos = 0;
    size_t matched = 0;
    Status s = (*store)->ReadAll(ReadAllOptions{}, [&](const EventView& e) {
      EXPECT_EQ(e.position.value(), expect_pos);
      ++expect_pos;
      EXPECT_EQ(e.revision.value(), next_rev[std::string(e.stream)]++) << e.stream;
      auto it = oracle.find(e.position.value());
      if (it != oracle.end()) {
        EXPECT_EQ(e.stream, it->second.stream) << "position " << e.position.value();
        EXPECT_EQ(e.revision.value(), it->second.revision);
        EXPECT_EQ(e.id.ToString(), it->second.id);
        EXPECT_NE(std::string(e.data).find(it->second.id), std::string::npos);
        ++matched;
      }
      return true;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(matched, oracle.size()) << "kill " << k << ": acknowledged events missing";
    VerifyReport report;
    ASSERT_TRUE((*store)->Verify(&report).ok());
    ASSERT_TRUE(report.problems.empty())
        << report.problems[0].file << " " << report.problems[0].offset << " "
        << report.problems[0].what;
    ASSERT_TRUE((*store)->Close().ok());
  }
  EXPECT_GT(oracle.size(), kills);  // the writer made progress between kills
}

}  // namespace
}  // namespace cairn
