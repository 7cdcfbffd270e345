// Finds stop strings in streamed text, across token boundaries. Text that
// could still be the start of a stop string is held back until it cannot.
#pragma once

#include <string>
#include <vector>

namespace minnow {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  struct Result {
    std::string emit;    // safe to show now
    bool stopped = false;
  };
  // Appends text; once stopped, everything later is dropped.
  Result feed(const std::string& text);
  // End of generation: releases what was held back.
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace minnow
