// GBNF source text: literals, character classes, sequences, bounded
// repetition, and decimal ranges written as digit patterns. The JSON Schema
// converter builds its grammars from these pieces.
#include "sampling/gbnf_writer.h"

#include <algorithm>

namespace minnow {
namespace {

std::string hex(uint32_t v, int digits) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string s(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[i] = kDigits[v & 15];
  return s;
}

}  // namespace

std::string gbnf_literal(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20 || c == 0x7F) out += "\\x" + hex(c, 2);
      else out += static_cast<char>(c);
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0F : c & 0x1F;
    bool valid = len > 1 && i + len <= s.size();
    for (int k = 1; valid && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      valid = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!valid) {  // cannot come from nlohmann's dump(); keep the byte visible
      out += "\\x" + hex(c, 2);
      ++i;
      continue;
    }
    out += cp <= 0xFFFF ? "\\u" + hex(cp, 4) : "\\U" + hex(cp, 8);
    i += len;
  }
  return out + "\"";
}

namespace gbnf {

// Space-separated sequence, skipping empty parts (compact mode drops `ws`).
std::string seq(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// Alternatives as one expression: a group unless there is only one.
std::string group(const std::vector<std::string>& alts) {
  return alts.size() == 1 ? alts[0] : "(" + join(alts, " | ") + ")";
}

// Code points of UTF-8 text (nlohmann has validated it; a bad byte is kept as itself).
std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    uint32_t cp = len == 1 ? c : len == 4 ? c & 0x07 : len == 3 ? c & 0x0F : c & 0x1F;
    bool valid = i + len <= s.size();
    for (int k = 1; valid && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      valid = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!valid) len = 1, cp = c;
    out.push_back(cp);
    i += len;
  }
  return out;
}

// One code point inside a GBNF character class.
std::string class_char(uint32_t cp) {
  if (cp == ']' || cp == '[' || cp == '\\' || cp == '-' || cp == '^') return std::string("\\") + static_cast<char>(cp);
  if (cp >= 0x20 && cp < 0x7F) return std::string(1, static_cast<char>(cp));
  if (cp <= 0xFF) return "\\x" + hex(cp, 2);
  return cp <= 0xFFFF ? "\\u" + hex(cp, 4) : "\\U" + hex(cp, 8);
}

// `atom` repeated lo..hi times (hi absent: unbounded); "" for zero times.
std::string repeat(std::string_view atom, uint64_t lo, std::optional<uint64_t> hi) {
  std::string a(atom);
  if (hi && *hi == 0) return "";
  if (!hi) {
    if (lo == 0) return a + "*";
    if (lo == 1) return a + "+";
    return a + "{" + std::to_string(lo) + ",}";
  }
  if (lo == *hi) return lo == 1 ? a : a + "{" + std::to_string(lo) + "}";
  if (lo == 0 && *hi == 1) return a + "?";
  return a + "{" + std::to_string(lo) + "," + std::to_string(*hi) + "}";
}

// ------------------------------------------------------------ integer ranges

namespace {

std::string decimal(Int128 v) {  // v >= 0
  if (v == 0) return "0";
  std::string s;
  for (; v > 0; v /= 10) s += static_cast<char>('0' + static_cast<int>(v % 10));
  std::reverse(s.begin(), s.end());
  return s;
}

std::string digit_class(char a, char b) {
  return a == b ? gbnf_literal(std::string(1, a)) : std::string("[") + a + "-" + b + "]";
}

// Decimal strings of lo.size() digits from lo to hi (same length, lo <= hi).
// Splits at the first differing digit: the low edge, a free middle, the
// high edge — linear in the number of digits.
std::string same_length_range(std::string_view lo, std::string_view hi) {
  size_t p = 0;
  while (p < lo.size() && lo[p] == hi[p]) ++p;
  if (p == lo.size()) return lo.empty() ? "" : gbnf_literal(lo);
  std::string head = p ? gbnf_literal(lo.substr(0, p)) : "";
  const size_t rest = lo.size() - p - 1;
  std::string_view lo_rest = lo.substr(p + 1), hi_rest = hi.substr(p + 1);
  bool lo_free = std::all_of(lo_rest.begin(), lo_rest.end(), [](char c) { return c == '0'; });
  bool hi_free = std::all_of(hi_rest.begin(), hi_rest.end(), [](char c) { return c == '9'; });
  char a = lo[p], b = hi[p];
  char first = lo_free ? a : static_cast<char>(a + 1), last = hi_free ? b : static_cast<char>(b - 1);
  std::vector<std::string> alts;
  if (!lo_free) alts.push_back(seq({gbnf_literal(std::string(1, a)), same_length_range(lo_rest, std::string(rest, '9'))}));
  if (first <= last) alts.push_back(seq({digit_class(first, last), repeat("[0-9]", rest, rest)}));
  if (!hi_free) alts.push_back(seq({gbnf_literal(std::string(1, b)), same_length_range(std::string(rest, '0'), hi_rest)}));
  return seq({head, group(alts)});
}

// Naturals a..b (b absent: unbounded) written without leading zeros; a <= b.
std::string natural_range(Int128 a, std::optional<Int128> b) {
  const std::string sa = decimal(a);
  std::vector<std::string> alts;
  if (b) {
    const std::string sb = decimal(*b);
    for (size_t len = sa.size(); len <= sb.size(); ++len) {
      std::string lo = len == sa.size() ? sa : "1" + std::string(len - 1, '0');
      std::string hi = len == sb.size() ? sb : std::string(len, '9');
      alts.push_back(same_length_range(lo, hi));
    }
  } else {
    alts.push_back(same_length_range(sa, std::string(sa.size(), '9')));
    alts.push_back(seq({"[1-9]", repeat("[0-9]", sa.size(), std::nullopt)}));
  }
  return group(alts);
}

}  // namespace

