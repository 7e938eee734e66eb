#pragma once
// Runs the real `cairn` binary as a child process for end-to-end tests:
// stdin from a string, stdout and stderr captured whole, exit status kept.
// Also owns a fresh scratch directory per test.
//
// Thread safety: one CliRunner per test; not shared between threads.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cairn::e2e {

struct RunResult {
  int exit_status = -1;  // 128 + signal number when killed by a signal
  std::string out;       // everything written to stdout
  std::string err;       // everything written to stderr
  // The child's peak resident set in KiB (getrusage's ru_maxrss).
  int64_t max_rss_kib = 0;
};

// How a child is set up beyond its arguments and stdin. The defaults are
// what Run() and Start() always did.
struct ChildOptions {
  // stdout goes to this file instead of being captured (e.g. "/dev/full");
  // the result's `out` is then empty.
  std::string stdout_path;
  // RLIMIT_NOFILE (soft and hard) set in the child before it execs, with
  // every descriptor above stderr closed, so the limit alone decides how
  // many files it can open; 0 keeps the test's own limit and descriptors.
  uint64_t max_open_files = 0;
};

class CliRunner {
 public:
  // Creates a fresh scratch directory under $TMPDIR (or /tmp); runs the
  // `cairn` binary, or `binary`.
  CliRunner();
  explicit CliRunner(std::string binary);
  // Removes the scratch directory and everything in it.
  ~CliRunner();
  CliRunner(const CliRunner&) = delete;
  CliRunner& operator=(const CliRunner&) = delete;

  // A path inside the scratch directory (not created).
  std::string Path(const std::string& name) const;

  // Runs `cairn args...` with `input` on stdin and waits for it to exit.
  RunResult Run(const std::vector<std::string>& args, const std::string& input = "") const;
  // The same, with the child set up as `child` says.
  RunResult Run(const std::vector<std::string>& args, const std::string& input,
                const ChildOptions& child) const;

  // Starts `cairn args...` without waiting, stdin read from `stdin_path`
  // (e.g. a FIFO the test writes to), stdout and stderr captured under
  // `name`; stderr goes to `stderr_path` instead when given (e.g. a
  // pseudo-terminal, which Wait() then reports as empty). `child` sets
  // up the rest. Finish it with Wait().
  pid_t Start(const std::vector<std::string>& args, const std::string& stdin_path,
              const std::string& name, const std::string& stderr_path = "",
              const ChildOptions& child = {}) const;
  // Waits for the process `pid` started under `name` and collects its output.
  RunResult Wait(pid_t pid, const std::string& name) const;
  // Polls the stdout of `pid` (started under `name`) until it holds at least
  // `lines` complete lines, the process has exited, or `timeout` passed;
  // returns the stdout read last. A generous timeout only bounds how long a
  // broken build makes the test wait; it is never what the test checks.
  std::string WaitForLines(pid_t pid, const std::string& name, size_t lines,
                           std::chrono::seconds timeout) const;

  // Runs `cairn --db <Path(db)> args...`.
  RunResult RunDb(const std::string& db, const std::vector<std::string>& args,
                  const std::string& input = "") const;

 private:
  std::string binary_;
  std::string dir_;
};

// Kills (SIGKILL) and reaps a started child on destruction unless released,
// so a test that fails while a follower runs leaves no process behind.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard();
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  // The child will be (or was) reaped by CliRunner::Wait.
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
};

// Reads a whole file; empty when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// Splits `text` into lines without their '\n'.
std::vector<std::string> SplitLines(const std::string& text);

}  // namespace cairn::e2e
