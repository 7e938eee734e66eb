// Random operation sequences against an in-memory model of the store.
//
// Each run draws its options and its operations from one seed (printed;
// replay with CAIRN_SEED=<seed>; CAIRN_MODEL_RUNS=<n> and CAIRN_MODEL_OPS=<n>
// set the number of runs and of operations per run): appends
// with every kind of expectation, retries, multi-stream appends, reads of
// streams and of $all in both directions, checkpoints, clean and unclean
// reopens, read-only handles. Small memtables and segments make frozen
// memtables, index runs and segment rollovers happen every few operations.
// Every result is compared exactly with the model.

#include "tests/integration/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

const char* const kTypes[] = {"Opened", "Deposited", "Withdrawn", "Renamed", "Überwiesen"};

using testing::TempDir;

// What a run does. One seed decides the rest.
struct RunSpec {
  uint64_t seed = 0;
  int ops = 1500;
  Durability durability = Durability::kNoSyncUnsafe;
};

// Long names are shortened in traces.
std::string Short(const std::string& stream) {
  if (stream.size() <= 24) return stream;
  return stream.substr(0, 8) + "...(" + std::to_string(stream.size()) + " bytes)";
}

std::string ReadText(const std::string& what, Direction d, std::optional<uint64_t> from,
                     uint64_t max_count) {
  return what + (d == Direction::kForwards ? " forwards" : " backwards") +
         (from ? " from " + std::to_string(*from) : "") +
         (max_count == UINT64_MAX ? "" : " max " + std::to_string(max_count));
}

std::string Describe(const StreamAppend& a) {
  return Short(a.stream) + "(" + a.expected.ToString() + ", " + std::to_string(a.events.size()) +
         (!a.events.empty() && a.events[0].id ? " ids" : "") + ")";
}

class ModelRun {
 public:
  explicit ModelRun(const RunSpec& spec) : spec_(spec), rng_(spec.seed), env_(Env::Default()) {}

