// Tool-call parsing per chat-template family: the calls each real template
// renders in ../shared/conformance/templates (what its model is trained to
// emit) parse back to the same calls, whole and streamed, and text that only
// looks like a call is never lost.
#include "template/tool_call_format.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "support/test_paths.h"

namespace minnow {
namespace {

using Json = nlohmann::ordered_json;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ParsedAssistantMessage feed_chunks(ToolCallFormat format, const std::vector<std::string>& chunks,
                                   uint64_t seed = 0) {
  ToolCallStreamParser parser(format, seed);
  ParsedAssistantMessage m;
  auto take = [&](ToolCallStreamParser::Delta d) {
    m.content += d.content;
    for (auto& c : d.calls) m.tool_calls.push_back(c);
  };
  for (const auto& chunk : chunks) take(parser.feed(chunk));
  take(parser.finish());
  return m;
}

ParsedAssistantMessage feed_bytes(ToolCallFormat format, std::string_view text, uint64_t seed = 0) {
  std::vector<std::string> chunks;
  for (const char c : text) chunks.emplace_back(1, c);
  return feed_chunks(format, chunks, seed);
}

ParsedAssistantMessage feed_random_splits(ToolCallFormat format, std::string_view text, uint32_t rng_seed) {
  std::mt19937 rng(rng_seed);
  std::vector<std::string> chunks;
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::min<size_t>(text.size() - i, 1 + rng() % 7);
    chunks.emplace_back(text.substr(i, n));
    i += n;
  }
  return feed_chunks(format, chunks);
}

void expect_same(const ParsedAssistantMessage& a, const ParsedAssistantMessage& b, const std::string& where) {
  EXPECT_EQ(a.content, b.content) << where;
  ASSERT_EQ(a.tool_calls.size(), b.tool_calls.size()) << where;
  for (size_t i = 0; i < a.tool_calls.size(); ++i) EXPECT_EQ(a.tool_calls[i], b.tool_calls[i]) << where;
}

// Whole-text parse, checking on the way that every way of streaming the same
// text agrees with it.
ParsedAssistantMessage parse_checked(ToolCallFormat format, std::string_view text) {
  const auto whole = parse_tool_calls(format, text);
  const std::string where = std::string(tool_call_format_name(format)) + ": " + std::string(text);
  expect_same(whole, feed_bytes(format, text), where + " (one byte at a time)");
  for (uint32_t s = 1; s <= 3; ++s) expect_same(whole, feed_random_splits(format, text, s), where + " (random splits)");
  return whole;
}

// Each text parses to no calls, with the text itself as content.
void expect_plain_content(ToolCallFormat format, std::initializer_list<std::string> texts) {
  for (const std::string& text : texts) {
    const auto m = parse_checked(format, text);
    EXPECT_TRUE(m.tool_calls.empty()) << text;
    EXPECT_EQ(m.content, text);
  }
}

// Argument JSON compared as values, so "{"a": 1}" and "{"a":1}" agree.
Json args_value(const Json& arguments) {
  return arguments.is_string() ? Json::parse(arguments.get<std::string>()) : arguments;
}

void expect_call(const ToolCall& call, const std::string& name, const std::string& arguments_json) {
  EXPECT_EQ(call.name, name);
  EXPECT_EQ(Json::parse(call.arguments), Json::parse(arguments_json)) << call.arguments;
}

// ---------------------------------------------------------------------------
// Real templates

struct TemplateFamily {
  ToolCallFormat format;
  // Where the assistant turn's generated text starts (the end of the
  // generation prompt) and the tokens that end it.
  std::string anchor;
  std::vector<std::string> stops;
  std::string content_prefix;  // what the template writes before plain content
};

const std::map<std::string, TemplateFamily>& families() {
  static const std::map<std::string, TemplateFamily> kFamilies = {
      {"Qwen-Qwen2.5-7B-Instruct", {ToolCallFormat::kHermes, "<|im_start|>assistant\n", {"<|im_end|>"}, ""}},
      {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use",
       {ToolCallFormat::kHermes, "<|im_start|>assistant\n", {"<|im_end|>"}, ""}},
      {"meta-llama-Llama-3.1-8B-Instruct",
       {ToolCallFormat::kLlama3, "<|start_header_id|>assistant<|end_header_id|>\n\n", {"<|eot_id|>", "<|eom_id|>"}, ""}},
      {"meta-llama-Llama-3.2-3B-Instruct",
       {ToolCallFormat::kLlama3, "<|start_header_id|>assistant<|end_header_id|>\n\n", {"<|eot_id|>", "<|eom_id|>"}, ""}},
      {"mistralai-Mistral-Nemo-Instruct-2407", {ToolCallFormat::kMistral, "[/INST]", {"</s>"}, ""}},
      {"meetkai-functionary-medium-v3.2",
       {ToolCallFormat::kFunctionary, "<|start_header_id|>assistant<|end_header_id|>\n\n>>>", {"<|eot_id|>"}, "all\n"}},
      {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
       {ToolCallFormat::kDeepSeekR1, "<｜Assistant｜>", {"<｜end▁of▁sentence｜>", "<｜tool▁outputs▁begin｜>"}, ""}},
      {"google-gemma-2-2b-it", {ToolCallFormat::kNone, "", {}, ""}},
      {"microsoft-Phi-3.5-mini-instruct", {ToolCallFormat::kNone, "", {}, ""}},
  };
  return kFamilies;
}

// Every assistant turn in a rendering: from each anchor to the first stop.
std::vector<std::string> assistant_segments(const std::string& rendered, const TemplateFamily& f) {
  std::vector<std::string> segments;
  for (size_t at = rendered.find(f.anchor); at != std::string::npos; at = rendered.find(f.anchor, at + 1)) {
    const size_t start = at + f.anchor.size();
    size_t stop = std::string::npos;
    for (const auto& s : f.stops) stop = std::min(stop, rendered.find(s, start));
    if (stop != std::string::npos) segments.push_back(rendered.substr(start, stop - start));
  }
  return segments;
}

TEST(ToolCallFormatConformance, DetectsTheFamilyOfEveryTemplate) {
  MINNOW_REQUIRE_CONFORMANCE();
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::conformance_dir() / "templates")) {
    if (entry.path().extension() != ".jinja") continue;
    const std::string stem = entry.path().stem().string();
    const auto it = families().find(stem);
    ASSERT_NE(it, families().end()) << "add the family of " << stem << " to this test";
    EXPECT_EQ(detect_tool_call_format(read_file(entry.path())), it->second.format)
        << stem << " detected as " << tool_call_format_name(detect_tool_call_format(read_file(entry.path())));
    ++n;
  }
  EXPECT_EQ(n, static_cast<int>(families().size()));
}