// Integers lo..hi inclusive (either side may be open). Never emits "-0".
// Returns "" when the range is empty.
std::string integer_range(std::optional<Int128> lo, std::optional<Int128> hi) {
  if (lo && hi && *lo > *hi) return "";
  std::vector<std::string> alts;
  if (!lo || *lo < 0) {  // negative values: "-" and a magnitude
    Int128 from = hi && *hi < 0 ? -*hi : 1;
    std::optional<Int128> to;
    if (lo) to = -*lo;
    alts.push_back(seq({"\"-\"", natural_range(from, to)}));
  }
  if (!hi || *hi >= 0) alts.push_back(natural_range(lo && *lo > 0 ? *lo : 0, hi));
  return group(alts);
}

// ------------------------------------------------------------- number ranges

namespace {


// Non-negative decimals (no exponent) between `lo` and `hi` (hi absent:
// unbounded), where the bounds are integers. Returns "" when empty.
std::string magnitude_range(Bound lo, std::optional<Bound> hi) {
  const std::string any_fraction = "(\".\" [0-9]+)?";
  std::vector<std::string> alts;
  // Integer part == lo with a nonzero fraction: just above an exclusive lo.
  if (lo.exclusive && (!hi || lo.value + 1 <= hi->value))
    alts.push_back(seq({gbnf_literal(decimal(lo.value)), "\".\" [0-9]* [1-9] [0-9]*"}));
  // Integer parts strictly inside: any fraction.
  Int128 first = lo.value + (lo.exclusive ? 1 : 0);
  if (!hi) alts.push_back(seq({natural_range(first, std::nullopt), any_fraction}));
  else if (first <= hi->value - 1) alts.push_back(seq({natural_range(first, hi->value - 1), any_fraction}));
  // Exactly hi, with at most zeros after the point.
  if (hi && !hi->exclusive && (hi->value > lo.value || (hi->value == lo.value && !lo.exclusive)))
    alts.push_back(seq({gbnf_literal(decimal(hi->value)), "(\".\" \"0\"+)?"}));
  return alts.empty() ? "" : group(alts);
}

}  // namespace

// Decimals between integer bounds; "" when empty.
std::string number_range(std::optional<Bound> lo, std::optional<Bound> hi) {
  std::vector<std::string> alts;
  if (!lo || lo->value < 0) {  // negative side, as magnitudes: bounds swap
    Bound mlo;
    if (hi && (hi->value < 0 || (hi->value == 0 && hi->exclusive))) mlo = {-hi->value, hi->exclusive};
    std::optional<Bound> mhi;
    if (lo) mhi = Bound{-lo->value, lo->exclusive};
    std::string m = magnitude_range(mlo, mhi);
    if (!m.empty()) alts.push_back(seq({"\"-\"", m}));
  }
  if (!hi || hi->value > 0 || (hi->value == 0 && !hi->exclusive)) {
    Bound nlo = lo && lo->value >= 0 ? *lo : Bound{};
    std::string m = magnitude_range(nlo, hi);
    if (!m.empty()) alts.push_back(m);
  }
  return alts.empty() ? "" : group(alts);
}

}  // namespace gbnf
}  // namespace minnow