  void Run() {
    RandomizeOptions();
    const int pool = static_cast<int>(Pick(3, 16));
    for (int i = 0; i < pool; ++i) streams_.push_back("acct-" + std::to_string(i));
    streams_.push_back("Ünïcode-" + std::to_string(pool));
    streams_.push_back(std::string(Pick(60, 300), 'L'));
    Open();
    if (::testing::Test::HasFailure()) return;
    std::discrete_distribution<int> pick_op(std::begin(kWeights), std::end(kWeights));
    for (int i = 0; i < spec_.ops; ++i) {
      const int op = pick_op(rng_);
      Do(op);
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "run with CAIRN_SEED=" << spec_.seed << " failed at op " << i
                      << "; last ops:\n"
                      << TraceText();
        return;
      }
    }
    CompareEverything(store_.get(), "end of run");
    VerifyReport rep;
    ASSERT_TRUE(store_->Verify(&rep).ok());
    EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].file << " " << rep.problems[0].what;
    EXPECT_EQ(rep.events_checked, model_.size());
    ASSERT_TRUE(store_->Close().ok());
    std::printf("  %zu events in %zu streams, %d reopens replayed the log; ops:",
                static_cast<size_t>(model_.size()), model_.stream_count(), replays_);
    for (size_t i = 0; i < std::size(kOpNames); ++i) std::printf(" %s=%d", kOpNames[i], counts_[i]);
    std::printf("\n");
  }

 private:
  enum Op {
    kAppend,
    kRetry,
    kPartialRetry,
    kMulti,
    kInvalid,
    kReadStream,
    kReadAll,
    kInfo,
    kCheckpoint,
    kReopen,
    kUncleanReopen,
    kReadOnly,
    kFollow,
    kStats,
    kVerify,
    kNumOps
  };
  static constexpr double kWeights[kNumOps] = {30, 6,   2, 10,  2, 15, 10, 5,
                                               2,  1.5, 1, 1.5, 3, 2,  0.5};
  static constexpr const char* kOpNames[kNumOps] = {
      "append",         "retry",     "partial_retry", "multi",      "invalid",
      "read_stream",    "read_all",  "info",          "checkpoint", "reopen",
      "unclean_reopen", "read_only", "follow",        "stats",      "verify"};

  // A successful append whose ids were all the caller's: retryable.
  struct Past {
    std::vector<StreamAppend> parts;
    std::vector<AppendResult> results;
  };

  uint64_t Pick(uint64_t lo, uint64_t hi) { return lo + rng_() % (hi - lo + 1); }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

  void Trace(std::string what) {
    trace_.push_back(std::move(what));
    if (trace_.size() > 25) trace_.pop_front();
  }
  std::string TraceText() const {
    std::string s;
    for (const auto& t : trace_) s += "  " + t + "\n";
    return s;
  }

  void RandomizeOptions() {
    options_.durability = spec_.durability;
    options_.memtable_entries = Pick(5, 50);
    options_.segment_bytes = Pick(4096, 65536);
    options_.env = &env_;
  }

  void Open() {
    auto s = Store::Open(dir_.path(), options_);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    Trace("open memtable_entries=" + std::to_string(options_.memtable_entries) +
          " segment_bytes=" + std::to_string(options_.segment_bytes));
  }

  Uuid NewId() {
    std::array<uint8_t, 16> b;
    for (auto& x : b) x = static_cast<uint8_t>(rng_());
    b[6] = (b[6] & 0x0f) | 0x40;
    return Uuid(b);
  }

  EventData NewEvent(const std::string& stream, bool with_id) {
    EventData e;
    if (with_id) e.id = NewId();
    e.type = kTypes[rng_() % std::size(kTypes)];
    size_t pad = Pick(0, 80);
    if (Chance(8)) pad = Pick(1000, 6000);
    if (Chance(1)) pad = Pick(60000, 90000);  // bigger than any segment
    if (Chance(20)) {
      e.content_type = ContentType::kBinary;
      e.data.resize(pad);
      for (char& c : e.data) c = static_cast<char>(rng_());
    } else {
      e.data = "{\"n\":" + std::to_string(serial_++) + ",\"s\":\"" + stream + "\",\"pad\":\"" +
               std::string(pad, 'p') + "\"}";
    }
    if (Chance(30)) e.metadata = "{\"corr\":" + std::to_string(rng_() % 1000) + "}";
    return e;
  }

  std::vector<EventData> NewEvents(const std::string& stream, size_t n, bool with_ids) {
    std::vector<EventData> v;
    for (size_t i = 0; i < n; ++i) v.push_back(NewEvent(stream, with_ids));
    return v;
  }

  const std::string& AnyStream() { return streams_[rng_() % streams_.size()]; }

  // An expectation that holds for `stream` now.
  ExpectedRevision RightExpectation(const std::string& stream) {
    auto cur = model_.LastRevision(stream);
    switch (rng_() % 3) {
      case 0:
        return ExpectedRevision::Any();
      case 1:
        return cur ? ExpectedRevision::StreamExists() : ExpectedRevision::NoStream();
      default:
        return cur ? ExpectedRevision::Exact(StreamRevision(*cur)) : ExpectedRevision::NoStream();
    }
  }

  // An expectation that fails for `stream` now.
  ExpectedRevision WrongExpectation(const std::string& stream) {
    auto cur = model_.LastRevision(stream);
    const uint64_t d = Pick(1, 3);
    if (!cur) {
      return Chance(30) ? ExpectedRevision::StreamExists()
                        : ExpectedRevision::Exact(StreamRevision(d - 1));
    }
    if (Chance(25)) return ExpectedRevision::NoStream();
    if (*cur >= d && Chance(50)) return ExpectedRevision::Exact(StreamRevision(*cur - d));
    return ExpectedRevision::Exact(StreamRevision(*cur + d));
  }

  // Runs one append call and checks it against the model's prediction.
  void RunAppend(std::vector<StreamAppend> parts, bool single, const std::string& label) {
    std::string desc = label;
    for (const auto& p : parts) desc += " " + Describe(p);
    Trace(desc);
    Outcome want = model_.Predict(parts);
    const uint64_t head = model_.size();
    Result<std::vector<AppendResult>> got = std::vector<AppendResult>();
    if (single) {
      auto r = store_->Append(parts[0].stream, parts[0].expected, parts[0].events);
      if (r)
        got = std::vector<AppendResult>{*r};
      else
        got = r.error();
    } else {
      got = store_->AppendMulti(parts);
    }
    if (want.code != ErrorCode::kOk) {
      ASSERT_FALSE(got.has_value()) << desc << ": expected " << ErrorCodeName(want.code);
      EXPECT_EQ(got.error().code(), want.code) << desc << ": " << got.error().ToString();
      if (want.code == ErrorCode::kWrongExpectedRevision) {
        const RevisionConflict* c = got.error().conflict();
        ASSERT_NE(c, nullptr) << desc;
        EXPECT_EQ(c->stream, want.conflict.stream) << desc;
        EXPECT_EQ(c->expected, want.conflict.expected) << desc;
        EXPECT_EQ(c->actual, want.conflict.actual) << desc;
      }
      EXPECT_EQ(store_->HeadPosition().value(), head) << desc << ": a failed append wrote";
      return;
    }
    ASSERT_TRUE(got.has_value()) << desc << ": " << got.error().ToString();
    ASSERT_EQ(got->size(), want.results.size()) << desc;
    for (size_t i = 0; i < want.results.size(); ++i) {
      const AppendResult& g = (*got)[i];
      const AppendResult& w = want.results[i];
      EXPECT_EQ(g.stream, w.stream) << desc;
      EXPECT_EQ(g.revision, w.revision) << desc << " part " << i;
      EXPECT_EQ(g.position, w.position) << desc << " part " << i;
      EXPECT_EQ(g.duplicate, w.duplicate) << desc << " part " << i;
    }
    model_.Apply(parts, want);
    EXPECT_EQ(store_->HeadPosition().value(), model_.size()) << desc;
    bool retryable = !want.results.empty() && !want.results[0].duplicate;
    for (const auto& p : parts) {
      for (const auto& e : p.events) retryable = retryable && e.id.has_value();
      retryable = retryable && !p.events.empty();
    }
    if (retryable) {
      past_.push_back({std::move(parts), want.results});
      if (past_.size() > 64) past_.pop_front();
    }
  }

  void OpAppend() {
    const std::string& stream = AnyStream();
    const bool ids = Chance(50);
    std::vector<StreamAppend> parts(1);
    parts[0].stream = stream;
    parts[0].expected = Chance(75) ? RightExpectation(stream) : WrongExpectation(stream);
    parts[0].events = NewEvents(stream, Chance(3) ? 0 : Pick(1, 5), ids);
    RunAppend(std::move(parts), true, "append");
  }

  void OpRetry() {
    if (past_.empty()) return OpAppend();
    const Past& p = past_[rng_() % past_.size()];
    Outcome want = model_.Predict(p.parts);
    ASSERT_EQ(want.code, ErrorCode::kOk) << "the model rejects a retry";
    for (size_t i = 0; i < p.results.size(); ++i) {
      ASSERT_TRUE(want.results[i].duplicate) << "the model writes a retry again";
      EXPECT_EQ(want.results[i].revision, p.results[i].revision);
      EXPECT_EQ(want.results[i].position, p.results[i].position);
    }
    RunAppend(p.parts, p.parts.size() == 1 && Chance(70), "retry");
  }

  // A retry whose first events match stored ones and whose rest are new:
  // kIdempotencyConflict whatever the expectation.
  void OpPartialRetry() {
    std::vector<const Past*> fits;
    for (const auto& p : past_) {
      if (p.parts.size() == 1 && p.parts[0].events.size() >= 2) fits.push_back(&p);
    }
    if (fits.empty()) return OpAppend();
    std::vector<StreamAppend> parts = fits[rng_() % fits.size()]->parts;
    auto& events = parts[0].events;
    for (size_t i = Pick(1, events.size() - 1); i < events.size(); ++i) events[i].id = NewId();
    RunAppend(std::move(parts), true, "partial-retry");
  }

  void OpMulti() {
    std::vector<std::string> names = streams_;
    std::shuffle(names.begin(), names.end(), rng_);
    std::vector<StreamAppend> parts(Pick(2, 3));
    const bool ids = Chance(50);
    for (size_t i = 0; i < parts.size(); ++i) {
      parts[i].stream = names[i];
      parts[i].expected = RightExpectation(names[i]);
      parts[i].events = NewEvents(names[i], Pick(1, 3), ids);
    }
    if (Chance(30)) {
      size_t bad = rng_() % parts.size();
      parts[bad].expected = WrongExpectation(parts[bad].stream);
    }
    RunAppend(std::move(parts), false, "multi");
  }

  void OpInvalid() {
    std::vector<StreamAppend> parts(1);
    parts[0] = {AnyStream(), ExpectedRevision::Any(), NewEvents(AnyStream(), 1, false)};
    switch (rng_() % 4) {
      case 0:
        parts[0].stream = "$system";
        break;
      case 1:
        parts[0].stream = "tab\tname";
        break;
      case 2:
        parts[0].events.push_back(EventData{});
        break;  // empty type
      default:
        parts.push_back(parts[0]);
        break;  // same stream twice
    }
    Trace("invalid " + Describe(parts[0]));
    auto r = store_->AppendMulti(parts);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << r.error().ToString();
    EXPECT_EQ(store_->HeadPosition().value(), model_.size());
  }

  void CheckEvents(const std::vector<RecordedEvent>& got, const std::vector<uint64_t>& want,
                   const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
      model_.CheckEvent(got[i], want[i], what + " #" + std::to_string(i));
    }
  }

  void CheckStream(Store* s, const std::string& stream, const ReadStreamOptions& o,
                   const std::string& what) {
    auto got = s->ReadStream(stream, o);
    if (!model_.LastRevision(stream)) {
      ASSERT_FALSE(got.has_value()) << what << ": read a stream that does not exist";
      EXPECT_EQ(got.error().code(), ErrorCode::kNotFound) << got.error().ToString();
      return;
    }
    ASSERT_TRUE(got.has_value()) << what << ": " << got.error().ToString();
    CheckEvents(*got, model_.StreamRead(stream, o), what);
  }

  void OpReadStream(Store* s, const std::string& who) {
    const std::string& stream = AnyStream();
    const uint64_t len = model_.StreamLength(stream);
    ReadStreamOptions o;
    o.direction = Chance(50) ? Direction::kForwards : Direction::kBackwards;
    if (Chance(70)) o.from = StreamRevision(Pick(0, len + 2));
    if (Chance(70)) o.max_count = Pick(0, len + 2);  // 0 still says kNotFound when missing
    std::string what =
        ReadText(who + " read " + Short(stream), o.direction,
                 o.from ? std::optional(o.from->value()) : std::nullopt, o.max_count);
    Trace(what);
    CheckStream(s, stream, o, what);
  }

  void OpReadAll(Store* s, const std::string& who) {
    const uint64_t n = model_.size();
    ReadAllOptions o;
    o.direction = Chance(50) ? Direction::kForwards : Direction::kBackwards;
    if (Chance(70)) o.from = Position(Pick(0, n + 2));
    if (Chance(60)) o.max_count = Pick(0, std::min<uint64_t>(n + 2, 200));
    std::vector<uint64_t> want = model_.AllRead(o);
    std::string what =
        ReadText(who + " read $all", o.direction,
                 o.from ? std::optional(o.from->value()) : std::nullopt, o.max_count);
    Trace(what);
    if (Chance(30)) {
      // The same read through the category / event-type index.
      const bool by_category = Chance(50);
      const std::string name =
          by_category ? (Chance(80) ? std::string("acct") : std::string("Ünïcode"))
                      : std::string(kTypes[rng_() % std::size(kTypes)]);
      ReadAllOptions unlimited = o;
      unlimited.max_count = UINT64_MAX;
      std::vector<uint64_t> tagged;
      for (uint64_t p : model_.AllRead(unlimited)) {
        if (tagged.size() >= o.max_count) break;
        const ModelEvent& e = model_.At(p);
        const bool has = by_category ? e.stream.rfind(name + "-", 0) == 0 : e.type == name;
        if (has) tagged.push_back(p);
      }
      what += by_category ? " via category " + name : " via type " + name;
      Trace(what);
      auto got = by_category ? s->ReadCategory(name, o) : s->ReadEventType(name, o);
      ASSERT_TRUE(got.has_value()) << what << ": " << got.error().ToString();
      return CheckEvents(*got, tagged, what);
    }
    if (Chance(25) && !want.empty()) {
      // The visitor form, stopped early by the visitor.
      const size_t stop_after = Pick(1, want.size());
      std::vector<RecordedEvent> got;
      Status st = s->ReadAll(o, [&](const EventView& e) {
        got.push_back(e.ToRecorded());
        return got.size() < stop_after;
      });
      ASSERT_TRUE(st.ok()) << what << ": " << st.ToString();
      want.resize(stop_after);
      return CheckEvents(got, want, what + " stopped after " + std::to_string(stop_after));
    }
    auto got = s->ReadAll(o);
    ASSERT_TRUE(got.has_value()) << what << ": " << got.error().ToString();
    CheckEvents(*got, want, what);
  }

  void OpInfo(Store* s) {
    const std::string& stream = AnyStream();
    Trace("info " + Short(stream));
    auto info = s->GetStreamInfo(stream);
    auto last = model_.LastRevision(stream);
    if (!last) {
      ASSERT_FALSE(info.has_value()) << stream;
      EXPECT_EQ(info.error().code(), ErrorCode::kNotFound);
      return;
    }
    ASSERT_TRUE(info.has_value()) << stream << ": " << info.error().ToString();
    EXPECT_EQ(info->stream, stream);
    EXPECT_EQ(info->last_revision.value(), *last);
    EXPECT_EQ(info->last_position.value(), model_.PositionOf(stream, *last));
  }

  // Reads all of $all and every stream through `s`; checks stats.
  void CompareEverything(Store* s, const std::string& who) {
    Trace("compare everything via " + who);
    EXPECT_EQ(s->HeadPosition().value(), model_.size()) << who;
    auto all = s->ReadAll(ReadAllOptions{});
    ASSERT_TRUE(all.has_value()) << who << ": " << all.error().ToString();
    CheckEvents(*all, model_.AllRead(ReadAllOptions{}), who + " $all");
    for (const auto& stream : streams_) {
      CheckStream(s, stream, ReadStreamOptions{}, who + " " + stream);
      ReadStreamOptions back;
      back.direction = Direction::kBackwards;
      CheckStream(s, stream, back, who + " " + stream + " backwards");
    }
    CheckStats(s, who);
  }

  void CheckStats(Store* s, const std::string& who) {
    auto st = s->Stats();
    ASSERT_TRUE(st.has_value()) << who << ": " << st.error().ToString();
    EXPECT_EQ(st->events, model_.size()) << who;
    EXPECT_EQ(st->streams, model_.stream_count()) << who;
    EXPECT_GE(st->segments, 1u) << who;
  }

  void OpCheckpoint() {
    Trace("checkpoint");
    Status s = store_->Checkpoint();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void OpReopen(bool clean) {
    if (clean) {
      if (Chance(50)) OpCheckpoint();
      Trace("close");
      Status s = store_->Close();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else {
      // Writes fail while closing, so the index is not checkpointed: the
      // next open must rebuild it from the log tail.
      Trace("unclean close");
      env_.SetDown(true);
      (void)store_->Close();
      env_.ClearFaults();
    }
    store_.reset();
    if (Chance(30)) RandomizeOptions();
    Open();
    if (::testing::Test::HasFailure()) return;
    // Entries in memory right after an open were rebuilt from the log.
    auto st = store_->Stats();
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
    if (st->memtable_entries > 0) ++replays_;
    CompareEverything(store_.get(), clean ? "reopened store" : "store reopened unclean");
  }

  Result<std::unique_ptr<Store>> OpenReadOnly() {
    StoreOptions ro = options_;
    ro.read_only = true;
    ro.env = nullptr;
    ro.memtable_entries = Pick(5, 50);
    return Store::Open(dir_.path(), ro);
  }

  void OpReadOnly() {
    Trace("open read-only");
    auto ro = OpenReadOnly();
    ASSERT_TRUE(ro.has_value()) << ro.error().ToString();
    CompareEverything(ro->get(), "read-only handle");
    std::vector<EventData> one = {NewEvent("x", false)};
    auto r = (*ro)->Append(AnyStream(), ExpectedRevision::Any(), one);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kReadOnly);
    EXPECT_EQ((*ro)->Checkpoint().code(), ErrorCode::kReadOnly);
    if (Chance(50)) {
      VerifyReport rep;
      ASSERT_TRUE((*ro)->Verify(&rep).ok());
      EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].what;
      EXPECT_EQ(rep.events_checked, model_.size());
    }
    EXPECT_TRUE((*ro)->Close().ok());
  }

  // A long-lived read-only handle that follows the writer.
  void OpFollow() {
    if (!follower_) {
      Trace("open follower");
      auto ro = OpenReadOnly();
      ASSERT_TRUE(ro.has_value()) << ro.error().ToString();
      follower_ = std::move(*ro);
    }
    switch (rng_() % 4) {
      case 0:
        return OpReadStream(follower_.get(), "follower");
      case 1:
        return OpReadAll(follower_.get(), "follower");
      case 2:
        return OpInfo(follower_.get());
      default:
        return CompareEverything(follower_.get(), "follower");
    }
  }

  void OpVerify() {
    Trace("verify");
    VerifyReport rep;
    ASSERT_TRUE(store_->Verify(&rep).ok());
    EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].file << ": " << rep.problems[0].what;
    EXPECT_EQ(rep.events_checked, model_.size());
  }

  void Do(int op) {
    ++counts_[op];
    switch (op) {
      case kAppend:
        return OpAppend();
      case kRetry:
        return OpRetry();
      case kPartialRetry:
        return OpPartialRetry();
      case kMulti:
        return OpMulti();
      case kInvalid:
        return OpInvalid();
      case kReadStream:
        return OpReadStream(store_.get(), "writer");
      case kReadAll:
        return OpReadAll(store_.get(), "writer");
      case kInfo:
        return OpInfo(store_.get());
      case kCheckpoint:
        return OpCheckpoint();
      case kReopen:
        return OpReopen(true);
      case kUncleanReopen:
        return OpReopen(false);
      case kReadOnly:
        return OpReadOnly();
      case kFollow:
        return OpFollow();
      case kStats:
        return CheckStats(store_.get(), "writer");
      default:
        return OpVerify();
    }
  }

  const RunSpec spec_;
  std::mt19937_64 rng_;
  TempDir dir_;
  FaultInjectionEnv env_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Store> follower_;
  Model model_;
  std::vector<std::string> streams_;
  std::deque<Past> past_;
  std::deque<std::string> trace_;
  uint64_t serial_ = 0;
  int counts_[kNumOps] = {};
  int replays_ = 0;  // reopens that rebuilt index entries from the log
};

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// Runs `default_runs` runs (CAIRN_MODEL_RUNS overrides) from a random seed,
// or from CAIRN_SEED; run i uses seed + i.
void RunMany(RunSpec spec, uint64_t default_runs) {
  const bool replay = std::getenv("CAIRN_SEED") != nullptr;
  const uint64_t base = EnvNumber("CAIRN_SEED", std::random_device{}());
  const uint64_t runs = EnvNumber("CAIRN_MODEL_RUNS", replay ? 1 : default_runs);
  spec.ops = static_cast<int>(EnvNumber("CAIRN_MODEL_OPS", static_cast<uint64_t>(spec.ops)));
  for (uint64_t i = 0; i < runs; ++i) {
    spec.seed = base + i;
    std::printf("model run %llu/%llu: CAIRN_SEED=%llu ops=%d durability=%s\n",
                static_cast<unsigned long long>(i + 1), static_cast<unsigned long long>(runs),
                static_cast<unsigned long long>(spec.seed), spec.ops,
                spec.durability == Durability::kFsync ? "fsync" : "no-sync");
    std::fflush(stdout);
    SCOPED_TRACE("CAIRN_SEED=" + std::to_string(spec.seed));
    ModelRun(spec).Run();
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ModelTest, RandomOperationSequences) {
  RunSpec spec;
  spec.ops = 1500;
  RunMany(spec, 8);
}

TEST(ModelTest, RandomOperationSequenceDurable) {
  RunSpec spec;
  spec.ops = 600;
  spec.durability = Durability::kFsync;
  RunMany(spec, 1);
}

}  // namespace
}  // namespace cairn
