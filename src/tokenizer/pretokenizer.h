// Splits text into pre-tokens with a sequence of regexes (PCRE2, JIT, UTF +
// Unicode properties). Each regex splits every piece the previous one made;
// both matches and the text between them become pieces ("Isolated" in HF).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace minnow {

class CompiledRegex;

class Pretokenizer {
 public:
  // A tokenizer.ggml.pre value (gpt-2, llama-bpe, qwen2, deepseek-llm, ...).
  // Unknown names are an error that names them.
  static Expected<Pretokenizer> from_name(std::string_view pre);
  static Expected<Pretokenizer> from_regexes(const std::vector<std::string>& patterns);

  using PieceFn = std::function<void(std::string_view)>;
  // Calls EMIT with each piece (a view into TEXT), in order, without
  // collecting them: a 10 MB input never builds millions of views at once.
  Status for_each_piece(std::string_view text, const PieceFn& emit) const;
  // OUT receives views into TEXT.
  Status split(std::string_view text, std::vector<std::string_view>& out) const;
  bool empty() const { return regexes_.empty(); }

 private:
  Status split_stage(size_t stage, std::string_view piece, const PieceFn& emit) const;
  std::vector<std::shared_ptr<const CompiledRegex>> regexes_;
};

// The regexes for a tokenizer.ggml.pre value; empty when unknown.
std::vector<std::string> pretokenizer_patterns(std::string_view pre, bool* known);
// Whether llama.cpp emits whole pre-tokens found in the vocabulary (Llama 3).
bool pretokenizer_ignores_merges(std::string_view pre);

}  // namespace minnow
