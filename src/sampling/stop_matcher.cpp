#include "sampling/stop_matcher.h"

#include <algorithm>

namespace minnow {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

StopMatcher::Result StopMatcher::feed(const std::string& text) {
  Result r;
  if (stopped_) {
    r.stopped = true;
    return r;
  }
  pending_ += text;
  size_t earliest = std::string::npos;
  for (const auto& s : stops_) earliest = std::min(earliest, pending_.find(s));
  if (earliest != std::string::npos) {
    r.emit = pending_.substr(0, earliest);
    pending_.clear();
    stopped_ = r.stopped = true;
    return r;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const auto& s : stops_)
    for (size_t len = std::min(s.size() - 1, pending_.size()); len > hold; --len)
      if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
  r.emit = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return r;
}

std::string StopMatcher::flush() {
  std::string out;
  if (!stopped_) out.swap(pending_);
  return out;
}

}  // namespace minnow
