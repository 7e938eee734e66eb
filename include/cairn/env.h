#pragma once
// Env: every file operation and clock read of the engine goes through here,
// so tests can substitute a fault-injecting Env (drop unsynced bytes, fail
// the next write or fsync, tear a write) and crash tests stay exact.
//
// Thread safety: Env methods may be called from any thread. A file object is
// used by one thread at a time unless its comment says otherwise.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cairn/status.h"

namespace cairn {

// A file opened for appending. Bytes appended are durable only after Sync().
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` at the end of the file, or fails.
  virtual Status Append(std::string_view data) = 0;
  // Makes every appended byte durable (fdatasync).
  virtual Status Sync() = 0;
  // Overwrites bytes at `offset` (no fsync); for small fixed-size hint files.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Cuts the file to `size` bytes (used to drop a torn tail after a failure).
  virtual Status Truncate(uint64_t size) = 0;
  // Reserves the disk blocks for the file to reach `size` bytes without
  // allocating on later appends (fallocate): the file's length on disk
  // becomes `size`, bytes past the appended data read as zeros, and Size()
  // (where Append writes) does not change. Appends into reserved blocks need
  // no file-size update. The blocks are still marked unwritten, though
  // (ext4, xfs): the first fdatasync after data lands in one journals its
  // conversion. Optional: the default reserves nothing.
  virtual Status Preallocate(uint64_t size) { return Status::OK(); }
  // Like Preallocate, but writes real zeros from the end of the appended
  // data (or of the zeros written before) up to `size`, and starts their
  // writeback. The blocks become ordinary written blocks, so a later
  // append's fdatasync flushes data only: on this project's test machine a
  // small append's write+fdatasync takes about 60 % of its time in a
  // fallocated block (BENCHMARKS.md). It costs a write of the zeros, so it
  // pays only when appends are small. Default: Preallocate.
  virtual Status WriteZeros(uint64_t size) { return Preallocate(size); }
  // A hint: starts writing appended bytes to the device without waiting,
  // so that work done before the next Sync overlaps the transfer. Durability
  // still comes only from Sync. Optional: the default does nothing.
  virtual void StartSync() {}
  virtual Status Close() = 0;
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

// A file opened for positional reads. Safe for concurrent use.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `scratch`; `*out` views the bytes
  // read (fewer than n only at end of file).
  virtual Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* out) const = 0;
  // Current size of the file on disk (it may grow while open).
  virtual Result<uint64_t> Size() const = 0;
  virtual const std::string& path() const = 0;
};

// A read-only memory map of a whole file. Safe for concurrent use.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual std::string_view data() const = 0;
  virtual const std::string& path() const = 0;
  // Gives back the address space past `length` (rounded up to a page) of a
  // mapping that is longer: data() then ends at `length`. For a file that
  // stopped growing but was mapped with room to grow (a closed log
  // segment). The caller makes sure no thread reads past `length` any more;
  // not to be called by two threads at once. Default: keeps the mapping.
  virtual void Shrink(uint64_t length) {}
};

// An advisory exclusive lock on a file, held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// Watches a directory for changes to its files (created, written, renamed
// into it), so that one process learns of another's writes without
// polling: a read-only store follows its writer's HEAD file this way.
// Thread safety: one thread at a time calls Wait; any thread may call Wake.
class DirectoryWatch {
 public:
  enum class Event {
    kChanged,   // something changed since the previous Wait returned
    kWoken,     // Wake was called: stop watching
    kTimedOut,  // nothing seen within the timeout (or the watch cannot tell)
  };
  virtual ~DirectoryWatch() = default;
  // Blocks until a change not yet reported, a Wake, or `timeout_micros`.
  // Changes seen together are reported once. A Wake is final: it wins over
  // a pending change, and every later Wait returns kWoken at once.
  virtual Event Wait(int64_t timeout_micros) = 0;
  virtual void Wake() = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX Env. Never destroyed.
  static Env* Default();

  // Opens `path` for appending, creating it if missing (existing bytes kept).
  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) = 0;
  // Maps `path` read-only. `length` 0 maps the current size; a larger length
  // reserves address space for a file that grows (bytes past the end of the
  // file must not be touched). `random_access` tells the OS not to read ahead
  // or map neighbouring pages (index lookups), keeping resident pages few.
  virtual Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path, uint64_t length = 0,
                                                      bool random_access = false) = 0;
  // Writes `data` to `path` atomically and durably: temp file, fsync, rename,
  // fsync of the directory.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Overwrites `data` at `offset` without fsync: for cross-process hints only.
  virtual Status WriteAt(const std::string& path, uint64_t offset, std::string_view data) = 0;
  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Result<bool> FileExists(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes `to` (which must not exist) a second name of the file `from` (a
  // hard link): both then name the same bytes, which stay until the last
  // name is removed, whatever later renames or removals do to the other.
  // True when linked. False, with nothing changed, when this file system
  // cannot link them (`to` on another file system, no hard links, too many
  // links to `from`, or linking not permitted): the caller copies instead.
  // Other failures are errors (kNotFound when `from` does not exist).
  virtual Result<bool> LinkFile(const std::string& from, const std::string& to) = 0;
  // Removes the directory `path`, which must be empty.
  virtual Status RemoveDir(const std::string& path) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // An identity of the file or directory at `path` that changes when it is
  // deleted and created again (device and inode number), so a process can
  // tell that a store it follows was replaced. Optional: the default gives
  // "" (unknown), and callers then skip the check.
  virtual Result<std::string> FileIdentity(const std::string& path) { return std::string(); }
  // Takes an exclusive advisory lock on `path` (created if missing) and
  // writes this process's pid into it. kLocked names the holder's pid.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
  // Wall clock, UTC nanoseconds since the Unix epoch.
  virtual int64_t NowNanos() = 0;
  // Monotonic clock, nanoseconds. It must advance with real time: waits
  // with a deadline on it (subscriptions) sleep on condition variables,
  // which measure real time.
  virtual int64_t MonotonicNanos() = 0;
  // Blocks the calling thread for at least `micros` microseconds (waiting
  // for another process, which no condition variable can signal).
  virtual void SleepForMicroseconds(int64_t micros) = 0;
  // Watches the directory `path`: kNotFound when it does not exist,
  // kResourceExhausted when the system's watch or descriptor limits are
  // reached, kIOError for another refusal (each naming `path`). The default is Env::Default()'s
  // (a watch reads nothing and writes nothing, so an Env that only injects I/O faults need not
  // provide one).
  virtual Result<std::unique_ptr<DirectoryWatch>> WatchDirectory(const std::string& path);
  // Starts a thread of the engine running `body`; the caller joins it.
  // `name` (at most 15 characters shown) is what debuggers and `top -H`
  // show. Every thread the engine starts comes through here, so a test Env
  // can count, name or hold them. Default: a std::thread, named.
  virtual std::thread StartThread(std::string name, std::function<void()> body);
};

}  // namespace cairn
