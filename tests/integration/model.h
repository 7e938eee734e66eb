#pragma once
// Model: what a correct store holds, kept in plain containers, and what a
// correct store answers. Used by model_test.cc to check the engine after
// every random operation.
//
// The append rules written here are the public contract of Store::Append
// (include/cairn/store.h) made exact:
//   - an expectation holds as its name says (any; no stream; stream exists;
//     last revision equals N);
//   - a call whose ids are all the caller's is a retry (duplicate, nothing
//     written, the original result returned) when those ids are stored at
//     the revisions the expectation implies (no-stream: from 0, exact N:
//     from N+1) or, for any/exists, from wherever the first id is stored;
//   - kIdempotencyConflict when only some of those ids are stored there (for
//     a failed no-stream/exact expectation, or any/exists whose first id is
//     stored), and for a multi-stream call partly a retry and partly new;
//   - otherwise a failed expectation is kWrongExpectedRevision naming the
//     first failing stream; a call either writes everything or nothing.
//
// Not thread-safe; one model per test run.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "tests/integration/printers.h"

namespace cairn {

struct ModelEvent {
  std::string stream;
  uint64_t revision = 0;
  std::optional<Uuid> id;  // unknown until first read when the store chose it
  std::string type;
  ContentType content_type = ContentType::kJson;
  std::string data;
  std::string metadata;
};

// The predicted answer to one append call.
struct Outcome {
  ErrorCode code = ErrorCode::kOk;
  RevisionConflict conflict;          // kWrongExpectedRevision only
  std::vector<AppendResult> results;  // kOk only
};

class Model {
 public:
  uint64_t size() const { return all_.size(); }
  const ModelEvent& At(uint64_t position) const { return all_[position]; }
  size_t stream_count() const { return streams_.size(); }

  std::optional<uint64_t> LastRevision(const std::string& stream) const {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return std::nullopt;
    return it->second.size() - 1;
  }
  uint64_t StreamLength(const std::string& stream) const {
    auto it = streams_.find(stream);
    return it == streams_.end() ? 0 : it->second.size();
  }
  uint64_t PositionOf(const std::string& stream, uint64_t revision) const {
    return streams_.at(stream).at(revision);
  }

  Outcome Predict(std::span<const StreamAppend> parts) const {
    Outcome out;
    size_t duplicates = 0, writes = 0;
    uint64_t next = all_.size();
    for (const StreamAppend& a : parts) {
      const std::optional<uint64_t> cur = LastRevision(a.stream);
      const size_t n = a.events.size();
      bool all_ids = n > 0;
      for (const auto& e : a.events) all_ids = all_ids && e.id.has_value();
      bool holds = false;
      std::optional<uint64_t> implied;  // first revision the expectation names
      switch (a.expected.kind()) {
        case ExpectedRevision::Kind::kAny:
          holds = true;
          break;
        case ExpectedRevision::Kind::kNoStream:
          holds = !cur;
          implied = 0;
          break;
        case ExpectedRevision::Kind::kStreamExists:
          holds = cur.has_value();
          break;
        case ExpectedRevision::Kind::kExact:
          holds = cur && *cur == a.expected.revision().value();
          implied = a.expected.revision().value() + 1;
          break;
      }
      std::optional<uint64_t> stored_from;  // revision where a stored copy starts
      if (all_ids && cur && holds && !implied) {
        // Any / exists: a retry wherever the first event's id is stored.
        if (auto first = RevisionOfId(a.stream, *a.events[0].id)) {
          if (MatchingIds(a, *first) < n) return Fail(ErrorCode::kIdempotencyConflict);
          stored_from = first;
        }
      }
      if (all_ids && cur && !holds && implied && *cur >= *implied) {
        size_t m = MatchingIds(a, *implied);
        if (m == n) stored_from = implied;
        if (m > 0 && m < n) return Fail(ErrorCode::kIdempotencyConflict);
      }
      AppendResult r;
      r.stream = a.stream;
      if (stored_from) {
        r.revision = StreamRevision(*stored_from + n - 1);
        r.position = Position(PositionOf(a.stream, *stored_from + n - 1));
        r.duplicate = true;
        ++duplicates;
      } else if (!holds) {
        Outcome bad = Fail(ErrorCode::kWrongExpectedRevision);
        bad.conflict = {a.stream, a.expected.ToString(), cur};
        return bad;
      } else if (n == 0) {
        if (cur) r.revision = StreamRevision(*cur);
        r.position = Position(next);
      } else {
        r.revision = StreamRevision((cur ? *cur + 1 : 0) + n - 1);
        next += n;
        r.position = Position(next - 1);
        ++writes;
      }
      out.results.push_back(r);
    }
    if (duplicates > 0 && writes > 0) return Fail(ErrorCode::kIdempotencyConflict);
    return out;
  }

