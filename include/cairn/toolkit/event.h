#pragma once
// Typed events: a plain struct says once which fields it has (Describe) and
// gets strict JSON decoding, JSON encoding and a JSON Schema (draft 2020-12)
// from it. Decoding is strict like a Zod schema: an unknown field, a missing
// required field, a wrong JSON type or an out-of-range number is a
// kInvalidArgument naming the event type, the field and the problem.
//
//   struct FundsDeposited {
//     static constexpr std::string_view kType = "FundsDeposited";
//     static constexpr int kVersion = 2;  // schema version, >= 1
//     std::string account;
//     int64_t amount = 0;                 // minor units
//     std::optional<std::string> note;    // optional: may be absent
//     static void Describe(toolkit::Fields<FundsDeposited>& f) {
//       f.Add("account", &FundsDeposited::account);
//       f.Add("amount", &FundsDeposited::amount, Min(1));
//       f.Add("note", &FundsDeposited::note);
//     }
//   };
//
// Thread safety: everything here is safe to call concurrently; the field
// table of a type is built once, on first use.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "cairn/status.h"
#include "cairn/toolkit/personal.h"

namespace cairn::toolkit {

class PersonalDataCipher;  // crypto.h

// The JSON types a field may have. kPersonal: a Personal member, stored as
// a sealed token string (docs/format/personal-data.md).
enum class FieldKind : uint8_t { kString, kInt, kDouble, kBool, kStringList, kPersonal };

// One field's value; std::monostate when an optional field is absent.
using FieldValue = std::variant<std::monostate, std::string, int64_t, double, bool,
                                std::vector<std::string>, Personal>;

// Bounds of an integer field (inclusive), a description for the schema, and
// for a Personal field the name of the (string) field holding its data
// subject, whose key seals it. Built with the functions below, which chain:
// Min(1), Range(1, 100), SubjectIs("account"), Min(1).Described("cents").
struct FieldRules {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string_view description;
  std::string_view subject;

  FieldRules& Min(int64_t v) {
    min = v;
    return *this;
  }
  FieldRules& Max(int64_t v) {
    max = v;
    return *this;
  }
  FieldRules& Described(std::string_view text) {
    description = text;
    return *this;
  }
  FieldRules& SubjectIs(std::string_view field) {
    subject = field;
    return *this;
  }
};
inline FieldRules Min(int64_t v) { return FieldRules().Min(v); }
inline FieldRules Range(int64_t lo, int64_t hi) { return FieldRules().Min(lo).Max(hi); }
inline FieldRules Described(std::string_view text) { return FieldRules().Described(text); }
inline FieldRules SubjectIs(std::string_view field) { return FieldRules().SubjectIs(field); }

struct FieldSpec {
  std::string name;
  FieldKind kind = FieldKind::kString;
  bool optional = false;  // std::optional member: may be absent (or null)
  FieldRules rules;
  // "\"<name>\":", the key as Encode writes it, set by Fields::Add; the
  // compact decoder compares it whole (left empty, also for names JSON
  // would escape: the general path only).
  std::string json_key;
};

namespace internal {
template <class T>
struct FieldTraits;
template <>
struct FieldTraits<std::string> {
  static constexpr FieldKind kKind = FieldKind::kString;
};
template <>
struct FieldTraits<int64_t> {
  static constexpr FieldKind kKind = FieldKind::kInt;
};
template <>
struct FieldTraits<double> {
  static constexpr FieldKind kKind = FieldKind::kDouble;
};
template <>
struct FieldTraits<bool> {
  static constexpr FieldKind kKind = FieldKind::kBool;
};
template <>
struct FieldTraits<std::vector<std::string>> {
  static constexpr FieldKind kKind = FieldKind::kStringList;
};
template <>
struct FieldTraits<Personal> {
  static constexpr FieldKind kKind = FieldKind::kPersonal;
};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
}  // namespace internal

// One decoded field as DecodeFields hands it over: the member of `kind` is
// set, or `absent` (an optional field left out or null). Views are valid
// only during the call that receives it.
struct FieldInput {
  bool absent = false;
  std::string_view text;                     // kString
  int64_t integer = 0;                       // kInt
  double number = 0;                         // kDouble
  bool boolean = false;                      // kBool
  std::vector<std::string>* list = nullptr;  // kStringList (may be moved from)
  Personal* personal = nullptr;              // kPersonal (may be moved from)
};

// Where DecodeFields writes: Put(i, in) for every spec i exactly once.
class FieldSink {
 public:
  virtual void Put(size_t i, FieldInput& in) = 0;

