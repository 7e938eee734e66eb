// Audit metadata and command event ids (include/cairn/toolkit/audit.h).
#include "cairn/toolkit/audit.h"

#include <sodium.h>

#include <charconv>
#include <nlohmann/json.hpp>

namespace cairn::toolkit {

Uuid CommandEventId(const Uuid& command, std::string_view stream, uint32_t index) {
  // BLAKE2b-128 over (command, stream, index); no secret involved: the id
  // only has to be the same for the same command, and differ otherwise.
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 16);
  crypto_generichash_update(&st, command.bytes().data(), 16);
  const uint32_t len = static_cast<uint32_t>(stream.size());
  unsigned char n[8];
  for (int i = 0; i < 4; ++i) n[i] = static_cast<unsigned char>(len >> (8 * i));
  for (int i = 0; i < 4; ++i) n[4 + i] = static_cast<unsigned char>(index >> (8 * i));
  crypto_generichash_update(&st, n, 4);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(stream.data()),
                            stream.size());
  crypto_generichash_update(&st, n + 4, 4);
  std::array<uint8_t, 16> b;
  crypto_generichash_final(&st, b.data(), 16);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x80);  // version 8 (RFC 9562, custom)
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10
  return Uuid(b);
}

std::string EncodeAudit(const CommandContext& ctx, int schema_version) {
  const std::string command = ctx.command_id.IsNil() ? std::string() : ctx.command_id.ToString();
  const std::string fallback = command.empty() ? Uuid::Random().ToString() : command;
  nlohmann::ordered_json j;
  j["schemaVersion"] = schema_version;  // first: SchemaVersionOf reads it without parsing
  j["$correlationId"] = ctx.correlation_id.empty() ? fallback : ctx.correlation_id;
  j["$causationId"] = ctx.causation_id.empty() ? fallback : ctx.causation_id;
  if (!command.empty()) j["commandId"] = command;
  if (!ctx.user.empty()) j["user"] = ctx.user;
  return j.dump();
}

Result<Audit> DecodeAudit(std::string_view metadata) {
  Audit a;
  nlohmann::json j = nlohmann::json::parse(metadata, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return a;
  auto str = [&](const char* key, std::string* out) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) *out = it->get<std::string>();
  };
  str("$correlationId", &a.correlation_id);
  str("$causationId", &a.causation_id);
  str("commandId", &a.command_id);
  str("user", &a.user);
  auto v = j.find("schemaVersion");
  if (v != j.end()) {
    if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > INT32_MAX) {
      return Status::InvalidArgument(
          "event metadata: schemaVersion must be a positive integer, got " + v->dump());
    }
    a.schema_version = v->get<int>();
  }
  return a;
}

Result<int> SchemaVersionOf(std::string_view metadata) {
  constexpr std::string_view kPrefix = "{\"schemaVersion\":";
  if (metadata.substr(0, kPrefix.size()) == kPrefix) {
    const char* p = metadata.data() + kPrefix.size();
    const char* end = metadata.data() + metadata.size();
    int v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec == std::errc() && v >= 1 && next < end && (*next == ',' || *next == '}')) return v;
  }
  CAIRN_ASSIGN_OR_RETURN(Audit a, DecodeAudit(metadata));
  return a.schema_version;
}

}  // namespace cairn::toolkit
