#include "tokenizer/wpm_encoder.h"

#include <utf8proc.h>

#include "tokenizer/utf8.h"

namespace minnow {
namespace {

constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581
// BERT gives up on longer words and emits [UNK] for them.
constexpr size_t kMaxCharsPerWord = 100;

bool is_cjk_ideograph(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_whitespace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || utf8proc_category(utf8proc_int32_t(cp)) == UTF8PROC_CATEGORY_ZS;
}

bool is_control(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (utf8proc_category(utf8proc_int32_t(cp))) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(uint32_t cp) {
  // BERT counts all non-alphanumeric ASCII as punctuation ("$", "^", "`"...).
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  const auto cat = utf8proc_category(utf8proc_int32_t(cp));
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

// Lower-case, then NFD and drop combining marks (Mn), as BERT's
// do_lower_case + strip_accents.
void append_folded(uint32_t cp, bool lowercase, std::vector<uint32_t>& out) {
  if (!lowercase) {
    out.push_back(cp);
    return;
  }
  const auto lower = utf8proc_int32_t(utf8proc_tolower(utf8proc_int32_t(cp)));
  utf8proc_int32_t decomposed[8];
  int last_boundclass = 0;
  const utf8proc_ssize_t n = utf8proc_decompose_char(lower, decomposed, 8, UTF8PROC_DECOMPOSE, &last_boundclass);
  if (n < 0 || n > 8) {
    out.push_back(uint32_t(lower));
    return;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i)
    if (utf8proc_category(decomposed[i]) != UTF8PROC_CATEGORY_MN) out.push_back(uint32_t(decomposed[i]));
}

}  // namespace

Expected<std::unique_ptr<FragmentEncoder>> WpmEncoder::create(const Vocab& vocab) {
  auto enc = std::unique_ptr<WpmEncoder>(new WpmEncoder(vocab));
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    enc->text_to_id_.insert(vocab.tokens[id], int32_t(id));
    enc->max_token_bytes_ = std::max(enc->max_token_bytes_, vocab.tokens[id].size());
  }
  return std::unique_ptr<FragmentEncoder>(std::move(enc));
}

void WpmEncoder::encode_word(const std::string& word, size_t n_chars, std::vector<int32_t>& out) const {
  if (n_chars > kMaxCharsPerWord) {
    if (vocab_.unk >= 0) out.push_back(vocab_.unk);
    return;
  }
  // Pieces are looked up in "▁word": the first piece carries the word-start mark.
  const std::string marked = std::string(kWordStart) + word;
  const size_t first_piece_size = out.size();
  size_t start = 0;
  while (start < marked.size()) {
    size_t end = std::min(marked.size(), start + max_token_bytes_);
    int32_t found = -1;
    for (; end > start; --end) {
      // Only cut at character boundaries (never inside a multi-byte character).
      if (end < marked.size() && (uint8_t(marked[end]) & 0xC0) == 0x80) continue;
      if (start == 0 && end <= kWordStart.size()) break;  // "▁" alone is not a piece of this word
      found = text_to_id_.find(std::string_view(marked).substr(start, end - start));
      if (found >= 0) break;
    }
    if (found < 0) {
      out.resize(first_piece_size);
      if (vocab_.unk >= 0) out.push_back(vocab_.unk);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

Status WpmEncoder::encode(std::string_view text, bool starts_segment, std::vector<int32_t>& out) const {
  std::vector<uint32_t> folded;
  std::string word;
  size_t word_chars = 0;
  auto flush = [&] {
    if (!word.empty()) encode_word(word, word_chars, out);
    word.clear();
    word_chars = 0;
  };
  for (size_t i = 0; i < text.size();) {
    const utf8::Decoded d = utf8::decode(text.substr(i));
    i += d.len ? d.len : 1;
    if (d.len == 0 || d.cp == 0 || d.cp == 0xFFFD || is_control(d.cp)) continue;  // BERT's clean_text
    if (is_whitespace(d.cp)) {
      flush();
      continue;
    }
    folded.clear();
    append_folded(d.cp, vocab_.wpm_lowercase, folded);
    for (uint32_t cp : folded) {
      if (is_punctuation(cp) || is_cjk_ideograph(cp)) {
        flush();
        utf8::append(word, cp);
        word_chars = 1;
        flush();
      } else {
        utf8::append(word, cp);
        ++word_chars;
      }
    }
  }
  flush();
  return Status::success();
}

}  // namespace minnow
