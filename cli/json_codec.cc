#include "cli/json_codec.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "cli/base64.h"

namespace cairn::cli {
namespace {

using Json = nlohmann::ordered_json;

// The parsed value of `text`, or nullopt when it is not one JSON value.
std::optional<Json> TryParse(std::string_view text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

// Parses `text`, keeping the parser's message on failure (without its
// "[json.exception.parse_error.101] " tag, which means nothing to a user).
Result<Json> ParseWithMessage(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    std::string_view message = e.what();
    if (size_t tag_end = message.find("] ");
        message.starts_with("[json.") && tag_end != std::string_view::npos) {
      message.remove_prefix(tag_end + 2);
    }
    return Status::InvalidArgument(std::string(message));
  }
}

const char* TypeName(const Json& value) { return value.type_name(); }

Status FieldError(std::string_view field, std::string_view what) {
  return Status::InvalidArgument("field \"" + std::string(field) + "\" " +
                                 std::string(what));
}

// A non-empty string field, or an error naming the field.
Result<std::string> RequiredString(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end()) return FieldError(field, "is missing");
  if (!it->is_string()) {
    return FieldError(field,
                      std::string("must be a string, got ") + TypeName(*it));
  }
  std::string value = it->get<std::string>();
  if (value.empty()) return FieldError(field, "must not be empty");
  return value;
}

Result<std::string> DecodeBase64Field(const Json& value, const char* field) {
  if (!value.is_string()) {
    return FieldError(
        field, std::string("must be a base64 string, got ") + TypeName(value));
  }
  std::optional<std::string> bytes =
      Base64Decode(value.get_ref<const std::string&>());
  if (!bytes.has_value()) return FieldError(field, "is not valid base64");
  return *std::move(bytes);
}

bool IsKnownField(std::string_view key) {
  return key == "stream" || key == "type" || key == "data" ||
         key == "metadata" || key == "metadata_base64" || key == "id" ||
         key == "content_type";
}

bool IsIgnoredField(std::string_view key) {
  return key == "revision" || key == "position" || key == "created";
}

}  // namespace

std::string FormatTimestamp(int64_t unix_nanos) {
  using namespace std::chrono;
  sys_time<nanoseconds> time{nanoseconds(unix_nanos)};
  sys_days day = floor<days>(time);
  year_month_day ymd(day);
  hh_mm_ss<nanoseconds> clock(time - day);
  char buf[64];
  std::snprintf(
      buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ",
      static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
      static_cast<unsigned>(ymd.day()), static_cast<int>(clock.hours().count()),
      static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()),
      static_cast<long long>(clock.subseconds().count()));
  return buf;
}

Json EventToJson(const EventView& event, EmptyMetadata empty_metadata) {
  Json out;
  out["stream"] = std::string(event.stream);
  out["revision"] = event.revision.value();
  out["position"] = event.position.value();
  out["id"] = event.id.ToString();
  out["type"] = std::string(event.type);
  out["created"] = FormatTimestamp(event.created_ns);
  std::optional<Json> data;
  if (event.content_type == ContentType::kJson) data = TryParse(event.data);
  if (data.has_value()) {
    out["data"] = *std::move(data);
  } else {
    out["content_type"] = "binary";
    out["data"] = Base64Encode(event.data);
  }
  if (event.metadata.empty()) {
    if (empty_metadata == EmptyMetadata::kNull) out["metadata"] = nullptr;
  } else if (std::optional<Json> metadata = TryParse(event.metadata)) {
    out["metadata"] = *std::move(metadata);
  } else {
    out["metadata_base64"] = Base64Encode(event.metadata);
  }
  return out;
}

Result<std::string> CompactJson(std::string_view text) {
  CAIRN_ASSIGN_OR_RETURN(Json value, ParseWithMessage(text));
  return value.dump();
}

Result<ImportEvent> ParseImportLine(std::string_view line) {
  CAIRN_ASSIGN_OR_RETURN(Json object, ParseWithMessage(line));
  if (!object.is_object()) {
    return Status::InvalidArgument(std::string("expected a JSON object, got ") +
                                   TypeName(object));
  }
  for (const auto& [key, value] : object.items()) {
    if (!IsKnownField(key) && !IsIgnoredField(key)) {
      return Status::InvalidArgument("unknown field \"" + key + "\"");
    }
  }
  ImportEvent out;
  CAIRN_ASSIGN_OR_RETURN(out.stream, RequiredString(object, "stream"));
  CAIRN_ASSIGN_OR_RETURN(out.event.type, RequiredString(object, "type"));

  if (auto it = object.find("content_type"); it != object.end()) {
    if (*it == "binary") {
      out.event.content_type = ContentType::kBinary;
    } else if (*it != "json") {
      return FieldError("content_type", "must be \"json\" or \"binary\"");
    }
  }
  auto data = object.find("data");
  if (out.event.content_type == ContentType::kBinary) {
    if (data != object.end()) {
      CAIRN_ASSIGN_OR_RETURN(out.event.data, DecodeBase64Field(*data, "data"));
    }
  } else {
    out.event.data = data == object.end() ? "{}" : data->dump();
  }

  auto metadata = object.find("metadata");
  auto metadata_base64 = object.find("metadata_base64");
  if (metadata != object.end() && metadata_base64 != object.end()) {
    return Status::InvalidArgument(
        "fields \"metadata\" and \"metadata_base64\" are exclusive");
  }
  if (metadata != object.end()) out.event.metadata = metadata->dump();
  if (metadata_base64 != object.end()) {
    CAIRN_ASSIGN_OR_RETURN(
        out.event.metadata,
        DecodeBase64Field(*metadata_base64, "metadata_base64"));
  }

  if (auto it = object.find("id"); it != object.end()) {
    if (!it->is_string()) {
      return FieldError(
          "id", std::string("must be a UUID string, got ") + TypeName(*it));
    }
    Result<Uuid> id = Uuid::Parse(it->get_ref<const std::string&>());
    if (!id.has_value()) {
      return Status::InvalidArgument("field \"id\": " + id.error().message());
    }
    out.event.id = *id;
  }
  return out;
}

}  // namespace cairn::cli
