// Table-driven abuse of the API: every case must get a 4xx with an OpenAI
// error body, and the server must keep serving afterwards.
#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace minnow {
namespace {

struct BadCase {
  const char* name;
  const char* path;
  std::string body;
  int status;          // expected
  const char* param;   // expected "param", or nullptr for any
};

std::string chat(const std::string& extra) {
  return R"({"model":"tiny","messages":[{"role":"user","content":"hi"}])" + extra + "}";
}

std::vector<BadCase> cases() {
  const char* C = "/v1/chat/completions";
  const char* P = "/v1/completions";
  const char* E = "/v1/embeddings";
  const std::string long_prompt =
      R"({"model":"tiny","messages":[{"role":"user","content":")" + std::string(3000, 'a') + R"("}]})";
  return {
      {"malformed json", C, "{bad", 400, nullptr},
      {"empty body", C, "", 400, nullptr},
      {"json array body", C, "[1,2]", 400, nullptr},
      {"json string body", C, "\"hi\"", 400, nullptr},
      {"truncated json", C, R"({"model":"tiny","messages":[{"role":"us)", 400, nullptr},
      {"no messages", C, R"({"model":"tiny"})", 400, "messages"},
      {"messages not a list", C, R"({"model":"tiny","messages":"hi"})", 400, "messages"},
      {"empty messages", C, R"({"model":"tiny","messages":[]})", 400, "messages"},
      {"message not object", C, R"({"model":"tiny","messages":[1]})", 400, "messages[0]"},
      {"message without role", C, R"({"model":"tiny","messages":[{"content":"x"}]})", 400, "messages[0].role"},
      {"unknown role", C, R"({"model":"tiny","messages":[{"role":"wizard","content":"x"}]})", 400, "messages[0].role"},
      {"role not string", C, R"({"model":"tiny","messages":[{"role":5,"content":"x"}]})", 400, "messages[0].role"},
      {"content wrong type", C, R"({"model":"tiny","messages":[{"role":"user","content":5}]})", 400,
       "messages[0].content"},
      {"image part", C,
       R"({"model":"tiny","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})", 400,
       "messages[0].content"},
      {"user without content", C, R"({"model":"tiny","messages":[{"role":"user"}]})", 400, "messages[0].content"},
      {"model not string", C, R"({"model":7,"messages":[{"role":"user","content":"x"}]})", 400, "model"},
      {"unknown model", C, R"({"model":"gpt-9","messages":[{"role":"user","content":"x"}]})", 404, "model"},
      {"negative max_tokens", C, chat(R"(,"max_tokens":-5)"), 400, "max_tokens"},
      {"zero max_tokens", C, chat(R"(,"max_tokens":0)"), 400, "max_tokens"},
      {"huge max_tokens", C, chat(R"(,"max_tokens":1e12)"), 400, "max_tokens"},
      {"fractional max_tokens", C, chat(R"(,"max_tokens":3.5)"), 400, "max_tokens"},
      {"string max_tokens", C, chat(R"(,"max_tokens":"10")"), 400, "max_tokens"},
      {"negative max_completion_tokens", C, chat(R"(,"max_completion_tokens":-1)"), 400, "max_completion_tokens"},
      {"n million", C, chat(R"(,"n":1000000)"), 400, "n"},
      {"n zero", C, chat(R"(,"n":0)"), 400, "n"},
      {"n above server max", C, chat(R"(,"n":50)"), 400, "n"},
      {"temperature negative", C, chat(R"(,"temperature":-0.5)"), 400, "temperature"},
      {"temperature huge", C, chat(R"(,"temperature":100)"), 400, "temperature"},
      {"temperature string", C, chat(R"(,"temperature":"hot")"), 400, "temperature"},
      {"top_p above one", C, chat(R"(,"top_p":1.5)"), 400, "top_p"},
      {"top_k negative", C, chat(R"(,"top_k":-1)"), 400, "top_k"},
      {"min_p above one", C, chat(R"(,"min_p":2)"), 400, "min_p"},
      {"presence penalty", C, chat(R"(,"presence_penalty":5)"), 400, "presence_penalty"},
      {"frequency penalty", C, chat(R"(,"frequency_penalty":-3)"), 400, "frequency_penalty"},
      {"seed fractional", C, chat(R"(,"seed":1.5)"), 400, "seed"},
      {"seed string", C, chat(R"(,"seed":"x")"), 400, "seed"},
      {"stop wrong type", C, chat(R"(,"stop":5)"), 400, "stop"},
      {"stop too many", C, chat(R"(,"stop":["a","b","c","d","e"])"), 400, "stop"},
      {"stop empty string", C, chat(R"(,"stop":[""])"), 400, "stop"},
      {"stop list of numbers", C, chat(R"(,"stop":[1,2])"), 400, "stop"},
      {"logit_bias not object", C, chat(R"(,"logit_bias":[1])"), 400, "logit_bias"},
      {"logit_bias bad key", C, chat(R"(,"logit_bias":{"abc":1})"), 400, "logit_bias"},
      {"logit_bias out of vocab", C, chat(R"(,"logit_bias":{"999999":1})"), 400, nullptr},
      {"logit_bias too big", C, chat(R"(,"logit_bias":{"5":1000})"), 400, "logit_bias"},
      {"top_logprobs without logprobs", C, chat(R"(,"top_logprobs":3)"), 400, "top_logprobs"},
      {"top_logprobs huge", C, chat(R"(,"logprobs":true,"top_logprobs":50)"), 400, "top_logprobs"},
      {"logprobs not bool", C, chat(R"(,"logprobs":"yes")"), 400, "logprobs"},
      {"stream not bool", C, chat(R"(,"stream":"yes")"), 400, "stream"},
      {"stream_options without stream", C, chat(R"(,"stream_options":{"include_usage":true})"), 400, "stream_options"},
      {"response_format json_schema", C, chat(R"(,"response_format":{"type":"json_schema"})"), 400, "response_format"},
      {"response_format unknown type", C, chat(R"(,"response_format":{"type":"yaml"})"), 400, "response_format"},
      {"response_format not object", C, chat(R"(,"response_format":"json")"), 400, "response_format"},
      {"json_schema without schema", C, chat(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"x"}})"), 400, "response_format"},
      {"json_schema unsupported keyword", C,
       chat(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"string","pattern":"^a+$"}}})"), 400,
       "response_format"},
      {"json_schema not a schema", C, chat(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":42}})"), 400,
       "response_format"},
      {"tool name with a space", C, chat(R"(,"tools":[{"type":"function","function":{"name":"bad name"}}])"), 400, "tools[0].function.name"},
      {"tool not a function", C, chat(R"(,"tools":[{"type":"retrieval"}])"), 400, "tools[0]"},
      {"tools not a list", C, chat(R"(,"tools":{"a":1})"), 400, "tools"},
      {"tool parameters not object", C, chat(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":3}}])"), 400,
       "tools[0].function.parameters"},
      {"tool_choice unknown function", C,
       chat(R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}})"),
       400, "tool_choice"},
      {"tool_choice bad string", C, chat(R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"always")"), 400,
       "tool_choice"},
      {"tool_choice required without tools", C, chat(R"(,"tool_choice":"required")"), 400, "tool_choice"},
      {"tool parameters unsupported keyword", C,
       chat(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","not":{}}}}],"tool_choice":"required")"),
       400, "tools"},
      {"tool_calls on a user message", C,
       R"({"model":"tiny","messages":[{"role":"user","content":"x","tool_calls":[]}]})", 400, "messages[0].tool_calls"},
      {"tool call arguments not json", C,
       R"({"model":"tiny","messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{oops"}}]}]})",
       400, "messages[0].tool_calls"},
      {"grammar undefined rule", C, chat(R"(,"grammar":"root ::= x")"), 400, "grammar"},
      {"grammar left recursive", C, chat(R"(,"grammar":"root ::= root \"a\" | \"b\"")"), 400, "grammar"},
      {"grammar not text", C, chat(R"(,"grammar":7)"), 400, "grammar"},
      {"grammar and response_format", C, chat(R"(,"grammar":"root ::= \"a\"","response_format":{"type":"json_object"})"), 400,
       "grammar"},
      {"completion with tools", P, R"({"model":"tiny","prompt":"a","tools":[]})", 400, "tools"},
      {"invalid utf8 in content", C, "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}",
       400, nullptr},
      {"prompt longer than context", C, long_prompt, 400, "messages"},
      {"completion no prompt", P, R"({"model":"tiny"})", 400, "prompt"},
      {"completion prompt number", P, R"({"model":"tiny","prompt":5})", 400, "prompt"},
      {"completion empty list", P, R"({"model":"tiny","prompt":[]})", 400, "prompt"},
      {"completion negative token", P, R"({"model":"tiny","prompt":[1,-2]})", 400, "prompt"},
      {"completion token out of vocab", P, R"({"model":"tiny","prompt":[1,99999]})", 400, "prompt"},
      {"completion mixed inputs", P, R"({"model":"tiny","prompt":["a",[1,2]]})", 400, "prompt"},
      {"completion suffix", P, R"({"model":"tiny","prompt":"a","suffix":"b"})", 400, "suffix"},
      {"completion logprobs huge", P, R"({"model":"tiny","prompt":"a","logprobs":99})", 400, "logprobs"},
      {"embeddings from a generator", E, R"({"model":"tiny","input":"x"})", 400, "model"},
      {"embeddings no input", E, R"({"model":"tiny"})", 400, "input"},
      {"embeddings bad format", E, R"({"model":"tiny","input":"x","encoding_format":"hex"})", 400, "encoding_format"},
      {"embeddings unknown model", E, R"({"model":"nope","input":"x"})", 404, "model"},
  };
}

