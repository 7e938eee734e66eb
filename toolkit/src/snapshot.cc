// Background snapshot writer (include/cairn/toolkit/snapshot.h).
#include "cairn/toolkit/snapshot.h"

#include <nlohmann/json.hpp>

namespace cairn::toolkit {

bool ParseSnapshotHeader(std::string_view metadata, SnapshotHeader* out) {
  nlohmann::json j = nlohmann::json::parse(metadata, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto v = j.find("schemaVersion");
  auto r = j.find("aggregateRevision");
  auto t = j.find("lastCreatedNs");
  if (v == j.end() || r == j.end() || t == j.end() || !v->is_number_integer() ||
      !r->is_number_unsigned() || !t->is_number_integer()) {
    return false;
  }
  out->schema_version = v->get<int>();
  out->revision = r->get<uint64_t>();
  out->last_created_ns = t->get<int64_t>();
  return true;
}

SnapshotWriter::SnapshotWriter(Store* store, size_t max_pending)
    : store_(store), max_pending_(max_pending), thread_([this] { Run(); }) {}

SnapshotWriter::~SnapshotWriter() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SnapshotWriter::Enqueue(std::string_view stream, Encoder encode, int schema_version,
                             uint64_t aggregate_revision) {
  {
    std::lock_guard l(mu_);
    auto it = pending_.find(std::string(stream));
    if (it != pending_.end()) {
      if (it->second.revision >= aggregate_revision) return;  // a newer one is queued
      it->second = {std::move(encode), schema_version, aggregate_revision};
      ++stats_.dropped;
      return;
    }
    if (pending_.size() >= max_pending_) {
      ++stats_.dropped;
      return;
    }
    pending_.emplace(std::string(stream),
                     Pending{std::move(encode), schema_version, aggregate_revision});
    order_.emplace_back(stream);
  }
  cv_.notify_one();
}

void SnapshotWriter::Flush() {
  std::unique_lock l(mu_);
  idle_cv_.wait(l, [&] { return order_.empty() && !busy_; });
}

SnapshotStats SnapshotWriter::stats() const {
  std::lock_guard l(mu_);
  return stats_;
}

void SnapshotWriter::Run() {
  std::unique_lock l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stop_ || !order_.empty(); });
    if (order_.empty()) return;  // stopping, and everything is written
    std::string stream = std::move(order_.front());
    order_.pop_front();
    auto node = pending_.extract(stream);
    busy_ = true;
    l.unlock();
    Write(stream, node.mapped());
    l.lock();
    busy_ = false;
    if (order_.empty()) idle_cv_.notify_all();
  }
}

void SnapshotWriter::Write(const std::string& stream, const Pending& p) {
  auto count = [&](bool ok) {
    std::lock_guard l(mu_);
    ++(ok ? stats_.written : stats_.failed);
  };
  auto json = p.encode();
  if (!json.has_value()) return count(false);
  // The creation time of the state's last event, as the store recorded it.
  ReadStreamOptions ro;
  ro.from = StreamRevision(p.revision);
  ro.max_count = 1;
  std::optional<int64_t> created;
  Status read = store_->ReadStream(stream, ro, [&](const EventView& e) {
    if (e.revision.value() == p.revision) created = e.created_ns;
    return false;
  });
  if (!read.ok() || !created) return count(false);
  const std::string target = SnapshotStreamOf(stream);
  nlohmann::ordered_json meta;
  meta["schemaVersion"] = p.schema_version;
  meta["aggregateRevision"] = p.revision;
  meta["lastCreatedNs"] = *created;
  EventData e;
  e.type = std::string(kSnapshotType);
  e.data = std::move(*json);
  e.metadata = meta.dump();
  std::vector<EventData> events = {std::move(e)};
  auto r = store_->Append(target, ExpectedRevision::Any(), events);
  if (!r.has_value()) return count(false);
  // Keep only the newest two (set with the first snapshot; retried while
  // it is missing).
  auto md = store_->GetStreamMetadata(target);
  if (md.has_value() && !md->metadata.max_count) {
    StreamMetadata m = md->metadata;
    m.max_count = 2;
    (void)store_->SetStreamMetadata(target, ExpectedRevision::Any(), m);
  }
  count(true);
}

}  // namespace cairn::toolkit
