#include "engine/text_model.h"

#include <algorithm>
#include <cstdio>

#include "gguf/gguf_file.h"
#include "template/chat_template.h"

namespace minnow {
namespace {

// Control-token texts that end a turn in the template families we serve.
constexpr const char* kEndOfTurnTexts[] = {"<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>",
                                           "<|endoftext|>", "<|end_of_text|>", "<EOT>", "</s>", "<｜end▁of▁sentence｜>"};

std::string token_string(const Tokenizer& t, int32_t id) {
  return id >= 0 && id < t.n_vocab() ? t.token_text(id) : std::string();
}

}  // namespace

Expected<std::shared_ptr<const TextModel>> TextModel::load(const std::string& path,
                                                           const std::string& template_override) {
  MINNOW_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  auto tok = load_tokenizer_from_gguf(file);
  if (!tok.ok()) return std::move(tok).error().with_file(path);
  file.drop_arrays("tokenizer.ggml.");  // the tokenizer has its own copy (~20 MB for a 150k vocabulary)
  MINNOW_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::from_file(std::move(file)));
  if (tok->n_vocab() > int32_t(model->hparams().n_vocab))
    return corrupt("the tokenizer has " + std::to_string(tok->n_vocab()) + " tokens but the model only " +
                   std::to_string(model->hparams().n_vocab))
        .with_file(path);
  std::shared_ptr<TextModel> tm(new TextModel(std::move(model), std::move(*tok)));
  const Tokenizer& t = tm->tokenizer_;
  tm->chat_template_ = !template_override.empty() ? template_override : t.chat_template();
  if (tm->chat_template_.empty()) {
    tm->chat_template_ = kChatMlFallbackTemplate;
    tm->template_is_fallback_ = true;
  }
  if (Status s = check_template_syntax(tm->chat_template_); !s.ok())
    return std::move(s).error().with_file(path).with_field("tokenizer.chat_template");
  for (int32_t id : {t.eos(), t.eot()})
    if (id != kNoToken) tm->stop_tokens_.push_back(id);
  for (const char* text : kEndOfTurnTexts)
    if (auto id = t.find_token(text); id && t.is_special(*id) &&
                                      std::find(tm->stop_tokens_.begin(), tm->stop_tokens_.end(), *id) ==
                                          tm->stop_tokens_.end())
      tm->stop_tokens_.push_back(*id);
  return std::shared_ptr<const TextModel>(std::move(tm));
}

Expected<std::string> TextModel::render_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                             bool add_generation_prompt) const {
  ChatTemplateInputs in;
  in.messages = messages;
  in.tools = tools;
  in.add_generation_prompt = add_generation_prompt;
  in.bos_token = token_string(tokenizer_, tokenizer_.bos());
  in.eos_token = token_string(tokenizer_, tokenizer_.eos());
  return render_chat_template(chat_template_, in);
}

Expected<std::vector<int32_t>> TextModel::tokenize(const std::string& text, bool parse_special) const {
  EncodeOptions o;
  o.add_special = true;
  o.parse_special = parse_special;
  return tokenizer_.encode(text, o);
}

Expected<std::vector<int32_t>> TextModel::tokenize_chat(const std::string& rendered,
                                                        const std::vector<std::string>& untrusted) const {
  EncodeOptions special;
  special.add_special = false;
  special.parse_special = true;
  // Almost always no message holds control-token text: then the whole prompt
  // is tokenized at once, exactly as the template's authors intended.
  std::vector<std::string> hostile;
  for (const auto& text : untrusted) {
    MINNOW_ASSIGN_OR_RETURN(auto ids, tokenizer_.encode(text, special));
    for (int32_t id : ids)
      if (tokenizer_.token_type(id) == TokenType::kControl) {
        hostile.push_back(text);
        break;
      }
  }
  std::vector<int32_t> out;
  if (hostile.empty()) {
    MINNOW_ASSIGN_OR_RETURN(out, tokenizer_.encode(rendered, special));
  } else {
    // Tokenize the hostile spans as plain text, the rest with control tokens,
    // each piece continuing the text before it as if encoded in one go.
    EncodeOptions plain;
    plain.add_special = false;
    auto append = [&](const std::string& text, EncodeOptions o) -> Status {
      if (text.empty()) return Status::success();
      o.continues_text = !out.empty() && !tokenizer_.is_special(out.back());
      MINNOW_ASSIGN_OR_RETURN(auto ids, tokenizer_.encode(text, o));
      out.insert(out.end(), ids.begin(), ids.end());
      return Status::success();
    };
    size_t pos = 0;
    for (const auto& text : hostile) {
      const size_t at = rendered.find(text, pos);
      if (at == std::string::npos) continue;
      MINNOW_TRY(append(rendered.substr(pos, at - pos), special));
      MINNOW_TRY(append(text, plain));
      pos = at + text.size();
    }
    MINNOW_TRY(append(rendered.substr(pos), special));
  }
  // Templates usually write the BOS text themselves; add it only when missing.
  if (tokenizer_.add_bos() && tokenizer_.bos() != kNoToken && (out.empty() || out.front() != tokenizer_.bos()))
    out.insert(out.begin(), tokenizer_.bos());
  return out;
}

std::string Utf8StreamBuffer::push(const std::string& bytes) {
  pending_ += bytes;
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const unsigned char c = pending_[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0) {  // stray continuation or invalid lead byte
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (i + len > pending_.size()) break;  // wait for the rest of the character
    bool valid = true;
    for (size_t k = 1; k < len; ++k) valid &= (static_cast<unsigned char>(pending_[i + k]) >> 6) == 2;
    if (!valid) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(pending_, i, len);
    i += len;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8StreamBuffer::flush() {
  std::string out = pending_.empty() ? "" : "\xEF\xBF\xBD";
  pending_.clear();
  return out;
}

}  // namespace minnow

namespace minnow {

std::shared_ptr<const GrammarVocab> TextModel::token_table() const {
  std::call_once(token_table_once_, [&] {
    // The model's vocabulary may be larger than the tokenizer's (padding
    // rows): those ids have no text, so a grammar never allows them.
    const size_t n = std::max<size_t>(size_t(tokenizer_.n_vocab()), model_->hparams().n_vocab);
    std::vector<std::string> pieces(n);
    for (size_t id = 0; id < size_t(tokenizer_.n_vocab()); ++id) pieces[id] = tokenizer_.token_to_piece(int32_t(id));
    token_table_ = std::make_shared<GrammarVocab>(std::move(pieces), stop_tokens_);
    automatons_ = std::make_unique<GrammarAutomatonCache>(token_table_);
  });
  return token_table_;
}

std::shared_ptr<GrammarAutomaton> TextModel::automaton_for(const std::shared_ptr<const Grammar>& grammar) const {
  (void)token_table();
  return automatons_->get(grammar);
}

}  // namespace minnow
