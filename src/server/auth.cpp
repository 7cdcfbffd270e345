#include "server/auth.h"

#include <algorithm>

namespace minnow {
namespace {

// Compares every byte of both strings, whatever differs first.
bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned diff = unsigned(a.size() ^ b.size());
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
    diff |= unsigned(x ^ y);
  }
  return diff == 0;
}

}  // namespace

bool ApiKeyCheck::allows(const std::string& authorization) const {
  static const std::string kPrefix = "Bearer ";
  if (authorization.size() <= kPrefix.size() || authorization.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  const std::string presented = authorization.substr(kPrefix.size());
  bool ok = false;
  for (const auto& key : keys_) ok |= equal_constant_time(presented, key);  // no early exit
  return ok;
}

bool RateLimiter::admit(const std::string& key, double& retry_after_s) {
  if (rate_ <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  const double burst = std::max(1.0, rate_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_s = (1.0 - b.tokens) / rate_;
  return false;
}

}  // namespace minnow
