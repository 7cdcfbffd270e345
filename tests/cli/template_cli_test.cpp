// `minnow template` end to end: a conformance case rendered from a template
// file, a model's own template and BOS/EOS strings, the ChatML fallback, and
// errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gguf/tiny_model.h"
#include "support/run_command.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string write_model(const test::TempDir& dir, const char* chat_template) {
  GgufWriter w = make_tiny_model(TinyModelSpec{});
  if (chat_template) w.set("tokenizer.chat_template", GgufValue::string(chat_template));
  else w.remove("tokenizer.chat_template");
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(5 + 0x41));  // "<0x41>": byte tokens start at id 5
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(5 + 0x42));
  const std::string path = dir.file("model.gguf");
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

TEST(TemplateCli, ConformanceCaseRendersByteExactly) {
  MINNOW_REQUIRE_CONFORMANCE();
  const auto templates = test::conformance_dir() / "templates";
  std::ifstream cases(templates / "meta-llama-Llama-3.2-3B-Instruct.cases.jsonl");
  std::string line;
  nlohmann::ordered_json chosen;
  while (std::getline(cases, line)) {
    auto c = nlohmann::ordered_json::parse(line);
    if (c.contains("tools") && !c.value("expected_error", false)) {  // tools + strftime_now: the richest kind
      chosen = c;
      break;
    }
  }
  ASSERT_FALSE(chosen.is_null());
  test::TempDir dir;
  write_file(dir.file("case.json"), chosen.dump());
  const auto r = test::run_minnow({"template", "--chat-template",
                                   (templates / "meta-llama-Llama-3.2-3B-Instruct.jinja").string(), "--messages",
                                   dir.file("case.json"), "--now", "2024-07-26"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, chosen.at("expected").get<std::string>());
  EXPECT_EQ(r.err, "");
}

TEST(TemplateCli, UsesTheModelsTemplateAndSpecialTokens) {
  test::TempDir dir;
  const std::string model = write_model(
      dir, "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
           "{% if tools %}tools={{ tools|map(attribute='name')|join(',') }}{% endif %}"
           "{% if add_generation_prompt %}>{% endif %}{{ eos_token }}");
  write_file(dir.file("messages.json"), R"([{"role": "user", "content": "hi"}])");
  write_file(dir.file("tools.json"), R"([{"name": "search"}, {"name": "calc"}])");
  auto r = test::run_minnow({"template", "-m", model, "--messages", dir.file("messages.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<0x41>[user:hi]><0x42>");

  r = test::run_minnow({"template", "-m", model, "--messages", dir.file("messages.json"), "--tools",
                        dir.file("tools.json"), "--no-generation-prompt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<0x41>[user:hi]tools=search,calc<0x42>");

  // --chat-template overrides the model's template; the object form overrides its tokens.
  write_file(dir.file("t.jinja"), "{{ bos_token }}|{{ messages|length }}|{{ add_generation_prompt }}|{{ extra }}\n");
  write_file(dir.file("case.json"),
             R"({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
                 "bos_token": "<s>", "add_generation_prompt": false, "extra_context": {"extra": "E"}})");
  r = test::run_minnow({"template", "-m", model, "--chat-template", dir.file("t.jinja"), "--messages",
                        dir.file("case.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s>|2|False|E");  // the template's final newline is dropped, as in Jinja
}

TEST(TemplateCli, ModelWithoutTemplateFallsBackToChatMl) {
  test::TempDir dir;
  const std::string model = write_model(dir, nullptr);
  write_file(dir.file("messages.json"), R"([{"role": "user", "content": "hi"}])");
  const auto r = test::run_minnow({"template", "-m", model, "--messages", dir.file("messages.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ChatML"), std::string::npos) << r.err;
}

TEST(TemplateCli, ErrorsAreReportedWithPosition) {
  test::TempDir dir;
  write_file(dir.file("messages.json"), R"([{"role": "system", "content": "x"}])");
  write_file(dir.file("bad.jinja"), "ok\n  {{ raise_exception('System role not supported') }}");
  auto r = test::run_minnow({"template", "--chat-template", dir.file("bad.jinja"), "--messages",
                             dir.file("messages.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("line 2, column"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("System role not supported"), std::string::npos) << r.err;

  write_file(dir.file("loop.jinja"), "{% for i in range(1000000000) %}{% endfor %}");
  r = test::run_minnow({"template", "--chat-template", dir.file("loop.jinja"), "--messages", dir.file("messages.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("limit"), std::string::npos) << r.err;

  write_file(dir.file("not.json"), "{oops");
  r = test::run_minnow({"template", "--chat-template", dir.file("bad.jinja"), "--messages", dir.file("not.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not.json"), std::string::npos) << r.err;

  r = test::run_minnow({"template", "--messages", dir.file("messages.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--chat-template"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace minnow
