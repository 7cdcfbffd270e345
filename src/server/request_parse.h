// OpenAI request bodies -> validated specs. Every numeric parameter is
// checked against one bounds table; errors name the offending parameter
// (Error::field) so the response can carry it in `param`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "sampling/grammar.h"
#include "sampling/sampling_params.h"
#include "server/structured_output.h"

namespace minnow {

struct GenerationSpec {
  std::string model;
  SamplingParams sampling;
  uint32_t max_tokens = 0;  // 0: until the context is full
  uint32_t n = 1;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  uint32_t top_logprobs = 0;
  bool ignore_eos = false;  // extension (llama.cpp's name): generate max_tokens regardless
  std::shared_ptr<const Grammar> grammar;  // response_format / grammar: constrained decoding
};

struct ChatSpec : GenerationSpec {
  nlohmann::ordered_json messages;        // content normalized to strings
  std::vector<std::string> untrusted;     // every message text, for tokenize_chat
  ToolsRequest tools;
};

struct CompletionSpec : GenerationSpec {
  std::vector<std::string> prompts;              // text prompts, or
  std::vector<std::vector<int32_t>> token_prompts;  // token-id prompts
  bool echo = false;
};

struct EmbeddingSpec {
  std::string model;
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> token_inputs;
  bool base64 = false;
};

// The bounds of every numeric request parameter (sampling ones included).
const std::vector<ParamBound>& request_param_bounds();

Expected<ChatSpec> parse_chat_request(const std::string& body, uint32_t max_n);
Expected<CompletionSpec> parse_completion_request(const std::string& body, uint32_t max_n);
Expected<EmbeddingSpec> parse_embedding_request(const std::string& body);

}  // namespace minnow
