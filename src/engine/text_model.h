// A generative or embedding model with its tokenizer and chat template: what
// the CLI and the server load by path. Immutable after load; shared by
// requests.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/model.h"
#include "sampling/grammar_matcher.h"
#include "tokenizer/tokenizer.h"

namespace minnow {

class TextModel {
 public:
  // `template_override`: Jinja source to use instead of the model's own.
  static Expected<std::shared_ptr<const TextModel>> load(const std::string& path,
                                                         const std::string& template_override = "");

  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const std::string& chat_template() const { return chat_template_; }
  bool template_is_fallback() const { return template_is_fallback_; }
  // Tokens that end generation: EOS, EOT and the end-of-turn control tokens.
  const std::vector<int32_t>& stop_tokens() const { return stop_tokens_; }
  // The vocabulary as bytes for grammar-constrained decoding (built on first use).
  std::shared_ptr<const GrammarVocab> token_table() const;
  // A compiled automaton for `grammar`, shared with earlier requests that
  // used the same grammar (their token masks are reused).
  std::shared_ptr<GrammarAutomaton> automaton_for(const std::shared_ptr<const Grammar>& grammar) const;

  // Renders messages (and tools) with the chat template into prompt text.
  Expected<std::string> render_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                    bool add_generation_prompt) const;
  // Plain prompt text -> ids (BOS per the tokenizer; control-token text in
  // the input stays plain text unless parse_special).
  Expected<std::vector<int32_t>> tokenize(const std::string& text, bool parse_special = false) const;
  // A rendered chat prompt -> ids. Control tokens written by the template
  // become control tokens; the same text inside any of `untrusted` (message
  // contents, tool output) stays plain text, so clients cannot forge turns.
  Expected<std::vector<int32_t>> tokenize_chat(const std::string& rendered,
                                               const std::vector<std::string>& untrusted) const;

 private:
  std::shared_ptr<const Model> model_;
  Tokenizer tokenizer_;
  std::string chat_template_;
  bool template_is_fallback_ = false;
  std::vector<int32_t> stop_tokens_;
  mutable std::once_flag token_table_once_;
  mutable std::shared_ptr<const GrammarVocab> token_table_;
  mutable std::unique_ptr<GrammarAutomatonCache> automatons_;  // made with token_table_
  TextModel(std::shared_ptr<const Model> m, Tokenizer t) : model_(std::move(m)), tokenizer_(std::move(t)) {}
};

// Holds back the bytes of an unfinished UTF-8 character so streamed text is
// always valid UTF-8; invalid bytes become U+FFFD.
class Utf8StreamBuffer {
 public:
  std::string push(const std::string& bytes);
  std::string flush();  // what is left (an incomplete tail becomes U+FFFD)

 private:
  std::string pending_;
};

}  // namespace minnow
