#include "tokenizer/special_matcher.h"

#include <algorithm>

namespace minnow {

int32_t SpecialMatcher::child(int32_t node, uint8_t byte) const {
  const auto& c = nodes_[size_t(node)].children;
  auto it = std::lower_bound(c.begin(), c.end(), std::make_pair(byte, int32_t(-1)));
  return (it != c.end() && it->first == byte) ? it->second : -1;
}

void SpecialMatcher::add(std::string_view text, int32_t id, bool always) {
  if (text.empty()) return;
  int32_t node = 0;
  for (char ch : text) {
    const auto byte = uint8_t(ch);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = int32_t(nodes_.size());
      nodes_.emplace_back();
      auto& c = nodes_[size_t(node)].children;
      c.insert(std::lower_bound(c.begin(), c.end(), std::make_pair(byte, int32_t(-1))),
               std::make_pair(byte, next));
    }
    node = next;
  }
  root_[uint8_t(text[0])] = child(0, uint8_t(text[0]));
  Node& n = nodes_[size_t(node)];
  // The first registration of a text wins (lowest id, as vocabularies list them).
  if (n.token < 0) {
    n.token = id;
    n.always = always;
    has_always_ = has_always_ || always;
  }
}

void SpecialMatcher::split(std::string_view text, bool parse_special, std::vector<Piece>& out) const {
  if (!parse_special && !has_always_) {
    if (!text.empty()) out.push_back({text, -1});
    return;
  }
  size_t raw_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    int32_t node = root_[uint8_t(text[i])];
    if (node < 0) {
      ++i;
      continue;
    }
    int32_t best_token = -1;
    size_t best_len = 0;
    for (size_t j = i; j < text.size(); ++j) {
      if (j > i) node = child(node, uint8_t(text[j]));
      if (node < 0) break;
      const Node& n = nodes_[size_t(node)];
      if (n.token >= 0 && (parse_special || n.always)) {
        best_token = n.token;
        best_len = j - i + 1;
      }
    }
    if (best_token < 0) {
      ++i;
      continue;
    }
    if (i > raw_start) out.push_back({text.substr(raw_start, i - raw_start), -1});
    out.push_back({text.substr(i, best_len), best_token});
    i += best_len;
    raw_start = i;
  }
  if (raw_start < text.size()) out.push_back({text.substr(raw_start), -1});
}

}  // namespace minnow
