// The type-independent part of typed events (include/cairn/toolkit/event.h):
// strict decoding with simdjson's on-demand parser (an aggregate rebuild
// decodes every event of a stream, so this is on the hot path), encoding and
// JSON Schemas with nlohmann::json (commands write few events).
#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "cairn/toolkit/crypto.h"
#include "cairn/toolkit/event.h"

namespace cairn::toolkit {
namespace {

namespace od = simdjson::ondemand;

const char* KindName(FieldKind k) {
  switch (k) {
    case FieldKind::kString: return "a string";
    case FieldKind::kInt: return "an integer";
    case FieldKind::kDouble: return "a number";
    case FieldKind::kBool: return "a boolean";
    case FieldKind::kStringList: return "an array of strings";
    case FieldKind::kPersonal: return "a sealed personal data token (a string)";
  }
  return "?";
}

const char* JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "?";
}

class FieldError {
 public:
  FieldError(std::string_view type, std::string_view field) : type_(type), field_(field) {}
  Status operator()(const std::string& problem) const {
    // "<type>.<field>", or just the field when the caller adds the type.
    std::string m(type_);
    if (!field_.empty()) m += (m.empty() ? "" : ".") + std::string(field_);
    return Status::InvalidArgument(m + ": " + problem);
  }

 private:
  std::string_view type_, field_;
};

Status Malformed(std::string_view type, simdjson::error_code e) {
  return Status::InvalidArgument(std::string(type) + ": malformed JSON (" +
                                 simdjson::error_message(e) + ")");
}

// Reads one value of kind `spec.kind` into *in (a string's view points into
// the parser's buffer: valid until its next document). A kStringList goes
// to *list; a kPersonal token, like a string, to in->text.
Status ReadValue(std::string_view type, const FieldSpec& spec, od::value v, FieldInput* in,
                 std::vector<std::string>* list) {
  const FieldError err(type, spec.name);
  od::json_type jt;
  if (auto e = v.type().get(jt); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
  if (jt == od::json_type::null) {
    bool is_null = false;
    if (auto e = v.is_null().get(is_null); e) {
      return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
    }
    if (spec.optional) {
      in->absent = true;
      return Status::OK();
    }
    if (spec.kind == FieldKind::kPersonal) return Status::OK();  // forgotten (text stays null)
    return err(std::string("expected ") + KindName(spec.kind) + ", got null");
  }
  auto wrong = [&] {
    return err(std::string("expected ") + KindName(spec.kind) + ", got " + JsonTypeName(jt));
  };
  switch (spec.kind) {
    case FieldKind::kString:
    case FieldKind::kPersonal: {  // the token; opened after the whole object is read
      if (jt != od::json_type::string) return wrong();
      if (auto e = v.get_string().get(in->text); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      return Status::OK();
    }
    case FieldKind::kBool: {
      if (jt != od::json_type::boolean) return wrong();
      if (auto e = v.get_bool().get(in->boolean); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      return Status::OK();
    }
    case FieldKind::kDouble: {
      if (jt != od::json_type::number) return wrong();
      if (auto e = v.get_double().get(in->number); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      return Status::OK();
    }
    case FieldKind::kInt: {
      if (jt != od::json_type::number) return wrong();
      od::number_type nt;
      if (auto e = v.get_number_type().get(nt); e) {
        return err("number out of range for a 64-bit integer");
      }
      if (nt == od::number_type::floating_point_number) {
        std::string_view raw = v.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' ||
                                raw.back() == '\r')) {
          raw.remove_suffix(1);
        }
        return err("expected an integer, got " + std::string(raw));
      }
      if (nt == od::number_type::unsigned_integer) {
        return err("number out of range for a 64-bit integer");
      }
      int64_t i = 0;
      if (auto e = v.get_int64().get(i); e) return err("number out of range for a 64-bit integer");
      if (i < spec.rules.min) {
        return err(std::to_string(i) + " is below the minimum " + std::to_string(spec.rules.min));
      }
      if (i > spec.rules.max) {
        return err(std::to_string(i) + " is above the maximum " + std::to_string(spec.rules.max));
      }
      in->integer = i;
      return Status::OK();
    }
    case FieldKind::kStringList: {
      if (jt != od::json_type::array) return wrong();
      od::array a;
      if (auto e = v.get_array().get(a); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      list->clear();
      size_t index = 0;
      for (auto item : a) {
        od::value iv;
        if (auto e = item.get(iv); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
        od::json_type it;
        if (auto e = iv.type().get(it); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
        if (it != od::json_type::string) {
          return err("item " + std::to_string(index) + ": expected a string, got " +
                     JsonTypeName(it));
        }
        std::string_view s;
        if (auto e = iv.get_string().get(s); e) return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
        list->emplace_back(s);
        ++index;
      }
      in->list = list;
      return Status::OK();
    }
  }
  return wrong();
}

// The index of the string field naming the subject of personal field `f`.
Result<size_t> SubjectField(std::string_view type, std::span<const FieldSpec> specs, const FieldSpec& f) {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name == f.rules.subject && specs[i].kind == FieldKind::kString) return i;
  }
  return FieldError(type, f.name)("personal data needs rules.subject naming a string field, got '" +
                                  std::string(f.rules.subject) + "'");
}

}  // namespace

Status DecodeFields(std::string_view type, std::span<const FieldSpec> specs, std::string_view json,
                    FieldSink* sink, PersonalDataCipher* cipher) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: decode from a
  // padded copy (events are borrowed views of the log).
  thread_local std::string buf;
  thread_local od::parser parser;
  thread_local std::vector<std::string> list;
  // Per field: seen, and the text of strings and personal tokens (views into
  // the parser's buffer, valid for this call).
  thread_local std::vector<uint8_t> seen;
  thread_local std::vector<std::string_view> texts;
  buf.assign(json);
  buf.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  seen.assign(specs.size(), 0);
  texts.assign(specs.size(), std::string_view());
  od::document doc;
  if (auto e = parser.iterate(simdjson::padded_string_view(buf.data(), json.size(), buf.capacity()))
                   .get(doc);
      e) {
    return Malformed(type, e);
  }
  od::json_type top;
  if (auto e = doc.type().get(top); e) return Malformed(type, e);
  if (top != od::json_type::object) {
    return FieldError(type, "")(std::string("expected a JSON object, got ") + JsonTypeName(top));
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj); e) return Malformed(type, e);
  bool personal = false;
  size_t expected = 0;  // fields usually come in spec order (as Encode writes them)
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e) return Malformed(type, e);
    size_t i = expected;
    if (i >= specs.size() || specs[i].name != key) {
      i = 0;
      while (i < specs.size() && specs[i].name != key) ++i;
    }
    expected = i + 1;
    if (i == specs.size()) return FieldError(type, "")("unknown field '" + std::string(key) + "'");
    if (seen[i]) return FieldError(type, key)("field appears twice");
    seen[i] = 1;
    FieldInput in;
    CAIRN_RETURN_IF_ERROR(ReadValue(type, specs[i], field.value(), &in, &list));
    texts[i] = in.text;
    if (specs[i].kind == FieldKind::kPersonal && !in.absent) {
      personal = true;  // opened below, once its subject is known
      continue;
    }
    sink->Put(i, in);
  }
  // Nothing may follow the object.
  if (!doc.current_location().error()) return Malformed(type, simdjson::TRAILING_CONTENT);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (seen[i]) continue;
    if (!specs[i].optional) return FieldError(type, specs[i].name)("missing required field");
    FieldInput absent;
    absent.absent = true;
    sink->Put(i, absent);
  }
  if (!personal) return Status::OK();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].kind != FieldKind::kPersonal || !seen[i]) continue;
    if (texts[i].data() == nullptr) {  // null: written after its subject was forgotten
      Personal gone = Personal::Forgotten();
      FieldInput in;
      in.personal = &gone;
      sink->Put(i, in);
      continue;
    }
    const FieldError err(type, specs[i].name);
    CAIRN_ASSIGN_OR_RETURN(size_t subject, SubjectField(type, specs, specs[i]));
    if (cipher == nullptr) return err("personal data needs a PersonalDataCipher to be read");
    if (!seen[subject]) return err("its subject field '" + specs[subject].name + "' is absent");
    auto opened = cipher->Open(texts[subject], texts[i]);
    if (!opened.has_value()) return Status(opened.error().code(), err(opened.error().message()).message());
    Personal value = *opened ? Personal(std::move(**opened)) : Personal::Forgotten();
    FieldInput in;
    in.personal = &value;
    sink->Put(i, in);
  }
  return Status::OK();
}

