// `minnow bench --passes`: a tg test's matmul passes, per decode step (one
// token, or one per sequence with --batch), set against the measured read
// bandwidth, and what is left outside them (norms, attention, activations'
// conversion, hand-offs).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/pass_profile.h"

namespace minnow::cli {

struct PassReport {
  std::string test;                       // "tg128", "tg128 x4"
  std::vector<kernels::PassTotal> totals;  // over every timed step
  double steps = 0, seconds = 0;           // decode steps while timing, their wall time
  uint32_t batch = 1;                      // tokens a step (one per sequence)
};

void print_pass_report(const PassReport& r, double bandwidth);
nlohmann::json pass_report_json(const PassReport& r, double bandwidth);

}  // namespace minnow::cli
