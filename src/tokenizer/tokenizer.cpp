#include "tokenizer/tokenizer.h"

#include "tokenizer/bpe_encoder.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/special_matcher.h"
#include "tokenizer/spm_encoder.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wpm_encoder.h"

namespace minnow {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581

std::string replace_spm_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, kSpmSpace.size()) == kSpmSpace) {
      out += ' ';
      i += kSpmSpace.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

// The bytes a token stands for, special tokens rendered as their text.
std::string piece_of(const Vocab& v, size_t id) {
  const std::string& text = v.tokens[id];
  const TokenType type = v.types[id];
  if (type == TokenType::kControl || type == TokenType::kUnknown) return text;
  switch (v.model) {
    case TokenizerModel::kSpm:
      if (type == TokenType::kByte) {
        const int b = parse_byte_token(text);
        if (b >= 0) return std::string(1, char(b));
      }
      return replace_spm_spaces(text);
    case TokenizerModel::kBpe:
      if (type == TokenType::kNormal || type == TokenType::kByte) {
        if (auto raw = unicode_to_bytes(text)) return *raw;
      }
      return text;  // user-defined tokens are stored as raw text
    case TokenizerModel::kWpm:
      if (text.starts_with(kSpmSpace)) return " " + text.substr(kSpmSpace.size());
      return text;
  }
  return text;
}

Status check_id(const Vocab& v, int32_t id, const char* field) {
  if (id == kNoToken || (id >= 0 && size_t(id) < v.tokens.size())) return Status::success();
  return out_of_range(std::string(field) + " " + std::to_string(id) + " is not a token id (vocabulary has " +
                      std::to_string(v.tokens.size()) + ")")
      .with_file(v.name);
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Expected<Tokenizer> Tokenizer::create(Vocab vocab) {
  if (vocab.tokens.empty()) return invalid_argument("vocabulary is empty").with_file(vocab.name);
  if (vocab.tokens.size() > size_t(INT32_MAX)) return out_of_range("vocabulary too large").with_file(vocab.name);
  if (vocab.types.empty()) vocab.types.assign(vocab.tokens.size(), TokenType::kNormal);
  if (vocab.types.size() != vocab.tokens.size())
    return invalid_argument("token_type has " + std::to_string(vocab.types.size()) + " entries for " +
                            std::to_string(vocab.tokens.size()) + " tokens")
        .with_file(vocab.name);
  // Older conversions leave types at 0; those tokens are ordinary text.
  for (TokenType& type : vocab.types)
    if (type == TokenType::kUndefined) type = TokenType::kNormal;
  MINNOW_TRY(check_id(vocab, vocab.bos, "bos_token_id"));
  MINNOW_TRY(check_id(vocab, vocab.eos, "eos_token_id"));
  MINNOW_TRY(check_id(vocab, vocab.eot, "eot_token_id"));
  MINNOW_TRY(check_id(vocab, vocab.pad, "padding_token_id"));
  MINNOW_TRY(check_id(vocab, vocab.unk, "unknown_token_id"));
  MINNOW_TRY(check_id(vocab, vocab.cls, "cls_token_id"));
  MINNOW_TRY(check_id(vocab, vocab.sep, "seperator_token_id"));

  Tokenizer t;
  auto owned = std::make_unique<Vocab>(std::move(vocab));
  const Vocab& v = *owned;
  Expected<std::unique_ptr<FragmentEncoder>> encoder = Error(ErrorCode::kInternal, "no encoder");
  switch (v.model) {
    case TokenizerModel::kSpm: encoder = SpmEncoder::create(v); break;
    case TokenizerModel::kBpe: encoder = BpeEncoder::create(v); break;
    case TokenizerModel::kWpm: encoder = WpmEncoder::create(v); break;
  }
  if (!encoder.ok()) return std::move(encoder).error();
  t.encoder_ = std::move(encoder).value();

  auto specials = std::make_unique<SpecialMatcher>();
  t.pieces_.reserve(v.tokens.size());
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    t.pieces_.push_back(piece_of(v, id));
    const TokenType type = v.types[id];
    if (type == TokenType::kControl || type == TokenType::kUnknown || type == TokenType::kUserDefined)
      specials->add(v.tokens[id], int32_t(id), type == TokenType::kUserDefined);
  }
  t.specials_ = std::move(specials);
  t.vocab_ = std::move(owned);
  return t;
}

Expected<std::vector<int32_t>> Tokenizer::encode(std::string_view text, EncodeOptions options) const {
  std::vector<int32_t> out;
  // Typical text is 2-5 bytes per token; one allocation covers most inputs.
  out.reserve(text.size() / 2 + 4);
  if (options.add_special && vocab_->add_bos && vocab_->bos >= 0) out.push_back(vocab_->bos);
  std::vector<SpecialMatcher::Piece> pieces;
  specials_->split(text, options.parse_special, pieces);
  bool starts_segment = !options.continues_text;
  for (const auto& piece : pieces) {
    if (piece.token >= 0) {
      out.push_back(piece.token);
      starts_segment = true;
      continue;
    }
    MINNOW_TRY(encoder_->encode(piece.text, starts_segment, out));
    starts_segment = false;
  }
  if (options.add_special && vocab_->add_eos && vocab_->eos >= 0) out.push_back(vocab_->eos);
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  if (id < 0 || size_t(id) >= pieces_.size()) return {};
  if (!render_special && is_special(id)) return {};
  return pieces_[size_t(id)];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  bool first_text = true;
  for (int32_t id : ids) {
    if (id < 0 || size_t(id) >= pieces_.size()) continue;
    const bool special = is_special(id);
    if (special && skip_special) continue;
    std::string_view piece = pieces_[size_t(id)];
    // The encoder's dummy-prefix space is not part of the text.
    if (first_text && !special && strips_leading_space() && piece.starts_with(' ')) piece.remove_prefix(1);
    if (!special) first_text = false;
    out += piece;
  }
  return out;
}

TokenizerModel Tokenizer::model() const { return vocab_->model; }
int32_t Tokenizer::n_vocab() const { return int32_t(vocab_->tokens.size()); }
const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string kEmpty;
  return (id >= 0 && size_t(id) < vocab_->tokens.size()) ? vocab_->tokens[size_t(id)] : kEmpty;
}
TokenType Tokenizer::token_type(int32_t id) const {
  return (id >= 0 && size_t(id) < vocab_->types.size()) ? vocab_->types[size_t(id)] : TokenType::kUndefined;
}
std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  for (size_t id = 0; id < vocab_->tokens.size(); ++id)
    if (vocab_->tokens[id] == text) return int32_t(id);
  return std::nullopt;
}
bool Tokenizer::is_special(int32_t id) const {
  const TokenType t = token_type(id);
  return t == TokenType::kControl || t == TokenType::kUnknown;
}
int32_t Tokenizer::bos() const { return vocab_->bos; }
int32_t Tokenizer::eos() const { return vocab_->eos; }
int32_t Tokenizer::eot() const { return vocab_->eot; }
int32_t Tokenizer::pad() const { return vocab_->pad; }
int32_t Tokenizer::unk() const { return vocab_->unk; }
bool Tokenizer::add_bos() const { return vocab_->add_bos; }
bool Tokenizer::add_eos() const { return vocab_->add_eos; }
bool Tokenizer::strips_leading_space() const {
  return (vocab_->model == TokenizerModel::kSpm && vocab_->add_space_prefix) || vocab_->model == TokenizerModel::kWpm;
}
const std::string& Tokenizer::chat_template() const { return vocab_->chat_template; }

}  // namespace minnow