namespace {

// `seal`: how a Personal value is written (a token, or the clear value).
template <class Seal>
Status EncodeInto(std::span<const FieldSpec> specs, std::span<const FieldValue> values, Seal&& seal,
                  nlohmann::ordered_json* j) {
  for (size_t i = 0; i < specs.size(); ++i) {
    Status s;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, Personal>) {
            auto token = seal(i, v);
            if (!token.has_value()) {
              s = token.error();
            } else if (*token) {
              (*j)[specs[i].name] = std::move(**token);
            } else {
              (*j)[specs[i].name] = nullptr;
            }
          } else if constexpr (!std::is_same_v<T, std::monostate>) {
            (*j)[specs[i].name] = v;
          }
        },
        values[i]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

std::string EncodeFields(std::span<const FieldSpec> specs, std::span<const FieldValue> values) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  Status s = EncodeInto(specs, values, [](size_t, const Personal& p) -> Result<std::optional<std::string>> {
    if (p.forgotten()) return std::optional<std::string>();
    return std::optional<std::string>(p.value());
  }, &j);
  (void)s;  // clear values cannot fail
  return j.dump();
}

Result<std::string> EncodeFields(std::span<const FieldSpec> specs, std::span<const FieldValue> values,
                                 PersonalDataCipher* cipher) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  CAIRN_RETURN_IF_ERROR(EncodeInto(
      specs, values,
      [&](size_t i, const Personal& p) -> Result<std::optional<std::string>> {
        // A forgotten value stays forgotten: written as null (a snapshot of
        // a state after an erasure, an event copying such a value).
        if (p.forgotten()) return std::optional<std::string>();
        // EncodeSealed puts the type in front of the field's name.
        CAIRN_ASSIGN_OR_RETURN(size_t subject, SubjectField("", specs, specs[i]));
        if (cipher == nullptr) {
          return Status::InvalidArgument(specs[i].name + ": personal data needs a PersonalDataCipher to be written");
        }
        const std::string* who = std::get_if<std::string>(&values[subject]);
        if (who == nullptr) {
          return Status::InvalidArgument(specs[i].name + ": its subject field '" + specs[subject].name +
                                         "' is absent");
        }
        auto token = cipher->Seal(*who, p.value());
        if (!token.has_value()) {
          return Status(token.error().code(), specs[i].name + ": " + token.error().message());
        }
        return std::optional<std::string>(std::move(*token));
      },
      &j));
  return j.dump();
}