TEST(ToolCallFormatConformance, RenderedAssistantTurnsParseBack) {
  MINNOW_REQUIRE_CONFORMANCE();
  std::map<ToolCallFormat, int> calls_checked;
  int plain_checked = 0;
  for (const auto& [stem, family] : families()) {
    if (family.format == ToolCallFormat::kNone) continue;
    std::ifstream cases(test::conformance_dir() / "templates" / (stem + ".cases.jsonl"));
    ASSERT_TRUE(cases) << stem;
    std::string line;
    while (std::getline(cases, line)) {
      if (line.empty()) continue;
      const auto c = Json::parse(line);
      if (!c.contains("expected")) continue;
      const std::string where = stem + ": " + c.value("description", "");
      // The case's tool calls, in order, to match against the segments.
      std::vector<Json> expected_turns;
      for (const auto& m : c["messages"])
        if (m.contains("tool_calls") && !m["tool_calls"].empty()) expected_turns.push_back(m["tool_calls"]);
      size_t next_turn = 0;
      for (const auto& segment : assistant_segments(c["expected"].get<std::string>(), family)) {
        const auto parsed = parse_checked(family.format, segment);
        const bool is_call_turn = next_turn < expected_turns.size() &&
                                  segment.find(expected_turns[next_turn][0]["function"]["name"].get<std::string>()) !=
                                      std::string::npos;
        if (!is_call_turn) {
          // Real content is never mistaken for a call and comes back unchanged.
          EXPECT_TRUE(parsed.tool_calls.empty()) << where << "\n" << segment;
          std::string want = segment;
          if (want.starts_with(family.content_prefix)) want.erase(0, family.content_prefix.size());
          EXPECT_EQ(parsed.content, want) << where;
          ++plain_checked;
          continue;
        }
        const Json& want = expected_turns[next_turn++];
        EXPECT_EQ(parsed.content, "") << where << "\n" << segment;
        ASSERT_EQ(parsed.tool_calls.size(), want.size()) << where << "\n" << segment;
        for (size_t i = 0; i < want.size(); ++i) {
          const auto& got = parsed.tool_calls[i];
          EXPECT_EQ(got.name, want[i]["function"]["name"]) << where;
          EXPECT_EQ(Json::parse(got.arguments), args_value(want[i]["function"]["arguments"])) << where;
          // Mistral's ids are in its output and must survive; others are generated.
          if (family.format == ToolCallFormat::kMistral) EXPECT_EQ(got.id, want[i]["id"]) << where;
          else EXPECT_TRUE(got.id.starts_with("call_")) << where;
        }
        ++calls_checked[family.format];
      }
      EXPECT_EQ(next_turn, expected_turns.size()) << where << ": a tool-call turn was not found";
    }
  }
  for (const auto format : {ToolCallFormat::kHermes, ToolCallFormat::kLlama3, ToolCallFormat::kMistral,
                            ToolCallFormat::kFunctionary, ToolCallFormat::kDeepSeekR1})
    EXPECT_GE(calls_checked[format], 1) << tool_call_format_name(format);
  EXPECT_GE(plain_checked, 20);
}