 protected:
  ~FieldSink() = default;
};

namespace internal {
inline void Take(std::string& dst, FieldInput& in) { dst.assign(in.text); }
inline void Take(int64_t& dst, FieldInput& in) { dst = in.integer; }
inline void Take(double& dst, FieldInput& in) { dst = in.number; }
inline void Take(bool& dst, FieldInput& in) { dst = in.boolean; }
inline void Take(std::vector<std::string>& dst, FieldInput& in) { dst = std::move(*in.list); }
inline void Take(Personal& dst, FieldInput& in) { dst = std::move(*in.personal); }
}  // namespace internal

// The field table of event type E, filled by E::Describe. Members may be
// std::string, int64_t, double, bool, std::vector<std::string>, Personal
// (with rules.subject naming its subject's field), or a std::optional of one
// of them (an optional field).
template <class E>
class Fields {
 public:
  template <class T>
  Fields& Add(std::string_view name, T E::*member, FieldRules rules = {}) {
    using Plain = typename std::conditional_t<internal::IsOptional<T>::value, T,
                                              std::optional<T>>::value_type;
    constexpr bool kOptional = internal::IsOptional<T>::value;
    // A name JSON would escape (or non-ASCII) gets no compact key: its
    // events always take the general path, which unescapes keys.
    std::string key;
    bool plain = true;
    for (char c : name)
      plain = plain && c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20 &&
              static_cast<unsigned char>(c) < 0x80;
    if (plain) key.append(1, '"').append(name).append("\":");
    specs_.push_back(
        {std::string(name), internal::FieldTraits<Plain>::kKind, kOptional, rules, std::move(key)});
    get_.push_back([member](const E& e) -> FieldValue {
      if constexpr (kOptional) {
        if (!(e.*member)) return std::monostate{};
        return FieldValue(*(e.*member));
      } else {
        return FieldValue(e.*member);
      }
    });
    Setter set;
    static_assert(sizeof(member) <= sizeof(set.member));
    std::memcpy(set.member, &member, sizeof(member));  // member pointers are trivially copyable
    set.put = &PutMember<T>;
    put_.push_back(set);
    return *this;
  }

  const std::vector<FieldSpec>& specs() const { return specs_; }
  void Get(const E& e, std::vector<FieldValue>* out) const {
    out->clear();
    for (const auto& g : get_) out->push_back(g(e));
  }
  // A sink writing decoded fields into *e. Decoding into an object that
  // already holds values reuses their storage (a rebuild decodes every
  // event of a stream into the same object).
  class Into final : public FieldSink {
   public:
    Into(const Fields& f, E* e) : f_(f), e_(e) {}
    void Put(size_t i, FieldInput& in) override {
      const Setter& set = f_.put_[i];
      set.put(*e_, in, set.member);
    }

   private:
    const Fields& f_;
    E* e_;
  };

 private:
  std::vector<FieldSpec> specs_;
  std::vector<std::function<FieldValue(const E&)>> get_;
  // Decoding calls one setter per field and event: a plain function with
  // the member pointer kept as bytes (cheaper than a std::function).
  struct Setter {
    void (*put)(E&, FieldInput&, const unsigned char*) = nullptr;
    alignas(std::max_align_t) unsigned char member[sizeof(int E::*)] = {};
  };
  template <class T>
  static void PutMember(E& e, FieldInput& in, const unsigned char* bytes) {
    T E::*member;
    std::memcpy(&member, bytes, sizeof(member));
    if constexpr (internal::IsOptional<T>::value) {
      if (in.absent) {
        (e.*member).reset();
        return;
      }
      if (!(e.*member)) (e.*member).emplace();
      internal::Take(*(e.*member), in);
    } else {
      internal::Take(e.*member, in);
    }
  }
  std::vector<Setter> put_;
};

// What an event type provides.
template <class E>
concept EventType = std::is_default_constructible_v<E> && requires(Fields<E>& f) {
  { E::kType } -> std::convertible_to<std::string_view>;
  { E::kVersion } -> std::convertible_to<int>;
  E::Describe(f);
};

// The type-independent codec (toolkit/src/codec.cc).
// Decodes the JSON object `json` against `specs` into `sink` (Put once per
// spec; absent for an optional field left out or null). Errors are
// kInvalidArgument: "<type>: ..." naming the field and the problem; the
// sink may then hold part of the object. Personal fields are opened with
// `cipher` (Personal::Forgotten() when the subject's key is gone; a token
// that fails authentication is kCorruption naming the field); without a
// cipher they are kInvalidArgument.
[[nodiscard]] Status DecodeFields(std::string_view type, std::span<const FieldSpec> specs,
                                  std::string_view json, FieldSink* sink,
                                  PersonalDataCipher* cipher = nullptr);
// Encodes values (one per spec; absent optionals are left out) as a JSON
// object in spec order, for the store. Personal fields are sealed with
// `cipher`; with no cipher a present personal value is kInvalidArgument
// ("<field>: personal data needs a PersonalDataCipher to be written"), so
// nothing personal is ever stored in clear (the overload below writes clear
// JSON for display and tests). kSubjectErased when a subject was erased,
// from the cipher; a forgotten value is written as null.
Result<std::string> EncodeFields(std::span<const FieldSpec> specs,
                                 std::span<const FieldValue> values, PersonalDataCipher* cipher);
// The same without personal data sealing (display, tests, types without
// personal fields).
std::string EncodeFields(std::span<const FieldSpec> specs, std::span<const FieldValue> values);
// A JSON Schema (draft 2020-12) of the event type, pretty-printed.
std::string JsonSchema(std::string_view type, int version, std::span<const FieldSpec> specs);

// The field table of E, built once.
template <EventType E>
const Fields<E>& FieldsOf() {
  static const Fields<E> fields = [] {
    Fields<E> f;
    E::Describe(f);
    return f;
  }();
  return fields;
}

// Decodes into *e, reusing its storage; on error *e holds part of it.
template <EventType E>
Status DecodeInto(std::string_view json, E* e, PersonalDataCipher* cipher = nullptr) {
  typename Fields<E>::Into sink(FieldsOf<E>(), e);
  return DecodeFields(E::kType, FieldsOf<E>().specs(), json, &sink, cipher);
}

template <EventType E>
Result<E> Decode(std::string_view json, PersonalDataCipher* cipher = nullptr) {
  E e;
  if (Status s = DecodeInto(json, &e, cipher); !s.ok()) return s;
  return e;
}

// JSON with personal data in clear: for display and tests, not for storing.
template <EventType E>
std::string Encode(const E& e) {
  thread_local std::vector<FieldValue> values;
  FieldsOf<E>().Get(e, &values);
  return EncodeFields(FieldsOf<E>().specs(), values);
}

// JSON to store: personal data sealed with `cipher`.
template <EventType E>
Result<std::string> EncodeSealed(const E& e, PersonalDataCipher* cipher) {
  thread_local std::vector<FieldValue> values;
  FieldsOf<E>().Get(e, &values);
  auto r = EncodeFields(FieldsOf<E>().specs(), values, cipher);
  if (!r.has_value())
    return Status(r.error().code(), std::string(E::kType) + "." + r.error().message());
  return r;
}

template <EventType E>
std::string SchemaOf() {
  return JsonSchema(E::kType, E::kVersion, FieldsOf<E>().specs());
}

// A closed set of event types (an aggregate's events), as a std::variant.
template <EventType... Es>
struct EventSet {
  using Variant = std::variant<Es...>;

