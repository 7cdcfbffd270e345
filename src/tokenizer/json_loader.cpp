// Hugging Face tokenizer.json (+ tokenizer_config.json) -> Vocab. Supports
// what byte-level BPE tokenizers use (Qwen2/3, Llama 3, GPT-2 style): a BPE
// model, NFC or no normalizer, Split/ByteLevel pre-tokenizers. Anything else
// is an "unsupported" error naming the component, never a silent mismatch.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/mapped_file.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_token_guess.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace minnow {
namespace {

using nlohmann::json;

Error json_error(const std::string& name, const std::string& field, std::string message) {
  return unsupported(std::move(message)).with_file(name).with_field(field);
}

// PCRE2 reads a literal between \Q and \E; an embedded \E must be split out.
std::string quote_literal(const std::string& s) {
  std::string out = "\\Q";
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'E') {
      out += "\\E\\\\\\Q";
      continue;
    }
    out += s[i];
  }
  return out + "\\E";
}

constexpr const char* kByteLevelRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Status read_normalizer(const json& n, Vocab& v) {
  if (n.is_null()) return Status::success();
  const std::string type = n.value("type", "");
  if (type == "NFC") {
    v.normalize_nfc = true;
    return Status::success();
  }
  if (type == "Sequence") {
    for (const auto& item : n.at("normalizers")) MINNOW_TRY(read_normalizer(item, v));
    return Status::success();
  }
  return json_error(v.name, "normalizer", "normalizer '" + type + "' is not supported");
}

Status read_pre_tokenizer(const json& p, Vocab& v, bool& byte_level) {
  if (p.is_null()) return Status::success();
  const std::string type = p.value("type", "");
  if (type == "Sequence") {
    for (const auto& item : p.at("pretokenizers")) MINNOW_TRY(read_pre_tokenizer(item, v, byte_level));
    return Status::success();
  }
  if (type == "ByteLevel") {
    byte_level = true;
    if (p.value("add_prefix_space", false))
      return json_error(v.name, "pre_tokenizer", "ByteLevel add_prefix_space is not supported");
    if (p.value("use_regex", true)) v.pre_regexes.push_back(kByteLevelRegex);
    return Status::success();
  }
  if (type == "Split") {
    if (p.value("behavior", "") != "Isolated" || p.value("invert", false))
      return json_error(v.name, "pre_tokenizer", "Split is supported only with behavior Isolated, invert false");
    const json& pattern = p.at("pattern");
    if (pattern.contains("Regex")) v.pre_regexes.push_back(pattern.at("Regex").get<std::string>());
    else v.pre_regexes.push_back(quote_literal(pattern.at("String").get<std::string>()));
    return Status::success();
  }
  return json_error(v.name, "pre_tokenizer", "pre-tokenizer '" + type + "' is not supported");
}

// tokenizer_config.json names special tokens as a string or {"content": ...}.
std::string token_content(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return {};
}

int32_t id_of(const Vocab& v, const std::string& text) {
  if (text.empty()) return kNoToken;
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (v.tokens[id] == text) return int32_t(id);
  return kNoToken;
}

// A TemplateProcessing post-processor that puts special tokens around $A is
// how HF adds BOS/EOS.
void read_post_processor(const json& p, Vocab& v) {
  if (p.is_null()) return;
  const std::string type = p.value("type", "");
  if (type == "Sequence") {
    for (const auto& item : p.at("processors")) read_post_processor(item, v);
    return;
  }
  if (type != "TemplateProcessing" || !p.contains("single")) return;
  bool seen_text = false;
  for (const auto& piece : p.at("single")) {
    if (piece.contains("Sequence")) {
      seen_text = true;
    } else if (piece.contains("SpecialToken")) {
      const int32_t id = id_of(v, piece["SpecialToken"].value("id", ""));
      if (id == kNoToken) continue;
      if (!seen_text) { v.bos = id; v.add_bos = true; }
      else { v.eos = id; v.add_eos = true; }
    }
  }
}

Status read_config(const json& c, Vocab& v) {
  if (!c.is_object()) return Status::success();
  if (c.contains("bos_token")) v.bos = id_of(v, token_content(c["bos_token"]));
  if (c.contains("eos_token")) v.eos = id_of(v, token_content(c["eos_token"]));
  if (c.contains("pad_token")) v.pad = id_of(v, token_content(c["pad_token"]));
  if (c.contains("unk_token")) v.unk = id_of(v, token_content(c["unk_token"]));
  if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) v.add_bos = c["add_bos_token"].get<bool>();
  if (c.contains("add_eos_token") && c["add_eos_token"].is_boolean()) v.add_eos = c["add_eos_token"].get<bool>();
  if (c.contains("chat_template")) {
    const json& t = c["chat_template"];
    if (t.is_string()) {
      v.chat_template = t.get<std::string>();
    } else if (t.is_array()) {  // named templates: take "default"
      for (const auto& item : t)
        if (item.value("name", "") == "default") v.chat_template = item.value("template", "");
    }
  }
  return Status::success();
}

