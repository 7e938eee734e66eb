#include "server/read_plan.h"

namespace cairn::server {

using wire_streams::ReadReq;

namespace {

Status FilterFromWire(const ReadReq::Options::FilterOptions& f, ReadPlan* plan) {
  using F = ReadReq::Options::FilterOptions;
  if (f.window_case() == F::WINDOW_NOT_SET) {
    return Status::InvalidArgument("filter.window is not set (max or count)");
  }
  if (f.window_case() == F::kMax && f.max() == 0) {
    return Status::InvalidArgument("filter.max must be positive");
  }
  const uint64_t window = f.window_case() == F::kMax ? f.max() : 32;
  plan->checkpoint_interval = window * f.checkpointintervalmultiplier();
  plan->filtered = true;
  const F::Expression* e = nullptr;
  bool by_stream = false;
  switch (f.filter_case()) {
    case F::kStreamIdentifier:
      e = &f.stream_identifier();
      by_stream = true;
      break;
    case F::kEventType:
      e = &f.event_type();
      break;
    default:
      return Status::InvalidArgument("filter.filter is not set (stream_identifier or event_type)");
  }
  if (!e->regex().empty()) {
    (by_stream ? plan->filter.stream_regex : plan->filter.type_regex) = e->regex();
  } else if (e->prefix().empty()) {
    plan->passes_nothing = true;  // KurrentDB: an empty prefix list passes nothing
  } else {
    auto& prefixes = by_stream ? plan->filter.stream_prefixes : plan->filter.type_prefixes;
    prefixes.assign(e->prefix().begin(), e->prefix().end());
  }
  return Status::OK();
}

}  // namespace

Result<ReadPlan> PlanRead(const ReadReq& req) {
  using O = ReadReq::Options;
  const O& o = req.options();
  if (!req.has_options()) return Status::InvalidArgument("options is missing");
  if (!o.has_uuid_option()) return Status::InvalidArgument("uuid_option is missing");
  ReadPlan plan;
  plan.structured_ids = o.uuid_option().content_case() != O::UUIDOption::kString;
  plan.direction =
      o.read_direction() == O::Backwards ? Direction::kBackwards : Direction::kForwards;
  if (o.count_option_case() == O::kSubscription) {
    plan.subscription = true;
    if (plan.direction == Direction::kBackwards) {
      return Status::InvalidArgument("a subscription reads forwards only");
    }
  } else if (o.count_option_case() == O::kCount) {
    plan.count = o.count();
  } else {
    return Status::InvalidArgument("count_option is not set (count or subscription)");
  }
  switch (o.stream_option_case()) {
    case O::kStream: {
      const auto& s = o.stream();
      CAIRN_ASSIGN_OR_RETURN(plan.stream,
                             StreamFromWire(s.stream_identifier(), s.has_stream_identifier()));
      if (o.filter_option_case() == O::kFilter) {
        return Status::InvalidArgument("a stream read takes no filter");
      }
      switch (s.revision_option_case()) {
        case O::StreamOptions::kRevision:
          plan.from = s.revision();
          break;
        case O::StreamOptions::kStart:
          if (!plan.subscription) plan.from = 0;
          break;
        case O::StreamOptions::kEnd:
          plan.from_end_forwards = plan.direction == Direction::kForwards;  // subscriptions too
          break;
        default:
          return Status::InvalidArgument("stream.revision_option is not set");
      }
      plan.compatibility = o.has_control_option() && o.control_option().compatibility() >= 1;
      break;
    }
    case O::kAll: {
      plan.all = true;
      const auto& a = o.all();
      switch (a.all_option_case()) {
        case O::AllOptions::kPosition:
          if (a.position().commit_position() < a.position().prepare_position()) {
            return Status::InvalidArgument("position: commit_position is below prepare_position");
          }
          plan.from = a.position().commit_position();
          break;
        case O::AllOptions::kStart:
          if (!plan.subscription) plan.from = 0;
          break;
        case O::AllOptions::kEnd:
          plan.from_end_forwards = plan.direction == Direction::kForwards;  // subscriptions too
          break;
        default:
          return Status::InvalidArgument("all.all_option is not set");
      }
      if (o.filter_option_case() == O::kFilter) {
        CAIRN_RETURN_IF_ERROR(FilterFromWire(o.filter(), &plan));
      } else if (o.filter_option_case() != O::kNoFilter) {
        return Status::InvalidArgument("filter_option is not set");
      }
      break;
    }
    default:
      return Status::InvalidArgument("stream_option is not set (stream or all)");
  }
  if (!plan.all && o.filter_option_case() != O::kNoFilter) {
    return Status::InvalidArgument("filter_option is not set");
  }
  if (plan.subscription && plan.filtered && plan.checkpoint_interval == 0) {
    return Status::InvalidArgument("filter.checkpointIntervalMultiplier must be positive");
  }
  return plan;
}

}  // namespace cairn::server
