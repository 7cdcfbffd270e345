// Text <-> token ids for the three tokenizer families minnow runs:
// SentencePiece-style BPE ("llama"/SPM), byte-level BPE ("gpt2") and
// WordPiece ("bert"). One representation, loaded from GGUF metadata or from a
// Hugging Face tokenizer.json.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace minnow {

class GgufFile;
struct Vocab;
class FragmentEncoder;
class SpecialMatcher;

// Values of GGUF tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class TokenizerModel { kSpm, kBpe, kWpm };

struct EncodeOptions {
  // Add BOS/EOS (CLS/SEP for WordPiece) as the tokenizer's config says.
  bool add_special = true;
  // Recognise the text of control tokens (e.g. "<|im_start|>") in the input.
  // Off by default so user text cannot inject control tokens. User-defined
  // tokens are always matched, as in llama.cpp and HF.
  bool parse_special = false;
  // The text continues earlier ordinary text (encoding a prompt in pieces):
  // no SentencePiece space prefix at its start.
  bool continues_text = false;
};

inline constexpr int32_t kNoToken = -1;

class Tokenizer {
 public:
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Validates VOCAB and builds the encoder for its model.
  static Expected<Tokenizer> create(Vocab vocab);

  Expected<std::vector<int32_t>> encode(std::string_view text, EncodeOptions options = {}) const;
  // Concatenated bytes of the pieces. Control/unknown tokens are dropped when
  // SKIP_SPECIAL; the leading space SPM/WordPiece add is removed.
  std::string decode(std::span<const int32_t> ids, bool skip_special = true) const;
  // The bytes one token stands for (may be part of a UTF-8 character). Empty
  // for out-of-range ids and, unless RENDER_SPECIAL, control tokens.
  std::string token_to_piece(int32_t id, bool render_special = false) const;

  TokenizerModel model() const;
  int32_t n_vocab() const;
  // The token's text as stored in the vocabulary (e.g. "Ġthe", "▁the", "<0x0A>").
  const std::string& token_text(int32_t id) const;
  TokenType token_type(int32_t id) const;
  // Exact match on stored vocabulary text.
  std::optional<int32_t> find_token(std::string_view text) const;
  bool is_special(int32_t id) const;  // control or unknown

  int32_t bos() const;
  int32_t eos() const;
  int32_t eot() const;
  int32_t pad() const;
  int32_t unk() const;
  bool add_bos() const;
  bool add_eos() const;
  // Whether decode strips the leading space the encoder added (SPM dummy prefix).
  bool strips_leading_space() const;
  const std::string& chat_template() const;

 private:
  Tokenizer();
  std::unique_ptr<const Vocab> vocab_;
  std::vector<std::string> pieces_;  // decoded bytes per id
  std::unique_ptr<const FragmentEncoder> encoder_;
  std::unique_ptr<const SpecialMatcher> specials_;
};

// tokenizer.ggml.* metadata (vocab-only files are fine).
Expected<Tokenizer> load_tokenizer_from_gguf(const GgufFile& file);
// HF tokenizer.json; CONFIG_PATH (tokenizer_config.json) is optional and
// supplies bos/eos/pad, add_bos_token/add_eos_token and chat_template. An
// empty CONFIG_PATH means "look beside tokenizer.json".
Expected<Tokenizer> load_tokenizer_json(const std::string& json_path, const std::string& config_path = "");
// The same from in-memory text (tests, fuzzing).
Expected<Tokenizer> parse_tokenizer_json(std::string_view json_text, std::string_view config_text = {},
                                         const std::string& name = "<memory>");

}  // namespace minnow