TEST(BadRequests, EveryCaseIs4xxWithOpenAiErrorAndServerKeepsServing) {
  ServerOptions o;
  o.n_ctx = 256;
  o.max_n = 4;
  test::ServerFixture fx(o);
  ASSERT_TRUE(fx.ok());
  auto cli = fx.client();
  const auto all = cases();
  ASSERT_GE(all.size(), 50u);
  for (const auto& c : all) {
    auto res = cli.Post(c.path, c.body, "application/json");
    ASSERT_TRUE(res) << c.name;
    EXPECT_EQ(res->status, c.status) << c.name << ": " << res->body;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << c.name;
    ASSERT_TRUE(j.contains("error")) << c.name;
    EXPECT_TRUE(j["error"]["message"].is_string()) << c.name;
    EXPECT_TRUE(j["error"]["type"].is_string()) << c.name;
    EXPECT_TRUE(j["error"].contains("param") && j["error"].contains("code")) << c.name;
    if (c.param) {
      EXPECT_EQ(j["error"]["param"], c.param) << c.name << ": " << res->body;
    }
  }
  auto ok = cli.Post("/v1/chat/completions", chat(R"(,"max_tokens":3)"), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(cli.Get("/health")->status, 200);
}

TEST(BadRequests, OversizedBodyIs413) {
  ServerOptions o;
  o.max_body_bytes = 1 << 20;
  test::ServerFixture fx(o);
  auto cli = fx.client();
  auto res = cli.Post("/v1/chat/completions", std::string(20u << 20, 'x'), "application/json");
  if (res) {  // the server may also close the connection while the body is still arriving
    EXPECT_EQ(res->status, 413);
    EXPECT_TRUE(nlohmann::json::parse(res->body, nullptr, false).contains("error"));
  }
  EXPECT_EQ(cli.Get("/health")->status, 200);
}

TEST(Auth, KeysAreRequiredExceptForHealth) {
  ServerOptions o;
  o.api_keys = {"sk-first", "sk-second"};
  test::ServerFixture fx(o);
  auto cli = fx.client();
  EXPECT_EQ(cli.Get("/health")->status, 200);
  auto res = cli.Get("/v1/models");
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(nlohmann::json::parse(res->body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(cli.Get("/v1/models", {{"Authorization", "Bearer sk-firs"}})->status, 401);
  EXPECT_EQ(cli.Get("/v1/models", {{"Authorization", "Bearer sk-first-and-more"}})->status, 401);
  EXPECT_EQ(cli.Get("/v1/models", {{"Authorization", "sk-first"}})->status, 401);
  EXPECT_EQ(cli.Get("/v1/models", {{"Authorization", "Bearer sk-second"}})->status, 200);
  EXPECT_EQ(cli.Get("/metrics", {{"Authorization", "Bearer sk-first"}})->status, 200);
}

TEST(Auth, RateLimitAnswers429WithRetryAfter) {
  ServerOptions o;
  o.rate_limit_rps = 2;
  test::ServerFixture fx(o);
  auto cli = fx.client();
  int limited = 0;
  for (int i = 0; i < 10; ++i) {
    auto res = cli.Get("/v1/models");
    if (res->status == 429) {
      ++limited;
      EXPECT_FALSE(res->get_header_value("Retry-After").empty());
    }
  }
  EXPECT_GE(limited, 5);
}

}  // namespace
}  // namespace minnow
