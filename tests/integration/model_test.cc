// Random operation sequences against an in-memory model of the store.
//
// Each run draws its options and its operations from one seed (printed;
// replay with CAIRN_SEED=<seed>; CAIRN_MODEL_RUNS=<n> and CAIRN_MODEL_OPS=<n>
// set the number of runs and of operations per run): appends
// with every kind of expectation, retries, multi-stream appends, reads of
// streams and of $all in both directions, checkpoints, clean and unclean
// reopens, read-only handles; and the stream lifecycle: metadata ($maxCount,
// $tb, a $maxAge too long to expire, custom keys), soft deletes, tombstones
// (of a small pool of streams kept apart, so live streams remain), appends
// to deleted streams, scavenges and scavenges that crash at a step of their
// commit. Small memtables and segments make frozen memtables, index runs and
// segment rollovers happen every few operations. Every result is compared
// exactly with the model.

#include "tests/integration/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

const char* const kTypes[] = {"Opened", "Deposited", "Withdrawn", "Renamed", "Überwiesen"};
// Types only the engine writes: type reads show every stored "$metadata"
// event (system streams have no retention) and no tombstone (its stream is
// gone for reads).
const char* const kSystemTypes[] = {"$metadata", "$streamDeleted"};
const char* const kCategories[] = {"acct", "Ünïcode", "gone"};
const char* const kScavengeSteps[] = {"rewritten", "indexed", "intent", "segments",
                                      "manifest",  "head",    "removed"};

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

