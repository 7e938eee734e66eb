// What opening checks before it trusts a directory and its log: that the
// directory is a Cairn store (or may become one), and that its log still
// holds every record the index and HEAD say were acknowledged.
#include <cstdio>

#include "src/log/record.h"
#include "src/store/head.h"
#include "src/store/paths.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

const char kLost[] = " (acknowledged events are lost)";

bool IsSegmentName(const std::string& n) {
  return n.size() == 12 && n.ends_with(".seg") && n.find_first_not_of("0123456789") == 8;
}

}  // namespace

Result<bool> Recovery::CheckDirectory(std::optional<Head>* head) {
  auto absent = [&]() -> Result<bool> {
    if (options_.read_only || !options_.create_if_missing) {
      return Status::NotFound("no Cairn store in '" + dir_ + "'");
    }
    return true;
  };
  CAIRN_ASSIGN_OR_RETURN(bool dir_exists, env_->FileExists(dir_));
  if (!dir_exists) return absent();
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir_));
  // HEAD first: the writer writes the log before HEAD, so the log listed
  // after this reaches at least as far as the HEAD read now.
  for (const std::string& n : names) {
    if (n != "HEAD") continue;
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(dir_ + "/HEAD"));
    *head = DecodeHead(bytes);
    if (!*head) {  // a torn read of a running writer's HEAD: once more
      CAIRN_ASSIGN_OR_RETURN(bytes, env_->ReadFile(dir_ + "/HEAD"));
      *head = DecodeHead(bytes);
    }
  }
  CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(dir_)));
  // What says the store held events: its checkpoint, or HEAD past position 0.
  const bool held_events = has_manifest || (*head && (*head)->next_position > 0);
  const std::string said_by = has_manifest ? ManifestPath(dir_) : dir_ + "/HEAD";
  CAIRN_ASSIGN_OR_RETURN(bool has_log, env_->FileExists(dir_ + "/log"));
  if (!has_log) {
    if (held_events) {
      return Status::Corruption(dir_ + "/log is missing, but " + said_by +
                                " says the store holds events" + kLost);
    }
    // Nothing but the skeleton of a store whose creation was cut short may
    // be here: a store is created only in a missing or empty directory.
    for (const std::string& n : names) {
      const bool ours = n == "LOCK" || n == "index" || (n == "HEAD" && *head);
      if (!ours) {
        return Status::InvalidArgument("'" + dir_ +
                                       "' is not empty and is not a Cairn store (no log/"
                                       " directory; it holds '" +
                                       n +
                                       "'): a store is created only in a missing or empty "
                                       "directory");
      }
    }
    return absent();
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> log_names, env_->ListDir(dir_ + "/log"));
  bool segment0 = false;
  std::string foreign;
  for (const std::string& n : log_names) {
    if (n == "00000000.seg") segment0 = true;
    if (!IsSegmentName(n) && !n.ends_with(".seg.scav") && foreign.empty()) foreign = n;
  }
  if (held_events && !segment0) {
    return Status::Corruption(dir_ + "/log/00000000.seg is missing, but " + said_by +
                              " says the store holds events" + kLost);
  }
  if (!held_events && !*head) {
    // Nothing of ours says this is a store: its log must look like one.
    if (!foreign.empty()) {
      return Status::InvalidArgument("'" + dir_ + "' is not a Cairn store: " + dir_ +
                                     "/log holds '" + foreign + "', which is not a log segment");
    }
    if (segment0) {
      CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(dir_ + "/log/00000000.seg"));
      const std::string_view magic(log::kSegmentMagic, sizeof log::kSegmentMagic);
      const std::string_view start = std::string_view(bytes).substr(0, magic.size());
      const bool torn_start = bytes.size() < log::kSegmentHeaderSize &&
                              (bytes.find_first_not_of('\0') == std::string::npos ||
                               magic.substr(0, start.size()) == start);
      if (start != magic && !torn_start) {
        return Status::InvalidArgument("'" + dir_ + "' is not a Cairn store: " + dir_ +
                                       "/log/00000000.seg is not a Cairn log segment");
      }
    }
  }
  return false;
}

bool Recovery::SwapOverlapped() {
  auto intent = env_->FileExists(IntentPath(dir_));
  if (!intent.has_value() || *intent) return true;
  auto bytes = env_->ReadFile(ManifestPath(dir_));
  if (!bytes.has_value()) return false;
  auto now = index::DecodeManifest(*bytes, ManifestPath(dir_));
  return now.has_value() && now->log_generation != recovered_generation_;
}

Status Recovery::CheckLogFilesReach(const index::Manifest& m, bool has_manifest,
                                    const std::optional<Head>& head) {
  auto reaches = [&](uint64_t address, const std::string& who) -> Status {
    const uint32_t seg = log::AddressSegment(address);
    const uint64_t off = log::AddressOffset(address);
    char name[16];
    std::snprintf(name, sizeof name, "%08u.seg", seg);
    const std::string path = dir_ + "/log/" + name;
    CAIRN_ASSIGN_OR_RETURN(bool exists, env_->FileExists(path));
    if (!exists) {
      return Status::Corruption(path + " is missing, but " + who + " says the log reaches offset " +
                                std::to_string(off) + " of it" + kLost);
    }
    CAIRN_ASSIGN_OR_RETURN(uint64_t size, env_->FileSize(path));
    if (size < off) {
      return Status::Corruption(path + " ends at offset " + std::to_string(size) + ", but " + who +
                                " says its records reach offset " + std::to_string(off) +
                                ": the file was cut" + kLost);
    }
    return Status::OK();
  };
  if (has_manifest && m.resume_address != 0) {
    CAIRN_RETURN_IF_ERROR(reaches(m.resume_address, ManifestPath(dir_)));
  }
  // A HEAD from before a scavenge (or a crash inside one) names addresses of
  // files since rewritten: only one of the manifest's log generation counts.
  if (head && head->log_generation.value_or(0) == m.log_generation) {
    CAIRN_RETURN_IF_ERROR(reaches(head->end_address, dir_ + "/HEAD"));
  }
  return Status::OK();
}

Status Recovery::CheckLogReaches() {
  // Each closed segment still holds the last record the position index
  // has in it (found by binary search: addresses grow with positions).
  const uint64_t n = store_->positions_.size();
  for (uint32_t seg = 0; seg < store_->log_->LastSegmentId() && n > 0; ++seg) {
    uint64_t lo = 0, hi = n;  // first entry past segment `seg`
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (log::AddressSegment(store_->positions_.At(mid).address) > seg) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    if (lo == 0) continue;
    const index::PositionEntry last = store_->positions_.At(lo - 1);
    if (log::AddressSegment(last.address) != seg) continue;
    auto record = store_->log_->Record(last.address);
    if (!record.has_value()) return record.error();
  }
  return Status::OK();
}

}  // namespace cairn
