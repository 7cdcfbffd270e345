#include "cli/terminal_text.h"

namespace minnow::cli {

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\t') {
      out += char(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += '^';
      out += char(c ^ 0x40);  // ESC (0x1B) -> '[', DEL (0x7F) -> '?'
    } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0 &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out += char(c);
    }
  }
  return out;
}

}  // namespace minnow::cli