const char* StateName(StreamState s) {
  return s == StreamState::kLive ? "live" : s == StreamState::kSoftDeleted ? "soft" : "tomb";
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
    // Tombstones are forever: only these streams get them.
    for (int i = 0; i < 4; ++i) doomed_.push_back("gone-" + std::to_string(i));
    everyone_ = streams_;
    everyone_.insert(everyone_.end(), doomed_.begin(), doomed_.end());
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
    // Every run ends with its history backed up and restored (and compared).
    OpRestoreCopy();
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "run with CAIRN_SEED=" << spec_.seed
                    << " failed restoring its copy; last ops:\n"
                    << TraceText();
      return;
    }
    VerifyReport rep;
    ASSERT_TRUE(store_->Verify(&rep).ok());
    EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].file << " " << rep.problems[0].what;
    EXPECT_EQ(rep.events_checked, model_.stored());
    ASSERT_TRUE(store_->Close().ok());
    std::printf("  %zu events (%zu removed) in %zu streams, %d reopens replayed the log; ops:",
                static_cast<size_t>(model_.size()), static_cast<size_t>(model_.removed()),
                model_.stream_count(), replays_);
    for (size_t i = 0; i < std::size(kOpNames); ++i) std::printf(" %s=%d", kOpNames[i], counts_[i]);
    std::printf("; crashed scavenges undone=%d finished=%d\n", crashes_rolled_back_,
                crashes_rolled_forward_);
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
    kSetMetadata,
    kDelete,
    kTombstone,
    kAppendDeleted,
    kList,
    kScavenge,
    kCrashScavenge,
    kRestoreCopy,
    kNumOps
  };
  static constexpr double kWeights[kNumOps] = {
      30, 6, 2, 10, 2, 15, 10, 5, 2, 1.5, 1, 1.5, 3, 2, 0.5, 2.5, 1.5, 0.3, 2, 1.5, 0.3, 0.25, 0.3};
  static constexpr const char* kOpNames[kNumOps] = {
      "append",         "retry", "partial_retry", "multi",          "invalid",        "read_stream",
      "read_all",       "info",  "checkpoint",    "reopen",         "unclean_reopen", "read_only",
      "follow",         "stats", "verify",        "metadata",       "delete",         "tombstone",
      "append_deleted", "list",  "scavenge",      "crash_scavenge", "restore_copy"};

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
    auto s = NativeStore::Open(dir_->path(), options_);
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

  // Mostly a live-pool stream; now and then one that may be tombstoned.
  const std::string& AnyStream() {
    if (Chance(10)) return doomed_[rng_() % doomed_.size()];
    return streams_[rng_() % streams_.size()];
  }

  // An expectation that holds now for a stream whose last revision is `cur`
  // (absent_too: it counts as absent, being soft-deleted).
  ExpectedRevision RightFor(std::optional<uint64_t> cur, bool absent_too) {
    switch (rng_() % 3) {
      case 0:
        return ExpectedRevision::Any();
      case 1:
        return cur && !absent_too ? ExpectedRevision::StreamExists() : ExpectedRevision::NoStream();
      default:
        return cur ? ExpectedRevision::Exact(StreamRevision(*cur)) : ExpectedRevision::NoStream();
    }
  }

  // An expectation that fails now for such a stream.
  ExpectedRevision WrongFor(std::optional<uint64_t> cur, bool absent_too) {
    const uint64_t d = Pick(1, 3);
    if (!cur) {
      return Chance(30) ? ExpectedRevision::StreamExists()
                        : ExpectedRevision::Exact(StreamRevision(d - 1));
    }
    if (Chance(25)) {
      return absent_too ? ExpectedRevision::StreamExists() : ExpectedRevision::NoStream();
    }
    if (*cur >= d && Chance(50)) return ExpectedRevision::Exact(StreamRevision(*cur - d));
    return ExpectedRevision::Exact(StreamRevision(*cur + d));
  }

  ExpectedRevision AnyExpectation(std::optional<uint64_t> cur) {
    switch (rng_() % 5) {
      case 0:
        return ExpectedRevision::Any();
      case 1:
        return ExpectedRevision::NoStream();
      case 2:
        return ExpectedRevision::StreamExists();
      case 3:
        return ExpectedRevision::Exact(StreamRevision(cur.value_or(0)));
      default:
        return ExpectedRevision::Exact(StreamRevision(cur.value_or(0) + 1));
    }
  }

  ExpectedRevision RightExpectation(const std::string& stream) {
    if (model_.Tombstoned(stream)) return AnyExpectation(model_.LastRevision(stream));
    return RightFor(model_.LastRevision(stream), model_.SoftDeleted(stream));
  }
  ExpectedRevision WrongExpectation(const std::string& stream) {
    if (model_.Tombstoned(stream)) return AnyExpectation(model_.LastRevision(stream));
    return WrongFor(model_.LastRevision(stream), model_.SoftDeleted(stream));
  }

  // Compares one call's answer with its prediction. True when it succeeded as
  // predicted, so the model is to record it.
  bool CheckCall(const Result<std::vector<AppendResult>>& got, const Outcome& want,
                 const std::string& desc) {
    const uint64_t head = model_.size();
    if (want.code != ErrorCode::kOk) {
      if (got.has_value()) {
        std::string text;
        for (const auto& r : *got) {
          text += " " + r.stream +
                  (r.revision ? " revision " + std::to_string(r.revision->value()) : "") +
                  " position " + std::to_string(r.position.value()) +
                  (r.duplicate ? " (duplicate)" : "");
        }
        ADD_FAILURE() << desc << ": expected " << ErrorCodeName(want.code) << ", got" << text;
        return false;
      }
      EXPECT_EQ(got.error().code(), want.code) << desc << ": " << got.error().ToString();
      if (want.code == ErrorCode::kWrongExpectedRevision &&
          got.error().code() == ErrorCode::kWrongExpectedRevision) {
        const RevisionConflict* c = got.error().conflict();
        EXPECT_NE(c, nullptr) << desc;
        if (c == nullptr) return false;
        EXPECT_EQ(c->stream, want.conflict.stream) << desc;
        EXPECT_EQ(c->expected, want.conflict.expected) << desc;
        EXPECT_EQ(c->actual, want.conflict.actual) << desc;
      }
      EXPECT_EQ(store_->HeadPosition()->value(), head) << desc << ": a failed call wrote";
      return false;
    }
    EXPECT_TRUE(got.has_value()) << desc << ": " << got.error().ToString();
    if (!got.has_value()) return false;
    EXPECT_EQ(got->size(), want.results.size()) << desc;
    if (got->size() != want.results.size()) return false;
    for (size_t i = 0; i < want.results.size(); ++i) {
      const AppendResult& g = (*got)[i];
      const AppendResult& w = want.results[i];
      EXPECT_EQ(g.stream, w.stream) << desc;
      EXPECT_EQ(g.revision, w.revision) << desc << " part " << i;
      EXPECT_EQ(g.position, w.position) << desc << " part " << i;
      EXPECT_EQ(g.duplicate, w.duplicate) << desc << " part " << i;
    }
    return true;
  }

  static Result<std::vector<AppendResult>> AsVector(const Result<AppendResult>& r) {
    if (!r) return r.error();
    return std::vector<AppendResult>{*r};
  }

  // Runs one append call and checks it against the model's prediction.
  void RunAppend(std::vector<StreamAppend> parts, bool single, const std::string& label) {
    std::string desc = label;
    for (const auto& p : parts) desc += " " + Describe(p);
    Trace(desc);
    Outcome want = model_.Predict(parts);
    Result<std::vector<AppendResult>> got =
        single ? AsVector(store_->Append(parts[0].stream, parts[0].expected, parts[0].events))
               : store_->AppendMulti(parts);
    if (!CheckCall(got, want, desc)) return;
    model_.Apply(parts, want);
    EXPECT_EQ(store_->HeadPosition()->value(), model_.size()) << desc;
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

  // A stream no metadata, delete or tombstone ever touched: a retry of its
  // events is a duplicate for sure (no retention hid them, no scavenge
  // removed them, no "$tb" moved where no-stream points).
  bool Plain(const std::string& stream) const {
    return !model_.Tombstoned(stream) && !model_.LastRevision(Model::MetaStream(stream));
  }

  void OpRetry() {
    if (past_.empty()) return OpAppend();
    const Past& p = past_[rng_() % past_.size()];
    bool plain = true;
    for (const auto& part : p.parts) plain = plain && Plain(part.stream);
    if (plain) {
      Outcome want = model_.Predict(p.parts);
      ASSERT_EQ(want.code, ErrorCode::kOk) << "the model rejects a retry";
      for (size_t i = 0; i < p.results.size(); ++i) {
        ASSERT_TRUE(want.results[i].duplicate) << "the model writes a retry again";
        EXPECT_EQ(want.results[i].revision, p.results[i].revision);
        EXPECT_EQ(want.results[i].position, p.results[i].position);
      }
    }
    RunAppend(p.parts, p.parts.size() == 1 && Chance(70), plain ? "retry" : "retry (lifecycle)");
  }

  // A retry whose first events match stored ones and whose rest are new:
  // kIdempotencyConflict whatever the expectation (on a plain stream).
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
    std::vector<std::string> names = Chance(20) ? everyone_ : streams_;
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

  // Lifecycle calls with a bad argument: kInvalidArgument, nothing written.
  void OpInvalidLifecycle() {
    const std::string& stream = AnyStream();
    const int pick = static_cast<int>(rng_() % 5);
    const char* const what[] = {"metadata $maxCount 0", "metadata with $tb among custom keys",
                                "metadata that is not an object", "soft delete of $$<stream>",
                                "tombstone of $$<stream>"};
    Trace(std::string("invalid ") + what[pick] + " of " + Short(stream));
    StreamMetadata m;
    if (pick == 0) m.max_count = 0;
    if (pick == 1) m.custom = "{\"$tb\":1}";
    if (pick == 2) m.custom = "[1]";
    const Result<AppendResult> r =
        pick <= 2   ? store_->SetStreamMetadata(stream, ExpectedRevision::Any(), m)
        : pick == 3 ? store_->DeleteStream(Model::MetaStream(stream), ExpectedRevision::Any())
                    : store_->TombstoneStream(Model::MetaStream(stream), ExpectedRevision::Any());
    ExpectError(r, ErrorCode::kInvalidArgument, what[pick]);
    EXPECT_EQ(store_->HeadPosition()->value(), model_.size());
  }

  void OpInvalid() {
    if (Chance(30)) return OpInvalidLifecycle();
    std::vector<StreamAppend> parts(1);
    parts[0] = {AnyStream(), ExpectedRevision::Any(), NewEvents(AnyStream(), 1, false)};
    switch (rng_() % 5) {
      case 0:
        parts[0].stream = "$system";
        break;
      case 1:
        parts[0].stream = "tab\tname";
        break;
      case 2:
        parts[0].events.push_back(EventData{});
        break;  // empty type
      case 3:
        parts[0].events[0].type = "$metadata";  // system types are the engine's
        break;
      default:
        parts.push_back(parts[0]);
        break;  // same stream twice
    }
    Trace("invalid " + Describe(parts[0]));
    auto r = store_->AppendMulti(parts);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << r.error().ToString();
    EXPECT_EQ(store_->HeadPosition()->value(), model_.size());
  }

  void CheckEvents(const std::vector<RecordedEvent>& got, const std::vector<uint64_t>& want,
                   const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
      model_.CheckEvent(got[i], want[i], what, i);
    }
  }

  // Expects `code` from a call the model says fails.
  template <typename T>
  void ExpectError(const Result<T>& got, ErrorCode code, const std::string& what) {
    ASSERT_FALSE(got.has_value()) << what << ": expected " << ErrorCodeName(code);
    EXPECT_EQ(got.error().code(), code) << what << ": " << got.error().ToString();
  }

  void CheckStream(NativeStore* s, const std::string& stream, const ReadStreamOptions& o,
                   const std::string& what) {
    auto got = s->ReadStream(stream, o);
    if (ErrorCode code = model_.StreamCode(stream); code != ErrorCode::kOk) {
      return ExpectError(got, code, what);
    }
    ASSERT_TRUE(got.has_value()) << what << ": " << got.error().ToString();
    CheckEvents(*got, model_.StreamRead(stream, o), what);
  }

  void OpReadStream(NativeStore* s, const std::string& who) {
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

  void OpReadAll(NativeStore* s, const std::string& who) {
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
      std::string name;
      if (by_category) {
        name = Chance(70) ? "acct" : kCategories[rng_() % std::size(kCategories)];
      } else {
        name = Chance(85) ? kTypes[rng_() % std::size(kTypes)]
                          : kSystemTypes[rng_() % std::size(kSystemTypes)];
      }
      what += by_category ? " via category " + name : " via type " + name;
      Trace(what);
      auto got = by_category ? s->ReadCategory(name, o) : s->ReadEventType(name, o);
      ASSERT_TRUE(got.has_value()) << what << ": " << got.error().ToString();
      return CheckEvents(*got, model_.TaggedRead(by_category, name, o), what);
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

  void CheckInfo(NativeStore* s, const std::string& stream, const std::string& who) {
    const std::string what = who + " info " + Short(stream);
    auto info = s->GetStreamInfo(stream);
    if (ErrorCode code = model_.StreamCode(stream); code != ErrorCode::kOk) {
      return ExpectError(info, code, what);
    }
    ASSERT_TRUE(info.has_value()) << what << ": " << info.error().ToString();
    const uint64_t last = *model_.LastRevision(stream);
    EXPECT_EQ(info->stream, stream) << what;
    EXPECT_EQ(info->last_revision.value(), last) << what;
    EXPECT_EQ(info->last_position.value(), model_.PositionOf(stream, last)) << what;
  }

  // Events of `stream` visible to reads, as CountStream and ListStreams
  // count them (what a scavenge removed is not counted, whatever the
  // retention says now).
  uint64_t CountWanted(const std::string& stream) const {
    const ModelRetention r = model_.RetentionOf(stream);
    if (r.tombstoned || !r.last || r.soft_deleted) return 0;
    return model_.VisibleOf(stream).size();
  }

  // The model's view of a stream, for failure messages.
  std::string StreamText(const std::string& stream) const {
    const ModelRetention r = model_.RetentionOf(stream);
    const StreamMetadata* m = model_.Metadata(stream);
    return " (model: last revision " + (r.last ? std::to_string(*r.last) : "none") +
           ", first visible " + std::to_string(r.first_visible) + ", " +
           std::to_string(model_.VisibleOf(stream).size()) + " stored events visible, metadata " +
           (m != nullptr ? m->ToJson() : "none") + ")";
  }

  void CheckCount(NativeStore* s, const std::string& stream, const std::string& who) {
    const std::string what = who + " count " + Short(stream);
    auto n = s->Count(CountOf::Stream(stream));
    if (ErrorCode code = model_.StreamCode(stream); code != ErrorCode::kOk) {
      return ExpectError(n, code, what);
    }
    ASSERT_TRUE(n.has_value()) << what << ": " << n.error().ToString();
    EXPECT_EQ(*n, CountWanted(stream)) << what << StreamText(stream);
  }

  void CheckMetadata(NativeStore* s, const std::string& stream, const std::string& who) {
    const std::string what = who + " metadata of " + Short(stream);
    auto got = s->GetStreamMetadata(stream);
    if (model_.Tombstoned(stream)) return ExpectError(got, ErrorCode::kStreamDeleted, what);
    ASSERT_TRUE(got.has_value()) << what << ": " << got.error().ToString();
    const StreamMetadata* want = model_.Metadata(stream);
    const auto rev = model_.LastRevision(Model::MetaStream(stream));
    EXPECT_EQ(got->revision.has_value(), rev.has_value()) << what;
    if (got->revision && rev) {
      EXPECT_EQ(got->revision->value(), *rev) << what;
    }
    EXPECT_EQ(got->metadata.ToJson(), want != nullptr ? want->ToJson() : "{}") << what;
  }

  void OpInfo(NativeStore* s, const std::string& who) {
    const std::string& stream = AnyStream();
    Trace(who + " info, count and metadata of " + Short(stream));
    CheckInfo(s, stream, who);
    CheckCount(s, stream, who);
    CheckMetadata(s, stream, who);
  }

  // ListStreams with `o`, page by page when o.limit is small, against the
  // model's list filtered the same way.
  void CheckList(NativeStore* s, ListStreamsOptions o, const std::string& what) {
    std::vector<ModelSummary> want;
    for (const ModelSummary& m : model_.List()) {
      if (m.stream.compare(0, o.prefix.size(), o.prefix) != 0) continue;
      if (!o.include_deleted && m.state != StreamState::kLive) continue;
      want.push_back(m);
      want.back().event_count = CountWanted(m.stream);
    }
    std::vector<StreamSummary> got;
    for (int page = 0; page < 100; ++page) {
      auto r = s->ListStreams(o);
      ASSERT_TRUE(r.has_value()) << what << ": " << r.error().ToString();
      got.insert(got.end(), r->begin(), r->end());
      if (r->size() < o.limit || r->empty()) break;
      o.after = r->back().created;
    }
    std::string got_text, want_text;
    for (const auto& g : got) {
      got_text += Short(g.stream) + "@" + std::to_string(g.created.value()) + ":" +
                  StateName(g.state) + ":" + std::to_string(g.event_count) + ":" +
                  std::to_string(g.last_revision.value()) + "@" +
                  std::to_string(g.last_position.value()) + " ";
    }
    for (const auto& w : want) {
      want_text += Short(w.stream) + "@" + std::to_string(w.created) + ":" + StateName(w.state) +
                   ":" + std::to_string(w.event_count) + ":" + std::to_string(w.last_revision) +
                   "@" + std::to_string(w.last_position) + " ";
    }
    EXPECT_EQ(got_text, want_text) << what;
  }

  void OpList(NativeStore* s, const std::string& who) {
    ListStreamsOptions o;
    const char* const prefixes[] = {"", "acct-", "ac", "gone-", "Ü", "L"};
    o.prefix = prefixes[rng_() % std::size(prefixes)];
    o.include_deleted = Chance(70);
    if (Chance(50)) o.limit = Pick(1, 5);
    const std::string what = who + " list prefix '" + o.prefix + "' limit " +
                             std::to_string(o.limit) +
                             (o.include_deleted ? " with deleted" : " live only");
    Trace(what);
    CheckList(s, o, what);
    const std::string category = kCategories[rng_() % std::size(kCategories)];
    auto n = s->Count(CountOf::Category(category));
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    EXPECT_EQ(*n, model_.TaggedRead(true, category, ReadAllOptions{}).size())
        << who << " count category " << category;
    auto all = s->Count(CountOf::All());
    ASSERT_TRUE(all.has_value()) << all.error().ToString();
    EXPECT_EQ(*all, model_.stored()) << who << " count all";
  }

  // Reads all of $all, every stream both ways, its info, count and
  // metadata, every category and type and the stream list through `s`;
  // checks stats.
  void CompareEverything(NativeStore* s, const std::string& who) {
    Trace("compare everything via " + who);
    EXPECT_EQ(s->HeadPosition()->value(), model_.size()) << who;
    const ReadAllOptions everything;
    auto all = s->ReadAll(everything);
    ASSERT_TRUE(all.has_value()) << who << ": " << all.error().ToString();
    CheckEvents(*all, model_.AllRead(everything), who + " $all");
    ReadAllOptions backwards;
    backwards.direction = Direction::kBackwards;
    all = s->ReadAll(backwards);
    ASSERT_TRUE(all.has_value()) << who << ": " << all.error().ToString();
    CheckEvents(*all, model_.AllRead(backwards), who + " $all backwards");
    for (const auto& stream : everyone_) {
      CheckStream(s, stream, ReadStreamOptions{}, who + " " + Short(stream));
      ReadStreamOptions back;
      back.direction = Direction::kBackwards;
      CheckStream(s, stream, back, who + " " + Short(stream) + " backwards");
      CheckInfo(s, stream, who);
      CheckCount(s, stream, who);
      CheckMetadata(s, stream, who);
      const std::string meta = Model::MetaStream(stream);
      if (model_.LastRevision(meta)) {
        CheckStream(s, meta, ReadStreamOptions{}, who + " " + Short(meta));
      }
      if (::testing::Test::HasFailure()) return;
    }
    for (const char* c : kCategories) {
      auto got = s->ReadCategory(c, ReadAllOptions{});
      ASSERT_TRUE(got.has_value()) << who << " category " << c << ": " << got.error().ToString();
      CheckEvents(*got, model_.TaggedRead(true, c, ReadAllOptions{}), who + " category " + c);
    }
    std::vector<std::string> types(std::begin(kTypes), std::end(kTypes));
    types.insert(types.end(), std::begin(kSystemTypes), std::end(kSystemTypes));
    for (const std::string& t : types) {
      auto got = s->ReadEventType(t, ReadAllOptions{});
      ASSERT_TRUE(got.has_value()) << who << " type " << t << ": " << got.error().ToString();
      CheckEvents(*got, model_.TaggedRead(false, t, ReadAllOptions{}), who + " type " + t);
    }
    CheckList(s, ListStreamsOptions{}, who + " list");
    ListStreamsOptions live;
    live.include_deleted = false;
    CheckList(s, live, who + " list live");
    auto count = s->Count(CountOf::All());
    ASSERT_TRUE(count.has_value()) << who << ": " << count.error().ToString();
    EXPECT_EQ(*count, model_.stored()) << who << " count all";
    CheckStats(s, who);
  }

  void CheckStats(NativeStore* s, const std::string& who) {
    auto st = s->Stats();
    ASSERT_TRUE(st.has_value()) << who << ": " << st.error().ToString();
    EXPECT_EQ(st->events, model_.stored()) << who;
    EXPECT_EQ(st->streams, model_.stream_count()) << who;
    EXPECT_GE(st->segments, 1u) << who;
  }

  void OpCheckpoint() {
    Trace("checkpoint");
    Status s = store_->Checkpoint();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Closes with every write failing, so the index is not checkpointed: the
  // next open must rebuild it from the log tail (and finish or undo any
  // scavenge the store was in the middle of).
  void CloseUnclean() {
    env_.SetDown(true);
    (void)store_->Close();
    env_.ClearFaults();
    store_.reset();
  }

  void OpReopen(bool clean) {
    if (clean) {
      if (Chance(50)) OpCheckpoint();
      Trace("close");
      Status s = store_->Close();
      ASSERT_TRUE(s.ok()) << s.ToString();
      store_.reset();
    } else {
      Trace("unclean close");
      CloseUnclean();
    }
    if (Chance(30)) RandomizeOptions();
    Open();
    if (::testing::Test::HasFailure()) return;
    // Entries in memory right after an open were rebuilt from the log.
    auto st = store_->Stats();
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
    if (st->memtable_entries > 0) ++replays_;
    CompareEverything(store_.get(), clean ? "reopened store" : "store reopened unclean");
  }

  Result<std::unique_ptr<NativeStore>> OpenReadOnly() {
    NativeOptions ro = options_;
    ro.read_only = true;
    ro.env = nullptr;
    ro.memtable_entries = Pick(5, 50);
    return NativeStore::Open(dir_->path(), ro);
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
    EXPECT_EQ((*ro)->DeleteStream(AnyStream(), ExpectedRevision::Any()).error().code(),
              ErrorCode::kReadOnly);
    EXPECT_EQ((*ro)->Scavenge({}).error().code(), ErrorCode::kReadOnly);
    if (Chance(50)) {
      VerifyReport rep;
      ASSERT_TRUE((*ro)->Verify(&rep).ok());
      EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].what;
      EXPECT_EQ(rep.events_checked, model_.stored());
    }
    EXPECT_TRUE((*ro)->Close().ok());
  }

  // A long-lived read-only handle that follows the writer, across
  // scavenges too (it adopts the rewritten files).
  void OpFollow() {
    if (!follower_) {
      Trace("open follower");
      auto ro = OpenReadOnly();
      ASSERT_TRUE(ro.has_value()) << ro.error().ToString();
      follower_ = std::move(*ro);
    }
    switch (rng_() % 5) {
      case 0:
        return OpReadStream(follower_.get(), "follower");
      case 1:
        return OpReadAll(follower_.get(), "follower");
      case 2:
        return OpInfo(follower_.get(), "follower");
      case 3:
        return OpList(follower_.get(), "follower");
      default:
        return CompareEverything(follower_.get(), "follower");
    }
  }

  void DropFollower() {
    if (!follower_) return;
    Trace("close follower");
    (void)follower_->Close();
    follower_.reset();
  }

  void OpVerify() {
    Trace("verify");
    VerifyReport rep;
    ASSERT_TRUE(store_->Verify(&rep).ok());
    EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].file << ": " << rep.problems[0].what;
    EXPECT_EQ(rep.events_checked, model_.stored());
  }

  StreamMetadata NewMetadata(const std::string& stream) {
    StreamMetadata m;
    if (Chance(35)) m.max_count = Chance(50) ? Pick(1, 5) : Pick(6, 40);
    if (Chance(35)) m.truncate_before = Pick(0, model_.StreamLength(stream) + 2);
    // Years: nothing expires during a run, but the engine takes its $maxAge
    // paths (per-event checks, creation tags on every scavenged event).
    if (Chance(10)) m.max_age_seconds = Pick(1, 9) * 100000000ull;
    if (Chance(40)) {
      m.custom = "{\"owner\":\"ops" + std::to_string(rng_() % 10) + "\"}";
    } else if (Chance(20)) {
      m.custom = "{\"owner\":\"web\",\"tier\":" + std::to_string(Pick(1, 3)) + "}";
    }
    return m;
  }

  void OpSetMetadata() {
    const std::string& stream = AnyStream();
    const auto cur = model_.LastRevision(Model::MetaStream(stream));
    const ExpectedRevision e = Chance(80) ? RightFor(cur, false) : WrongFor(cur, false);
    const StreamMetadata m = NewMetadata(stream);
    const std::string desc =
        "set metadata " + Short(stream) + " (" + e.ToString() + ") " + m.ToJson();
    Trace(desc);
    const Outcome want = model_.PredictMetadata(stream, e);
    if (CheckCall(AsVector(store_->SetStreamMetadata(stream, e, m)), want, desc)) {
      model_.ApplyMetadata(stream, m);
    }
    if (Chance(30)) CheckMetadata(store_.get(), stream, "writer");
  }

  void OpDelete() {
    const std::string& stream = AnyStream();
    const ExpectedRevision e = Chance(75) ? RightExpectation(stream) : WrongExpectation(stream);
    const std::string desc = "soft delete " + Short(stream) + " (" + e.ToString() + ")";
    Trace(desc);
    StreamMetadata written;
    const Outcome want = model_.PredictDelete(stream, e, &written);
    if (CheckCall(AsVector(store_->DeleteStream(stream, e)), want, desc)) {
      model_.ApplyMetadata(stream, written);
    }
  }

  void OpTombstone() {
    const std::string& stream = doomed_[rng_() % doomed_.size()];
    const ExpectedRevision e = Chance(75) ? RightExpectation(stream) : WrongExpectation(stream);
    const std::string desc = "tombstone " + stream + " (" + e.ToString() + ")";
    Trace(desc);
    const Outcome want = model_.PredictTombstone(stream, e);
    if (CheckCall(AsVector(store_->TombstoneStream(stream, e)), want, desc)) {
      model_.ApplyTombstone(stream);
    }
  }

  // An append to a soft-deleted or tombstoned stream, any expectation.
  void OpAppendDeleted() {
    std::vector<std::string> deleted;
    for (const auto& s : everyone_) {
      if (model_.Tombstoned(s) || model_.SoftDeleted(s)) deleted.push_back(s);
    }
    if (deleted.empty()) return OpAppend();
    const std::string& stream = deleted[rng_() % deleted.size()];
    std::vector<StreamAppend> parts(1);
    parts[0].stream = stream;
    parts[0].expected = AnyExpectation(model_.LastRevision(stream));
    parts[0].events = NewEvents(stream, Pick(1, 3), Chance(50));
    RunAppend(std::move(parts), true, "append to deleted");
  }

  void OpScavenge() {
    Trace("scavenge");
    Model after = model_;
    const ModelScavenge want = after.Scavenge();
    auto rep = store_->Scavenge({});
    ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
    EXPECT_EQ(rep->events_removed, want.removed);
    EXPECT_EQ(rep->events_scrubbed, want.scrubbed) << "model scrubs " << want.scrubbed_text;
    model_ = std::move(after);
    CompareEverything(store_.get(), "scavenged store");
    if (follower_) CompareEverything(follower_.get(), "follower after a scavenge");
  }

  // A scavenge that stops at one step of its commit as a crash would (from
  // the step on nothing reaches the disk); the store is then abandoned and
  // reopened, and must show the store from before the scavenge or after it.
  void OpCrashScavenge() {
    const std::string step = kScavengeSteps[rng_() % std::size(kScavengeSteps)];
    Trace("scavenge crashing at '" + step + "'");
    Model after = model_;
    const ModelScavenge want = after.Scavenge();
    bool crashed = false;
    ScavengeOptions o;
    o.test_hook = [&](std::string_view at) {
      if (at != step) return Status::OK();
      crashed = true;
      env_.SetDown(true);
      return Status::IOError("injected crash at scavenge step " + step);
    };
    auto rep = store_->Scavenge(o);
    DropFollower();
    if (!crashed) {
      // Nothing to rewrite: the scavenge ended before reaching the step.
      ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
      EXPECT_EQ(rep->events_removed, 0u);
      EXPECT_EQ(want.removed + want.scrubbed, 0u) << "the scavenge skipped work";
      return;
    }
    ASSERT_FALSE(rep.has_value()) << "a scavenge whose hook failed at '" << step << "' succeeded";
    EXPECT_EQ(rep.error().code(), ErrorCode::kIOError) << rep.error().ToString();
    Trace("abandon the store");
    CloseUnclean();
    Open();
    if (::testing::Test::HasFailure()) return;
    // Both ways: a crash leaves the store before or after the scavenge.
    ReadAllOptions forwards;
    auto fwd = store_->ReadAll(forwards);
    ASSERT_TRUE(fwd.has_value()) << fwd.error().ToString();
    std::vector<uint64_t> got_fwd;
    for (const auto& e : *fwd) got_fwd.push_back(e.position.value());
    ASSERT_TRUE(got_fwd == after.AllRead(forwards) || got_fwd == model_.AllRead(forwards))
        << "after a crash at scavenge step '" << step << "' a forwards $all read holds "
        << got_fwd.size() << " events";
    ReadAllOptions backwards;
    backwards.direction = Direction::kBackwards;
    auto all = store_->ReadAll(backwards);
    ASSERT_TRUE(all.has_value()) << all.error().ToString();
    std::vector<uint64_t> got;
    for (const auto& e : *all) got.push_back(e.position.value());
    // The intent file is the commit point: a crash before it leaves the
    // store from before the scavenge, one after it the store after it.
    // (Judging by the positions read would call a scavenge that only
    // scrubbed events committed either way.)
    const bool committed = step != "rewritten" && step != "indexed";
    ASSERT_EQ(got, (committed ? after : model_).AllRead(backwards))
        << "after a crash at scavenge step '" << step << "' $all holds " << got.size()
        << " events, not the " << (committed ? after : model_).stored() << " of the store "
        << (committed ? "after" : "before") << " the scavenge";
    ++(committed ? crashes_rolled_forward_ : crashes_rolled_back_);
    if (committed) model_ = std::move(after);
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir_->path())) {
      const std::string name = f.path().filename().string();
      EXPECT_TRUE(f.path().extension() != ".scav" && name != "SCAVENGE")
          << f.path() << " left behind by a crash at scavenge step '" << step << "'";
    }
    CompareEverything(store_.get(), std::string("store reopened after a crash at scavenge step '") +
                                        step + (committed ? "' (scavenged)" : "' (not scavenged)"));
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
        return OpInfo(store_.get(), "writer");
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
      case kVerify:
        return OpVerify();
      case kSetMetadata:
        return OpSetMetadata();
      case kDelete:
        return OpDelete();
      case kTombstone:
        return OpTombstone();
      case kAppendDeleted:
        return OpAppendDeleted();
      case kList:
        return OpList(store_.get(), "writer");
      case kScavenge:
        return OpScavenge();
      case kCrashScavenge:
        return OpCrashScavenge();
      default:
        return OpRestoreCopy();
    }
  }

  // A backup restored into an empty store (Store::Restore, what `cairn
  // export | cairn import` does) must be the same store: every event with
  // its revision, position, id, data, metadata and creation time, and every
  // read, count and list the model predicts. The run then goes on with the
  // copy, so appends, deletes and scavenges after a restore are checked too.
  // Now and then the restore is interrupted and run again whole, as an
  // import re-run after a crash: what is stored comes back as duplicates.
  void OpRestoreCopy() {
    Trace("restore a copy");
    DropFollower();
    auto all = store_->ReadAll(ReadAllOptions{});
    ASSERT_TRUE(all.has_value()) << all.error().ToString();
    std::vector<RestoreEvent> backup;
    for (const RecordedEvent& e : *all) {
      RestoreEvent r;
      r.stream = e.stream;
      r.revision = e.revision;
      r.position = e.position;
      r.created_ns = e.created_ns;
      r.event.id = e.id;
      r.event.type = e.type;
      r.event.content_type = e.content_type;
      r.event.data = e.data;
      r.event.metadata = e.metadata;
      r.caller_id = e.caller_id;
      backup.push_back(std::move(r));
    }
    auto copy_dir = std::make_unique<TempDir>();
    NativeOptions copy_options = options_;
    auto opened = NativeStore::Open(copy_dir->path(), copy_options);
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    std::unique_ptr<NativeStore> copy = std::move(*opened);
    size_t interrupted_at = backup.size();
    if (Chance(30) && !backup.empty()) interrupted_at = Pick(0, backup.size() - 1);
    auto restore = [&](size_t end, uint64_t* written, uint64_t* duplicates) {
      for (size_t i = 0; i < end;) {
        const size_t n = std::min<size_t>(end - i, Pick(1, 300));
        size_t failed = 0;
        auto r = copy->Restore(std::span<const RestoreEvent>(backup).subspan(i, n), &failed);
        ASSERT_TRUE(r.has_value()) << "restoring events " << i << ".." << i + n - 1 << ": "
                                   << r.error().ToString() << " (event " << failed << ")";
        EXPECT_EQ(r->moved, 0u);
        *written += r->written;
        *duplicates += r->duplicates;
        i += n;
      }
    };
    uint64_t written = 0, duplicates = 0;
    if (interrupted_at < backup.size()) {
      Trace("restore interrupted after " + std::to_string(interrupted_at) + " events, re-run");
      restore(interrupted_at, &written, &duplicates);
      if (::testing::Test::HasFailure()) return;
      EXPECT_EQ(written, interrupted_at);
      written = 0;
    }
    restore(backup.size(), &written, &duplicates);
    if (::testing::Test::HasFailure()) return;
    EXPECT_EQ(duplicates, interrupted_at < backup.size() ? interrupted_at : 0);
    EXPECT_EQ(written + duplicates, backup.size());
    auto back = copy->ReadAll(ReadAllOptions{});
    ASSERT_TRUE(back.has_value()) << back.error().ToString();
    ASSERT_EQ(back->size(), all->size());
    for (size_t i = 0; i < all->size(); ++i) {
      const RecordedEvent& a = (*all)[i];
      const RecordedEvent& b = (*back)[i];
      ASSERT_TRUE(a.stream == b.stream && a.revision == b.revision && a.position == b.position &&
                  a.id == b.id && a.type == b.type && a.content_type == b.content_type &&
                  a.data == b.data && a.metadata == b.metadata && a.created_ns == b.created_ns &&
                  a.caller_id == b.caller_id)
          << "restored event " << i << " (position " << a.position.value() << ", stream "
          << Short(a.stream) << ") differs";
    }
    ASSERT_TRUE(store_->Close().ok());
    store_ = std::move(copy);
    dir_ = std::move(copy_dir);
    CompareEverything(store_.get(), "restored copy");
  }

  const RunSpec spec_;
  std::mt19937_64 rng_;
  std::unique_ptr<TempDir> dir_ = std::make_unique<TempDir>();
  FaultInjectionEnv env_;
  NativeOptions options_;
  std::unique_ptr<NativeStore> store_;
  std::unique_ptr<NativeStore> follower_;
  Model model_;
  std::vector<std::string> streams_;   // never tombstoned
  std::vector<std::string> doomed_;    // may be tombstoned
  std::vector<std::string> everyone_;  // both
  std::deque<Past> past_;
  std::deque<std::string> trace_;
  uint64_t serial_ = 0;
  int counts_[kNumOps] = {};
  int replays_ = 0;  // reopens that rebuilt index entries from the log
  // Scavenges crashed in their commit that the next open undid / finished.
  int crashes_rolled_back_ = 0, crashes_rolled_forward_ = 0;
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
