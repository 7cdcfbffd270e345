// What each tokenizer family implements: ids for one run of ordinary text
// (special tokens have already been cut out by SpecialMatcher).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace minnow {

class FragmentEncoder {
 public:
  virtual ~FragmentEncoder() = default;
  // Appends the ids of TEXT (never empty). STARTS_SEGMENT: TEXT begins the
  // input or follows a special token (SPM adds its dummy-prefix space there).
  virtual Status encode(std::string_view text, bool starts_segment, std::vector<int32_t>& out) const = 0;
};

}  // namespace minnow
