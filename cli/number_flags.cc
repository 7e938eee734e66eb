#include "cli/number_flags.h"

namespace cairn::cli {

Result<uint64_t> ParseUnsigned(std::string_view flag, std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(flag) + " '" + std::string(text) + "' " +
                                   std::string(why));
  };
  if (text.empty()) return bad("is empty: give a number from 0 to 2^64-1");
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return bad(text[0] == '-' ? "is negative: give a number from 0 to 2^64-1"
                                : "is not a number from 0 to 2^64-1");
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      return bad("is past 2^64-1 (18446744073709551615)");
    }
    value = value * 10 + digit;
  }
  return value;
}

CLI::Option* AddUnsignedOption(CLI::App* app, const std::string& name,
                               std::optional<uint64_t>* target, const std::string& help) {
  CLI::Option* option = app->add_option_function<std::string>(
      name,
      [name, target](const std::string& text) {
        Result<uint64_t> value = ParseUnsigned(name, text);
        if (!value.has_value()) {
          throw CLI::ValidationError(value.error().message());
        }
        *target = *value;
      },
      help);
  option->type_name("N");
  return option;
}

}  // namespace cairn::cli
