#include "cli/sampling_options.h"

#include <CLI/CLI.hpp>

namespace minnow::cli {

void add_sampling_options(CLI::App& sub, SamplingParams& p) {
  sub.add_option("--temp", p.temperature, "temperature (0: greedy)")->capture_default_str();
  sub.add_option("--top-k", p.top_k, "keep the k most likely tokens (0: off)")->capture_default_str();
  sub.add_option("--top-p", p.top_p, "nucleus sampling mass (1: off)")->capture_default_str();
  sub.add_option("--min-p", p.min_p, "drop tokens below min-p x the top probability (0: off)")->capture_default_str();
  sub.add_option("--typical-p", p.typical_p, "locally typical sampling mass (1: off)")->capture_default_str();
  sub.add_option("--repeat-penalty", p.repeat_penalty, "penalize recent tokens (1: off)")->capture_default_str();
  sub.add_option("--repeat-last-n", p.penalty_last_n, "tokens the penalties look back over")->capture_default_str();
  sub.add_option("--presence-penalty", p.presence_penalty, "OpenAI-style presence penalty");
  sub.add_option("--frequency-penalty", p.frequency_penalty, "OpenAI-style frequency penalty");
  sub.add_option("--seed", p.seed, "random seed (same seed, same output)");
}

}  // namespace minnow::cli
