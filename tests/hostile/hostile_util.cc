#include "tests/hostile/hostile_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace cairn::hostile {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(data.data(), static_cast<std::streamsize>(data.size()));
  file.close();
  ASSERT_TRUE(file.good()) << "cannot write " << path;
}

std::string IdOf(uint64_t n) {
  char id[40];
  std::snprintf(id, sizeof id, "7e1a0000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n));
  return id;
}

std::string AccountLines(int streams, int per_stream) {
  std::string out;
  uint64_t line = 0;
  for (int s = 0; s < streams; ++s) {
    for (int i = 0; i < per_stream; ++i, ++line) {
      out += "{\"stream\":\"acct-" + std::to_string(s) + "\",\"type\":\"Dep\",\"id\":\"" +
             IdOf(line) + "\",\"data\":{\"n\":" + std::to_string(i) + "}}\n";
    }
  }
  return out;
}

std::string ImportLines(int lines) {
  std::string out;
  for (int i = 0; i < lines; ++i) {
    out += "{\"stream\":\"imp-" + std::to_string(i / 250) + "\",\"type\":\"Ev\",\"id\":\"" +
           IdOf(static_cast<uint64_t>(i)) + "\",\"data\":{\"i\":" + std::to_string(i) + "}}\n";
  }
  return out;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(entry.path(), dir).string();
    if (entry.is_directory()) {
      files[rel + "/"] = "";
    } else {
      files[rel] = e2e::ReadWholeFile(entry.path().string());
    }
  }
  return files;
}

std::vector<std::string> FilesEndingIn(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(suffix)) names.push_back(name);
  }
  return names;
}

int64_t CountStored(const CliRunner& cli, const std::string& db_path, bool may_be_missing) {
  RunResult count = cli.Run({"--db", db_path, "count"});
  if (count.exit_status == 4 && may_be_missing) {
    EXPECT_EQ(count.out, "");
    return 0;
  }
  EXPECT_EQ(count.exit_status, 0) << db_path << ": " << count.err;
  EXPECT_EQ(count.err, "") << db_path;
  if (count.exit_status != 0) return -1;
  Json parsed = ParseObject(count.out);
  if (!parsed.contains("count")) return -1;
  return parsed["count"].get<int64_t>();
}

Json ParseObject(const std::string& line) {
  Json parsed = Json::parse(line, nullptr, false);
  EXPECT_TRUE(parsed.is_object()) << "not a JSON object: " << line;
  return parsed.is_object() ? parsed : Json();
}

std::vector<Json> ObjectsWithKey(const std::string& text, const std::string& key) {
  std::vector<Json> found;
  for (const std::string& line : e2e::SplitLines(text)) {
    Json parsed = Json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.contains(key)) found.push_back(std::move(parsed));
  }
  return found;
}

Tmpfs::Tmpfs(std::string dir, uint64_t mib) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const std::string options = "size=" + std::to_string(mib) + "m";
  if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    error_ = "mount -t tmpfs -o " + options + " tmpfs " + dir_ + ": " + std::strerror(errno) +
             (::geteuid() != 0 ? " (not running as root)" : " (a container that forbids mounts?)");
    return;
  }
  mounted_ = true;
}

Tmpfs::~Tmpfs() {
  if (!mounted_) return;
  if (::umount(dir_.c_str()) != 0) (void)::umount2(dir_.c_str(), MNT_DETACH);
}

uint64_t Tmpfs::FreeBytes() const {
  struct statvfs st {};
  if (::statvfs(dir_.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

void Tmpfs::LeaveFree(uint64_t free_bytes) {
  const std::string filler = dir_ + "/filler";
  ::unlink(filler.c_str());
  const uint64_t free_now = FreeBytes();
  if (free_now <= free_bytes) return;
  const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << filler << ": " << std::strerror(errno);
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(free_now - free_bytes));
  ::close(fd);
  ASSERT_EQ(rc, 0) << "fallocate " << filler << ": " << std::strerror(rc);
}

bool LongRuns() {
  const char* value = std::getenv("CAIRN_HOSTILE_LONG");
  return value != nullptr && std::string(value) == "1";
}

}  // namespace cairn::hostile
