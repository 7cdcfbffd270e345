#include "server/request_parse.h"

#include <cmath>

namespace minnow {

using Json = nlohmann::ordered_json;

const std::vector<ParamBound>& request_param_bounds() {
  static const std::vector<ParamBound> kBounds = [] {
    std::vector<ParamBound> b = sampling_param_bounds();
    b.push_back({"max_tokens", 1, 1 << 20, "tokens to generate; absent: until the context is full"});
    b.push_back({"max_completion_tokens", 1, 1 << 20, "same as max_tokens"});
    b.push_back({"n", 1, 128, "choices per request; the server's --max-n caps it further"});
    b.push_back({"top_logprobs", 0, 20, "alternatives reported per token (needs logprobs)"});
    b.push_back({"logprobs", 0, 20, "completions API: alternatives per token"});
    b.push_back({"seed", -9.2e18, 9.2e18, "any 64-bit integer"});
    return b;
  }();
  return kBounds;
}

namespace {

Error bad(const std::string& param, const std::string& message) { return invalid_argument(message).with_field(param); }

const ParamBound& bound_of(const std::string& name) {
  for (const auto& b : request_param_bounds())
    if (name == b.name) return b;
  static const ParamBound kNone{"", -1e300, 1e300, ""};
  return kNone;
}

// Reads an optional number within its bounds; integer-only when asked.
Status read_number(const Json& body, const std::string& key, bool integer, double& out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return Status::success();
  if (!it->is_number()) return bad(key, "'" + key + "' must be a number");
  const double v = it->get<double>();
  const ParamBound& b = bound_of(key);
  if (!std::isfinite(v) || v < b.min || v > b.max)
    return out_of_range("'" + key + "' must be between " + std::to_string(b.min) + " and " + std::to_string(b.max))
        .with_field(key);
  if (integer && v != std::floor(v)) return bad(key, "'" + key + "' must be an integer");
  out = v;
  return Status::success();
}

Status read_bool(const Json& body, const std::string& key, bool& out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return Status::success();
  if (!it->is_boolean()) return bad(key, "'" + key + "' must be true or false");
  out = it->get<bool>();
  return Status::success();
}

Expected<Json> parse_object(const std::string& body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("", "the request body is not valid JSON");
  if (!j.is_object()) return bad("", "the request body must be a JSON object");
  return j;
}

Status read_model(const Json& j, std::string& model) {
  auto it = j.find("model");
  if (it == j.end() || it->is_null()) return Status::success();  // the default model
  if (!it->is_string()) return bad("model", "'model' must be a string");
  model = it->get<std::string>();
  return Status::success();
}

// Fields both chat and completions share.
Status read_generation(const Json& j, GenerationSpec& g, uint32_t max_n, bool chat) {
  MINNOW_TRY(read_model(j, g.model));
  SamplingParams& s = g.sampling;
  s.temperature = 1.0f;  // OpenAI defaults: plain sampling, no truncation
  s.top_k = 0;
  s.top_p = 1.0f;
  s.min_p = 0.0f;
  s.penalty_last_n = 64;
  auto number = [&](const char* key, bool integer, auto& field) -> Status {
    double v = double(field);
    MINNOW_TRY(read_number(j, key, integer, v));
    field = static_cast<std::remove_reference_t<decltype(field)>>(v);
    return Status::success();
  };
  MINNOW_TRY(number("temperature", false, s.temperature));
  MINNOW_TRY(number("top_p", false, s.top_p));
  MINNOW_TRY(number("top_k", true, s.top_k));
  MINNOW_TRY(number("min_p", false, s.min_p));
  MINNOW_TRY(number("typical_p", false, s.typical_p));
  MINNOW_TRY(number("repeat_penalty", false, s.repeat_penalty));
  MINNOW_TRY(number("presence_penalty", false, s.presence_penalty));
  MINNOW_TRY(number("frequency_penalty", false, s.frequency_penalty));
  double seed = 0;
  MINNOW_TRY(read_number(j, "seed", true, seed));
  s.seed = j.contains("seed") && !j["seed"].is_null() ? uint64_t(int64_t(seed)) : 0x6d696e6e6f77ull;  // "minnow"
  double max_tokens = 0;
  MINNOW_TRY(read_number(j, "max_tokens", true, max_tokens));
  MINNOW_TRY(read_number(j, "max_completion_tokens", true, max_tokens));
  g.max_tokens = uint32_t(max_tokens);
  double n = 1;
  MINNOW_TRY(read_number(j, "n", true, n));
  if (n > max_n) return out_of_range("'n' is limited to " + std::to_string(max_n) + " on this server").with_field("n");
  g.n = uint32_t(n);
  MINNOW_TRY(read_bool(j, "stream", g.stream));
  MINNOW_TRY(read_bool(j, "ignore_eos", g.ignore_eos));
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return bad("stream_options", "'stream_options' must be an object");
    if (!g.stream) return bad("stream_options", "'stream_options' is only allowed with stream: true");
    MINNOW_TRY(read_bool(*it, "include_usage", g.include_usage));
  }
  if (chat) {
    MINNOW_TRY(read_bool(j, "logprobs", g.logprobs));
    double top = 0;
    MINNOW_TRY(read_number(j, "top_logprobs", true, top));
    if (top > 0 && !g.logprobs) return bad("top_logprobs", "'top_logprobs' requires 'logprobs': true");
    g.top_logprobs = uint32_t(top);
  } else {
    double lp = -1;
    MINNOW_TRY(read_number(j, "logprobs", true, lp));
    g.logprobs = lp >= 0;
    g.top_logprobs = lp > 0 ? uint32_t(lp) : 0;
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      g.stop.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      if (it->size() > 4) return bad("stop", "'stop' takes at most 4 sequences");
      for (const auto& x : *it) {
        if (!x.is_string()) return bad("stop", "'stop' must be a string or a list of strings");
        g.stop.push_back(x.get<std::string>());
      }
    } else {
      return bad("stop", "'stop' must be a string or a list of strings");
    }
    for (const auto& x : g.stop)
      if (x.empty() || x.size() > 256) return bad("stop", "stop sequences must have 1 to 256 bytes");
  }
  if (auto it = j.find("logit_bias"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return bad("logit_bias", "'logit_bias' must map token ids to numbers");
    if (it->size() > 1024) return bad("logit_bias", "'logit_bias' takes at most 1024 entries");
    for (const auto& [key, value] : it->items()) {
      size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(key, &used);
      } catch (...) {
        used = 0;
      }
      if (used != key.size() || id < 0 || id > INT32_MAX) return bad("logit_bias", "'" + key + "' is not a token id");
      if (!value.is_number()) return bad("logit_bias", "bias values must be numbers");
      s.logit_bias.emplace_back(int32_t(id), value.get<float>());
    }
  }
  MINNOW_ASSIGN_OR_RETURN(g.grammar, read_output_constraint(j));
  if (!chat && j.contains("tools") && !j["tools"].is_null())
    return bad("tools", "'tools' belong to /v1/chat/completions");
  return validate(s, UINT32_MAX);
}

