// Sampling flags shared by `run` and future generating commands.
#pragma once

#include "sampling/sampling_params.h"

namespace CLI {
class App;
}

namespace minnow::cli {

// Binds --temp, --top-k, --top-p, --min-p, --typical-p, --repeat-penalty,
// --repeat-last-n, --presence-penalty, --frequency-penalty, --seed to `p`.
void add_sampling_options(CLI::App& sub, SamplingParams& p);

}  // namespace minnow::cli