  // Records the events of a successful call predicted as `o`.
  void Apply(std::span<const StreamAppend> parts, const Outcome& o) {
    for (size_t i = 0; i < parts.size(); ++i) {
      if (o.results[i].duplicate) continue;
      for (const EventData& e : parts[i].events) {
        auto& positions = streams_[parts[i].stream];
        ModelEvent m{parts[i].stream, positions.size(), e.id,      e.type,
                     e.content_type,  e.data,           e.metadata};
        positions.push_back(all_.size());
        all_.push_back(std::move(m));
      }
    }
  }

  // Positions a stream read with `o` returns, in order.
  std::vector<uint64_t> StreamRead(const std::string& stream, const ReadStreamOptions& o) const {
    std::vector<uint64_t> out;
    auto it = streams_.find(stream);
    if (it == streams_.end() || it->second.empty()) return out;
    const std::vector<uint64_t>& p = it->second;
    if (o.direction == Direction::kForwards) {
      for (uint64_t r = o.from ? o.from->value() : 0; r < p.size() && out.size() < o.max_count;
           ++r) {
        out.push_back(p[r]);
      }
    } else {
      uint64_t r = std::min<uint64_t>(o.from ? o.from->value() : UINT64_MAX, p.size() - 1);
      for (; out.size() < o.max_count; --r) {
        out.push_back(p[r]);
        if (r == 0) break;
      }
    }
    return out;
  }

  // Positions a $all read with `o` returns, in order.
  std::vector<uint64_t> AllRead(const ReadAllOptions& o) const {
    std::vector<uint64_t> out;
    if (all_.empty()) return out;
    if (o.direction == Direction::kForwards) {
      for (uint64_t p = o.from ? o.from->value() : 0; p < all_.size() && out.size() < o.max_count;
           ++p) {
        out.push_back(p);
      }
    } else {
      uint64_t p = std::min<uint64_t>(o.from ? o.from->value() : UINT64_MAX, all_.size() - 1);
      for (; out.size() < o.max_count; --p) {
        out.push_back(p);
        if (p == 0) break;
      }
    }
    return out;
  }

  // Compares a stored event with the model's event at `position`. An id the
  // store generated is learned the first time it is read.
  void CheckEvent(const RecordedEvent& got, uint64_t position, const std::string& what) {
    ASSERT_LT(position, all_.size()) << what;
    ModelEvent& want = all_[position];
    EXPECT_EQ(got.position.value(), position) << what;
    EXPECT_EQ(got.stream, want.stream) << what;
    EXPECT_EQ(got.revision.value(), want.revision) << what;
    EXPECT_EQ(got.type, want.type) << what;
    EXPECT_EQ(got.content_type, want.content_type) << what;
    EXPECT_EQ(got.data, want.data) << what;
    EXPECT_EQ(got.metadata, want.metadata) << what;
    EXPECT_GT(got.created_ns, 0) << what;
    if (!want.id) {
      EXPECT_FALSE(got.id.IsNil()) << what << ": generated id is nil";
      want.id = got.id;
    }
    EXPECT_EQ(got.id.ToString(), want.id->ToString()) << what;
  }

 private:
  static Outcome Fail(ErrorCode code) {
    Outcome o;
    o.code = code;
    return o;
  }

  // The revision of `stream` whose event has `id`, if any. Ids the tests
  // choose are unique, so there is at most one.
  std::optional<uint64_t> RevisionOfId(const std::string& stream, const Uuid& id) const {
    const std::vector<uint64_t>& p = streams_.at(stream);
    for (uint64_t r = 0; r < p.size(); ++r) {
      if (all_[p[r]].id && *all_[p[r]].id == id) return r;
    }
    return std::nullopt;
  }

  // How many leading events of `a` carry the ids stored from `first` on.
  size_t MatchingIds(const StreamAppend& a, uint64_t first) const {
    const std::vector<uint64_t>& p = streams_.at(a.stream);
    size_t m = 0;
    while (m < a.events.size() && first + m < p.size()) {
      const auto& stored = all_[p[first + m]].id;
      if (!stored || !(*stored == *a.events[m].id)) break;
      ++m;
    }
    return m;
  }

  std::vector<ModelEvent> all_;                           // index = position
  std::map<std::string, std::vector<uint64_t>> streams_;  // revision -> position
};

}  // namespace cairn
