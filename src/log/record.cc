#include "src/log/record.h"

#include <algorithm>
#include <cstring>

#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"

namespace cairn::log {

std::string EncodeSegmentHeader(const SegmentHeader& h) {
  std::string out(kSegmentMagic, sizeof kSegmentMagic);
  PutFixed32(&out, kFormatVersion);
  PutFixed32(&out, h.segment_id);
  PutFixed64(&out, h.first_position);
  PutFixed32(&out, h.flags);
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes, const std::string& file) {
  if (bytes.size() < kSegmentHeaderSize) {
    return Status::Corruption(file + " offset 0: segment header truncated (" +
                              std::to_string(bytes.size()) + " of 32 bytes)");
  }
  if (std::memcmp(bytes.data(), kSegmentMagic, 8) != 0) {
    return Status::Corruption(file + " offset 0: not a Cairn log segment (bad magic)");
  }
  uint32_t crc = crc32c::Unmask(DecodeFixed32(bytes.data() + 28));
  if (crc != crc32c::Value(bytes.data(), 28)) {
    return Status::Corruption(file + " offset 0: segment header checksum mismatch");
  }
  uint32_t version = DecodeFixed32(bytes.data() + 8);
  if (version != kFormatVersion) {
    return Status::Corruption(file + " offset 0: unsupported log format version " +
                              std::to_string(version));
  }
  SegmentHeader h;
  h.segment_id = DecodeFixed32(bytes.data() + 12);
  h.first_position = DecodeFixed64(bytes.data() + 16);
  h.flags = DecodeFixed32(bytes.data() + 24);
  if ((h.flags & ~kSegmentScavenged) != 0) {
    return Status::Corruption(file + " offset 24: unknown segment flags " +
                              std::to_string(h.flags));
  }
  return h;
}

size_t MaxEncodedEventSize(size_t stream, size_t type, size_t data, size_t metadata) {
  // The original layout, plus 2 bytes: a varint revision above 2^56 takes
  // 10 bytes where the original one takes 8; every other compact field is
  // no longer than its fixed-width one within the engine's limits.
  return 2 + stream + 8 + 16 + 2 + type + 1 + 4 + data + 4 + metadata + 2;
}

CommitEncoder::CommitEncoder(std::string* out, uint64_t first_position, int64_t created_ns,
                             bool sparse, bool continues_write, bool compact)
    : out_(out),
      start_(out->size()),
      first_position_(first_position),
      sparse_(sparse),
      compact_(compact) {
  out_->append(kFrameHeaderSize, '\0');
  out_->push_back(static_cast<char>(kRecordCommit));
  out_->push_back(static_cast<char>((sparse ? kFlagSparse : 0) |
                                    (continues_write ? kFlagContinuesWrite : 0) |
                                    (compact ? kFlagCompact : 0)));  // flags
  PutFixed16(out_, 0);                                               // reserved
  PutFixed32(out_, 0);  // event count, patched in Finish
  PutFixed64(out_, first_position);
  PutFixed64(out_, static_cast<uint64_t>(created_ns));
}

void CommitEncoder::AddEvent(const EventToEncode& e, uint64_t position) {
  const uint8_t content = static_cast<uint8_t>(static_cast<uint8_t>(e.content_type) |
                                               (e.caller_id ? kCallerIdFlag : 0) |
                                               (e.first_stored ? kFirstStoredFlag : 0));
  if (!compact_) {
    if (sparse_) PutFixed32(out_, static_cast<uint32_t>(position - first_position_));
    PutFixed16(out_, static_cast<uint16_t>(e.stream.size()));
    out_->append(e.stream);
    PutFixed64(out_, e.revision);
    out_->append(reinterpret_cast<const char*>(e.id->bytes().data()), 16);
    PutFixed16(out_, static_cast<uint16_t>(e.type.size()));
    out_->append(e.type);
    out_->push_back(static_cast<char>(content));
    PutFixed32(out_, static_cast<uint32_t>(e.data.size()));
    out_->append(e.data);
    PutFixed32(out_, static_cast<uint32_t>(e.metadata.size()));
    out_->append(e.metadata);
    ++count_;
    return;
  }
  const bool same_stream =
      count_ > 0 && e.revision > last_revision_ &&
      std::string_view(out_->data() + last_stream_at_, last_stream_len_) == e.stream;
  const bool same_type =
      count_ > 0 && std::string_view(out_->data() + last_type_at_, last_type_len_) == e.type;
  // The event's exact size first, then one resize and plain stores: a
  // batch encodes thousands of events, and a string append per field cost
  // as much as copying the event's data.
  const uint64_t delta = position - first_position_;
  const uint64_t skipped = same_stream ? e.revision - last_revision_ - 1 : 0;
  size_t n = (sparse_ ? VarintLength(delta) : 0) + 1 + 16 + VarintLength(e.data.size()) +
             e.data.size() + VarintLength(e.metadata.size()) + e.metadata.size();
  n += same_stream ? VarintLength(skipped)
                   : VarintLength(e.stream.size()) + e.stream.size() + VarintLength(e.revision);
  if (!same_type) n += VarintLength(e.type.size()) + e.type.size();
  const size_t at = out_->size();
  out_->resize(at + n);
  char* const begin = out_->data();
  char* p = begin + at;
  auto put = [&p](std::string_view bytes) {
    if (bytes.empty()) return;  // a default view's data() is null: no memcpy from it
    std::memcpy(p, bytes.data(), bytes.size());
    p += bytes.size();
  };
  if (sparse_) p = EncodeVarint64(p, delta);
  *p++ = static_cast<char>(content | (same_stream ? kSameStreamFlag : 0) |
                           (same_type ? kSameTypeFlag : 0));
  if (same_stream) {
    p = EncodeVarint64(p, skipped);
  } else {
    p = EncodeVarint64(p, e.stream.size());
    last_stream_at_ = static_cast<size_t>(p - begin);
    last_stream_len_ = e.stream.size();
    put(e.stream);
    p = EncodeVarint64(p, e.revision);
  }
  last_revision_ = e.revision;
  put(std::string_view(reinterpret_cast<const char*>(e.id->bytes().data()), 16));
  if (!same_type) {
    p = EncodeVarint64(p, e.type.size());
    last_type_at_ = static_cast<size_t>(p - begin);
    last_type_len_ = e.type.size();
    put(e.type);
  }
  p = EncodeVarint64(p, e.data.size());
  put(e.data);
  p = EncodeVarint64(p, e.metadata.size());
  put(e.metadata);
  CAIRN_CHECK(p == begin + at + n);
  ++count_;
}

size_t CommitEncoder::Finish() {
  char* base = out_->data() + start_;
  size_t body_len = out_->size() - start_ - kFrameHeaderSize;
  EncodeFixed32(base + kFrameHeaderSize + 4, count_);
  EncodeFixed32(base, static_cast<uint32_t>(body_len));
  uint32_t crc = crc32c::Value(base + kFrameHeaderSize, body_len);
  EncodeFixed32(base + 4, crc32c::Mask(crc));
  return body_len + kFrameHeaderSize;
}

FrameState CheckFrame(std::string_view bytes, uint64_t max_body, std::string_view* body,
                      size_t* framed_size) {
  if (bytes.size() < kFrameHeaderSize) return FrameState::kTruncated;
  uint32_t len = DecodeFixed32(bytes.data());
  if (len < kCommitFixedSize || len > max_body) return FrameState::kBadLength;
  if (bytes.size() - kFrameHeaderSize < len) return FrameState::kTruncated;
  uint32_t expected = crc32c::Unmask(DecodeFixed32(bytes.data() + 4));
  if (crc32c::Value(bytes.data() + kFrameHeaderSize, len) != expected) {
    return FrameState::kBadChecksum;
  }
  *body = bytes.substr(kFrameHeaderSize, len);
  *framed_size = kFrameHeaderSize + len;
  return FrameState::kOk;
}

size_t FindNextRecord(std::string_view bytes, size_t from, uint64_t min_position) {
  constexpr size_t kHead = kFrameHeaderSize + kCommitFixedSize;
  for (size_t i = from; i + kHead <= bytes.size(); ++i) {
    if (bytes[i] == '\0' && bytes[i + 1] == '\0' && bytes[i + 2] == '\0' && bytes[i + 3] == '\0') {
      // A frame's length is never 0: jump over a run of zeros.
      const size_t nz = bytes.find_first_not_of('\0', i);
      if (nz == std::string_view::npos) return std::string_view::npos;
      i = nz >= 4 ? nz - 4 : i;  // ++i: the length's high bytes may be zero
      continue;
    }
    const uint32_t len = DecodeFixed32(bytes.data() + i);
    if (len < kCommitFixedSize || len > bytes.size() - i - kFrameHeaderSize) continue;
    const char* body = bytes.data() + i + kFrameHeaderSize;
    const uint8_t flags = static_cast<uint8_t>(body[1]);
    if (body[0] != kRecordCommit || body[2] != 0 || body[3] != 0 ||
        (flags & ~(kFlagSparse | kFlagContinuesWrite | kFlagCompact)) != 0 ||
        DecodeFixed32(body + 4) == 0 || DecodeFixed64(body + 8) < min_position) {
      continue;
    }
    std::string_view found;
    size_t framed = 0;
    if (CheckFrame(bytes.substr(i), UINT32_MAX, &found, &framed) == FrameState::kOk) return i;
  }
  return std::string_view::npos;
}

Result<CommitReader> CommitReader::Open(std::string_view body, const std::string& where) {
  return Open(body, std::function<std::string()>([where] { return where; }));
}

Result<CommitReader> CommitReader::Open(std::string_view body, std::function<std::string()> where) {
  Decoder d(body);
  uint8_t type = 0, flags = 0;
  uint16_t reserved = 0;
  CommitReader r;
  uint64_t created = 0;
  if (!d.GetU8(&type) || !d.GetU8(&flags) || !d.GetU16(&reserved) || !d.GetU32(&r.count_) ||
      !d.GetU64(&r.first_position_) || !d.GetU64(&created)) {
    return Status::Corruption(where() + ": commit record shorter than its fixed part");
  }
  if (type != kRecordCommit) {
    return Status::Corruption(where() + ": unknown record type " + std::to_string(type));
  }
  if ((flags & ~(kFlagSparse | kFlagContinuesWrite | kFlagCompact)) != 0) {
    return Status::Corruption(where() + ": unknown commit flags " + std::to_string(flags));
  }
  r.sparse_ = (flags & kFlagSparse) != 0;
  r.continues_write_ = (flags & kFlagContinuesWrite) != 0;
  r.compact_ = (flags & kFlagCompact) != 0;
  r.next_min_position_ = r.first_position_;
  r.created_ns_ = static_cast<int64_t>(created);
  r.rest_ = body.substr(kCommitFixedSize);
  r.where_ = std::move(where);
  return r;
}

Result<bool> CommitReader::Next(EventView* e) {
  if (index_ >= count_) {
    if (!rest_.empty()) {
      return Status::Corruption(where_() + ": " + std::to_string(rest_.size()) +
                                " trailing bytes after the last event");
    }
    return false;
  }
  Decoder d(rest_);
  auto truncated = [&] {
    return Status::Corruption(where_() + ": event " + std::to_string(index_) +
                              " of the commit record is truncated");
  };
  uint64_t position = first_position_ + index_;
  if (sparse_) {
    uint64_t delta = 0;
    if (compact_) {
      if (!d.GetVarint64(&delta)) return truncated();
    } else {
      uint32_t delta32 = 0;
      if (!d.GetU32(&delta32)) return truncated();
      delta = delta32;
    }
    position = first_position_ + delta;
    if (delta > UINT64_MAX - first_position_ || position < next_min_position_ ||
        (index_ == 0 && delta != 0)) {
      return Status::Corruption(where_() + ": event " + std::to_string(index_) +
                                " of a sparse record is out of position order");
    }
    next_min_position_ = position + 1;
  }
  uint64_t revision = 0;
  uint8_t content = 0;
  std::string_view id;
  if (!compact_) {
    uint16_t stream_len = 0, type_len = 0;
    uint32_t data_len = 0, meta_len = 0;
    bool ok = d.GetU16(&stream_len) && d.GetBytes(stream_len, &e->stream) && d.GetU64(&revision) &&
              d.GetBytes(16, &id) && d.GetU16(&type_len) && d.GetBytes(type_len, &e->type) &&
              d.GetU8(&content) && d.GetU32(&data_len) && d.GetBytes(data_len, &e->data) &&
              d.GetU32(&meta_len) && d.GetBytes(meta_len, &e->metadata);
    if (!ok) return truncated();
  } else {
    if (!d.GetU8(&content)) return truncated();
    const bool same_stream = (content & kSameStreamFlag) != 0;
    const bool same_type = (content & kSameTypeFlag) != 0;
    if (index_ == 0 && (same_stream || same_type)) {
      return Status::Corruption(where_() +
                                ": event 0 of the commit record refers to an event before it");
    }
    content &= static_cast<uint8_t>(~(kSameStreamFlag | kSameTypeFlag));
    uint64_t len = 0;
    if (same_stream) {
      uint64_t skipped = 0;
      if (!d.GetVarint64(&skipped)) return truncated();
      if (skipped >= UINT64_MAX - last_revision_) {
        return Status::Corruption(where_() + ": event " + std::to_string(index_) +
                                  " of the commit record has a revision past 2^64");
      }
      e->stream = last_stream_;
      revision = last_revision_ + 1 + skipped;
    } else if (!d.GetVarint64(&len) || !d.GetBytes(len, &e->stream) || !d.GetVarint64(&revision)) {
      return truncated();
    }
    if (!d.GetBytes(16, &id)) return truncated();
    if (same_type) {
      e->type = last_type_;
    } else if (!d.GetVarint64(&len) || !d.GetBytes(len, &e->type)) {
      return truncated();
    }
    if (!d.GetVarint64(&len) || !d.GetBytes(len, &e->data) || !d.GetVarint64(&len) ||
        !d.GetBytes(len, &e->metadata)) {
      return truncated();
    }
    last_stream_ = e->stream;
    last_type_ = e->type;
    last_revision_ = revision;
  }
  last_caller_id_ = (content & kCallerIdFlag) != 0;
  const bool first_stored = (content & kFirstStoredFlag) != 0;
  last_creates_stream_ = first_stored || revision == 0;
  content &= static_cast<uint8_t>(~(kCallerIdFlag | kFirstStoredFlag));
  if (content != static_cast<uint8_t>(ContentType::kJson) &&
      content != static_cast<uint8_t>(ContentType::kBinary)) {
    return Status::Corruption(where_() + ": event " + std::to_string(index_) +
                              " has unknown content type " + std::to_string(content));
  }
  std::array<uint8_t, 16> idb;
  std::memcpy(idb.data(), id.data(), 16);
  e->id = Uuid(idb);
  e->revision = StreamRevision(revision);
  e->content_type = static_cast<ContentType>(content);
  e->position = Position(position);
  e->created_ns = created_ns_;
  e->caller_id = last_caller_id_;
  rest_ = rest_.substr(rest_.size() - d.remaining());
  ++index_;
  return true;
}

const EventView* FindAt(const std::vector<EventView>& events, uint64_t position) {
  if (events.empty()) return nullptr;
  const uint64_t first = events[0].position.value();
  if (position >= first && position - first < events.size() &&
      events[position - first].position.value() == position) {
    return &events[position - first];  // dense record: direct
  }
  auto it = std::lower_bound(events.begin(), events.end(), position,
                             [](const EventView& e, uint64_t p) { return e.position.value() < p; });
  return it != events.end() && it->position.value() == position ? &*it : nullptr;
}

}  // namespace cairn::log