// ---------------------------------------------------------------------------
// Detection, names, ids

TEST(ToolCallFormat, DetectsFromMarkers) {
  EXPECT_EQ(detect_tool_call_format("{{ '<tool_call>\\n' }}"), ToolCallFormat::kHermes);
  EXPECT_EQ(detect_tool_call_format("{{ '[TOOL_CALLS][' }}"), ToolCallFormat::kMistral);
  EXPECT_EQ(detect_tool_call_format("{% for c in message.tool_calls %}{{ '>>>' + c.name }}"),
            ToolCallFormat::kFunctionary);
  EXPECT_EQ(detect_tool_call_format("{{ message.tool_calls }}<|python_tag|>"), ToolCallFormat::kLlama3);
  EXPECT_EQ(detect_tool_call_format("<｜tool▁calls▁begin｜>"), ToolCallFormat::kDeepSeekR1);
  EXPECT_EQ(detect_tool_call_format("<|start_header_id|>{{ message.content }}<|eot_id|>"), ToolCallFormat::kNone);
  EXPECT_EQ(detect_tool_call_format(""), ToolCallFormat::kNone);
}

TEST(ToolCallFormat, NamesRoundTrip) {
  for (const auto format : {ToolCallFormat::kNone, ToolCallFormat::kHermes, ToolCallFormat::kLlama3,
                            ToolCallFormat::kMistral, ToolCallFormat::kFunctionary, ToolCallFormat::kDeepSeekR1}) {
    auto back = tool_call_format_from_name(tool_call_format_name(format));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, format);
  }
  auto bad = tool_call_format_from_name("chatml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("chatml"), std::string::npos);
}

bool all_alnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

