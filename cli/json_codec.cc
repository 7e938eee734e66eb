#include "cli/json_codec.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cli/base64.h"
#include "cli/json_text.h"

namespace cairn::cli {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Appends `,"<name>":<bytes>` when `bytes` may be printed as JSON in `mode`,
// else `,"<name>_base64":"<base64 of bytes>"`.
void AppendJsonOrBase64(std::string* line, std::string_view name, std::string_view bytes,
                        LineMode mode) {
  const size_t mark = line->size();
  line->append(",\"").append(name).append("\":");
  const size_t value_begin = line->size();
  if (AppendCompactJson(line, bytes).ok()) {
    // The compact form is the input minus whitespace between tokens: the
    // same length means the same bytes.
    if (mode == LineMode::kRead || line->size() - value_begin == bytes.size()) return;
  }
  line->resize(mark);
  line->append(",\"").append(name).append("_base64\":\"");
  line->append(Base64Encode(bytes));
  line->push_back('"');
}

Status FieldError(std::string_view field, std::string_view what) {
  std::string message = "field \"";
  message.append(field).append("\" ").append(what);
  return Status::InvalidArgument(std::move(message));
}

// `field "<field>": <message of cause>`.
Status FieldCause(std::string_view field, const Status& cause) {
  std::string message = "field \"";
  message.append(field).append("\": ").append(cause.message());
  return Status::InvalidArgument(std::move(message));
}

std::string GotKind(std::string_view expected, JsonKind kind) {
  std::string what(expected);
  what.append(", got ").append(JsonKindName(kind));
  return what;
}

// The decoded text of a string member, or an error naming the field.
Result<std::string> StringField(const JsonMember& member, std::string_view expected = "a string") {
  if (member.kind != JsonKind::kString) {
    return FieldError(member.key,
                      GotKind(std::string("must be ") + std::string(expected), member.kind));
  }
  return DecodeJsonString(member.value);
}

// A required non-empty string field.
Result<std::string> RequiredString(const JsonMember* member, std::string_view field) {
  if (member == nullptr) return FieldError(field, "is missing");
  CAIRN_ASSIGN_OR_RETURN(std::string value, StringField(*member));
  if (value.empty()) return FieldError(field, "must not be empty");
  return value;
}

Result<std::string> Base64Field(const JsonMember& member) {
  CAIRN_ASSIGN_OR_RETURN(std::string text, StringField(member, "a base64 string"));
  std::optional<std::string> bytes = Base64Decode(text);
  if (!bytes.has_value()) return FieldError(member.key, "is not valid base64");
  return *std::move(bytes);
}

// A JSON integer written as plain digits, from 0 to `max`.
Result<uint64_t> IntegerField(const JsonMember& member, uint64_t max) {
  uint64_t value = 0;
  const std::string& text = member.value;
  const std::from_chars_result parsed =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (member.kind != JsonKind::kNumber || parsed.ec != std::errc() ||
      parsed.ptr != text.data() + text.size() || value > max) {
    return FieldError(member.key, "must be an integer from 0 to " + std::to_string(max));
  }
  return value;
}

// The fields of an import line, in the order of docs/format/jsonl.md.
enum Field {
  kStream,
  kRevision,
  kPosition,
  kId,
  kType,
  kCreated,
  kContentType,
  kData,
  kDataBase64,
  kMetadata,
  kMetadataBase64,
  kIdGenerated,
  kFieldCount,
};

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "stream",      "revision", "position",        "id",
    "type",        "created",  "content_type",    "data",
    "data_base64", "metadata", "metadata_base64", "id_generated",
};

// The timestamp error for `text`: `what` after the quoted text.
Status TimestampError(std::string_view text, std::string_view what) {
  std::string message = "timestamp ";
  AppendJsonString(&message, text.substr(0, 64));
  message.append(" ").append(what);
  return Status::InvalidArgument(std::move(message));
}

