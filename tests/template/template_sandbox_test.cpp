// Hostile and broken templates: every one must stop with a clean error (the
// right code, a line and column) quickly, never hang, crash or eat memory.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "template/chat_template.h"

namespace minnow {
namespace {

Expected<std::string> render(const std::string& source, const TemplateLimits& limits = {}) {
  return render_template(source, nlohmann::ordered_json::object(), limits, "2024-07-26");
}

// Renders `source`, expects failure with `code` within `seconds` of CPU time
// (not wall time: the test machine may be shared), returns the message.
std::string expect_failure(const std::string& source, ErrorCode code, double seconds = 1.0) {
  const std::clock_t start = std::clock();
  const auto result = render(source);
  const double elapsed = double(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_FALSE(result.ok()) << source.substr(0, 200);
  if (result.ok()) return "";
  EXPECT_EQ(result.error().code(), code) << result.error().to_string();
#if defined(__SANITIZE_ADDRESS__) || defined(__OPTIMIZE__) == 0
  seconds *= 10;  // sanitizer and debug builds run several times slower
#endif
  EXPECT_LT(elapsed, seconds) << source.substr(0, 200);
  return result.error().message();
}

TEST(TemplateSandbox, InfiniteMacroRecursionStops) {
  const auto msg = expect_failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", ErrorCode::kResourceLimit);
  EXPECT_NE(msg.find("recursion"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 1, column"), std::string::npos) << msg;
}

TEST(TemplateSandbox, BillionIterationRangeStops) {
  expect_failure("{% for i in range(1000000000) %}x{% endfor %}", ErrorCode::kResourceLimit);
  expect_failure("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                 ErrorCode::kResourceLimit);
}

TEST(TemplateSandbox, HugeStringMultiplicationStops) {
  expect_failure("{{ 'x' * 10**9 }}", ErrorCode::kResourceLimit);
  expect_failure("{{ 'x' * 1000000000000000000 }}", ErrorCode::kResourceLimit);
  expect_failure("{{ [1, 2] * 10**9 }}", ErrorCode::kResourceLimit);
  // Doubling a string until it is huge.
  expect_failure("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                 ErrorCode::kResourceLimit);
}

TEST(TemplateSandbox, HugeOutputStops) {
  const auto msg = expect_failure("{% for i in range(1000000) %}{{ 'y' * 1000 }}{% endfor %}", ErrorCode::kResourceLimit);
  EXPECT_NE(msg.find("output"), std::string::npos) << msg;
}

TEST(TemplateSandbox, RepeatedBigStringWorkIsCharged) {
  // Each iteration builds and discards 1 MB; the step budget must notice.
  expect_failure("{% for i in range(1000000) %}{% set s = 'x' * 1000000 %}{% endfor %}", ErrorCode::kResourceLimit);
  expect_failure("{% set s = 'ab' * 1000000 %}{% for i in range(1000000) %}{% set t = s.replace('a', 'c') %}{% endfor %}",
                 ErrorCode::kResourceLimit);
}

TEST(TemplateSandbox, DeeplyNestedExpressionsStop) {
  expect_failure("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}", ErrorCode::kResourceLimit);
  expect_failure("{{ " + std::string(100000, '[') + std::string(100000, ']') + " }}", ErrorCode::kResourceLimit);
  expect_failure("{{ " + std::string(100000, '-') + "1 }}", ErrorCode::kResourceLimit);
  std::string nots = "{{ ";
  for (int i = 0; i < 50000; ++i) nots += "not ";
  expect_failure(nots + "1 }}", ErrorCode::kResourceLimit);
  std::string sum = "{{ 1";
  for (int i = 0; i < 100000; ++i) sum += "+1";
  expect_failure(sum + " }}", ErrorCode::kResourceLimit);
  std::string filters = "{{ 'x'";
  for (int i = 0; i < 100000; ++i) filters += "|upper";
  expect_failure(filters + " }}", ErrorCode::kResourceLimit);
}

TEST(TemplateSandbox, DeeplyNestedBlocksStop) {
  std::string s;
  for (int i = 0; i < 100000; ++i) s += "{% if true %}";
  expect_failure(s, ErrorCode::kResourceLimit);
}

TEST(TemplateSandbox, DeeplyNestedValuesStop) {
  // Builds [[[[...]]]] at run time: printing or freeing it must not recurse without bound.
  expect_failure("{% set ns = namespace(x=1) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}",
                 ErrorCode::kResourceLimit);
}

TEST(TemplateSandbox, ValuesSharingStructureCannotExplode) {
  // c holds 10^12 leaves through shared sub-lists: printing, comparing or
  // sorting it must hit a limit, not run out of memory or time.
  const std::string build =
      "{% set a = [1] * 10000 %}{% set b = [a] * 10000 %}{% set c = [b] * 10000 %}"
      "{% set d = [[1] * 10000] * 10000 %}{% set e = [d] * 10000 %}";
  expect_failure(build + "{{ c }}", ErrorCode::kResourceLimit);
  expect_failure(build + "{{ c|string|length }}", ErrorCode::kResourceLimit);
  expect_failure(build + "{{ c == e }}", ErrorCode::kResourceLimit);
  expect_failure(build + "{{ (c + e)|unique|list|length }}", ErrorCode::kResourceLimit);
  expect_failure(build + "{{ c|tojson }}", ErrorCode::kResourceLimit);
  // Identical objects compare equal without a walk, as in Python.
  const auto same = render(build + "{{ c == c }}");
  ASSERT_TRUE(same.ok()) << same.error().to_string();
  EXPECT_EQ(*same, "True");
}

TEST(TemplateSandbox, SelfReferencingNamespaceIsFreed) {
  // Leak-checked under ASan: the cycle is broken after rendering.
  const auto r = render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me is defined }}");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "True");
}

TEST(TemplateSandbox, TightLimitsAreHonoured) {
  TemplateLimits tight;
  tight.max_output_bytes = 10;
  EXPECT_EQ(render("{{ 'x' * 10 }}", tight).value(), "xxxxxxxxxx");
  EXPECT_EQ(render("{{ 'x' * 11 }}", tight).error().code(), ErrorCode::kResourceLimit);
  tight = {};
  tight.max_loop_iterations = 3;
  EXPECT_TRUE(render("{% for i in range(3) %}{% endfor %}", tight).ok());
  EXPECT_EQ(render("{% for i in [1, 2, 3, 4] %}{% endfor %}", tight).error().code(), ErrorCode::kResourceLimit);
  tight = {};
  tight.max_call_depth = 2;
  const char* rec = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}";
  EXPECT_TRUE(render(std::string(rec) + "{{ f(1) }}", tight).ok());
  EXPECT_EQ(render(std::string(rec) + "{{ f(2) }}", tight).error().code(), ErrorCode::kResourceLimit);
  tight = {};
  tight.max_steps = 100;
  EXPECT_EQ(render("{% for i in range(1000) %}{{ i }}{% endfor %}", tight).error().code(), ErrorCode::kResourceLimit);
}

TEST(TemplateErrors, SyntaxErrorsNameLineAndColumn) {
  auto r = render("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message().find("line 3, column 10"), std::string::npos) << r.error().message();

  r = render("ok\n{% for x in y %}\nno end");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("endfor"), std::string::npos) << r.error().message();

  r = render("{{ 'open");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("line 1, column 4"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("unterminated string"), std::string::npos) << r.error().message();

  r = render("{# never closed");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("comment"), std::string::npos) << r.error().message();
}

TEST(TemplateErrors, UnsupportedConstructsAreNamed) {
  struct Case {
    const char* source;
    const char* construct;
    const char* where;
  };
  const Case cases[] = {
      {"a\n{% include 'x.jinja' %}", "'{% include %}'", "line 2, column 4"},
      {"{% extends 'base' %}", "'{% extends %}'", "line 1, column 4"},
      {"{% import 'm' as m %}", "'{% import %}'", "line 1"},
      {"{{ x | wordwrap }}", "filter 'wordwrap'", "line 1, column 8"},
      {"{{ x is escapedd }}", "test 'escapedd'", "line 1, column 9"},
      {"{% for x in y recursive %}{% endfor %}", "recursive", "line 1"},
      {"{{ f(*args) }}", "*args", "line 1, column 6"},
  };
  for (const auto& c : cases) {
    const auto r = render(c.source);
    ASSERT_FALSE(r.ok()) << c.source;
    EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported) << c.source << ": " << r.error().to_string();
    EXPECT_NE(r.error().message().find(c.construct), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(c.where), std::string::npos) << r.error().message();
  }
  // Unsupported names are rejected even in branches that never run, as Jinja does.
  EXPECT_FALSE(render("{% if false %}{{ x|wordwrap }}{% endif %}").ok());
}

TEST(TemplateErrors, RenderErrorsNameTheExpression) {
  auto r = render("\n\n   {{ raise_exception('bad input: ' ~ 42) }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("bad input: 42"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("line 3"), std::string::npos) << r.error().message();

  r = render("{% for m in nothing.items() %}{% endfor %}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'nothing' is undefined"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("column 20"), std::string::npos) << r.error().message();
}

TEST(TemplateExtensions, GenerationBlockRendersItsBody) {
  // transformers registers {% generation %} (AssistantTracker); it only marks tokens.
  const auto r = render("{% for i in [1, 2] %}{% generation %}<{{ i }}>{% endgeneration %}{% endfor %}");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "<1><2>");
}

TEST(TemplateErrors, UndefinedValuesAreNamed) {
  auto r = render("{{ message.content.text }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'message' is undefined"), std::string::npos) << r.error().message();
  r = render_template("{{ m['tool_calls'][0].id }}", {{"m", {{"role", "user"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'m['tool_calls']' is undefined"), std::string::npos) << r.error().message();
  r = render("{{ no_such_function(1) }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'no_such_function' is undefined"), std::string::npos) << r.error().message();
}

TEST(TemplateErrors, CheckSyntaxWithoutRendering) {
  EXPECT_TRUE(check_template_syntax("{% if x %}{{ y|trim }}{% endif %}").ok());
  EXPECT_EQ(check_template_syntax("{% if x %}").error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(check_template_syntax("{% include 'x' %}").error().code(), ErrorCode::kUnsupported);
}

TEST(ChatTemplate, InputsBecomeVariables) {
  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "hi", "z": 1, "a": 2}])");
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  in.add_generation_prompt = false;
  in.extra_context = {{"custom", "yes"}};
  in.now_date = "2025-01-02";
  const auto r = render_chat_template(
      "{{ bos_token }}{{ messages[0]|tojson }}{{ tools }}{{ documents }}{{ add_generation_prompt }}{{ custom }}"
      "{{ eos_token }}{{ strftime_now('%d %b %Y') }}",
      in);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, R"(<s>{"role": "user", "content": "hi", "z": 1, "a": 2}NoneNoneFalseyes</s>02 Jan 2025)");
}

TEST(ChatTemplate, ChatMlFallback) {
  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::parse(
      R"([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}, {"role": "assistant", "content": null}])");
  const auto r = render_chat_template(kChatMlFallbackTemplate, in);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r,
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplate, BadDateIsAnError) {
  ChatTemplateInputs in;
  in.now_date = "yesterday";
  EXPECT_EQ(render_chat_template("x", in).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace minnow