TEST(ToolCallFormat, IdsAreDeterministicPerSeed) {
  ToolCallIdGenerator a(ToolCallFormat::kHermes, 42), b(ToolCallFormat::kHermes, 42), c(ToolCallFormat::kHermes, 43);
  const std::string first = a.next();
  EXPECT_EQ(first.size(), 29u);
  EXPECT_TRUE(first.starts_with("call_"));
  EXPECT_TRUE(all_alnum(first.substr(5)));
  EXPECT_EQ(first, b.next());
  EXPECT_NE(first, c.next());
  EXPECT_NE(a.next(), first);

  ToolCallIdGenerator mistral(ToolCallFormat::kMistral, 1);
  const std::string id = mistral.next();
  EXPECT_EQ(id.size(), 9u);  // the Mistral template rejects other lengths
  EXPECT_TRUE(all_alnum(id));

  const auto m1 = parse_tool_calls(ToolCallFormat::kHermes, "<tool_call>{\"name\":\"f\"}</tool_call>", 7);
  const auto m2 = parse_tool_calls(ToolCallFormat::kHermes, "<tool_call>{\"name\":\"f\"}</tool_call>", 7);
  ASSERT_EQ(m1.tool_calls.size(), 1u);
  EXPECT_EQ(m1.tool_calls[0].id, m2.tool_calls[0].id);
  EXPECT_EQ(m1.tool_calls[0].id, ToolCallIdGenerator(ToolCallFormat::kHermes, 7).next());
}

// ---------------------------------------------------------------------------
// Hermes / Qwen

TEST(ToolCallHermes, SeveralCallsWithContentAround) {
  const auto m = parse_checked(ToolCallFormat::kHermes,
                               "Let me look both up.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                               "{\"location\": \"Paris\"}}\n</tool_call>\nand\n<tool_call>\n{\"name\": \"search_web\", "
                               "\"arguments\": {\"query\": \"croissant\", \"max_results\": 3}}\n</tool_call>\n");
  EXPECT_EQ(m.content, "Let me look both up.\n\nand");
  ASSERT_EQ(m.tool_calls.size(), 2u);
  expect_call(m.tool_calls[0], "get_weather", R"({"location":"Paris"})");
  expect_call(m.tool_calls[1], "search_web", R"({"query":"croissant","max_results":3})");
  EXPECT_EQ(m.tool_calls[1].arguments, R"({"query":"croissant","max_results":3})");  // compact, order kept
  EXPECT_NE(m.tool_calls[0].id, m.tool_calls[1].id);
}

TEST(ToolCallHermes, ContentThenCall) {
  const auto m = parse_checked(ToolCallFormat::kHermes,
                               "Sure.\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>");
  EXPECT_EQ(m.content, "Sure.");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, "{}");
}

TEST(ToolCallHermes, NoCallsKeepsTextExactly) {
  const std::string text = "  Just an answer, with <b>tags</b> and a < sign.\n\n";
  const auto m = parse_checked(ToolCallFormat::kHermes, text);
  EXPECT_EQ(m.content, text);
  EXPECT_TRUE(m.tool_calls.empty());
}

TEST(ToolCallHermes, MalformedCallsStayContent) {
  for (const std::string text : {
           "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": }}\n</tool_call>",   // bad JSON
           "<tool_call>\n{\"arguments\": {\"a\": 1}}\n</tool_call>",                  // no name
           "<tool_call>\n{\"name\": \"\", \"arguments\": {}}\n</tool_call>",            // empty name
           "<tool_call>\n{\"name\": \"f\", \"arguments\": [1, 2]}\n</tool_call>",      // arguments not an object
           "<tool_call>\n{\"name\": \"f\", \"arguments\": \"not json\"}\n</tool_call>",
           "<tool_call>\n{\"name\": \"f\"} trailing\n</tool_call>",
           "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\"",  // unterminated and incomplete
       }) {
    const auto m = parse_checked(ToolCallFormat::kHermes, "Before " + text + " after");
    EXPECT_TRUE(m.tool_calls.empty()) << text;
    EXPECT_EQ(m.content, "Before " + text + " after");
  }
}

