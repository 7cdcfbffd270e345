// Hand-written templates covering the Jinja subset (whitespace control,
// loops, macros, filters, tests, methods, Python value printing, errors),
// compared with what Python jinja2 renders in Hugging Face's configuration.
// The expected strings come from make_jinja_golden.py.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "template/chat_template.h"

namespace minnow {
namespace {

TEST(TemplateGolden, MatchesPythonJinja) {
  std::ifstream in(std::string(MINNOW_SOURCE_DIR) + "/tests/template/data/jinja_golden.jsonl");
  ASSERT_TRUE(in) << "missing tests/template/data/jinja_golden.jsonl";
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto context = nlohmann::ordered_json::parse(line).at("context");
  int n = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::ordered_json::parse(line);
    const std::string source = c.at("template");
    ++n;
    const auto result = render_template(source, context, TemplateLimits{}, "2024-07-26");
    if (c.value("expected_error", false)) {
      EXPECT_FALSE(result.ok()) << "template: " << source << "\nrendered: " << (result.ok() ? *result : "")
                                << "\npython: " << c.value("error", "");
      if (!result.ok()) {
        EXPECT_NE(result.error().code(), ErrorCode::kInternal) << source;
      }
      continue;
    }
    if (!result.ok()) {
      ADD_FAILURE() << "template: " << source << "\nerror: " << result.error().to_string();
      continue;
    }
    EXPECT_EQ(*result, c.at("expected").get<std::string>()) << "template: " << source;
  }
  EXPECT_GE(n, 100);
}

}  // namespace
}  // namespace minnow