// The value of the `count` digits at text[at], or -1 when one is no digit.
int64_t Digits(std::string_view text, size_t at, size_t count) {
  int64_t value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::string FormatTimestamp(int64_t unix_nanos) {
  using namespace std::chrono;
  // Floor division by hand: converting INT64_MIN nanoseconds to whole days
  // and back would overflow.
  int64_t seconds = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --seconds;
  }
  int64_t day_count = seconds / kSecondsPerDay;
  int64_t second_of_day = seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    --day_count;
  }
  const year_month_day ymd{sys_days{days{day_count}}};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(second_of_day / 3600),
                static_cast<int>(second_of_day / 60 % 60), static_cast<int>(second_of_day % 60),
                static_cast<long long>(nanos));
  return buf;
}

Result<int64_t> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS is 19 bytes, then [.F{1,9}] and Z.
  const bool shaped = text.size() >= 20 && text.size() <= 30 && text[4] == '-' && text[7] == '-' &&
                      text[10] == 'T' && text[13] == ':' && text[16] == ':' && text.back() == 'Z' &&
                      (text.size() == 20 || (text[19] == '.' && text.size() >= 22));
  const int64_t y = shaped ? Digits(text, 0, 4) : -1;
  const int64_t mo = shaped ? Digits(text, 5, 2) : -1;
  const int64_t d = shaped ? Digits(text, 8, 2) : -1;
  const int64_t h = shaped ? Digits(text, 11, 2) : -1;
  const int64_t mi = shaped ? Digits(text, 14, 2) : -1;
  const int64_t s = shaped ? Digits(text, 17, 2) : -1;
  int64_t fraction = 0;
  if (shaped && text.size() > 20) {
    const size_t count = text.size() - 21;
    fraction = Digits(text, 20, count);
    for (size_t i = count; i < 9 && fraction >= 0; ++i) fraction *= 10;
  }
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || fraction < 0) {
    return TimestampError(text, "is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z");
  }
  const year_month_day ymd{year{static_cast<int>(y)}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) {
    return TimestampError(text, "is not a valid date and time");
  }
  int64_t seconds =
      sys_days{ymd}.time_since_epoch().count() * kSecondsPerDay + h * 3600 + mi * 60 + s;
  // Below the epoch, borrow a second first so that INT64_MIN is reachable.
  if (seconds < 0 && fraction > 0) {
    ++seconds;
    fraction -= kNanosPerSecond;
  }
  int64_t nanos = 0;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &nanos) ||
      __builtin_add_overflow(nanos, fraction, &nanos)) {
    return TimestampError(text,
                          "is outside the range of int64 nanoseconds "
                          "(1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)");
  }
  return nanos;
}

std::string EventToJsonLine(const EventView& event, LineMode mode) {
  std::string line;
  line.reserve(200 + event.stream.size() + event.type.size() + event.data.size() / 3 * 4 +
               event.metadata.size() / 3 * 4);
  line.append("{\"stream\":");
  AppendJsonString(&line, event.stream);
  line.append(",\"revision\":").append(std::to_string(event.revision.value()));
  line.append(",\"position\":").append(std::to_string(event.position.value()));
  line.append(",\"id\":\"").append(event.id.ToString());
  line.append("\",\"type\":");
  AppendJsonString(&line, event.type);
  line.append(",\"created\":\"").append(FormatTimestamp(event.created_ns)).append("\"");
  if (event.content_type == ContentType::kJson) {
    AppendJsonOrBase64(&line, "data", event.data, mode);
  } else {
    line.append(",\"content_type\":\"binary\",\"data_base64\":\"");
    line.append(Base64Encode(event.data)).append("\"");
  }
  if (!event.metadata.empty()) {
    AppendJsonOrBase64(&line, "metadata", event.metadata, mode);
  } else if (mode == LineMode::kRead) {
    line.append(",\"metadata\":null");
  }
  if (!event.caller_id) line.append(",\"id_generated\":true");
  line.push_back('}');
  return line;
}

