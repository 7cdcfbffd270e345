// The sampler chain: logit bias -> penalties -> top-k -> typical -> top-p ->
// min-p -> temperature -> draw. Temperature 0 takes the argmax after the bias
// and penalties. Seeded, so a request with a seed is reproducible.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <unordered_map>

#include "sampling/sampling_params.h"

namespace minnow {

class Sampler {
 public:
  explicit Sampler(SamplingParams params);

  // Picks the next token from logits[n_vocab]; logits are modified.
  int32_t sample(std::span<float> logits);
  // Records a token (prompt or generated) in the penalty window.
  void accept(int32_t token);

 private:
  void apply_bias_and_penalties(std::span<float> logits) const;
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
  std::unordered_map<int32_t, int32_t> counts_;
};

}  // namespace minnow
