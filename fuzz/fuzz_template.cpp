// libFuzzer entry for the chat-template engine: any bytes as template source
// must render or fail with a clean error, within tight sandbox limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "template/chat_template.h"

namespace {

const minnow::ChatTemplateInputs& fixed_inputs() {
  static const minnow::ChatTemplateInputs inputs = [] {
    minnow::ChatTemplateInputs in;
    in.messages = nlohmann::ordered_json::parse(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi {{ x }} \u00e9\u4f60 \ud83d\udc4b"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call12345", "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": [1, 2.5, true, null]}}}]},
      {"role": "tool", "tool_call_id": "call12345", "content": "{\"temp\": 22}"}])");
    in.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"},
      "days": {"type": "array", "items": {"type": "integer"}}}, "required": ["city"]}}}])");
    in.bos_token = "<s>";
    in.eos_token = "</s>";
    in.extra_context = {{"date_string", "26 Jul 2024"}};
    in.now_date = "2024-07-26";
    return in;
  }();
  return inputs;
}

minnow::TemplateLimits tight_limits() {
  minnow::TemplateLimits limits;
  limits.max_output_bytes = 64 << 10;
  limits.max_loop_iterations = 10000;
  limits.max_call_depth = 16;
  limits.max_nesting = 32;
  limits.max_steps = 100000;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const minnow::TemplateLimits limits = tight_limits();
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto result = minnow::render_chat_template(source, fixed_inputs(), limits);
  if (result.ok()) {
    volatile size_t n = result->size();
    (void)n;
  } else {
    volatile size_t n = result.error().message().size();
    (void)n;
  }
  return 0;
}
