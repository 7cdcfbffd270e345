// Finds added/special token texts in raw input, leftmost-longest, in one pass
// over a byte trie (so a vocabulary with thousands of added tokens costs at
// most one walk of the longest token per input byte).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minnow {

class SpecialMatcher {
 public:
  // ALWAYS: matched even without parse_special (user-defined tokens).
  void add(std::string_view text, int32_t id, bool always);
  bool empty() const { return nodes_.size() <= 1; }

  struct Piece {
    std::string_view text;  // raw text between matches (token == -1)
    int32_t token = -1;
  };
  // Splits TEXT into raw-text pieces and matched tokens, in order.
  void split(std::string_view text, bool parse_special, std::vector<Piece>& out) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
    int32_t token = -1;
    bool always = false;
  };
  int32_t child(int32_t node, uint8_t byte) const;
  std::vector<Node> nodes_{Node{}};
  bool has_always_ = false;  // without it and without parse_special, nothing can match
  // First byte -> node, so bytes that start no token cost one load.
  std::array<int32_t, 256> root_{[] { std::array<int32_t, 256> a; a.fill(-1); return a; }()};
};

}  // namespace minnow
