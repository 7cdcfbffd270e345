// Every case of every real chat template in ../shared/conformance/templates
// renders byte for byte like Hugging Face's Jinja environment, and the cases
// the template refuses fail cleanly.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_paths.h"
#include "template/chat_template.h"

namespace minnow {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ChatTemplateInputs inputs_from_case(const nlohmann::ordered_json& c) {
  ChatTemplateInputs in;
  in.messages = c.at("messages");
  if (c.contains("tools")) in.tools = c.at("tools");
  in.add_generation_prompt = c.value("add_generation_prompt", true);
  in.bos_token = c.value("bos_token", "");
  in.eos_token = c.value("eos_token", "");
  if (c.contains("extra_context")) in.extra_context = c.at("extra_context");
  in.now_date = "2024-07-26";  // the date the expected strings were made with
  return in;
}

TEST(TemplateConformance, EveryCaseOfEveryTemplate) {
  MINNOW_REQUIRE_CONFORMANCE();
  const auto dir = test::conformance_dir() / "templates";
  int n_templates = 0, n_cases = 0, n_errors = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jinja") continue;
    ++n_templates;
    const std::string source = read_file(entry.path());
    auto cases_path = entry.path();
    cases_path.replace_extension(".cases.jsonl");
    std::ifstream cases(cases_path);
    std::string line;
    while (std::getline(cases, line)) {
      if (line.empty()) continue;
      const auto c = nlohmann::ordered_json::parse(line);
      const std::string where = entry.path().filename().string() + ": " + c.value("description", "");
      ++n_cases;
      const auto result = render_chat_template(source, inputs_from_case(c));
      if (c.value("expected_error", false)) {
        ++n_errors;
        EXPECT_FALSE(result.ok()) << where << "\nrendered: " << (result.ok() ? *result : "");
        if (!result.ok()) {
          EXPECT_NE(result.error().code(), ErrorCode::kInternal) << where;
          EXPECT_NE(result.error().code(), ErrorCode::kUnsupported) << where << ": " << result.error().to_string();
        }
        continue;
      }
      ASSERT_TRUE(result.ok()) << where << ": " << result.error().to_string();
      EXPECT_EQ(*result, c.at("expected").get<std::string>()) << where;
    }
  }
  EXPECT_EQ(n_templates, 9);
  EXPECT_GE(n_cases, 140);
  EXPECT_EQ(n_errors, 9);
}

TEST(TemplateConformance, ErrorMessagesComeFromTheTemplate) {
  MINNOW_REQUIRE_CONFORMANCE();
  const std::string source = read_file(test::conformance_dir() / "templates" / "google-gemma-2-2b-it.jinja");
  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::parse(R"([{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}])");
  const auto result = render_chat_template(source, in);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message().find("System role not supported"), std::string::npos) << result.error().message();
  EXPECT_NE(result.error().message().find("line 1, column"), std::string::npos) << result.error().message();
}

}  // namespace
}  // namespace minnow
