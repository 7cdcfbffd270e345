// The loaded form shared by the GGUF and tokenizer.json loaders: everything an
// encoder needs, nothing about where it came from.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace minnow {

struct Vocab {
  TokenizerModel model = TokenizerModel::kSpm;
  std::string name;                 // file name, for error messages
  std::vector<std::string> tokens;  // stored text, as in tokenizer.ggml.tokens
  std::vector<float> scores;        // SPM merge priority; empty for BPE/WPM
  std::vector<TokenType> types;     // same length as tokens
  // "A B" pairs in rank order (BPE only), in the stored (byte-mapped) alphabet.
  std::vector<std::pair<std::string, std::string>> merges;

  // BPE pre-tokenizer: a tokenizer.ggml.pre name, or explicit regexes (from
  // tokenizer.json) applied in sequence.
  std::string pre;
  std::vector<std::string> pre_regexes;
  bool normalize_nfc = false;  // HF NFC normalizer (Qwen2/3)
  bool ignore_merges = false;  // emit a whole pre-token when it is a token (Llama 3)
  bool add_space_prefix = true;  // SPM dummy prefix
  bool wpm_lowercase = true;     // BERT do_lower_case (+ strip accents)

  int32_t bos = kNoToken, eos = kNoToken, eot = kNoToken, pad = kNoToken, unk = kNoToken;
  int32_t sep = kNoToken, cls = kNoToken;
  bool add_bos = false, add_eos = false;
  std::string chat_template;
};

}  // namespace minnow
