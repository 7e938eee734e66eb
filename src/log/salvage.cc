// SalvageLog (include/cairn/salvage.h): reads a log segment by segment,
// record by record, and past a bad frame looks for the next whole record
// (log::FindNextRecord) instead of stopping.
#include "cairn/salvage.h"

#include <algorithm>
#include <cstdio>

#include "src/log/record.h"
#include "src/store/head.h"

namespace cairn {
namespace {

const char* FrameProblem(log::FrameState st) {
  switch (st) {
    case log::FrameState::kTruncated:
      return "record truncated";
    case log::FrameState::kBadLength:
      return "record length out of range";
    case log::FrameState::kBadChecksum:
      return "record checksum mismatch";
    case log::FrameState::kOk:
      break;
  }
  return "record damaged";
}

std::string SegmentName(uint32_t id) {
  char name[16];
  std::snprintf(name, sizeof name, "%08u.seg", id);
  return name;
}

}  // namespace

bool SalvageReport::damaged() const {
  return std::any_of(damage.begin(), damage.end(),
                     [](const SalvageDamage& d) { return !d.torn_tail; });
}

Result<SalvageReport> SalvageLog(const std::string& dir, const EventVisitor& visit, Env* env) {
  if (env == nullptr) env = Env::Default();
  const std::string log_dir = dir + "/log";
  auto listed = env->ListDir(log_dir);
  // No log at all: a store that held events lost all of them (its
  // checkpoint or HEAD says so), anything else is no store.
  auto no_log = [&](const std::string& what) -> Status {
    auto manifest = env->FileExists(dir + "/index/MANIFEST");
    std::optional<Head> h;
    if (auto bytes = env->ReadFile(dir + "/HEAD"); bytes.has_value()) h = DecodeHead(*bytes);
    if ((manifest.has_value() && *manifest) || (h && h->next_position > 0)) {
      return Status::Corruption(what +
                                ", but the store holds events (its MANIFEST or HEAD says "
                                "so): acknowledged events are lost");
    }
    return Status::NotFound(what);
  };
  if (!listed.has_value()) {
    auto exists = env->FileExists(log_dir);
    if (exists.has_value() && !*exists) return no_log(log_dir + " is missing");
    return listed.error();
  }
  std::vector<uint32_t> ids;
  for (const std::string& n : *listed) {
    if (n.size() == 12 && n.ends_with(".seg") && n.find_first_not_of("0123456789") == 8) {
      ids.push_back(static_cast<uint32_t>(std::stoul(n.substr(0, 8))));
    }
  }
  if (ids.empty()) return no_log("no log segments in " + log_dir);
  std::sort(ids.begin(), ids.end());
  // HEAD says how far the log was acknowledged: damage below it is never a
  // torn tail. (Without a current HEAD every tail counts as torn.)
  std::optional<Head> head;
  if (auto bytes = env->ReadFile(dir + "/HEAD"); bytes.has_value()) head = DecodeHead(*bytes);

  SalvageReport report;
  uint64_t next = 0;  // positions below this were visited: never go back
  bool stopped = false;
  uint64_t last_size = 0;  // bytes of the last segment
  for (size_t k = 0; k < ids.size() && !stopped; ++k) {
    const uint32_t id = ids[k];
    const std::string path = log_dir + "/" + SegmentName(id);
    if (k > 0 && id != ids[k - 1] + 1) {
      report.damage.push_back({log_dir + "/" + SegmentName(ids[k - 1] + 1), 0, 0,
                               "segment missing (segments " + std::to_string(ids[k - 1] + 1) +
                                   " to " + std::to_string(id - 1) + ")",
                               false});
    }
    CAIRN_ASSIGN_OR_RETURN(auto map, env->MapFile(path, 0));
    const std::string_view bytes = map->data();
    ++report.segments;
    const bool last = k + 1 == ids.size();
    if (last) last_size = bytes.size();
    auto damage = [&](uint64_t at, uint64_t skipped, std::string what) {
      const bool below_head = head && (log::AddressSegment(head->end_address) > id ||
                                       (log::AddressSegment(head->end_address) == id &&
                                        log::AddressOffset(head->end_address) > at));
      const bool torn = last && at + skipped == bytes.size() && !below_head;
      report.damage.push_back({path, at, skipped, std::move(what), torn});
    };
    size_t off = log::kSegmentHeaderSize;
    auto header =
        log::DecodeSegmentHeader(bytes.substr(0, std::min<size_t>(bytes.size(), off)), path);
    if (!header.has_value()) {
      // Records after a damaged header may still be whole: look for them.
      const size_t found = log::FindNextRecord(bytes, std::min(off, bytes.size()), next);
      const size_t end = found == std::string_view::npos ? bytes.size() : found;
      damage(0, end, header.error().message());
      off = end;
    }
    while (off < bytes.size() && !stopped) {
      std::string_view body;
      size_t framed = 0;
      const log::FrameState st = log::CheckFrame(bytes.substr(off), UINT32_MAX, &body, &framed);
      if (st == log::FrameState::kOk) {
        auto reader = log::CommitReader::Open(body, path + " offset " + std::to_string(off));
        if (reader.has_value() && reader->first_position() >= next) {
          // Decode the whole record first: a record is returned whole or
          // not at all.
          std::vector<EventView> events;
          Status decoded;
          for (EventView e;;) {
            auto more = reader->Next(&e);
            if (!more.has_value()) {
              decoded = more.error();
              break;
            }
            if (!*more) break;
            events.push_back(e);
          }
          if (decoded.ok()) {
            ++report.records;
            for (const EventView& e : events) {
              ++report.events;
              next = e.position.value() + 1;
              if (!visit(e)) {
                stopped = true;
                break;
              }
            }
            off += framed;
            continue;
          }
          damage(off, framed, decoded.message());
          off += framed;
          continue;
        }
        // A frame that reads but goes back in positions, or a bad fixed part.
        const std::string what = reader.has_value() ? "record starts at position " +
                                                          std::to_string(reader->first_position()) +
                                                          ", below position " + std::to_string(next)
                                                    : reader.error().message();
        damage(off, framed, what);
        off += framed;
        continue;
      }
      // Zeros to the end: reserved space, not damage.
      if (bytes.substr(off).find_first_not_of('\0') == std::string_view::npos) break;
      const size_t found = log::FindNextRecord(bytes, off + 1, next);
      const size_t end = found == std::string_view::npos ? bytes.size() : found;
      damage(off, end - off, FrameProblem(st));
      off = end;
    }
  }
  // The log must reach HEAD's durable end. A segment cut at a record's
  // boundary (or below its header) or the last segments deleted leave no
  // partial record to find, only less log than was acknowledged. Only a
  // HEAD naming the last segment (or a later one) counts: the earlier,
  // closed ones may have been rewritten by a scavenge since. A writer that
  // rolled the log while this ran (a scavenge rolls it before it rewrites
  // anything) leaves a later segment: then nothing is judged.
  auto rolled = [&]() {
    auto now = env->ListDir(log_dir);
    if (!now.has_value()) return false;
    for (const std::string& n : *now) {
      if (n.size() == 12 && n.ends_with(".seg") && n.find_first_not_of("0123456789") == 8 &&
          std::stoul(n.substr(0, 8)) > ids.back()) {
        return true;
      }
    }
    return false;
  };
  if (!stopped && head && log::AddressSegment(head->end_address) >= ids.back() &&
      (log::AddressSegment(head->end_address) > ids.back() ||
       last_size < log::AddressOffset(head->end_address)) &&
      !rolled()) {
    const uint32_t end_segment = log::AddressSegment(head->end_address);
    const uint64_t end_offset = log::AddressOffset(head->end_address);
    const std::string reach = "HEAD says the log reaches offset " + std::to_string(end_offset) +
                              " of segment " + std::to_string(end_segment);
    if (end_segment > ids.back()) {
      report.damage.push_back({log_dir + "/" + SegmentName(ids.back() + 1), 0, 0,
                               "segment missing: " + reach + " (acknowledged events are lost)",
                               false});
    } else if (last_size < end_offset) {
      report.damage.push_back(
          {log_dir + "/" + SegmentName(ids.back()), last_size, end_offset - last_size,
           "the file ends here, but " + reach + ": it was cut (acknowledged events are lost)",
           false});
    }
  }
  return report;
}

}  // namespace cairn