std::string JsonSchema(std::string_view type, int version, std::span<const FieldSpec> specs) {
  nlohmann::ordered_json s;
  s["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  s["$id"] = "urn:cairn:event:" + std::string(type) + ":v" + std::to_string(version);
  s["title"] = type;
  s["type"] = "object";
  nlohmann::ordered_json props = nlohmann::ordered_json::object();
  nlohmann::ordered_json required = nlohmann::ordered_json::array();
  for (const FieldSpec& f : specs) {
    nlohmann::ordered_json p;
    const char* t = "string";
    switch (f.kind) {
      case FieldKind::kString: t = "string"; break;
      case FieldKind::kInt: t = "integer"; break;
      case FieldKind::kDouble: t = "number"; break;
      case FieldKind::kBool: t = "boolean"; break;
      case FieldKind::kStringList: t = "array"; break;
      case FieldKind::kPersonal: t = "string"; break;
    }
    if (f.optional || f.kind == FieldKind::kPersonal) {  // personal: null once forgotten
      p["type"] = {t, "null"};
    } else {
      p["type"] = t;
    }
    if (!f.optional) required.push_back(f.name);
    if (f.kind == FieldKind::kStringList) p["items"] = {{"type", "string"}};
    if (f.kind == FieldKind::kPersonal) {
      // Sealed for the subject named by another field (personal-data.md).
      p["pattern"] = "^cairn:v1:[A-Za-z0-9_-]+$";
      p["x-cairn-personal-data"] = {{"subject", std::string(f.rules.subject)}};
    }
    if (f.kind == FieldKind::kInt) {
      p["minimum"] = f.rules.min;
      p["maximum"] = f.rules.max;
    }
    if (!f.rules.description.empty()) p["description"] = f.rules.description;
    props[f.name] = std::move(p);
  }
  s["properties"] = std::move(props);
  s["required"] = std::move(required);
  s["additionalProperties"] = false;
  s["x-cairn-schema-version"] = version;
  return s.dump(2);
}

}  // namespace cairn::toolkit