TEST(ToolCallHermes, BadBlockBetweenGoodOnesKeepsTheGoodOnes) {
  const auto m = parse_checked(ToolCallFormat::kHermes,
                               "<tool_call>{\"name\": \"a\"}</tool_call><tool_call>{oops}</tool_call>"
                               "<tool_call>{\"name\": \"b\"}</tool_call>");
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].name, "a");
  EXPECT_EQ(m.tool_calls[1].name, "b");
  EXPECT_EQ(m.content, "<tool_call>{oops}</tool_call>");
}

TEST(ToolCallHermes, StringArgumentsAreNormalized) {
  const auto m = parse_checked(
      ToolCallFormat::kHermes,
      "<tool_call>\n{\"name\": \"f\", \"arguments\": \"{\\\"b\\\": 2, \\\"a\\\": [1, 2]}\"}\n</tool_call>");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"b":2,"a":[1,2]})");
}

TEST(ToolCallHermes, UnicodeArguments) {
  const auto m = parse_checked(
      ToolCallFormat::kHermes,
      "天気を調べます。\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Zürich 東京 🦙🏽\", "
      "\"escaped\": \"\\u00e9\"}}\n</tool_call>");
  EXPECT_EQ(m.content, "天気を調べます。");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, "{\"location\":\"Zürich 東京 🦙🏽\",\"escaped\":\"é\"}");
}

TEST(ToolCallHermes, InvalidUtf8InsideACallStaysContent) {
  const std::string text = "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": \"\xff\xfe\"}}</tool_call>";
  const auto m = parse_checked(ToolCallFormat::kHermes, text);
  EXPECT_TRUE(m.tool_calls.empty());
  EXPECT_EQ(m.content, text);
}

TEST(ToolCallHermes, UnterminatedValidCallCountsAtFinish) {
  const auto m = parse_checked(ToolCallFormat::kHermes, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"x":1})");
  EXPECT_EQ(m.content, "");
  // Cut off inside the end marker (max_tokens): still the same call.
  const auto cut = parse_checked(ToolCallFormat::kHermes, "<tool_call>\n{\"name\": \"f\"}\n</tool_c");
  ASSERT_EQ(cut.tool_calls.size(), 1u);
  EXPECT_EQ(cut.content, "");
}

// ---------------------------------------------------------------------------
// Streaming behaviour

TEST(ToolCallStream, ContentIsShownAtOnceAndCallsWhenComplete) {
  ToolCallStreamParser p(ToolCallFormat::kHermes);
  EXPECT_EQ(p.feed("Hello world").content, "Hello world");
  auto d = p.feed("!\n<tool_call>\n{\"name\": \"f\", ");
  EXPECT_EQ(d.content, "!");  // the newline might only separate content from a call
  EXPECT_TRUE(d.calls.empty());
  d = p.feed("\"arguments\": {\"a\": 1}}\n</tool_");
  EXPECT_TRUE(d.calls.empty());
  d = p.feed("call>");
  ASSERT_EQ(d.calls.size(), 1u);
  EXPECT_EQ(d.calls[0].name, "f");
  EXPECT_EQ(d.content, "");
  d = p.finish();
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(d.calls.empty());
  EXPECT_TRUE(p.feed("more").content.empty());  // finished parsers stay finished
}

TEST(ToolCallStream, MarkerSplitAcrossDeltas) {
  const auto m = feed_chunks(ToolCallFormat::kHermes,
                             {"Checking <", "tool", "_ca", "ll>\n{\"na", "me\": \"f\"}\n<", "/tool_call", ">"});
  EXPECT_EQ(m.content, "Checking");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].name, "f");
}

