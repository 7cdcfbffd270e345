#include "tokenizer/streaming_detokenizer.h"

#include "tokenizer/utf8.h"

namespace minnow {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Invalid sequences can never complete; they are replaced rather than held.
std::string sanitize(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t len = utf8::sequence_length(bytes.substr(i));
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace

std::string StreamingDetokenizer::push(int32_t id) {
  const bool special = tokenizer_.is_special(id);
  if (special && skip_special_) return {};
  std::string piece = tokenizer_.token_to_piece(id, /*render_special=*/true);
  if (!special) {
    if (!seen_text_ && tokenizer_.strips_leading_space() && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    seen_text_ = true;
  }
  pending_ += piece;
  const size_t complete = utf8::complete_prefix_length(pending_);
  std::string out = sanitize(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string StreamingDetokenizer::finish() {
  std::string out = pending_.empty() ? std::string() : sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace minnow
