// tokenizer.ggml.* -> Vocab. Key names and defaults follow llama.cpp, the
// writer of nearly every GGUF in the wild.
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_token_guess.h"
#include "tokenizer/vocab.h"

namespace minnow {
namespace {

Error field_error(const GgufFile& f, const char* key, std::string message) {
  return corrupt(std::move(message)).with_file(f.name()).with_field(key);
}

Expected<const GgufValue::Array*> get_array(const GgufFile& f, const char* key, GgufValueType elem, bool required) {
  const GgufValue* v = f.find(key);
  if (!v) {
    if (required) return field_error(f, key, "missing");
    return static_cast<const GgufValue::Array*>(nullptr);
  }
  if (v->type() != GgufValueType::ARRAY) return field_error(f, key, "is not an array");
  const GgufValue::Array* arr = v->as_array();
  for (const auto& item : *arr) {
    const bool ok = elem == GgufValueType::STRING ? item.type() == GgufValueType::STRING
                                                  : item.as_double().has_value();
    if (!ok) return field_error(f, key, std::string("expected an array of ") + gguf_value_type_name(elem));
  }
  return arr;
}

int32_t get_id(const GgufFile& f, const char* key) {
  const auto v = f.get_int(key);
  return (v && *v >= 0 && *v <= INT32_MAX) ? int32_t(*v) : kNoToken;
}

}  // namespace

Expected<Tokenizer> load_tokenizer_from_gguf(const GgufFile& f) {
  Vocab v;
  v.name = f.name();
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model) return field_error(f, "tokenizer.ggml.model", "missing: this GGUF has no tokenizer");
  if (*model == "llama") v.model = TokenizerModel::kSpm;
  else if (*model == "gpt2") v.model = TokenizerModel::kBpe;
  else if (*model == "bert") v.model = TokenizerModel::kWpm;
  else
    return unsupported("tokenizer model '" + *model + "' (supported: llama, gpt2, bert)")
        .with_file(f.name())
        .with_field("tokenizer.ggml.model");

  MINNOW_ASSIGN_OR_RETURN(const auto* tokens, get_array(f, "tokenizer.ggml.tokens", GgufValueType::STRING, true));
  MINNOW_ASSIGN_OR_RETURN(const auto* types, get_array(f, "tokenizer.ggml.token_type", GgufValueType::INT32, false));
  MINNOW_ASSIGN_OR_RETURN(const auto* scores, get_array(f, "tokenizer.ggml.scores", GgufValueType::FLOAT32, false));
  MINNOW_ASSIGN_OR_RETURN(const auto* merges, get_array(f, "tokenizer.ggml.merges", GgufValueType::STRING, false));

  v.tokens.reserve(tokens->size());
  for (const auto& t : *tokens) v.tokens.push_back(*t.as_string());
  if (types) {
    if (types->size() != tokens->size()) return field_error(f, "tokenizer.ggml.token_type", "length differs from tokens");
    for (const auto& t : *types) {
      const double raw = *t.as_double();
      v.types.push_back(raw >= 0 && raw <= 6 ? TokenType(int32_t(raw)) : TokenType::kUndefined);
    }
  }
  if (scores) {
    if (scores->size() != tokens->size()) return field_error(f, "tokenizer.ggml.scores", "length differs from tokens");
    for (const auto& s : *scores) v.scores.push_back(float(*s.as_double()));
  } else if (v.model == TokenizerModel::kSpm) {
    return field_error(f, "tokenizer.ggml.scores", "missing (SPM merges need scores)");
  }
  if (v.model == TokenizerModel::kBpe) {
    if (!merges) return field_error(f, "tokenizer.ggml.merges", "missing (BPE needs merges)");
    v.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const std::string& m = *(*merges)[i].as_string();
      // Byte-level vocabularies store spaces mapped ('Ġ'), so the one real space
      // separates the two parts; searching from 1 keeps a leading " " part whole.
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos)
        return field_error(f, "tokenizer.ggml.merges", "entry " + std::to_string(i) + " has no space: '" + m + "'");
      v.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
    v.pre = f.get_string("tokenizer.ggml.pre").value_or("default");
    v.ignore_merges = pretokenizer_ignores_merges(v.pre);
  }

  v.bos = get_id(f, "tokenizer.ggml.bos_token_id");
  v.eos = get_id(f, "tokenizer.ggml.eos_token_id");
  v.eot = get_id(f, "tokenizer.ggml.eot_token_id");
  v.pad = get_id(f, "tokenizer.ggml.padding_token_id");
  v.unk = get_id(f, "tokenizer.ggml.unknown_token_id");
  v.sep = get_id(f, "tokenizer.ggml.seperator_token_id");
  v.cls = get_id(f, "tokenizer.ggml.cls_token_id");
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(v.model == TokenizerModel::kSpm);
  switch (v.model) {
    case TokenizerModel::kSpm:
      v.add_bos = true;
      break;
    case TokenizerModel::kBpe:
      v.add_bos = false;
      break;
    case TokenizerModel::kWpm:
      // BERT inputs are [CLS] text [SEP].
      if (v.cls != kNoToken) v.bos = v.cls;
      if (v.sep != kNoToken) v.eos = v.sep;
      v.add_bos = v.add_eos = true;
      break;
  }
  if (auto b = f.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
  if (auto b = f.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
  v.chat_template = f.get_string("tokenizer.chat_template").value_or("");
  guess_missing_special_tokens(v);
  return Tokenizer::create(std::move(v));
}

}  // namespace minnow
