// `minnow run -m MODEL [-p PROMPT] [-n N] [--system S] [--raw] [sampling flags]`
// With -p: one answer, streamed. Without: an interactive chat using the
// model's chat template; Ctrl-C stops the answer, /exit or Ctrl-D leaves.
// --grammar-file (GBNF) or --json-schema (a JSON Schema file) constrains
// every answer to that grammar.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "base/mapped_file.h"
#include "cli/sampling_options.h"
#include "cli/terminal_text.h"
#include "engine/generate.h"
#include "engine/text_model.h"
#include "sampling/json_schema_grammar.h"

namespace minnow::cli {
namespace {

// The process's peak resident set so far (Linux reports ru_maxrss in KiB).
double peak_rss_mib() {
  rusage u{};
  return getrusage(RUSAGE_SELF, &u) == 0 ? double(u.ru_maxrss) / 1024.0 : 0.0;
}

struct RunOptions {
  ModelOptions model;
  SamplingParams sampling;
  std::string prompt;
  bool has_prompt = false;
  std::string system;
  int64_t n_predict = 512;
  bool raw = false;
  bool verbose = false;
  bool ignore_eos = false;
  std::string grammar_file;
  std::string json_schema_file;
};

// The grammar of --grammar-file / --json-schema, or null.
Expected<std::shared_ptr<const Grammar>> load_grammar(const RunOptions& o) {
  if (!o.grammar_file.empty() && !o.json_schema_file.empty())
    return invalid_argument("give --grammar-file or --json-schema, not both");
  std::string gbnf;
  if (!o.grammar_file.empty()) {
    MINNOW_ASSIGN_OR_RETURN(gbnf, read_file(o.grammar_file));
  } else if (!o.json_schema_file.empty()) {
    MINNOW_ASSIGN_OR_RETURN(std::string text, read_file(o.json_schema_file));
    auto schema = nlohmann::ordered_json::parse(text, nullptr, false);
    if (schema.is_discarded()) return invalid_argument("not valid JSON").with_file(o.json_schema_file);
    auto converted = json_schema_to_gbnf(schema);
    if (!converted.ok()) return std::move(converted).error().with_file(o.json_schema_file);
    gbnf = std::move(*converted);
  } else {
    return std::shared_ptr<const Grammar>();
  }
  auto g = Grammar::parse(gbnf);
  if (!g.ok()) return std::move(g).error().with_file(o.grammar_file.empty() ? o.json_schema_file : o.grammar_file);
  return std::move(*g);
}

std::atomic<bool> g_interrupt{false};
extern "C" void on_sigint(int) { g_interrupt.store(true); }

void install_sigint() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns so we can react
  sigaction(SIGINT, &sa, nullptr);
}

struct Chat {
  std::shared_ptr<const TextModel> tm;
  std::shared_ptr<GrammarAutomaton> grammar;
  std::unique_ptr<InferenceContext> ctx;
  std::vector<int32_t> cached;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
};

// Renders the conversation, generates the assistant's answer and records it.
Status answer(Chat& chat, const RunOptions& o, bool raw_prompt, const std::string& text) {
  std::vector<int32_t> ids;
  if (raw_prompt) {
    MINNOW_ASSIGN_OR_RETURN(ids, chat.tm->tokenize(text));
  } else {
    chat.messages.push_back({{"role", "user"}, {"content", text}});
    MINNOW_ASSIGN_OR_RETURN(std::string rendered, chat.tm->render_chat(chat.messages, nullptr, true));
    std::vector<std::string> untrusted;
    for (const auto& m : chat.messages) untrusted.push_back(m["content"].get<std::string>());
    MINNOW_ASSIGN_OR_RETURN(ids, chat.tm->tokenize_chat(rendered, untrusted));
  }
  GenerateOptions g;
  g.sampling = o.sampling;
  g.max_tokens = uint32_t(o.n_predict);
  if (!o.ignore_eos) g.stop_tokens = chat.tm->stop_tokens();
  g.interrupt = &g_interrupt;
  g.grammar = chat.grammar;
  std::string reply;
  const bool to_terminal = isatty(1);  // a pipe gets the model's exact text
  auto stats = generate(*chat.ctx, chat.cached, ids, chat.tm->tokenizer(), g, [&](const std::string& piece) {
    reply += piece;
    const std::string shown = to_terminal ? terminal_safe(piece) : piece;
    std::fwrite(shown.data(), 1, shown.size(), stdout);
    std::fflush(stdout);
  });
  if (!stats.ok()) {
    if (!raw_prompt) chat.messages.erase(chat.messages.end() - 1);
    return stats.error();
  }
  std::printf("\n");
  if (stats->reason == FinishReason::kCancelled) std::fprintf(stderr, "[stopped]\n");
  if (o.verbose)
    std::fprintf(stderr, "[%u prompt tokens (%u cached) in %.2f s, %u tokens in %.2f s: %.1f tok/s; peak RSS %.1f MiB]\n",
                 stats->n_prompt, stats->n_cached, stats->prompt_seconds, stats->n_generated, stats->generate_seconds,
                 stats->generate_seconds > 0 ? stats->n_generated / stats->generate_seconds : 0.0, peak_rss_mib());
  if (!raw_prompt) chat.messages.push_back({{"role", "assistant"}, {"content", reply}});
  return Status::success();
}

int run_chat(const RunOptions& o) {
  if (o.n_predict < 0 || o.n_predict > (1 << 20)) return report_error(out_of_range("must be in 0..1048576").with_field("-n"));
  if (Status s = validate(o.sampling, 1u << 31); !s.ok()) return report_error(s.error());
  auto cp = context_params(o.model);
  if (!cp.ok()) return report_error(cp.error());
  Chat chat;
  auto tm = TextModel::load(o.model.model);
  if (!tm.ok()) return report_error(tm.error());
  chat.tm = *tm;
  auto grammar = load_grammar(o);
  if (!grammar.ok()) return report_error(grammar.error());
  if (*grammar) chat.grammar = chat.tm->automaton_for(*grammar);
  if (chat.tm->template_is_fallback() && !o.raw)
    std::fprintf(stderr, "minnow: warning: the model has no chat template; using ChatML\n");
  auto lm_ctx = InferenceContext::create(chat.tm->model_ptr(), *cp);
  if (!lm_ctx.ok()) return report_error(lm_ctx.error());
  chat.ctx = std::move(*lm_ctx);
  std::fprintf(stderr, "minnow: %s: %s, weights %.1f MiB (mapped), KV cache %.1f MiB (%s, %u tokens)\n",
               o.model.model.c_str(), chat.tm->model().hparams().arch.c_str(),
               double(chat.tm->model().weight_bytes()) / 1048576.0, double(chat.ctx->kv_bytes()) / 1048576.0,
               o.model.kv_type.c_str(), chat.ctx->n_ctx());
  if (!o.system.empty()) chat.messages.push_back({{"role", "system"}, {"content", o.system}});
  install_sigint();

  if (o.has_prompt) {
    Status s = answer(chat, o, o.raw, o.prompt);
    return s.ok() ? 0 : report_error(s.error());
  }
  const bool tty = isatty(0);
  if (tty) std::fprintf(stderr, "minnow chat: /exit or Ctrl-D to leave, Ctrl-C stops an answer\n");
  std::string line;
  for (;;) {
    g_interrupt.store(false);
    if (tty) std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) {
      if (g_interrupt.load() && !std::cin.eof()) {  // Ctrl-C at the prompt: ask again
        std::cin.clear();
        std::fprintf(stderr, "\n");
        continue;
      }
      break;
    }
    if (line == "/exit" || line == "/quit") break;
    if (line.empty()) continue;
    Status s = answer(chat, o, false, line);
    if (!s.ok()) std::fprintf(stderr, "minnow: error: %s\n", s.error().to_string().c_str());
  }
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, RunFn& run) {
  auto o = std::make_shared<RunOptions>();
  auto* sub = app.add_subcommand("run", "chat with a model, or answer one prompt (-p)");
  add_model_options(*sub, o->model);
  add_sampling_options(*sub, o->sampling);
  auto* p = sub->add_option("-p,--prompt", o->prompt, "answer this prompt and exit");
  sub->add_option("-n,--n-predict", o->n_predict, "most tokens to generate per answer")->capture_default_str();
  sub->add_option("--system", o->system, "system prompt");
  sub->add_flag("--raw", o->raw, "with -p: complete the text as is, without the chat template");
  sub->add_flag("-v,--verbose", o->verbose, "print timings after each answer");
  sub->add_flag("--ignore-eos", o->ignore_eos, "keep generating past end-of-turn tokens (until -n)");
  sub->add_option("--grammar-file", o->grammar_file, "constrain answers to this GBNF grammar");
  sub->add_option("--json-schema", o->json_schema_file, "constrain answers to JSON valid under this schema file");
  sub->callback([&run, o, p] {
    o->has_prompt = p->count() > 0;
    run = [o] { return run_chat(*o); };
  });
}

}  // namespace minnow::cli
