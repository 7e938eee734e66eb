#pragma once
// Personal data in a typed event: a string that is sealed for its data
// subject when written (crypto.h) and may come back "forgotten" once the
// subject's key is erased. Reading a forgotten value never fails and never
// yields garbage: forgotten() is true and value() is empty.
//
// Thread safety: a value type.
#include <string>
#include <string_view>
#include <utility>

namespace cairn::toolkit {

class Personal {
 public:
  Personal() = default;
  Personal(std::string value) : value_(std::move(value)) {}  // NOLINT: implicit
  Personal(const char* value) : value_(value) {}             // NOLINT: implicit
  static Personal Forgotten() {
    Personal p;
    p.forgotten_ = true;
    return p;
  }

  bool forgotten() const { return forgotten_; }
  // The clear value; empty when forgotten.
  const std::string& value() const { return value_; }
  std::string ValueOr(std::string_view when_forgotten) const {
    return forgotten_ ? std::string(when_forgotten) : value_;
  }
  friend bool operator==(const Personal&, const Personal&) = default;

 private:
  std::string value_;
  bool forgotten_ = false;
};

}  // namespace cairn::toolkit
