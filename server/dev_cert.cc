#include "server/dev_cert.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace cairn::server {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Status OpenSslError(const std::string& what) {
  return Status(ErrorCode::kIOError, "making the --dev certificate: " + what + " failed");
}

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by `issuer_key` (as `issuer`,
// or itself when null).
Result<Cert> MakeCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key,
                      long serial, bool ca) {
  Cert cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : cert.get();
  const bool ok =
      ca ? AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE") &&
               AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign")
         : AddExtension(cert.get(), signer, NID_basic_constraints, "CA:FALSE") &&
               AddExtension(cert.get(), signer, NID_subject_alt_name,
                            "DNS:localhost,IP:127.0.0.1,IP:::1") &&
               AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  if (!ok) return OpenSslError("adding certificate extensions");
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return OpenSslError("X509_sign");
  return cert;
}

Status WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  std::FILE* f = std::fopen(path.c_str(), "wx");
  if (f == nullptr) return Status::FromErrno(errno, "create", path);
  if (key) ::fchmod(fileno(f), 0600);
  const bool ok = cert ? PEM_write_X509(f, cert) == 1
                       : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) return Status(ErrorCode::kIOError, "cannot write " + path);
  return Status::OK();
}

}  // namespace

Result<DevCertificate> EnsureDevCertificate(const std::string& dir) {
  const std::string certs = dir + "/dev-certs";
  DevCertificate d{certs + "/ca.pem", certs + "/server.pem", certs + "/server.key", false};
  std::error_code ec;
  if (std::filesystem::exists(d.ca_file, ec) && std::filesystem::exists(d.cert_file, ec) &&
      std::filesystem::exists(d.key_file, ec)) {
    return d;
  }
  // A half-made directory (a crash) is made again, whole.
  std::filesystem::remove_all(certs, ec);
  std::filesystem::create_directories(certs, ec);
  if (ec) return Status::FromErrno(ec.value(), "create", certs);
  Key ca_key(EVP_EC_gen("P-256"));
  Key server_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key) return OpenSslError("EC key generation");
  CAIRN_ASSIGN_OR_RETURN(Cert ca,
                         MakeCert(ca_key.get(), "Cairn development CA", nullptr, ca_key.get(), 1,
                                  /*ca=*/true));
  CAIRN_ASSIGN_OR_RETURN(Cert server,
                         MakeCert(server_key.get(), "localhost", ca.get(), ca_key.get(), 2, false));
  CAIRN_RETURN_IF_ERROR(WritePem(d.ca_file, ca.get(), nullptr));
  CAIRN_RETURN_IF_ERROR(WritePem(d.cert_file, server.get(), nullptr));
  CAIRN_RETURN_IF_ERROR(WritePem(d.key_file, nullptr, server_key.get()));
  d.created = true;
  return d;
}

}  // namespace cairn::server