TEST(ToolCallStream, HeldBackTextIsReleasedWhenItIsNoMarker) {
  ToolCallStreamParser p(ToolCallFormat::kHermes);
  EXPECT_EQ(p.feed("a <tool").content, "a");
  EXPECT_EQ(p.feed("box> b").content, " <toolbox> b");
  EXPECT_EQ(p.feed(" <").content, "");
  EXPECT_EQ(p.finish().content, " <");  // the end decides: never a marker
}

TEST(ToolCallStream, MultiByteMarkersSplitInsideCodePoints) {
  const std::string text =
      "Thinking done.\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\": "
      "\"ü\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  const auto m = parse_checked(ToolCallFormat::kDeepSeekR1, text);
  EXPECT_EQ(m.content, "Thinking done.");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"a":"ü"})");
}

TEST(ToolCallStream, TagMentionedInProseIsNotHeld) {
  ToolCallStreamParser p(ToolCallFormat::kHermes);
  EXPECT_EQ(p.feed("Wrap calls in <tool_call> tags").content, "Wrap calls in <tool_call> tags");
  EXPECT_EQ(p.finish().content, "");
}

TEST(ToolCallStream, NoneFormatPassesEverythingThrough) {
  ToolCallStreamParser p(ToolCallFormat::kNone);
  EXPECT_EQ(p.feed("<tool_call>{\"name\": \"f\"}</tool_call> ").content, "<tool_call>{\"name\": \"f\"}</tool_call> ");
  EXPECT_EQ(p.finish().content, "");
}

// ---------------------------------------------------------------------------
// Llama 3

TEST(ToolCallLlama3, WholeReplyObjectIsACall) {
  const auto m = parse_checked(ToolCallFormat::kLlama3,
                               "{\"name\": \"get_weather\", \"parameters\": {\"location\": \"Paris, France\"}}");
  EXPECT_EQ(m.content, "");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  expect_call(m.tool_calls[0], "get_weather", R"({"location":"Paris, France"})");
  EXPECT_TRUE(m.tool_calls[0].id.starts_with("call_"));
}

TEST(ToolCallLlama3, ArgumentsKeyPythonTagAndStringArguments) {
  auto m = parse_checked(ToolCallFormat::kLlama3, "\n<|python_tag|>{\"name\": \"f\", \"arguments\": {\"k\": true}}\n");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"k":true})");
  EXPECT_EQ(m.content, "");
  m = parse_checked(ToolCallFormat::kLlama3, "{\"name\": \"f\", \"parameters\": \"{\\\"k\\\": 1}\"}");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"k":1})");
}

TEST(ToolCallLlama3, BuiltinToolCall) {
  const auto m =
      parse_checked(ToolCallFormat::kLlama3, "<|python_tag|>brave_search.call(query=\"weather in Paris\", n=3)");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].name, "brave_search");
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"query":"weather in Paris","n":3})");
}

TEST(ToolCallLlama3, AnythingElseIsContent) {
  expect_plain_content(ToolCallFormat::kLlama3, {
           "The answer is {\"name\": \"f\", \"parameters\": {}}",           // text before
           "{\"name\": \"f\", \"parameters\": {}} and then some",           // text after
           "{\"name\": \"Ada\", \"age\": 36}",                              // a JSON answer, not a call
           "{\"name\": \"f\", \"parameters\": {\"a\": 1}",                  // unterminated
           "{{ not json }}",
           "<|python_tag|>print('hello')",                                  // code, not a call
           "<|python_tag|>brave_search.call(query=unquoted words)",
           "Hello <|python_tag|>",
           "<|python",
           "  \n",
           "",
                                         });
}

TEST(ToolCallLlama3, PlainRepliesStreamWithoutDelay) {
  ToolCallStreamParser p(ToolCallFormat::kLlama3);
  EXPECT_EQ(p.feed("  ").content, "");    // could still become "{"
  EXPECT_EQ(p.feed("<|py").content, "");  // could still become <|python_tag|>
  EXPECT_EQ(p.feed("x| hi").content, "  <|pyx| hi");
  EXPECT_EQ(p.feed(" there").content, " there");
  EXPECT_EQ(p.finish().content, "");
}

