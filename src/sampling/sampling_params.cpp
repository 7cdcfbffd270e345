#include "sampling/sampling_params.h"

#include <cmath>

namespace minnow {

const std::vector<ParamBound>& sampling_param_bounds() {
  static const std::vector<ParamBound> kBounds = {
      {"temperature", 0.0, 2.0, "0 picks the most likely token"},
      {"top_k", 0, 1000000, "0 disables"},
      {"top_p", 0.0, 1.0, "1 disables"},
      {"min_p", 0.0, 1.0, "0 disables"},
      {"typical_p", 0.0, 1.0, "1 disables"},
      {"repeat_penalty", 0.0, 10.0, "1 disables"},
      {"frequency_penalty", -2.0, 2.0, "0 disables (OpenAI range)"},
      {"presence_penalty", -2.0, 2.0, "0 disables (OpenAI range)"},
      {"penalty_last_n", 0, 1 << 20, "tokens of history the penalties see"},
      {"logit_bias", -100.0, 100.0, "added to the token's logit (OpenAI range)"},
  };
  return kBounds;
}

namespace {

Status check(const char* name, double v) {
  for (const auto& b : sampling_param_bounds()) {
    if (std::string(b.name) != name) continue;
    if (!std::isfinite(v) || v < b.min || v > b.max)
      return out_of_range("must be between " + std::to_string(b.min) + " and " + std::to_string(b.max)).with_field(name);
    return Status::success();
  }
  return Error(ErrorCode::kInternal, "no bound for parameter").with_field(name);
}

}  // namespace

Status validate(const SamplingParams& p, uint32_t n_vocab) {
  MINNOW_TRY(check("temperature", p.temperature));
  MINNOW_TRY(check("top_k", p.top_k));
  MINNOW_TRY(check("top_p", p.top_p));
  MINNOW_TRY(check("min_p", p.min_p));
  MINNOW_TRY(check("typical_p", p.typical_p));
  MINNOW_TRY(check("repeat_penalty", p.repeat_penalty));
  MINNOW_TRY(check("frequency_penalty", p.frequency_penalty));
  MINNOW_TRY(check("presence_penalty", p.presence_penalty));
  MINNOW_TRY(check("penalty_last_n", p.penalty_last_n));
  for (const auto& [token, bias] : p.logit_bias) {
    if (token < 0 || uint32_t(token) >= n_vocab)
      return out_of_range("token id " + std::to_string(token) + " is outside the vocabulary").with_field("logit_bias");
    MINNOW_TRY(check("logit_bias", bias));
  }
  return Status::success();
}

}  // namespace minnow
