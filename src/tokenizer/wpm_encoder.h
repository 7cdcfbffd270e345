// WordPiece as BERT runs it: the "basic tokenizer" (drop control characters,
// lower-case and strip accents, isolate CJK ideographs and punctuation, split
// on whitespace) followed by greedy longest-match-first pieces per word.
//
// GGUF BERT vocabularies (llama.cpp's conversion) mark word-initial pieces with
// a leading U+2581 and store continuation pieces bare; a HF vocabulary's
// "##" continuations are converted to that form by the tokenizer.json loader.
#pragma once

#include <memory>

#include "tokenizer/fragment_encoder.h"
#include "tokenizer/flat_tables.h"
#include "tokenizer/vocab.h"

namespace minnow {

class WpmEncoder final : public FragmentEncoder {
 public:
  static Expected<std::unique_ptr<FragmentEncoder>> create(const Vocab& vocab);
  Status encode(std::string_view text, bool starts_segment, std::vector<int32_t>& out) const override;

 private:
  explicit WpmEncoder(const Vocab& vocab) : vocab_(vocab) {}
  void encode_word(const std::string& word, size_t n_chars, std::vector<int32_t>& out) const;

  const Vocab& vocab_;
  TokenTable text_to_id_;
  size_t max_token_bytes_ = 0;
};

}  // namespace minnow
