#pragma once
// The event filter flags shared by `read-all` and `tail`: each maps to one
// field of cairn::EventFilter (include/cairn/subscription.h). Every given
// criterion must hold; a list flag may be repeated and then any of its
// values may match. The regexes are checked by the engine (RE2 syntax,
// partial match), which reports a bad one as invalid_argument.
//
// Thread safety: filled in by CLI11 during parsing, then read on the main
// thread only.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cairn/subscription.h"

namespace cairn::cli {

struct FilterFlags {
  std::vector<std::string> stream_prefixes;  // --stream-prefix P (repeatable)
  std::string stream_regex;                  // --stream-regex R
  std::vector<std::string> categories;       // --category C (repeatable)
  std::vector<std::string> type_prefixes;    // --type-prefix P (repeatable)
  std::string type_regex;                    // --type-regex R
  std::vector<std::string> types;            // --type T (repeatable)

  // Registers the six flags on `app`, bound to the fields above; they must
  // outlive the parse.
  void Add(CLI::App* app);

  // The EventFilter the flags describe (empty when none was given).
  EventFilter ToFilter() const;
};

}  // namespace cairn::cli
