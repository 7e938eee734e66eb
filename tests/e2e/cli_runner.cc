#include "tests/e2e/cli_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace cairn::e2e {
namespace {

void WriteWholeFile(const std::string& path, const std::string& data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << data;
  if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream out;
  out << file.rdbuf();
  return out.str();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

CliRunner::CliRunner() : CliRunner(CAIRN_BINARY) {}

CliRunner::CliRunner(std::string binary) : binary_(std::move(binary)) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
      "/cairn-e2e-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " +
                             std::string(std::strerror(errno)));
  }
  dir_ = pattern;
}

CliRunner::~CliRunner() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string CliRunner::Path(const std::string& name) const {
  return dir_ + "/" + name;
}

pid_t CliRunner::Start(const std::vector<std::string>& args,
                       const std::string& stdin_path, const std::string& name,
                       const std::string& stderr_path) const {
  std::string out_path = Path(name + ".stdout");
  std::string err_path = Path(name + ".stderr");
  std::vector<std::string> argv_strings = {binary_};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else {
    posix_spawn_file_actions_addopen(
        &actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_NOCTTY, 0);
  }
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + argv_strings[0] + ": " +
                             std::strerror(rc));
  }
  return pid;
}

RunResult CliRunner::Wait(pid_t pid, const std::string& name) const {
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  RunResult result;
  if (WIFEXITED(wait_status)) {
    result.exit_status = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.exit_status = 128 + WTERMSIG(wait_status);
  }
  result.out = ReadWholeFile(Path(name + ".stdout"));
  result.err = ReadWholeFile(Path(name + ".stderr"));
  return result;
}

std::string CliRunner::WaitForLines(pid_t pid, const std::string& name,
                                    size_t lines,
                                    std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string out = ReadWholeFile(Path(name + ".stdout"));
    if (static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) >=
        lines) {
      return out;
    }
    // WNOWAIT: look without reaping, so Wait() still collects the status.
    siginfo_t info{};
    bool exited = ::waitid(P_PID, static_cast<id_t>(pid), &info,
                           WEXITED | WNOHANG | WNOWAIT) == 0 &&
                  info.si_pid == pid;
    if (exited || std::chrono::steady_clock::now() >= deadline) {
      return ReadWholeFile(Path(name + ".stdout"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ChildGuard::~ChildGuard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

RunResult CliRunner::Run(const std::vector<std::string>& args,
                         const std::string& input) const {
  std::string in_path = Path(".stdin");
  WriteWholeFile(in_path, input);
  return Wait(Start(args, in_path, ".run"), ".run");
}

RunResult CliRunner::RunDb(const std::string& db,
                           const std::vector<std::string>& args,
                           const std::string& input) const {
  std::vector<std::string> full = {"--db", Path(db)};
  full.insert(full.end(), args.begin(), args.end());
  return Run(full, input);
}

}  // namespace cairn::e2e
