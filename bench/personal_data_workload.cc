// `personal-data` (system=toolkit, issue 4): what sealing personal data costs
// per event. An event with two Personal fields is encoded with EncodeSealed
// and decoded with a PersonalDataCipher (SqliteKeyVault in the scratch
// directory, every subject's key in the cipher's cache), against the same
// event with plain string fields through Encode / Decode. CPU only: nothing
// is written to a store in the measured phase. Public API only.

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/workload.h"
#include "cairn/toolkit/crypto.h"
#include "cairn/toolkit/event.h"
#include "cairn/toolkit/personal.h"

namespace cairn::bench {
namespace {

namespace tk = ::cairn::toolkit;

constexpr int kSubjects = 256;  // data subjects, all in the key cache (1,024)

// A sign-up with two personal fields sealed for the customer...
struct Registered {
  static constexpr std::string_view kType = "CustomerRegistered";
  static constexpr int kVersion = 1;
  std::string customer;
  tk::Personal email;
  tk::Personal phone;
  std::string country;
  std::string plan;
  static void Describe(tk::Fields<Registered>& f) {
    f.Add("customer", &Registered::customer);
    f.Add("email", &Registered::email, tk::SubjectIs("customer"));
    f.Add("phone", &Registered::phone, tk::SubjectIs("customer"));
    f.Add("country", &Registered::country);
    f.Add("plan", &Registered::plan);
  }
};

// ...and the same event with those fields as plain strings: the baseline.
struct RegisteredPlain {
  static constexpr std::string_view kType = "CustomerRegistered";
  static constexpr int kVersion = 1;
  std::string customer;
  std::string email;
  std::string phone;
  std::string country;
  std::string plan;
  static void Describe(tk::Fields<RegisteredPlain>& f) {
    f.Add("customer", &RegisteredPlain::customer);
    f.Add("email", &RegisteredPlain::email);
    f.Add("phone", &RegisteredPlain::phone);
    f.Add("country", &RegisteredPlain::country);
    f.Add("plan", &RegisteredPlain::plan);
  }
};

// Times `n` calls of f(i), in one block; nanoseconds per call.
template <class F>
Result<double> NanosPerCall(uint64_t n, F f) {
  const int64_t start = NowNanos();
  for (uint64_t i = 0; i < n; ++i) CAIRN_RETURN_IF_ERROR(f(i));
  return static_cast<double>(NowNanos() - start) / static_cast<double>(n);
}

}  // namespace

Result<Measurement> ToolkitPersonalData(const WorkloadContext& ctx) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<tk::SqliteKeyVault> vault,
                         tk::SqliteKeyVault::Open(ctx.scratch + "/keys.db"));
  tk::PersonalDataCipher cipher(vault.get());  // 1,024 cached keys

  std::vector<Registered> events;
  std::vector<RegisteredPlain> plain;
  for (int s = 0; s < kSubjects; ++s) {
    char customer[32];
    std::snprintf(customer, sizeof(customer), "customer-%06d", s);
    const std::string email = "ann.example" + std::to_string(s) + "@mail.example.com";
    const std::string phone = "+49 30 " + std::to_string(5550000 + s);
    events.push_back({customer, email, phone, "DE", "premium-monthly"});
    plain.push_back({customer, email, phone, "DE", "premium-monthly"});
  }
  // Warm the key cache (creates every subject's key: one durable SQLite
  // write each), and keep one sealed and one plain encoding per event.
  std::vector<std::string> sealed(events.size());
  std::vector<std::string> clear(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(sealed[i], tk::EncodeSealed(events[i], &cipher));
    clear[i] = tk::Encode(plain[i]);
    auto back = tk::Decode<Registered>(sealed[i], &cipher);
    if (!back) return back.error();
    if (back->email.value() != plain[i].email || back->phone.value() != plain[i].phone) {
      return Status(ErrorCode::kCorruption, "bench check failed in " + ctx.name +
                                                ": the event of " + plain[i].customer +
                                                " opened differently");
    }
  }

  uint64_t sink = 0;  // keeps the results alive
  auto plain_encode = [&](uint64_t i) -> Status {
    sink += tk::Encode(plain[i % plain.size()]).size();
    return Status::OK();
  };
  auto seal = [&](uint64_t i) -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::string json, tk::EncodeSealed(events[i % events.size()], &cipher));
    sink += json.size();
    return Status::OK();
  };
  auto plain_decode = [&](uint64_t i) -> Status {
    CAIRN_ASSIGN_OR_RETURN(RegisteredPlain e, tk::Decode<RegisteredPlain>(clear[i % clear.size()]));
    sink += e.email.size();
    return Status::OK();
  };
  auto open = [&](uint64_t i) -> Status {
    CAIRN_ASSIGN_OR_RETURN(Registered e,
                           tk::Decode<Registered>(sealed[i % sealed.size()], &cipher));
    sink += e.email.value().size();
    return Status::OK();
  };
  CAIRN_RETURN_IF_ERROR(NanosPerCall(1000, plain_encode).status());  // warm-up
  CAIRN_RETURN_IF_ERROR(NanosPerCall(1000, plain_decode).status());
  CAIRN_RETURN_IF_ERROR(NanosPerCall(1000, seal).status());
  CAIRN_RETURN_IF_ERROR(NanosPerCall(1000, open).status());

  Measurement m;
  m.workload = ctx.name;
  m.system = "toolkit";
  m.durable = ctx.durable;  // nothing is written: the flag only echoes the run's mode
  m.events = ctx.events;
  ResetPeakRss();
  CAIRN_ASSIGN_OR_RETURN(double plain_encode_ns, NanosPerCall(ctx.events, plain_encode));
  CAIRN_ASSIGN_OR_RETURN(double seal_ns, NanosPerCall(ctx.events, seal));
  CAIRN_ASSIGN_OR_RETURN(double plain_decode_ns, NanosPerCall(ctx.events, plain_decode));
  CAIRN_ASSIGN_OR_RETURN(double open_ns, NanosPerCall(ctx.events, open));
  // Latency: one sealed write + read of an event per sample, in its own pass
  // so the clock reads stay out of the ns figures.
  for (uint64_t i = 0; i < ctx.events; ++i) {
    const int64_t t0 = NowNanos();
    CAIRN_RETURN_IF_ERROR(seal(i));
    CAIRN_RETURN_IF_ERROR(open(i));
    m.latency.Record(NowNanos() - t0);
  }
  m.SampleRss();
  // events_per_s: events sealed and opened (one write + one read) per second.
  m.seconds = (seal_ns + open_ns) * static_cast<double>(ctx.events) / 1e9;
  m.Add("seal_ns_per_event", FormatFixed(seal_ns, 0));
  m.Add("open_ns_per_event", FormatFixed(open_ns, 0));
  m.Add("plain_encode_ns", FormatFixed(plain_encode_ns, 0));
  m.Add("plain_decode_ns", FormatFixed(plain_decode_ns, 0));
  m.Add("overhead_ns_per_event",
        FormatFixed((seal_ns - plain_encode_ns) + (open_ns - plain_decode_ns), 0));
  m.Add("personal_fields", "2");
  m.Add("subjects", std::to_string(kSubjects));
  m.Add("sealed_bytes", std::to_string(sealed[0].size()));
  m.Add("plain_bytes", std::to_string(clear[0].size()));
  if (sink == 0) m.Add("sink", "0");  // never: the results were used
  return m;
}

}  // namespace cairn::bench
