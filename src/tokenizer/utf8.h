// Minimal UTF-8 stepping for the tokenizers. Invalid bytes are reported, not
// guessed at, so each encoder can choose its byte-fallback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace minnow::utf8 {

// Length of the well-formed sequence starting at s[0] (1..4), or 0 when the
// bytes there are not one (bad lead, bad continuation, overlong, surrogate,
// > U+10FFFF, or truncated).
size_t sequence_length(std::string_view s);
// The code point at the start of S and its length; length 0 as above.
struct Decoded {
  uint32_t cp = 0;
  size_t len = 0;
};
Decoded decode(std::string_view s);
void append(std::string& out, uint32_t cp);
// Bytes of S up to the start of an incomplete-but-valid-so-far trailing
// sequence (which a later chunk might complete).
size_t complete_prefix_length(std::string_view s);
bool is_valid(std::string_view s);

}  // namespace minnow::utf8
