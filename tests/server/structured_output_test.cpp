// response_format, grammar and tools through the HTTP API (tiny random model:
// only constrained decoding can make its output well-formed).
#include <gtest/gtest.h>

#include "sampling/grammar.h"
#include "server/server_fixture.h"
#include "server/structured_output.h"

namespace minnow {
namespace {

using nlohmann::json;

json post(test::ServerFixture& f, const json& body, int expect_status = 200) {
  auto cli = f.client();
  auto res = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, expect_status) << res->body;
  return body.value("stream", false) ? json(res->body) : json::parse(res->body);
}

// The data payloads of an SSE body, and how many were the [DONE] terminator.
std::vector<json> sse_payloads(const std::string& body, int& done) {
  std::vector<json> out;
  done = 0;
  for (size_t pos = 0; (pos = body.find("data: ", pos)) != std::string::npos;) {
    const size_t end = body.find("\n\n", pos);
    const std::string e = body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (e == "[DONE]") ++done;
    else out.push_back(json::parse(e));
  }
  return out;
}

json chat(const std::string& user) {
  return {{"model", "tiny"}, {"messages", json::array({{{"role", "user"}, {"content", user}}})}, {"max_tokens", 300}};
}

const json kWeatherTool = {
    {"type", "function"},
    {"function",
     {{"name", "get_weather"},
      {"description", "Current weather for a city"},
      {"parameters",
       {{"type", "object"},
        {"properties", {{"city", {{"type", "string"}, {"maxLength", 10}}}, {"days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 7}}}}},
        {"required", {"city"}}}}}}};
const json kTimeTool = {{"type", "function"},
                        {"function", {{"name", "get_time"}, {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}};

// The three pieces agree for every family: what the family's models write
// (render_tool_calls) is a sentence of the forcing grammar, and parses back.
TEST(ToolCallGrammar, AcceptsWhatEachFamilyWritesAndNothingElse) {
  for (ToolCallFormat format : {ToolCallFormat::kHermes, ToolCallFormat::kLlama3, ToolCallFormat::kMistral,
                                ToolCallFormat::kFunctionary, ToolCallFormat::kDeepSeekR1}) {
    SCOPED_TRACE(tool_call_format_name(format));
    ToolsRequest tools;
    tools.tools = nlohmann::ordered_json::array({kWeatherTool, kTimeTool});
    tools.choice = ToolChoice::kRequired;
    auto g = tool_call_grammar(format, tools);
    ASSERT_TRUE(g.ok()) << g.error().to_string();
    const std::vector<ToolCall> one = {{"", "get_weather", R"({"city":"Oslo","days":3})"}};
    auto text = render_tool_calls(format, one);
    ASSERT_TRUE(text.ok()) << text.error().to_string();
    EXPECT_TRUE(grammar_accepts(**g, *text)) << *text;
    const auto parsed = parse_tool_calls(format, *text);
    ASSERT_EQ(parsed.tool_calls.size(), 1u) << *text;
    EXPECT_EQ(parsed.tool_calls[0].name, "get_weather");
    EXPECT_EQ(parsed.tool_calls[0].arguments, R"({"city":"Oslo","days":3})");
    // Arguments outside the schema, and unknown functions, are not sentences.
    auto bad_args = render_tool_calls(format, {{"", "get_weather", R"({"city":"Oslo","days":9})"}});
    ASSERT_TRUE(bad_args.ok());
    EXPECT_FALSE(grammar_accepts(**g, *bad_args)) << *bad_args;
    auto unknown = render_tool_calls(format, {{"", "delete_all", R"({})"}});
    ASSERT_TRUE(unknown.ok());
    EXPECT_FALSE(grammar_accepts(**g, *unknown)) << *unknown;
    // A named choice admits that function only.
    tools.choice = ToolChoice::kNamed;
    tools.named = "get_time";
    auto named = tool_call_grammar(format, tools);
    ASSERT_TRUE(named.ok());
    EXPECT_FALSE(grammar_accepts(**named, *text));
    EXPECT_TRUE(grammar_accepts(**named, *render_tool_calls(format, {{"", "get_time", "{}"}})));
    // Parallel calls where the family writes them.
    if (tool_call_syntax(format).parallel) {
      tools.choice = ToolChoice::kRequired;
      auto two = render_tool_calls(format, {one[0], {"", "get_time", "{}"}});
      ASSERT_TRUE(two.ok());
      EXPECT_TRUE(grammar_accepts(**tool_call_grammar(format, tools), *two)) << *two;
      tools.parallel = false;
      EXPECT_FALSE(grammar_accepts(**tool_call_grammar(format, tools), *two)) << *two;
    }
  }
}

TEST(StructuredOutput, JsonSchemaRepliesParseAndHaveTheRequiredShape) {
  test::ServerFixture f;
  ASSERT_TRUE(f.ok());
  for (int seed = 0; seed < 8; ++seed) {
    json body = chat("a person please");
    body["temperature"] = 1.0;
    body["seed"] = seed;
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema",
         {{"name", "person"},
          {"strict", true},
          {"schema",
           {{"type", "object"},
            {"properties", {{"name", {{"type", "string"}, {"maxLength", 8}}}, {"ok", {{"type", "boolean"}}}}},
            {"required", {"name", "ok"}}}}}}};
    const json r = post(f, body);
    const std::string content = r["choices"][0]["message"]["content"];
    const json v = json::parse(content, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << content;
    ASSERT_TRUE(v.is_object()) << content;
    EXPECT_TRUE(v["name"].is_string()) << content;
    EXPECT_TRUE(v["ok"].is_boolean()) << content;
    EXPECT_EQ(v.size(), 2u) << content;
    EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  }
}

TEST(StructuredOutput, JsonObjectStreamsValidJson) {
  test::ServerFixture f;
  ASSERT_TRUE(f.ok());
  json body = chat("json");
  body["response_format"] = {{"type", "json_object"}};
  body["stream"] = true;
  body["temperature"] = 0.8;
  body["max_tokens"] = 2000;
  const std::string sse = post(f, body).get<std::string>();
  std::string text;
  int done = 0;
  for (const json& j : sse_payloads(sse, done)) {
    ASSERT_FALSE(j.contains("error")) << j.dump();
    const auto& d = j["choices"][0]["delta"];
    if (d.contains("content")) text += d["content"].get<std::string>();
  }
  EXPECT_EQ(done, 1);
  const json v = json::parse(text, nullptr, false);
  // A random model may run out of tokens mid-object; when it finishes, it is an object.
  if (!v.is_discarded()) {
    EXPECT_TRUE(v.is_object()) << text;
  }
  EXPECT_EQ(text.substr(0, 1), "{") << text;
}

TEST(StructuredOutput, GbnfGrammarExtension) {
  test::ServerFixture f;
  ASSERT_TRUE(f.ok());
  for (int seed = 0; seed < 5; ++seed) {
    json body = chat("yes or no?");
    body["grammar"] = "root ::= (\"yes\" | \"no\") \".\"";
    body["temperature"] = 1.0;
    body["seed"] = seed;
    const json r = post(f, body);
    const std::string content = r["choices"][0]["message"]["content"];
    EXPECT_TRUE(content == "yes." || content == "no.") << content;
    EXPECT_EQ(r["usage"]["completion_tokens"].get<int>() > 0, true);
  }
}

TEST(StructuredOutput, RequiredToolChoiceYieldsValidCalls) {
  test::ServerFixture f;
  ASSERT_TRUE(f.ok());
  for (int seed = 0; seed < 4; ++seed) {
    json body = chat("weather in Paris?");
    body["tools"] = {kWeatherTool, kTimeTool};
    body["tool_choice"] = "required";
    body["temperature"] = 1.0;
    body["seed"] = seed;
    body["parallel_tool_calls"] = false;
    const json r = post(f, body);
    const json& c = r["choices"][0];
    EXPECT_EQ(c["finish_reason"], "tool_calls") << r.dump();
    ASSERT_TRUE(c["message"].contains("tool_calls")) << r.dump();
    ASSERT_EQ(c["message"]["tool_calls"].size(), 1u) << r.dump();
    const json& call = c["message"]["tool_calls"][0];
    EXPECT_EQ(call["type"], "function");
    EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
    const std::string name = call["function"]["name"];
    EXPECT_TRUE(name == "get_weather" || name == "get_time") << name;
    const json args = json::parse(call["function"]["arguments"].get<std::string>(), nullptr, false);
    ASSERT_TRUE(args.is_object()) << call.dump();
    if (name == "get_weather") {
      EXPECT_TRUE(args["city"].is_string()) << args.dump();
      if (args.contains("days")) {
        EXPECT_TRUE(args["days"].get<int>() >= 1 && args["days"].get<int>() <= 7);
      }
    }
  }
}

TEST(StructuredOutput, NamedToolChoiceStreamsToolCallDeltas) {
  test::ServerFixture f;
  ASSERT_TRUE(f.ok());
  json body = chat("weather?");
  body["tools"] = {kWeatherTool, kTimeTool};
  body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  body["stream"] = true;
  body["temperature"] = 0;
  const std::string sse = post(f, body).get<std::string>();
  json calls = json::array();
  std::string finish;
  int done = 0;
  for (const json& j : sse_payloads(sse, done)) {
    const json& c = j["choices"][0];
    if (c["delta"].contains("tool_calls"))
      for (const auto& tc : c["delta"]["tool_calls"]) calls.push_back(tc);
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
  }
  EXPECT_EQ(done, 1);
  EXPECT_EQ(finish, "tool_calls");
  ASSERT_FALSE(calls.empty()) << sse;
  EXPECT_EQ(calls[0]["index"], 0);
  EXPECT_EQ(calls[0]["function"]["name"], "get_weather");
  EXPECT_TRUE(json::parse(calls[0]["function"]["arguments"].get<std::string>(), nullptr, false).is_object());
}

TEST(StructuredOutput, ToolResultsAreFedBack) {
  test::ServerFixture f;
  ASSERT_TRUE(f.ok());
  json first = chat("weather in Oslo?");
  first["tools"] = {kWeatherTool};
  first["tool_choice"] = "required";
  first["temperature"] = 0;
  const json r1 = post(f, first);
  const json call = r1["choices"][0]["message"]["tool_calls"][0];
  json second = first;
  second.erase("tool_choice");
  second["max_tokens"] = 8;
  second["messages"].push_back(r1["choices"][0]["message"]);
  second["messages"].push_back({{"role", "tool"}, {"tool_call_id", call["id"]}, {"content", "{\"temp_c\": 4}"}});
  const json r2 = post(f, second);
  EXPECT_TRUE(r2["choices"][0]["message"]["content"].is_string() || r2["choices"][0]["message"].contains("tool_calls"));
  EXPECT_GT(r2["usage"]["prompt_tokens"].get<int>(), r1["usage"]["prompt_tokens"].get<int>());
}

}  // namespace
}  // namespace minnow
