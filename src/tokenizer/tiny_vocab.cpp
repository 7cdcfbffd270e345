#include "tokenizer/tiny_vocab.h"

#include <cstdio>

#include "tokenizer/byte_unicode.h"

namespace minnow {
namespace {

void add(Vocab& v, std::string text, TokenType type, float score = 0.0f) {
  v.tokens.push_back(std::move(text));
  v.types.push_back(type);
  v.scores.push_back(score);
}

}  // namespace

Vocab tiny_bpe_vocab() {
  Vocab v;
  v.name = "<tiny-bpe>";
  v.model = TokenizerModel::kBpe;
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) add(v, byte_to_unicode_utf8(uint8_t(b)), TokenType::kNormal);
  // Merges in rank order; each result becomes a token.
  const std::pair<const char*, const char*> merges[] = {
      {"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"in", "g"}, {"Ġ", "a"}, {"e", "r"}, {"o", "n"},
      {"Ġ", "Ġ"}, {"Ċ", "Ċ"}, {"Ġ", "w"}, {"Ġw", "or"}, {"o", "r"}, {"Ġwor", "ld"}, {"l", "d"},
  };
  for (const auto& [a, b] : merges) {
    v.merges.emplace_back(a, b);
    add(v, std::string(a) + b, TokenType::kNormal);
  }
  add(v, "<|endoftext|>", TokenType::kControl);
  v.bos = v.eos = int32_t(v.tokens.size()) - 1;
  return v;
}

Vocab tiny_spm_vocab() {
  Vocab v;
  v.name = "<tiny-spm>";
  v.model = TokenizerModel::kSpm;
  add(v, "<unk>", TokenType::kUnknown);
  add(v, "<s>", TokenType::kControl);
  add(v, "</s>", TokenType::kControl);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(v, buf, TokenType::kByte);
  }
  add(v, "\xE2\x96\x81", TokenType::kNormal, -1.0f);
  for (char c = 'a'; c <= 'z'; ++c) add(v, std::string(1, c), TokenType::kNormal, -2.0f);
  for (char c = 'A'; c <= 'Z'; ++c) add(v, std::string(1, c), TokenType::kNormal, -3.0f);
  // Higher score merges first.
  const std::pair<const char*, float> pieces[] = {
      {"\xE2\x96\x81t", -0.5f}, {"he", -0.6f}, {"\xE2\x96\x81the", -0.1f}, {"\xE2\x96\x81" "a", -0.7f},
      {"in", -0.8f}, {"ing", -0.2f}, {"\xE2\x96\x81\xE2\x96\x81", -0.9f},
  };
  for (const auto& [text, score] : pieces) add(v, text, TokenType::kNormal, score);
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  return v;
}

}  // namespace minnow
