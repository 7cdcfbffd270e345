// Render a model's chat template (Jinja source from tokenizer.chat_template)
// the way Hugging Face transformers' apply_chat_template does, byte for byte,
// inside a sandbox: no file or system access, and bounded time and memory
// (see TemplateLimits) however hostile the template.
//
// JSON inputs are nlohmann::ordered_json because key order is visible in the
// output (tojson, dict iteration) and must follow the request's order.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "template/limits.h"

namespace minnow {

struct ChatTemplateInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null: the template sees `tools` as none
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();  // more variables
  std::optional<std::string> now_date;  // "YYYY-MM-DD" for strftime_now(); default: today
};

// Errors: kCorrupt (syntax), kUnsupported (Jinja we do not implement),
// kInvalidArgument (the template refused the input, e.g. raise_exception, or
// a type error), kResourceLimit (a sandbox limit). Messages name the template
// line and column.
Expected<std::string> render_chat_template(std::string_view source, const ChatTemplateInputs& inputs,
                                           const TemplateLimits& limits = {});

// Renders with exactly `variables` (a JSON object) as the context.
Expected<std::string> render_template(std::string_view source, const nlohmann::ordered_json& variables,
                                      const TemplateLimits& limits = {},
                                      const std::optional<std::string>& now_date = std::nullopt);

// Parses without rendering, to reject a bad template when a model loads.
Status check_template_syntax(std::string_view source, const TemplateLimits& limits = {});

// Used for models whose GGUF has no tokenizer.chat_template: plain ChatML
// (<|im_start|>role\ncontent<|im_end|>\n), with the generation prompt
// "<|im_start|>assistant\n".
extern const char kChatMlFallbackTemplate[];

}  // namespace minnow