// Text of a message's content: a string, or the text parts of a part list.
Expected<std::string> content_text(const Json& content, size_t index) {
  const std::string param = "messages[" + std::to_string(index) + "].content";
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return std::string();
  if (!content.is_array()) return bad(param, "content must be a string or a list of parts");
  std::string out;
  for (const auto& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      return unsupported("only text content parts are supported").with_field(param);
    out += part["text"].get<std::string>();
  }
  return out;
}

void collect_strings(const Json& v, std::vector<std::string>& out) {
  if (v.is_string()) out.push_back(v.get<std::string>());
  else if (v.is_structured())
    for (const auto& x : v) collect_strings(x, out);
}

// An assistant message's tool_calls as chat templates expect them: the
// arguments as an object (OpenAI sends a JSON string), so templates that
// write `arguments | tojson` reproduce what the model generated.
Expected<Json> template_tool_calls(const Json& calls, const std::string& param, std::vector<std::string>& untrusted) {
  if (!calls.is_array()) return bad(param, "'tool_calls' must be a list");
  Json out = Json::array();
  for (const auto& c : calls) {
    if (!c.is_object() || !c.contains("function") || !c["function"].is_object() || !c["function"].contains("name") ||
        !c["function"]["name"].is_string())
      return bad(param, "each tool call needs function.name");
    Json copy = c;
    copy["type"] = "function";
    Json& f = copy["function"];
    if (f.contains("arguments") && f["arguments"].is_string()) {
      const std::string text = f["arguments"].get<std::string>();
      untrusted.push_back(text);
      Json parsed = Json::parse(text, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) return bad(param, "function.arguments must be a JSON object text");
      f["arguments"] = std::move(parsed);
    } else if (f.contains("arguments") && !f["arguments"].is_object()) {
      return bad(param, "function.arguments must be a JSON object text");
    }
    untrusted.push_back(f["name"].get<std::string>());
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace

Expected<ChatSpec> parse_chat_request(const std::string& body, uint32_t max_n) {
  MINNOW_ASSIGN_OR_RETURN(Json j, parse_object(body));
  ChatSpec spec;
  MINNOW_TRY(read_generation(j, spec, max_n, true));
  MINNOW_ASSIGN_OR_RETURN(spec.tools, read_tools(j));
  collect_strings(spec.tools.tools, spec.untrusted);  // tool descriptions are client text too
  if (spec.tools.forced() && spec.grammar)
    return bad("tool_choice", "a forced tool call cannot be combined with 'response_format' or 'grammar'");
  auto it = j.find("messages");
  if (it == j.end() || !it->is_array()) return bad("messages", "'messages' must be a list");
  if (it->empty()) return bad("messages", "'messages' must not be empty");
  if (it->size() > 4096) return bad("messages", "'messages' holds too many entries");
  spec.messages = Json::array();
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& m = (*it)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return bad(param, "each message must be an object");
    if (!m.contains("role") || !m["role"].is_string()) return bad(param + ".role", "each message needs a role");
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" && role != "developer")
      return bad(param + ".role", "unknown role '" + role + "'");
    if (!m.contains("content") && role != "assistant") return bad(param + ".content", "the message has no content");
    MINNOW_ASSIGN_OR_RETURN(std::string text, content_text(m.value("content", Json()), i));
    Json copy = m;
    copy["role"] = role == "developer" ? "system" : role;  // OpenAI's newer name for system
    copy["content"] = text;
    spec.untrusted.push_back(text);
    if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
      if (role != "assistant") return bad(param + ".tool_calls", "only assistant messages carry tool_calls");
      MINNOW_ASSIGN_OR_RETURN(copy["tool_calls"], template_tool_calls(*calls, param + ".tool_calls", spec.untrusted));
    }
    if (auto id = m.find("tool_call_id"); id != m.end() && !id->is_null() && !id->is_string())
      return bad(param + ".tool_call_id", "'tool_call_id' must be a string");
    spec.messages.push_back(std::move(copy));
  }
  return spec;
}