  // Decodes an event stored with type name `type`. kInvalidArgument for a
  // type not in the set, or as Decode.
  static Result<Variant> Decode(std::string_view type, std::string_view json,
                                PersonalDataCipher* cipher = nullptr) {
    Variant v;
    if (Status s = DecodeInto(type, json, &v, cipher); !s.ok()) return s;
    return v;
  }
  // Decodes into *v, reusing its storage when it already holds that type.
  static Status DecodeInto(std::string_view type, std::string_view json, Variant* v,
                           PersonalDataCipher* cipher = nullptr) {
    const int index = IndexOf(type);
    if (index < 0) return Status::InvalidArgument("unknown event type '" + std::string(type) + "'");
    return DecodeAt(index, json, v, cipher);
  }
  // The position of `type` in the set (the variant's index); -1 when it is
  // not in the set. With VersionAt and DecodeAt a reader looks a stored
  // event's type up once.
  static int IndexOf(std::string_view type) {
    int i = 0;
    int found = -1;
    ((found < 0 && Es::kType == type ? (void)(found = i) : (void)0, ++i), ...);
    return found;
  }
  static int VersionAt(int index) {
    static constexpr int kVersions[] = {int(Es::kVersion)...};
    return kVersions[index];
  }
  // DecodeInto for the type at `index` (0 <= index < sizeof...(Es)).
  static Status DecodeAt(int index, std::string_view json, Variant* v,
                         PersonalDataCipher* cipher = nullptr) {
    using Fn = Status (*)(std::string_view, Variant*, PersonalDataCipher*);
    static constexpr Fn kInto[] = {&Into<Es>...};
    return kInto[index](json, v, cipher);
  }
  static std::string_view TypeName(const Variant& v) {
    return std::visit(
        [](const auto& e) { return std::string_view(std::decay_t<decltype(e)>::kType); }, v);
  }
  static int VersionOf(const Variant& v) {
    return std::visit([](const auto& e) { return int(std::decay_t<decltype(e)>::kVersion); }, v);
  }
  static std::string Encode(const Variant& v) {
    return std::visit([](const auto& e) { return toolkit::Encode(e); }, v);
  }
  static Result<std::string> EncodeSealed(const Variant& v, PersonalDataCipher* cipher) {
    return std::visit([&](const auto& e) { return toolkit::EncodeSealed(e, cipher); }, v);
  }
  static bool Contains(std::string_view type) { return ((Es::kType == type) || ...); }
  // The current schema version of `type`; 0 when it is not in the set.
  static int CurrentVersion(std::string_view type) {
    const int index = IndexOf(type);
    return index < 0 ? 0 : VersionAt(index);
  }
  // The JSON Schema of each type of the set, in order.
  static std::vector<std::string> Schemas() { return {SchemaOf<Es>()...}; }
  // Calls f(type name, current version) for each type of the set.
  template <class F>
  static void ForEachType(F&& f) {
    (f(std::string_view(Es::kType), int(Es::kVersion)), ...);
  }

 private:
  template <class E>
  static Status Into(std::string_view json, Variant* v, PersonalDataCipher* cipher) {
    if (!std::holds_alternative<E>(*v)) v->template emplace<E>();
    return toolkit::DecodeInto(json, &std::get<E>(*v), cipher);
  }
};

}  // namespace cairn::toolkit
