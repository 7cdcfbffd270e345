// The sampler chain: logit bias -> penalties -> top-k -> typical -> top-p ->
// min-p -> temperature -> draw. Temperature 0 takes the argmax after the bias
// and penalties. Seeded, so a request with a seed is reproducible.
//
// With a grammar, tokens that cannot continue it are removed first (after
// bias and penalties, before the chain), so the chain's top-k/top-p see only
// valid tokens. Greedy decoding checks the argmax alone and masks only when
// it is not allowed: the same choice, without a vocabulary walk per step.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <span>
#include <unordered_map>

#include "base/status.h"
#include "sampling/grammar_matcher.h"
#include "sampling/sampling_params.h"

namespace minnow {

class Sampler {
 public:
  explicit Sampler(SamplingParams params, std::unique_ptr<GrammarMatcher> grammar = nullptr);
  ~Sampler();

  static constexpr int32_t kNoToken = -1;
  // Picks the next token from logits[n_vocab]; logits are modified.
  // kNoToken when a grammar allows no token of the vocabulary.
  int32_t sample(std::span<float> logits);
  // Records a generated token: the penalty window, and the grammar (an
  // error if the token does not continue it).
  Status accept(int32_t token);
  // The grammar's sentence is finished: nothing may follow.
  bool grammar_complete() const { return grammar_ && grammar_->is_complete(); }
  bool constrained() const { return grammar_ != nullptr; }

 private:
  int32_t sample_sorted(std::span<float> logits);
  int32_t draw_all(std::span<float> logits, double u) const;
  void apply_bias_and_penalties(std::span<float> logits) const;
  SamplingParams p_;
  std::unique_ptr<GrammarMatcher> grammar_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
  std::unordered_map<int32_t, int32_t> counts_;
};

}  // namespace minnow