namespace {

// A prompt or input: string | [string] | [int] | [[int]].
Status read_prompts(const Json& v, const std::string& param, std::vector<std::string>& texts,
                    std::vector<std::vector<int32_t>>& tokens) {
  auto ids_of = [&](const Json& arr, std::vector<int32_t>& out) -> Status {
    for (const auto& x : arr) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX)
        return bad(param, "token ids must be non-negative integers");
      out.push_back(int32_t(x.get<int64_t>()));
    }
    return Status::success();
  };
  if (v.is_string()) {
    texts.push_back(v.get<std::string>());
  } else if (v.is_array() && !v.empty() && v[0].is_number()) {
    tokens.emplace_back();
    MINNOW_TRY(ids_of(v, tokens.back()));
  } else if (v.is_array() && !v.empty()) {
    if (v.size() > 256) return bad(param, "at most 256 inputs per request");
    for (const auto& item : v) {
      if (item.is_string()) {
        texts.push_back(item.get<std::string>());
      } else if (item.is_array() && !item.empty()) {
        tokens.emplace_back();
        MINNOW_TRY(ids_of(item, tokens.back()));
      } else {
        return bad(param, "each input must be a string or a non-empty list of token ids");
      }
    }
  } else {
    return bad(param, "'" + param + "' must be a string, a list of strings or token ids");
  }
  if (!texts.empty() && !tokens.empty()) return bad(param, "do not mix text and token-id inputs");
  return Status::success();
}

}  // namespace

Expected<CompletionSpec> parse_completion_request(const std::string& body, uint32_t max_n) {
  MINNOW_ASSIGN_OR_RETURN(Json j, parse_object(body));
  CompletionSpec spec;
  MINNOW_TRY(read_generation(j, spec, max_n, false));
  if (!j.contains("max_tokens") && !j.contains("max_completion_tokens")) spec.max_tokens = 16;  // OpenAI's default
  auto it = j.find("prompt");
  if (it == j.end()) return bad("prompt", "'prompt' is required");
  MINNOW_TRY(read_prompts(*it, "prompt", spec.prompts, spec.token_prompts));
  MINNOW_TRY(read_bool(j, "echo", spec.echo));
  if (auto s = j.find("suffix"); s != j.end() && !s->is_null())
    return unsupported("'suffix' is not supported").with_field("suffix");
  if (spec.prompts.size() + spec.token_prompts.size() > 1 && spec.stream)
    return bad("prompt", "streaming takes one prompt per request");
  if ((spec.prompts.size() + spec.token_prompts.size()) * spec.n > 128)
    return bad("n", "prompts x n must not exceed 128");
  return spec;
}

Expected<EmbeddingSpec> parse_embedding_request(const std::string& body) {
  MINNOW_ASSIGN_OR_RETURN(Json j, parse_object(body));
  EmbeddingSpec spec;
  MINNOW_TRY(read_model(j, spec.model));
  auto it = j.find("input");
  if (it == j.end()) return bad("input", "'input' is required");
  MINNOW_TRY(read_prompts(*it, "input", spec.texts, spec.token_inputs));
  const std::string format = j.value("encoding_format", "float");
  if (format != "float" && format != "base64") return bad("encoding_format", "must be 'float' or 'base64'");
  spec.base64 = format == "base64";
  if (j.contains("dimensions")) return unsupported("'dimensions' is not supported").with_field("dimensions");
  return spec;
}

}  // namespace minnow
