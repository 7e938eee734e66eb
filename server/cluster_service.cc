#include "server/cluster_service.h"

#include <chrono>

#include "server/convert.h"

namespace cairn::server {
namespace {

namespace features = ::event_store::client::server_features;

struct Method {
  const char* service;
  const char* method;
  std::initializer_list<const char*> features;
};

// Every method served, lower case, with KurrentDB's feature names. Only
// what is implemented: clients choose code paths from this list (Node
// uses BatchAppend only when it is listed).
constexpr char kStreams[] = "event_store.client.streams.streams";
const Method kMethods[] = {
    {kStreams, "read", {"position", "events"}},
    {kStreams, "append", {}},
    {kStreams, "delete", {}},
    {kStreams, "tombstone", {}},
    {kStreams, "batchappend", {"deadline_duration"}},
    {"event_store.client.server_features.serverfeatures", "getsupportedmethods", {}},
    {"event_store.client.gossip.gossip", "read", {}},
    {"event_store.client.operations.operations", "startscavenge", {}},
    {"event_store.client.operations.operations", "stopscavenge", {}},
    {"event_store.client.operations.operations", "shutdown", {}},
    {"event_store.client.users.users", "create", {}},
    {"event_store.client.users.users", "update", {}},
    {"event_store.client.users.users", "delete", {}},
    {"event_store.client.users.users", "disable", {}},
    {"event_store.client.users.users", "enable", {}},
    {"event_store.client.users.users", "details", {}},
    {"event_store.client.users.users", "changepassword", {}},
    {"event_store.client.users.users", "resetpassword", {}},
};

}  // namespace

grpc::ServerUnaryReactor* ServerFeaturesService::GetSupportedMethods(
    grpc::CallbackServerContext* ctx, const ::event_store::client::Empty*,
    features::SupportedMethods* response) {
  for (const Method& m : kMethods) {
    auto* out = response->add_methods();
    out->set_service_name(m.service);
    out->set_method_name(m.method);
    for (const char* f : m.features) out->add_features(f);
  }
  response->set_event_store_server_version(kAdvertisedVersion);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* GossipService::Read(
    grpc::CallbackServerContext* ctx, const ::event_store::client::Empty*,
    ::event_store::client::gossip::ClusterInfo* response) {
  auto* member = response->add_members();
  UuidToWire(instance_id_, /*structured=*/true, member->mutable_instance_id());
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  member->set_time_stamp(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() / 100);
  member->set_state(::event_store::client::gossip::MemberInfo::Leader);
  member->set_is_alive(true);
  member->mutable_http_end_point()->set_address(host_);
  member->mutable_http_end_point()->set_port(static_cast<uint32_t>(port_.load()));
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace cairn::server
