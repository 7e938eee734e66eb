#include "tests/e2e/json_checks.h"

#include <gtest/gtest.h>

#include <regex>
#include <vector>

namespace cairn::e2e {

using Json = nlohmann::ordered_json;

std::string MaskCreated(const std::string& text) {
  static const std::regex kCreated(R"re("created":"([^"]*)")re");
  static const std::regex kRfc3339(R"re(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)re");
  for (std::sregex_iterator it(text.begin(), text.end(), kCreated), end; it != end; ++it) {
    EXPECT_TRUE(std::regex_match((*it)[1].str(), kRfc3339)) << (*it)[1];
  }
  return std::regex_replace(text, kCreated, R"("created":"T")");
}

Json ErrorWithoutMessage(const RunResult& result) {
  std::vector<std::string> lines = SplitLines(result.err);
  EXPECT_EQ(lines.size(), 1u) << result.err;
  if (lines.empty()) return Json();
  Json error = Json::parse(lines[0], nullptr, false);
  EXPECT_TRUE(error.is_object()) << result.err;
  if (!error.is_object()) return Json();
  EXPECT_TRUE(error["message"].is_string() && !error["message"].get<std::string>().empty())
      << result.err;
  error.erase("message");
  error.erase("hint");  // checked where it matters: ErrorHint
  return error;
}

std::string ErrorMessage(const RunResult& result) {
  Json error = Json::parse(result.err, nullptr, false);
  if (!error.is_object() || !error["message"].is_string()) return "";
  return error["message"].get<std::string>();
}

}  // namespace cairn::e2e
