// GPT-2's reversible byte <-> printable code point table: byte-level BPE
// vocabularies store every byte as a visible character (space -> 'Ġ', LF -> 'Ċ').
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace minnow {

// The code point standing for BYTE.
uint32_t byte_to_unicode(uint8_t byte);
// The UTF-8 of byte_to_unicode(BYTE).
const std::string& byte_to_unicode_utf8(uint8_t byte);
// Inverse of the table for a whole token text; nullopt if any character is
// not in the table (e.g. an added token stored as raw text).
std::optional<std::string> unicode_to_bytes(std::string_view mapped);
// Maps each byte of RAW (used by tests and the loaders).
std::string bytes_to_unicode(std::string_view raw);

}  // namespace minnow
