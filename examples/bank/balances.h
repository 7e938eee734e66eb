#pragma once
// The balances read model: one row per account (no personal data), kept in
// a SQLite file by a toolkit ProjectionRunner following the "account"
// category, the checkpoint committed with each batch.
#include <string>

#include "cairn/toolkit/crypto.h"
#include "cairn/toolkit/projection.h"

namespace bank {

class BalancesProjection : public cairn::toolkit::Projection {
 public:
  // `cipher` opens the personal fields of AccountOpened (which this read
  // model never stores); it must outlive the projection.
  explicit BalancesProjection(cairn::toolkit::PersonalDataCipher* cipher) : cipher_(cipher) {}
  std::string name() const override { return "balances"; }
  cairn::Status Setup(cairn::toolkit::Sql& sql) override;
  cairn::Status Reset(cairn::toolkit::Sql& sql) override;
  cairn::Status Apply(cairn::toolkit::Sql& sql, const cairn::RecordedEvent& e) override;

 private:
  cairn::toolkit::PersonalDataCipher* cipher_;
};

}  // namespace bank
