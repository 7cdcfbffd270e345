#include "cli/bench_passes.h"

#include <cstdio>

namespace minnow::cli {
namespace {

// One token's step is "per_token"; a batch's step (a token of each sequence) "per_step".
std::string per_step(const PassReport& r) { return r.batch > 1 ? "_per_step" : "_per_token"; }

double pass_seconds(const PassReport& r) {
  double s = 0;
  for (const auto& t : r.totals) s += t.seconds;
  return s;
}

}  // namespace

nlohmann::json pass_report_json(const PassReport& r, double bandwidth) {
  nlohmann::json passes = nlohmann::json::array();
  if (r.steps <= 0) return passes;
  const std::string per = per_step(r);
  for (const auto& t : r.totals) {
    const double gbs = t.seconds > 0 ? t.bytes / t.seconds / 1e9 : 0;
    passes.push_back({{"matrices", t.matrices},
                      {"reads", t.reads == kernels::PassReads::kKvCache ? "kv cache" : "weights"},
                      {"passes" + per, double(t.passes) / r.steps},
                      {"ms" + per, 1e3 * t.seconds / r.steps},
                      {"ms_before" + per, 1e3 * t.seconds_before / r.steps},
                      {"mb" + per, t.bytes / r.steps / 1e6},
                      {"gbs", gbs},
                      {"of_bandwidth", bandwidth > 0 ? gbs * 1e9 / bandwidth : 0.0}});
  }
  passes.push_back({{"matrices", "outside the passes"}, {"ms" + per, 1e3 * (r.seconds - pass_seconds(r)) / r.steps}});
  return passes;
}

// The table prints the JSON's numbers, so the two never disagree.
void print_pass_report(const PassReport& r, double bandwidth) {
  if (r.steps <= 0) return;
  if (r.batch > 1)
    std::printf("\n%s, passes per step of %u tokens, matmuls and attention (read bandwidth %.1f GB/s):\n",
                r.test.c_str(), r.batch, bandwidth / 1e9);
  else
    std::printf("\n%s, one-token passes per token, matmuls and attention (read bandwidth %.1f GB/s):\n",
                r.test.c_str(), bandwidth / 1e9);
  // "ms before": the caller's serial work between the previous pass and these.
  std::printf("| matrices | passes | ms | MB | GB/s | of bandwidth | ms before |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  const std::string per = per_step(r);
  for (const auto& p : pass_report_json(r, bandwidth)) {
    const std::string matrices = p["matrices"];
    if (!p.contains("gbs")) {  // the time outside the passes
      std::printf("| %s | | %.3f | | | | |\n", matrices.c_str(), p["ms" + per].get<double>());
      continue;
    }
    std::printf("| %s | %.0f | %.3f | %.2f | %.1f | %.0f%% | %.3f |\n", matrices.c_str(),
                p["passes" + per].get<double>(), p["ms" + per].get<double>(), p["mb" + per].get<double>(),
                p["gbs"].get<double>(), 100.0 * p["of_bandwidth"].get<double>(), p["ms_before" + per].get<double>());
  }
}

}  // namespace minnow::cli