Result<ImportEvent> ParseImportLine(std::string_view line) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<JsonMember> members, ParseJsonObject(line));
  // ParseJsonObject refused repeated keys, so each field is seen once.
  std::array<const JsonMember*, kFieldCount> fields{};
  for (const JsonMember& member : members) {
    size_t field = 0;
    while (field < kFieldCount && kFieldNames[field] != member.key) ++field;
    if (field == kFieldCount) {
      std::string message = "unknown field ";
      AppendJsonString(&message, member.key);
      return Status::InvalidArgument(std::move(message));
    }
    fields[field] = &member;
  }

  ImportEvent out;
  CAIRN_ASSIGN_OR_RETURN(out.stream, RequiredString(fields[kStream], "stream"));
  CAIRN_ASSIGN_OR_RETURN(out.event.type, RequiredString(fields[kType], "type"));
  if (const JsonMember* member = fields[kContentType]) {
    CAIRN_ASSIGN_OR_RETURN(std::string content_type, StringField(*member));
    if (content_type == "binary") {
      out.event.content_type = ContentType::kBinary;
    } else if (content_type != "json") {
      return FieldError("content_type", "must be \"json\" or \"binary\"");
    }
  }

  const JsonMember* data = fields[kData];
  if (data != nullptr && fields[kDataBase64] != nullptr) {
    return Status::InvalidArgument("fields \"data\" and \"data_base64\" are exclusive");
  }
  if (fields[kDataBase64] != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(out.event.data, Base64Field(*fields[kDataBase64]));
  } else if (out.event.content_type == ContentType::kBinary) {
    // The form older exports wrote: a base64 string as "data".
    if (data != nullptr) {
      CAIRN_ASSIGN_OR_RETURN(out.event.data, Base64Field(*data));
    }
  } else {
    out.event.data = data != nullptr ? data->value : "{}";
  }

  if (fields[kMetadata] != nullptr && fields[kMetadataBase64] != nullptr) {
    return Status::InvalidArgument("fields \"metadata\" and \"metadata_base64\" are exclusive");
  }
  if (fields[kMetadata] != nullptr) out.event.metadata = fields[kMetadata]->value;
  if (fields[kMetadataBase64] != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(out.event.metadata, Base64Field(*fields[kMetadataBase64]));
  }

  if (const JsonMember* member = fields[kId]) {
    CAIRN_ASSIGN_OR_RETURN(std::string text, StringField(*member, "a UUID string"));
    Result<Uuid> id = Uuid::Parse(text);
    if (!id.has_value()) return FieldCause("id", id.error());
    out.event.id = *id;
  }
  if (const JsonMember* member = fields[kRevision]) {
    CAIRN_ASSIGN_OR_RETURN(out.revision, IntegerField(*member, StreamRevision::kTombstone));
  }
  if (const JsonMember* member = fields[kPosition]) {
    CAIRN_ASSIGN_OR_RETURN(out.position,
                           IntegerField(*member, std::numeric_limits<uint64_t>::max()));
  }
  if (const JsonMember* member = fields[kCreated]) {
    CAIRN_ASSIGN_OR_RETURN(std::string text, StringField(*member));
    Result<int64_t> created = ParseTimestamp(text);
    if (!created.has_value()) return FieldCause("created", created.error());
    out.created_ns = *created;
  }
  if (const JsonMember* member = fields[kIdGenerated]) {
    if (member->kind != JsonKind::kTrue && member->kind != JsonKind::kFalse) {
      return FieldError("id_generated", GotKind("must be true or false", member->kind));
    }
    out.id_generated = member->kind == JsonKind::kTrue;
    if (out.id_generated && !out.event.id.has_value()) {
      return FieldError("id_generated", "is true but field \"id\" is missing");
    }
  }
  return out;
}

}  // namespace cairn::cli
