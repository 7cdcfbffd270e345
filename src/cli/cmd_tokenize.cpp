// `minnow tokenize (-m MODEL | --tokenizer tokenizer.json) (--text T | --file F | --jsonl F)
//  [--no-add-special] [--parse-special] [--json] [--pieces]`
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/mapped_file.h"
#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace minnow::cli {
namespace {

using nlohmann::json;

struct TokenizeOptions {
  std::string model;
  std::string tokenizer_json;
  std::string text;
  std::string file;
  std::string jsonl;
  bool no_add_special = false;
  bool parse_special = false;
  bool json_out = false;
  bool pieces = false;
};

Expected<Tokenizer> load(const TokenizeOptions& o) {
  if (!o.model.empty()) {
    MINNOW_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(o.model));
    return load_tokenizer_from_gguf(f);
  }
  return load_tokenizer_json(o.tokenizer_json);
}


// Pieces are printed as stored in the vocabulary ("Ġthe", "▁the", "<0x0A>").
json ids_json(const Tokenizer& t, const std::vector<int32_t>& ids, bool pieces) {
  if (!pieces) return ids;
  json arr = json::array();
  for (int32_t id : ids) arr.push_back({{"id", id}, {"piece", t.token_text(id)}});
  return arr;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void print_ids(const Tokenizer& t, const std::vector<int32_t>& ids, const TokenizeOptions& o) {
  if (o.json_out) {
    std::printf("%s\n", dump(ids_json(t, ids, o.pieces)).c_str());
    return;
  }
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
    if (o.pieces) line += ":" + t.token_text(ids[i]);
  }
  std::printf("%s\n", line.c_str());
}

// Each input line {"text": ...} gives one output line {"ids": [...]}; the
// whole input is validated before anything is printed.
int run_jsonl(const Tokenizer& t, const TokenizeOptions& o, EncodeOptions enc) {
  auto bytes = read_file(o.jsonl);
  if (!bytes.ok()) return report_error(bytes.error());
  std::istringstream in(*bytes);
  std::string line;
  std::string out;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    std::string text;
    try {
      const json j = json::parse(line);
      text = j.at("text").get<std::string>();
    } catch (const json::exception& e) {
      return report_error(invalid_argument(std::string("line ") + std::to_string(line_no) +
                                           ": expected {\"text\": \"...\"}: " + e.what())
                              .with_file(o.jsonl));
    }
    auto ids = t.encode(text, enc);
    if (!ids.ok()) return report_error(std::move(ids).error().with_file(o.jsonl));
    json row = {{"ids", *ids}};
    if (o.pieces) row["pieces"] = ids_json(t, *ids, true);
    out += dump(row) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_tokenize(const TokenizeOptions& o) {
  auto tok = load(o);
  if (!tok.ok()) return report_error(tok.error());
  const EncodeOptions enc{.add_special = !o.no_add_special, .parse_special = o.parse_special};
  if (!o.jsonl.empty()) return run_jsonl(*tok, o, enc);
  std::string text = o.text;
  if (!o.file.empty()) {
    auto bytes = read_file(o.file);
    if (!bytes.ok()) return report_error(bytes.error());
    text = std::move(bytes).value();
  }
  auto ids = tok->encode(text, enc);
  if (!ids.ok()) return report_error(ids.error());
  print_ids(*tok, *ids, o);
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<TokenizeOptions>();
  auto* sub = app.add_subcommand("tokenize", "print the token ids of a text");
  auto* model = sub->add_option("-m,--model", o->model, "GGUF file (its tokenizer.ggml.* metadata)");
  auto* tj = sub->add_option("--tokenizer", o->tokenizer_json, "HF tokenizer.json (tokenizer_config.json beside it is read too)");
  model->excludes(tj);
  auto* text = sub->add_option("--text", o->text, "text to tokenize");
  auto* file = sub->add_option("--file", o->file, "file whose bytes are tokenized exactly");
  auto* jsonl = sub->add_option("--jsonl", o->jsonl, "JSON Lines of {\"text\": ...}; writes {\"ids\": [...]} lines");
  text->excludes(file)->excludes(jsonl);
  file->excludes(jsonl);
  sub->add_flag("--no-add-special", o->no_add_special, "do not add BOS/EOS (HF add_special_tokens=False)");
  sub->add_flag("--parse-special", o->parse_special, "match control-token text such as <|im_start|> in the input");
  sub->add_flag("--json", o->json_out, "print a JSON array");
  sub->add_flag("--pieces", o->pieces, "print each token's vocabulary text with its id");
  sub->callback([&run, o, model, tj, text, file, jsonl] {
    run = [o, model, tj, text, file, jsonl] {
      if (model->count() == 0 && tj->count() == 0)
        return report_error(invalid_argument("tokenize needs -m MODEL or --tokenizer tokenizer.json"));
      if (text->count() == 0 && file->count() == 0 && jsonl->count() == 0)
        return report_error(invalid_argument("tokenize needs --text, --file or --jsonl"));
      return run_tokenize(*o);
    };
  });
}

}  // namespace minnow::cli
