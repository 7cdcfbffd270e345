// Turns ids into text as they are generated. Bytes of a UTF-8 character split
// across tokens (byte fallback, byte-level BPE) are held back until the
// character is complete, so a caller never sees half a character.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace minnow {

class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special = true)
      : tokenizer_(tokenizer), skip_special_(skip_special) {}

  // The text that became complete with ID (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held (an unfinished character, replaced by U+FFFD).
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  bool seen_text_ = false;
  std::string pending_;
};

}  // namespace minnow
