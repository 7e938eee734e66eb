#pragma once
// `cairn serve --dev`: a development CA and a server certificate signed by
// it, made once in `<dir>/dev-certs/` (ca.pem, server.pem, server.key;
// the CA's key is not kept) and reused on later starts. The server
// certificate names localhost and 127.0.0.1 and lasts 365 days; clients
// trust it through `tlsCAFile=<dir>/dev-certs/ca.pem`. Never for
// production: anyone who can read the directory can impersonate the server.

#include <string>

#include "cairn/status.h"

namespace cairn::server {

struct DevCertificate {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool created = false;  // made now, not found from an earlier start
};

// kIOError naming the file that could not be written or read.
Result<DevCertificate> EnsureDevCertificate(const std::string& dir);

}  // namespace cairn::server