// HF WordPiece stores continuations as "##piece" and word starts bare; the
// encoder uses the GGUF convention ("▁word", bare continuations).
Expected<Vocab> finish_wordpiece(const json& j, const json& config, Vocab v) {
  const json& model = j.at("model");
  const std::string prefix = model.value("continuing_subword_prefix", "##");
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    if (v.types[id] != TokenType::kNormal) continue;
    std::string& t = v.tokens[id];
    if (!prefix.empty() && t.starts_with(prefix)) t.erase(0, prefix.size());
    else t.insert(0, "\xE2\x96\x81");
  }
  const json& norm = j.value("normalizer", json());
  if (!norm.is_null()) {
    if (norm.value("type", "") != "BertNormalizer")
      return json_error(v.name, "normalizer", "WordPiece needs a BertNormalizer, not '" + norm.value("type", "") + "'");
    v.wpm_lowercase = norm.value("lowercase", true);
  }
  const json& pre = j.value("pre_tokenizer", json());
  if (!pre.is_null() && pre.value("type", "") != "BertPreTokenizer")
    return json_error(v.name, "pre_tokenizer", "WordPiece needs a BertPreTokenizer, not '" + pre.value("type", "") + "'");
  v.add_space_prefix = false;
  v.unk = id_of(v, model.value("unk_token", "[UNK]"));
  read_post_processor(j.value("post_processor", json()), v);
  MINNOW_TRY(read_config(config, v));
  guess_missing_special_tokens(v);
  return v;
}

Expected<Vocab> vocab_from_json(const json& j, const json& config, const std::string& name) {
  Vocab v;
  v.name = name;
  const json& model = j.at("model");
  const std::string type = model.value("type", "BPE");
  if (type != "BPE" && type != "WordPiece")
    return json_error(name, "model.type", "model type '" + type + "' is not supported (BPE, WordPiece)");
  v.model = type == "BPE" ? TokenizerModel::kBpe : TokenizerModel::kWpm;
  if (model.value("byte_fallback", false))
    return json_error(name, "model.byte_fallback", "BPE with byte_fallback (SentencePiece-style) is not supported");

  // Ids may be sparse; size the table by the largest id.
  int64_t max_id = -1;
  for (const auto& [text, id] : model.at("vocab").items()) max_id = std::max<int64_t>(max_id, id.get<int64_t>());
  if (j.contains("added_tokens"))
    for (const auto& t : j["added_tokens"]) max_id = std::max<int64_t>(max_id, t.at("id").get<int64_t>());
  if (max_id < 0 || max_id >= INT32_MAX) return corrupt("vocabulary ids out of range").with_file(name).with_field("model.vocab");
  v.tokens.assign(size_t(max_id + 1), std::string());
  v.types.assign(size_t(max_id + 1), TokenType::kUnused);
  for (const auto& [text, id] : model.at("vocab").items()) {
    const int64_t i = id.get<int64_t>();
    if (i < 0) return corrupt("negative token id for '" + text + "'").with_file(name).with_field("model.vocab");
    v.tokens[size_t(i)] = text;
    v.types[size_t(i)] = TokenType::kNormal;
  }
  if (j.contains("added_tokens")) {
    for (const auto& t : j["added_tokens"]) {
      const int64_t i = t.at("id").get<int64_t>();
      if (i < 0) return corrupt("negative added token id").with_file(name).with_field("added_tokens");
      v.tokens[size_t(i)] = t.at("content").get<std::string>();
      v.types[size_t(i)] = t.value("special", false) ? TokenType::kControl : TokenType::kUserDefined;
    }
  }
  if (v.model == TokenizerModel::kWpm) return finish_wordpiece(j, config, std::move(v));
  for (const auto& m : model.at("merges")) {
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ', 1);
      if (sp == std::string::npos) return corrupt("merge without a space: '" + s + "'").with_file(name).with_field("model.merges");
      v.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2) {
      v.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return corrupt("merge is neither \"a b\" nor [a, b]").with_file(name).with_field("model.merges");
    }
  }
  v.ignore_merges = model.value("ignore_merges", false);
  MINNOW_TRY(read_normalizer(j.value("normalizer", json()), v));
  bool byte_level = false;
  MINNOW_TRY(read_pre_tokenizer(j.value("pre_tokenizer", json()), v, byte_level));
  if (!byte_level)
    return json_error(name, "pre_tokenizer", "only byte-level BPE (a ByteLevel pre-tokenizer) is supported");
  // Without a splitting regex the whole text is one pre-token.
  if (v.pre_regexes.empty()) v.pre_regexes.push_back(R"([\s\S]+)");
  v.add_space_prefix = false;
  read_post_processor(j.value("post_processor", json()), v);
  MINNOW_TRY(read_config(config, v));
  guess_missing_special_tokens(v);
  return v;
}


}  // namespace

Expected<Tokenizer> parse_tokenizer_json(std::string_view json_text, std::string_view config_text,
                                         const std::string& name) {
  // nlohmann throws on malformed input and on type mismatches; none of that
  // may escape this API.
  try {
    const json j = json::parse(json_text);
    const json config = config_text.empty() ? json() : json::parse(config_text);
    if (!j.is_object()) return corrupt("top level is not an object").with_file(name);
    MINNOW_ASSIGN_OR_RETURN(Vocab v, vocab_from_json(j, config, name));
    return Tokenizer::create(std::move(v));
  } catch (const json::exception& e) {
    return corrupt(std::string("tokenizer.json: ") + e.what()).with_file(name);
  }
}

Expected<Tokenizer> load_tokenizer_json(const std::string& json_path, const std::string& config_path) {
  MINNOW_ASSIGN_OR_RETURN(std::string text, read_file(json_path));
  std::string config;
  std::string cfg_path = config_path;
  if (cfg_path.empty()) {
    const auto beside = std::filesystem::path(json_path).parent_path() / "tokenizer_config.json";
    std::error_code ec;
    if (std::filesystem::exists(beside, ec)) cfg_path = beside.string();
  }
  if (!cfg_path.empty()) {
    MINNOW_ASSIGN_OR_RETURN(config, read_file(cfg_path));
  }
  return parse_tokenizer_json(text, config, json_path);
}

}  // namespace minnow
