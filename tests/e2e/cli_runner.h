#pragma once
// Runs the real `cairn` binary as a child process for end-to-end tests:
// stdin from a string, stdout and stderr captured whole, exit status kept.
// Also owns a fresh scratch directory per test.
//
// Thread safety: one CliRunner per test; not shared between threads.

#include <sys/types.h>

#include <string>
#include <vector>

namespace cairn::e2e {

struct RunResult {
  int exit_status = -1;  // 128 + signal number when killed by a signal
  std::string out;       // everything written to stdout
  std::string err;       // everything written to stderr
};

class CliRunner {
 public:
  // Creates a fresh scratch directory under $TMPDIR (or /tmp).
  CliRunner();
  // Removes the scratch directory and everything in it.
  ~CliRunner();
  CliRunner(const CliRunner&) = delete;
  CliRunner& operator=(const CliRunner&) = delete;

  // A path inside the scratch directory (not created).
  std::string Path(const std::string& name) const;

  // Runs `cairn args...` with `input` on stdin and waits for it to exit.
  RunResult Run(const std::vector<std::string>& args,
                const std::string& input = "") const;

  // Starts `cairn args...` without waiting, stdin read from `stdin_path`
  // (e.g. a FIFO the test writes to), stdout and stderr captured under
  // `name`. Finish it with Wait().
  pid_t Start(const std::vector<std::string>& args,
              const std::string& stdin_path, const std::string& name) const;
  // Waits for the process `pid` started under `name` and collects its output.
  RunResult Wait(pid_t pid, const std::string& name) const;

  // Runs `cairn --db <Path(db)> args...`.
  RunResult RunDb(const std::string& db, const std::vector<std::string>& args,
                  const std::string& input = "") const;

 private:
  std::string dir_;
};

// Reads a whole file; empty when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// Splits `text` into lines without their '\n'.
std::vector<std::string> SplitLines(const std::string& text);

}  // namespace cairn::e2e