// ---------------------------------------------------------------------------
// Mistral

TEST(ToolCallMistral, ArrayOfCallsKeepsValidIds) {
  const auto m = parse_checked(ToolCallFormat::kMistral,
                               "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"x\": \"]}\"}, \"id\": \"abc123def\"}, "
                               "{\"name\": \"b\", \"arguments\": {}, \"id\": \"too-long-id\"}]");
  EXPECT_EQ(m.content, "");
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].id, "abc123def");
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"x":"]}"})");  // brackets inside strings do not end the array
  EXPECT_EQ(m.tool_calls[1].id.size(), 9u);  // replaced by one the template accepts
  EXPECT_NE(m.tool_calls[1].id, "too-long-id");
}

TEST(ToolCallMistral, ContentBeforeAndAfter) {
  const auto m = parse_checked(ToolCallFormat::kMistral,
                               "I'll check. [TOOL_CALLS] [{\"name\": \"f\", \"arguments\": {\"q\": 1}}] Done.");
  EXPECT_EQ(m.content, "I'll check.  Done.");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"q":1})");
}

TEST(ToolCallMistral, MalformedStaysContent) {
  expect_plain_content(ToolCallFormat::kMistral, {
           "[TOOL_CALLS] I changed my mind.",
           "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"q\": }}]",
           "[TOOL_CALLS][{\"name\": \"f\"}, {\"arguments\": {}}]",  // one bad element spoils the block
           "[TOOL_CALLS][]",
           "[TOOL_CALLS][{\"name\": \"f\"",
           "[TOOL_CALLS]",
           "[TOOL_CALL",
                                         });
}

TEST(ToolCallMistral, DeepNestingIsRefusedNotCrashed) {
  const std::string text = "[TOOL_CALLS]" + std::string(100000, '[') + std::string(100000, ']');
  const auto m = parse_tool_calls(ToolCallFormat::kMistral, text);
  EXPECT_TRUE(m.tool_calls.empty());
  EXPECT_EQ(m.content, text);
}

// ---------------------------------------------------------------------------
// functionary v3.2

TEST(ToolCallFunctionary, CallsAndContentSegments) {
  const auto m = parse_checked(ToolCallFormat::kFunctionary,
                               "all\nLet me check that.>>>get_weather\n{\"location\": \"Paris\"}>>>search_web\n{\"query\": "
                               "\"croissant\"}");
  EXPECT_EQ(m.content, "Let me check that.");
  ASSERT_EQ(m.tool_calls.size(), 2u);
  expect_call(m.tool_calls[0], "get_weather", R"({"location":"Paris"})");
  expect_call(m.tool_calls[1], "search_web", R"({"query":"croissant"})");
}

TEST(ToolCallFunctionary, PlainContent) {
  EXPECT_EQ(parse_checked(ToolCallFormat::kFunctionary, "all\nHi there!").content, "Hi there!");
  // A prompt without the trailing ">>>" makes the model write it.
  EXPECT_EQ(parse_checked(ToolCallFormat::kFunctionary, ">>>all\nHi there!").content, "Hi there!");
  // A reply that ignores the format entirely is still all content.
  for (const std::string text : {"Hello, how can I help?", "Sure\nHere it is.", "", "all", ">> quote",
                                 "all\nIn Python:\n>>> print(1)\n1", "f\n{\"a\": ", "f\n[1, 2]"}) {
    const auto m = parse_checked(ToolCallFormat::kFunctionary, text);
    EXPECT_TRUE(m.tool_calls.empty()) << text;
    std::string want = text.starts_with("all\n") ? text.substr(4) : text;
    EXPECT_EQ(m.content, want);
  }
}

// ---------------------------------------------------------------------------
// DeepSeek-R1

