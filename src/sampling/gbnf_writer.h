// Writing GBNF source text (grammar.h's dialect): literals, character
// classes, sequences and groups, bounded repetition, and decimal ranges as
// digit patterns, so JSON Schema bounds become grammar rules.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minnow {

// `s` as a GBNF string literal, quotes included. Non-ASCII is written as
// \u/\U escapes so grammar source stays ASCII whatever the input.
std::string gbnf_literal(std::string_view s);

namespace gbnf {

__extension__ typedef __int128 Int128;  // bounds of any int64/uint64 schema, plus one, without overflow

// Space-separated sequence, skipping empty parts (compact mode drops `ws`).
std::string seq(std::initializer_list<std::string_view> parts);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// Alternatives as one expression: a group unless there is only one.
std::string group(const std::vector<std::string>& alts);
// Code points of UTF-8 text (a bad byte is kept as itself).
std::vector<uint32_t> code_points(std::string_view s);
// One code point inside a GBNF character class.
std::string class_char(uint32_t cp);
// `atom` repeated lo..hi times (hi absent: unbounded); "" for zero times.
std::string repeat(std::string_view atom, uint64_t lo, std::optional<uint64_t> hi);

// Integers lo..hi inclusive (either side may be open), never "-0"; "" when empty.
std::string integer_range(std::optional<Int128> lo, std::optional<Int128> hi);

struct Bound {
  Int128 value = 0;
  bool exclusive = false;
};
// Decimals (no exponent) between integer bounds; "" when empty.
std::string number_range(std::optional<Bound> lo, std::optional<Bound> hi);

}  // namespace gbnf
}  // namespace minnow
