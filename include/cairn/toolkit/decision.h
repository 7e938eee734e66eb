#pragma once
// What a command's `decide` returns: the events to append, or a domain
// error (a business rule refused the command). A domain error is not a
// Status: nothing failed, the domain said no, and callers branch on its
// stable `code` ("insufficient_funds"), never on the message.
//
// Thread safety: value types.
#include <string>
#include <utility>
#include <vector>

namespace cairn::toolkit {

struct DomainError {
  std::string code;     // stable lower_snake name of the rule, e.g. "account_frozen"
  std::string message;  // for people
  friend bool operator==(const DomainError&, const DomainError&) = default;
};

template <class Event>
class Decision {
 public:
  // Accepts with these events (none: the command changes nothing).
  Decision(std::vector<Event> events) : events_(std::move(events)) {}         // NOLINT: implicit
  Decision(Event event) { events_.push_back(std::move(event)); }              // NOLINT: implicit
  Decision(DomainError error) : rejected_(true), error_(std::move(error)) {}  // NOLINT
  static Decision Reject(std::string code, std::string message) {
    return Decision(DomainError{std::move(code), std::move(message)});
  }

  bool accepted() const { return !rejected_; }
  const std::vector<Event>& events() const { return events_; }
  std::vector<Event>& events() { return events_; }
  // Valid when !accepted().
  const DomainError& error() const { return error_; }

 private:
  bool rejected_ = false;
  std::vector<Event> events_;
  DomainError error_;
};

}  // namespace cairn::toolkit
