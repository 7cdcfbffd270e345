// `minnow template (-m MODEL | --chat-template FILE.jinja) --messages FILE.json
//  [--tools FILE.json] [--no-generation-prompt] [--now YYYY-MM-DD]`
// Prints exactly the prompt text the chat template renders, nothing more.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "template/chat_template.h"

namespace minnow::cli {
namespace {

struct TemplateOptions {
  std::string model;
  std::string template_file;
  std::string messages_file;
  std::string tools_file;
  bool no_generation_prompt = false;
  std::string now;
};

Expected<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open").with_file(path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return io_error("read failed").with_file(path);
  return ss.str();
}

Expected<nlohmann::ordered_json> read_json(const std::string& path) {
  MINNOW_ASSIGN_OR_RETURN(const std::string text, read_text(path));
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return corrupt("not valid JSON").with_file(path);
  return j;
}

// The string of token `id_key` (bos/eos) via tokenizer.ggml.tokens; "" when absent.
std::string special_token(const GgufFile& f, const char* id_key) {
  const GgufValue* id = f.find(id_key);
  const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
  if (!id || !tokens || !tokens->as_array()) return "";
  std::optional<uint64_t> index = id->as_uint();
  if (!index)
    if (auto i = id->as_int(); i && *i >= 0) index = uint64_t(*i);
  if (!index || *index >= tokens->as_array()->size()) return "";
  const std::string* s = (*tokens->as_array())[*index].as_string();
  return s ? *s : "";
}

// Applies a conformance-case-shaped object: its fields override the model's.
Status apply_messages_object(const nlohmann::ordered_json& j, ChatTemplateInputs& in, const std::string& path) {
  if (!j.contains("messages")) return invalid_argument("object has no \"messages\" array").with_file(path);
  in.messages = j.at("messages");
  if (j.contains("tools")) in.tools = j.at("tools");
  if (j.contains("add_generation_prompt")) {
    if (!j.at("add_generation_prompt").is_boolean())
      return invalid_argument("\"add_generation_prompt\" must be true or false").with_file(path);
    in.add_generation_prompt = j.at("add_generation_prompt").get<bool>();
  }
  for (const char* key : {"bos_token", "eos_token"}) {
    if (!j.contains(key)) continue;
    if (!j.at(key).is_string()) return invalid_argument(std::string("\"") + key + "\" must be a string").with_file(path);
    (std::string(key) == "bos_token" ? in.bos_token : in.eos_token) = j.at(key).get<std::string>();
  }
  if (j.contains("extra_context")) {
    if (!j.at("extra_context").is_object())
      return invalid_argument("\"extra_context\" must be an object").with_file(path);
    in.extra_context = j.at("extra_context");
  }
  return Status::success();
}

int run_template(const TemplateOptions& o) {
  ChatTemplateInputs in;
  std::string source;
  if (!o.model.empty()) {
    auto file = GgufFile::open(o.model);
    if (!file.ok()) return report_error(file.error());
    in.bos_token = special_token(*file, "tokenizer.ggml.bos_token_id");
    in.eos_token = special_token(*file, "tokenizer.ggml.eos_token_id");
    if (o.template_file.empty()) {
      if (auto t = file->get_string("tokenizer.chat_template")) {
        source = *t;
      } else {
        std::fprintf(stderr, "minnow: warning: %s has no tokenizer.chat_template; using the ChatML fallback\n",
                     o.model.c_str());
        source = kChatMlFallbackTemplate;
      }
    }
  }
  if (!o.template_file.empty()) {
    auto text = read_text(o.template_file);
    if (!text.ok()) return report_error(text.error());
    source = std::move(*text);
  }

  auto messages = read_json(o.messages_file);
  if (!messages.ok()) return report_error(messages.error());
  if (messages->is_array()) {
    in.messages = std::move(*messages);
  } else if (messages->is_object()) {
    if (Status s = apply_messages_object(*messages, in, o.messages_file); !s.ok()) return report_error(s.error());
  } else {
    return report_error(invalid_argument("expected a messages array or an object").with_file(o.messages_file));
  }
  if (!o.tools_file.empty()) {
    auto tools = read_json(o.tools_file);
    if (!tools.ok()) return report_error(tools.error());
    in.tools = std::move(*tools);
  }
  if (o.no_generation_prompt) in.add_generation_prompt = false;
  if (!o.now.empty()) in.now_date = o.now;

  auto text = render_chat_template(source, in);
  if (!text.ok()) {
    Error e = std::move(text).error();
    return report_error(e.with_file(o.template_file.empty() ? o.model : o.template_file));
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

void add_template_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<TemplateOptions>();
  auto* sub = app.add_subcommand("template", "render a conversation with a model's chat template");
  auto* model = sub->add_option("-m,--model", o->model, "GGUF model whose tokenizer.chat_template and BOS/EOS to use");
  auto* file = sub->add_option("--chat-template", o->template_file, "Jinja chat template file (overrides the model's)");
  model->check(CLI::ExistingFile);
  file->check(CLI::ExistingFile);
  sub->add_option("--messages", o->messages_file,
                  "JSON messages array, or an object with messages/tools/add_generation_prompt/bos_token/"
                  "eos_token/extra_context")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--tools", o->tools_file, "JSON array of tool definitions")->check(CLI::ExistingFile);
  sub->add_flag("--no-generation-prompt", o->no_generation_prompt, "do not open an assistant turn at the end");
  sub->add_option("--now", o->now, "date strftime_now() sees, YYYY-MM-DD (default: today)");
  sub->callback([&run, o, sub] {
    if (o->model.empty() && o->template_file.empty())
      throw CLI::RequiredError("-m MODEL or --chat-template FILE");
    run = [o] { return run_template(*o); };
  });
}

}  // namespace minnow::cli
