// What a caller may ask of the sampler, with documented bounds. The server
// and the CLI validate against the same table.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace minnow {

struct SamplingParams {
  float temperature = 0.8f;       // 0: greedy
  int32_t top_k = 40;             // 0: off
  float top_p = 0.95f;            // 1: off
  float min_p = 0.05f;            // 0: off
  float typical_p = 1.0f;         // 1: off
  float repeat_penalty = 1.0f;    // 1: off (llama.cpp style: divide positive logits)
  float frequency_penalty = 0.0f; // OpenAI style: minus count * f
  float presence_penalty = 0.0f;  // OpenAI style: minus p if present
  int32_t penalty_last_n = 64;    // window of recent tokens the penalties see
  std::vector<std::pair<int32_t, float>> logit_bias;  // token -> added logit (-100: ban)
  uint64_t seed = 0;

  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
  }
};

struct ParamBound {
  const char* name;
  double min, max;
  const char* meaning;
};

// The table of every numeric sampling parameter's bounds.
const std::vector<ParamBound>& sampling_param_bounds();

// Checks every field against the table; the error names the field.
Status validate(const SamplingParams& p, uint32_t n_vocab);

}  // namespace minnow
