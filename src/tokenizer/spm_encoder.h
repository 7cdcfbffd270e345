// SentencePiece-style BPE as llama.cpp and sentencepiece run it for Llama 2,
// Mistral, Phi-3, Gemma: spaces become U+2581, a dummy-prefix space is added,
// adjacent pieces merge greedily by the merged piece's score, and characters
// with no piece fall back to <0xNN> byte tokens.
#pragma once

#include <array>
#include <memory>

#include "tokenizer/fragment_encoder.h"
#include "tokenizer/flat_tables.h"
#include "tokenizer/vocab.h"

namespace minnow {

struct SpmScratch;

class SpmEncoder final : public FragmentEncoder {
 public:
  static Expected<std::unique_ptr<FragmentEncoder>> create(const Vocab& vocab);
  Status encode(std::string_view text, bool starts_segment, std::vector<int32_t>& out) const override;

 private:
  explicit SpmEncoder(const Vocab& vocab) : vocab_(vocab) {}
  void merge_segment(std::string_view text, SpmScratch& scratch, std::vector<int32_t>& out) const;

  const Vocab& vocab_;
  bool split_at_spaces_ = false;
  TokenTable text_to_id_;
  std::array<int32_t, 256> byte_tokens_{};
};

// "<0x0A>" -> 10; -1 when TEXT is not a byte token's text.
int parse_byte_token(std::string_view text);

}  // namespace minnow
