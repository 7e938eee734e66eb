#pragma once
// LineReader: reads a JSON-lines input (a file or stdin) line by line with a
// bound on the length of a line, checked while reading: a line past the
// bound is refused as soon as the bound is passed, without reading (or
// holding) the rest of it. `cairn import` used to read a 300 MiB line whole
// (1.2 GB of memory) before the engine's 16 MiB event limit refused it.
//
// Thread safety: one thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::cli {

class LineReader {
 public:
  // Reads `path`, or stdin when it is "-". kInvalidArgument when the file
  // does not exist, the OS error otherwise.
  static Result<LineReader> Open(const std::string& path, size_t max_line_bytes);
  LineReader(LineReader&& other) noexcept;
  LineReader& operator=(LineReader&&) = delete;
  ~LineReader();

  // The next line without its '\n' (a last line without one included),
  // valid until the next call; nullopt at the end of the input.
  // kInvalidArgument naming the line when it is longer than the bound;
  // kIOError when reading fails.
  Result<std::optional<std::string_view>> Next();
  // True when the next Next() would wait for input: no whole line is
  // buffered and the input (a pipe or terminal) has nothing to read now.
  // An importer stores what it holds before waiting.
  bool WouldWait() const;
  // Reads also stop when `fd` becomes readable (InterruptWatcher::wake_fd):
  // Next() then fails with kCancelled. -1: none.
  void set_wake_fd(int fd) { wake_fd_ = fd; }
  // Number of the line Next() returned last (1-based).
  uint64_t line_number() const { return line_number_; }
  // Bytes consumed so far (for a progress bar).
  uint64_t bytes_read() const { return consumed_; }
  const std::string& name() const { return name_; }

 private:
  LineReader(int fd, bool owned, std::string name, size_t max_line_bytes);
  // Reads more input at the end of buf_; false at the end of the input.
  Result<bool> Fill();

  int fd_;
  bool owned_;
  std::string name_;
  size_t max_line_bytes_;
  std::string buf_;
  size_t start_ = 0;  // where the unread part of buf_ begins
  bool eof_ = false;
  uint64_t line_number_ = 0;
  uint64_t consumed_ = 0;
  int wake_fd_ = -1;
};

}  // namespace cairn::cli
