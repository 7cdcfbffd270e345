// Single-sequence generation for the CLI: reuses the cached prefix of the
// previous turn, streams valid UTF-8 text, honours stop tokens and a stop flag.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/scheduler.h"
#include "model/context.h"
#include "sampling/grammar_matcher.h"
#include "sampling/sampling_params.h"
#include "tokenizer/tokenizer.h"

namespace minnow {

struct GenerateOptions {
  SamplingParams sampling;
  uint32_t max_tokens = 256;
  std::vector<int32_t> stop_tokens;
  std::shared_ptr<GrammarAutomaton> grammar;  // constrained decoding when set
  const std::atomic<bool>* interrupt = nullptr;  // set from a signal handler
};

struct GenerateStats {
  FinishReason reason = FinishReason::kStop;
  uint32_t n_prompt = 0, n_cached = 0, n_generated = 0;
  double prompt_seconds = 0, generate_seconds = 0;
};

// `cached` holds the tokens whose KV `ctx` already has; it is updated to the
// full sequence (prompt + generated) on return.
Expected<GenerateStats> generate(InferenceContext& ctx, std::vector<int32_t>& cached,
                                 const std::vector<int32_t>& prompt, const Tokenizer& tokenizer,
                                 const GenerateOptions& options, const std::function<void(const std::string&)>& on_text);

}  // namespace minnow
