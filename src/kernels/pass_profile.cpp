#include "kernels/pass_profile.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

namespace minnow::kernels {
namespace {

std::atomic<bool> g_on{false};
std::mutex g_mu;
// When the last recorded pass ended: the time from there to the next pass's
// start is the caller's serial work before that pass.
std::chrono::steady_clock::time_point g_last_end;
std::map<std::string, PassTotal>& totals() {
  static std::map<std::string, PassTotal> t;
  return t;
}

}  // namespace

void set_pass_profiling(bool on) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (on) totals().clear();
  g_last_end = {};
  g_on.store(on, std::memory_order_relaxed);
}

void break_pass_gaps() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_last_end = {};
}

bool pass_profiling() { return g_on.load(std::memory_order_relaxed); }

void record_pass(const std::string& matrices, double seconds, double bytes, PassReads reads) {
  const auto end = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(g_mu);
  PassTotal& t = totals()[matrices];
  const auto start = end - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(seconds));
  if (g_last_end != std::chrono::steady_clock::time_point{} && start > g_last_end)
    t.seconds_before += std::chrono::duration<double>(start - g_last_end).count();
  g_last_end = end;
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
