// `minnow bench --passes`: the tg test's one-token matmul passes, per token,
// set against the measured read bandwidth, and what is left outside them
// (norms, attention, activations' conversion, hand-offs).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/pass_profile.h"

namespace minnow::cli {

struct PassReport {
  std::string test;                       // "tg128"
  std::vector<kernels::PassTotal> totals;  // over every timed token
  double tokens = 0, seconds = 0;          // tokens decoded while timing, their wall time
};

void print_pass_report(const PassReport& r, double bandwidth);
nlohmann::json pass_report_json(const PassReport& r, double bandwidth);

}  // namespace minnow::cli