TEST(ToolCallDeepSeek, SingleCallWithoutClosingMarker) {
  const auto m = parse_checked(ToolCallFormat::kDeepSeekR1,
                               "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
                               "{\"location\": \"Paris, France\"}\n```<｜tool▁call▁end｜>");
  EXPECT_EQ(m.content, "");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  expect_call(m.tool_calls[0], "get_weather", R"({"location":"Paris, France"})");
}

TEST(ToolCallDeepSeek, MalformedBodyStaysContent) {
  const std::string block = "<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{broken\n```<｜tool▁call▁end｜>";
  const auto m = parse_checked(ToolCallFormat::kDeepSeekR1, "<｜tool▁calls▁begin｜>" + block);
  EXPECT_TRUE(m.tool_calls.empty());
  EXPECT_EQ(m.content, block);  // the wrapper marker carries nothing and is dropped
}

// ---------------------------------------------------------------------------
// Syntax and rendering

TEST(ToolCallSyntax, MatchesTheTemplates) {
  EXPECT_EQ(tool_call_syntax(ToolCallFormat::kHermes).begin, "<tool_call>\n");
  EXPECT_EQ(tool_call_syntax(ToolCallFormat::kHermes).end, "\n</tool_call>");
  EXPECT_EQ(tool_call_syntax(ToolCallFormat::kMistral).begin, "[TOOL_CALLS]");
  EXPECT_TRUE(tool_call_syntax(ToolCallFormat::kMistral).array_wrapped);
  EXPECT_EQ(tool_call_syntax(ToolCallFormat::kLlama3).begin, "");
  EXPECT_EQ(tool_call_syntax(ToolCallFormat::kLlama3).args_key, "parameters");
  EXPECT_FALSE(tool_call_syntax(ToolCallFormat::kLlama3).parallel);
  EXPECT_TRUE(tool_call_syntax(ToolCallFormat::kFunctionary).name_key.empty());
  EXPECT_EQ(tool_call_syntax(ToolCallFormat::kFunctionary).separator, ">>>");
}

TEST(ToolCallSyntax, RenderedCallsParseBack) {
  const std::vector<ToolCall> calls = {{"", "get_weather", R"({"location":"Zürich","days":[1,2]})"},
                                       {"", "search_web", R"({"query":"a \"quoted\" </tool_call> ]"})"}};
  for (const auto format : {ToolCallFormat::kHermes, ToolCallFormat::kLlama3, ToolCallFormat::kMistral,
                            ToolCallFormat::kFunctionary, ToolCallFormat::kDeepSeekR1}) {
    const bool parallel = tool_call_syntax(format).parallel;
    const std::vector<ToolCall> want(calls.begin(), calls.begin() + (parallel ? 2 : 1));
    auto text = render_tool_calls(format, want);
    ASSERT_TRUE(text.ok()) << tool_call_format_name(format) << ": " << text.error().to_string();
    const auto m = parse_checked(format, *text);
    EXPECT_EQ(m.content, "") << *text;
    ASSERT_EQ(m.tool_calls.size(), want.size()) << *text;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(m.tool_calls[i].name, want[i].name) << *text;
      EXPECT_EQ(m.tool_calls[i].arguments, want[i].arguments) << *text;
    }
  }
}

TEST(ToolCallSyntax, RenderRefusesWhatTheFormatCannotWrite) {
  const ToolCall call{"", "f", "{}"};
  EXPECT_FALSE(render_tool_calls(ToolCallFormat::kNone, {call}).ok());
  EXPECT_FALSE(render_tool_calls(ToolCallFormat::kHermes, {}).ok());
  auto two = render_tool_calls(ToolCallFormat::kLlama3, {call, call});
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(render_tool_calls(ToolCallFormat::kHermes, {{"", "f", "[1]"}}).ok());
  EXPECT_FALSE(render_tool_calls(ToolCallFormat::kFunctionary, {{"", "bad name", "{}"}}).ok());
}

}  // namespace
}  // namespace minnow
