#include "tokenizer/special_token_guess.h"

#include <string_view>

namespace minnow {
namespace {

int32_t find_text(const Vocab& v, std::string_view text) {
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (v.tokens[id] == text) return int32_t(id);
  return kNoToken;
}

}  // namespace

void guess_missing_special_tokens(Vocab& v) {
  if (v.eot == kNoToken) {
    for (std::string_view text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|end_of_turn|>"}) {
      const int32_t id = find_text(v, text);
      if (id != kNoToken && size_t(id) < v.types.size() && v.types[size_t(id)] == TokenType::kControl) {
        v.eot = id;
        break;
      }
    }
  }
  if (v.unk == kNoToken && !v.types.empty()) {
    for (size_t id = 0; id < v.types.size(); ++id)
      if (v.types[id] == TokenType::kUnknown && (v.tokens[id] == "<unk>" || v.tokens[id] == "[UNK]")) {
        v.unk = int32_t(id);
        break;
      }
  }
}

}  // namespace minnow
