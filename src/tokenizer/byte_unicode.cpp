#include "tokenizer/byte_unicode.h"

#include <array>

#include "tokenizer/utf8.h"

namespace minnow {
namespace {

struct ByteTable {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 512> from_cp{};  // every mapped code point is < 0x144

  ByteTable() {
    from_cp.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the rest are moved, in
    // byte order, to U+0100 upwards.
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? b : next++;
      from_cp[to_cp[b]] = int16_t(b);
      utf8::append(to_utf8[b], to_cp[b]);
    }
  }
};

const ByteTable& table() {
  static const ByteTable t;
  return t;
}

}  // namespace

uint32_t byte_to_unicode(uint8_t byte) { return table().to_cp[byte]; }
const std::string& byte_to_unicode_utf8(uint8_t byte) { return table().to_utf8[byte]; }

std::optional<std::string> unicode_to_bytes(std::string_view mapped) {
  const ByteTable& t = table();
  std::string out;
  out.reserve(mapped.size());
  size_t i = 0;
  while (i < mapped.size()) {
    const utf8::Decoded d = utf8::decode(mapped.substr(i));
    if (d.len == 0 || d.cp >= t.from_cp.size() || t.from_cp[d.cp] < 0) return std::nullopt;
    out += char(t.from_cp[d.cp]);
    i += d.len;
  }
  return out;
}

std::string bytes_to_unicode(std::string_view raw) {
  std::string out;
  for (char c : raw) out += byte_to_unicode_utf8(uint8_t(c));
  return out;
}

}  // namespace minnow
