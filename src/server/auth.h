// API-key checks in constant time (no early exit that leaks how much of a
// key matched), and a per-key token-bucket rate limiter.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace minnow {

class ApiKeyCheck {
 public:
  explicit ApiKeyCheck(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  bool enabled() const { return !keys_.empty(); }
  // `authorization` is the raw header value ("Bearer KEY").
  bool allows(const std::string& authorization) const;

 private:
  std::vector<std::string> keys_;
};

class RateLimiter {
 public:
  explicit RateLimiter(double per_second) : rate_(per_second) {}
  // True when `key` may make a request now; otherwise sets retry_after_s.
  bool admit(const std::string& key, double& retry_after_s);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace minnow
