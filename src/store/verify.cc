// Verify: re-checks every record checksum and every index entry.
#include <algorithm>

#include "src/base/hash.h"
#include "src/store/paths.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

// positions.idx: a 16-byte header, then 16 bytes per record (index.md).
constexpr uint64_t kPositionsHeaderBytes = 16;
constexpr uint64_t kPositionEntryBytes = 16;

}  // namespace

Status StoreImpl::Verify(VerifyReport* report) {
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  *report = VerifyReport();
  const uint64_t snapshot = read.snapshot();
  auto where = [&](uint64_t address) {
    return log_->SegmentPath(log::AddressSegment(address)) + " offset " +
           std::to_string(log::AddressOffset(address));
  };
  auto problem = [&](std::string file, uint64_t offset, std::string what) {
    report->problems.push_back({std::move(file), offset, std::move(what)});
  };
  // 1. The log: every record, in order, positions contiguous; the position
  //    index agrees record by record.
  uint64_t next = 0, ordinal = 0;
  std::vector<uint64_t> bad_records;  // reported once; index entries to them are not
  const uint64_t records = positions_.size();
  bool previous_clean = true;
  bool scavenged = false;  // the segment before held sparse records
  for (uint32_t seg = 0; seg <= log_->LastSegmentId(); ++seg) {
    std::string path = log_->SegmentPath(seg);
    uint64_t seg_first = log_->SegmentFirstPosition(seg);
    // A scavenged segment may have lost its last events: the next segment
    // then starts past where its records ended.
    if (scavenged && seg_first > next) next = seg_first;
    scavenged = log_->SegmentScavenged(seg);
    if (seg_first != next) {
      if (previous_clean) {
        problem(path, 0,
                "segment starts at position " + std::to_string(seg_first) + ", expected " +
                    std::to_string(next));
      }
      // Resynchronise on the segment header so one damaged record is
      // reported once, not as a cascade.
      next = seg_first;
      ordinal = next < snapshot ? positions_.Locate(next) : records;
    }
    previous_clean = true;
    // Scans from `start` until a bad frame; every damaged place is listed,
    // so past one the scan goes on at the next whole record.
    uint64_t start = log::MakeAddress(seg, log::kSegmentHeaderSize);
    for (;;) {
      uint64_t bad = 0;
      Status s = log_->Scan(
          start, log::MakeAddress(seg, UINT32_MAX),
          [&](uint64_t address, std::string_view body, size_t) -> Status {
            uint64_t off = log::AddressOffset(address);
            ++report->records_checked;
            auto reader = log::CommitReader::Open(body, path + " offset " + std::to_string(off));
            if (!reader) {
              problem(path, off, reader.error().message());
              return Status::OK();
            }
            if (reader->first_position() >= snapshot) return Status::OK();
            // A scavenged segment's records, and sparse (restored) records
            // anywhere, may skip positions: holes (docs/format/log.md).
            if (scavenged || reader->sparse() ? reader->first_position() < next
                                              : reader->first_position() != next) {
              problem(path, off,
                      "record starts at position " + std::to_string(reader->first_position()) +
                          ", expected " + std::to_string(next));
            }
            EventView e;
            for (;;) {
              auto more = reader->Next(&e);
              if (!more) {
                problem(path, off, more.error().message());
                break;
              }
              if (!*more) break;
              ++report->events_checked;
              next = e.position.value() + 1;
            }
            if (ordinal < records) {
              index::PositionEntry pe = positions_.At(ordinal);
              if (pe.address != address || pe.first_position != reader->first_position()) {
                problem(PositionsPath(dir_), kPositionsHeaderBytes + ordinal * kPositionEntryBytes,
                        "entry " + std::to_string(ordinal) + " names position " +
                            std::to_string(pe.first_position) + " at " + where(pe.address) +
                            ", but the record of position " +
                            std::to_string(reader->first_position()) + " is at " + where(address));
              }
              ++report->index_entries_checked;
            }
            ++ordinal;
            return Status::OK();
          },
          &bad);
      if (s.ok()) break;
      problem(path, log::AddressOffset(bad), s.message());
      if (bad == 0) return s;
      bad_records.push_back(bad);
      previous_clean = false;
      auto tail = log_->RawTail(seg, log::AddressOffset(bad));
      if (!tail.has_value()) break;
      const size_t found = log::FindNextRecord(*tail, 1, next);
      if (found == std::string_view::npos) break;
      start = bad + found;
      // The records skipped are gone from the count: realign with the index.
      auto reader = log::CommitReader::Open(tail->substr(found + log::kFrameHeaderSize), "");
      if (reader.has_value()) {
        next = reader->first_position();
        ordinal = next < snapshot ? positions_.Locate(next) : records;
      }
    }
    if (seg == log_->LastSegmentId()) break;
  }
  if (next < snapshot && !scavenged) {
    problem(log_->SegmentPath(log_->LastSegmentId()), 0,
            "log holds positions up to " + std::to_string(next) + " but " +
                std::to_string(snapshot) + " are acknowledged");
  }
  // 2. Index runs: block checksums, and each entry against the log.
  std::vector<std::pair<std::shared_ptr<const index::IndexRun>, index::RunKind>> runs;
  {
    std::shared_lock l(index_mu_);
    for (const auto& r : index_.runs.stream) runs.emplace_back(r, index::RunKind::kStream);
    for (const auto& r : index_.runs.ids) runs.emplace_back(r, index::RunKind::kIds);
    for (const auto& r : index_.runs.tags) runs.emplace_back(r, index::RunKind::kTags);
  }
  std::vector<EventView> events;
  for (const auto& [run, kind] : runs) {
    uint64_t loaded = UINT64_MAX;
    Status scanned = run->Scan([&](uint64_t i, const index::IndexEntry& e) {
      ++report->index_entries_checked;
      uint64_t off = index::kRunHeaderSize + i * index::kRunEntrySize;
      if (e.address != loaded) {
        Status s = DecodeRecord(e.address, &events);
        if (!s.ok()) {
          if (std::find(bad_records.begin(), bad_records.end(), e.address) == bad_records.end()) {
            problem(run->path(), off, "entry points to a bad record: " + s.message());
          }
          loaded = UINT64_MAX;
          return true;
        }
        loaded = e.address;
      }
      const EventView* at = log::FindAt(events, e.position);
      if (at == nullptr) {
        problem(
            run->path(), off,
            "entry for position " + std::to_string(e.position) + " points to a record without it");
        return true;
      }
      const EventView& ev = *at;
      bool good = false;
      switch (kind) {
        case index::RunKind::kStream:
          good = e.hash == StreamHash(ev.stream) && e.revision == ev.revision.value();
          break;
        case index::RunKind::kIds:
          good = e.hash == IdKey(ev.id.bytes().data()) && e.revision == ev.revision.value();
          break;
        case index::RunKind::kTags: {
          std::string_view c = StreamCategory(ev.stream);
          const bool first = true;  // creation tags: ListStreams confirms them
          good = e.revision == e.position &&
                 (e.hash == StreamHash(TypeTag(ev.type)) ||
                  (!c.empty() && e.hash == StreamHash(CategoryTag(c))) ||
                  (first && e.hash == StreamHash(StreamsTag())) ||
                  (first && !c.empty() && e.hash == StreamHash(CategoryStreamsTag(c))));
          break;
        }
      }
      if (!good) {
        problem(run->path(), off,
                "entry (revision " + std::to_string(e.revision) +
                    ") does not match the event at position " + std::to_string(e.position));
      }
      return true;
    });
    // A damaged block stops the scan of this run; its message names the offset.
    if (!scanned.ok()) problem(run->path(), 0, scanned.message());
  }
  return Status::OK();
}

}  // namespace cairn
