#pragma once
// The two v1 services clients call on their own, anonymously:
// ServerFeatures.GetSupportedMethods (what this server implements, and a
// numeric version whose feature gates match it) and Gossip.Read (this one
// node, alive, leader). docs/format/kurrentdb-v1.md has the facts.

#include <atomic>
#include <string>

#include "cairn/types.h"
#include "gossip.grpc.pb.h"
#include "serverfeatures.grpc.pb.h"

namespace cairn::server {

// The version advertised: the highest KurrentDB version whose client
// feature gates all describe what this server implements.
inline constexpr char kAdvertisedVersion[] = "23.10.0";

class ServerFeaturesService final
    : public ::event_store::client::server_features::ServerFeatures::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetSupportedMethods(
      grpc::CallbackServerContext* ctx, const ::event_store::client::Empty* request,
      ::event_store::client::server_features::SupportedMethods* response) override;
};

class GossipService final : public ::event_store::client::gossip::Gossip::CallbackService {
 public:
  // `host`: the address clients should dial (never 0.0.0.0); the port is
  // set once the server is bound.
  GossipService(Uuid instance_id, std::string host)
      : instance_id_(instance_id), host_(std::move(host)) {}
  void set_port(int port) { port_.store(port); }

  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* ctx,
                                 const ::event_store::client::Empty* request,
                                 ::event_store::client::gossip::ClusterInfo* response) override;

 private:
  const Uuid instance_id_;
  const std::string host_;
  std::atomic<int> port_{0};
};

}  // namespace cairn::server
