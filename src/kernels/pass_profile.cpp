#include "kernels/pass_profile.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace minnow::kernels {
namespace {

std::atomic<bool> g_on{false};
std::mutex g_mu;
std::map<std::string, PassTotal>& totals() {
  static std::map<std::string, PassTotal> t;
  return t;
}

}  // namespace

void set_pass_profiling(bool on) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (on) totals().clear();
  g_on.store(on, std::memory_order_relaxed);
}

bool pass_profiling() { return g_on.load(std::memory_order_relaxed); }

void record_pass(const std::string& matrices, double seconds, double bytes, PassReads reads) {
  std::lock_guard<std::mutex> lock(g_mu);
  PassTotal& t = totals()[matrices];
  t.matrices = matrices;
  t.reads = reads;
  ++t.passes;
  t.seconds += seconds;
  t.bytes += bytes;
}

std::vector<PassTotal> pass_totals() {
  std::lock_guard<std::mutex> lock(g_mu);
  std::vector<PassTotal> out;
  for (const auto& [key, t] : totals()) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const PassTotal& a, const PassTotal& b) { return a.seconds > b.seconds; });
  return out;
}

}  // namespace minnow::kernels
