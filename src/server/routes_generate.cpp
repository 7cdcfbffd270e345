// POST /v1/chat/completions and /v1/completions: validate, tokenize, submit
// every choice to the model's scheduler, then answer whole or as SSE.
#include <atomic>
#include <chrono>

#include "sampling/grammar_matcher.h"
#include "server/generation_stream.h"
#include "server/request_parse.h"
#include "server/server_state.h"

namespace minnow {
namespace {

using Clock = std::chrono::steady_clock;
enum class Api { kChat, kCompletion };

std::string new_id(Api api) {
  static std::atomic<uint64_t> counter{1};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s-%llx%06llx", api == Api::kChat ? "chatcmpl" : "cmpl",
                (unsigned long long)std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffffffull,
                (unsigned long long)counter++);
  return buf;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One HTTP request's generation: its choices, their stream, and the
// response framing shared by the whole and the streamed replies.
struct Job {
  Api api;
  std::string id = "";
  int64_t created = 0;
  std::string model;
  std::shared_ptr<LoadedModel> lm;  // keeps the model resident
  std::shared_ptr<GenerationStream> stream;
  std::vector<uint32_t> prompt_tokens;  // per prompt
  uint32_t n = 1;
  bool include_usage = false;
  bool logprobs = false;
  std::vector<std::string> echo;        // completions with echo: the prompt texts
  // Chat with tools: replies are parsed into tool_calls in this format.
  bool tools = false;
  ToolCallFormat tool_format = ToolCallFormat::kNone;
  std::vector<ToolCallStreamParser> parsers;  // streaming: one per choice
  std::vector<uint32_t> calls_streamed;       // streaming: tool calls sent per choice
  Clock::time_point arrived;
  ServerState* st = nullptr;

  nlohmann::json usage() const {
    uint64_t prompt = 0, completion = 0;
    for (uint32_t p : prompt_tokens) prompt += p;
    for (size_t i = 0; i < prompt_tokens.size() * n; ++i) completion += stream->result(uint32_t(i)).outcome.n_generated;
    return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
  }

  nlohmann::json envelope(bool chunk) const {
    const char* object = api == Api::kChat ? (chunk ? "chat.completion.chunk" : "chat.completion")
                                           : "text_completion";
    return {{"id", id}, {"object", object}, {"created", created}, {"model", model},
            {"system_fingerprint", "minnow-0.1"}};
  }

  nlohmann::json logprobs_json(const nlohmann::json& entries) const {
    if (!logprobs) return nullptr;
    if (api == Api::kChat) return {{"content", entries}};
    nlohmann::json tokens = nlohmann::json::array(), lps = nlohmann::json::array(), tops = nlohmann::json::array();
    for (const auto& e : entries) {
      tokens.push_back(e["token"]);
      lps.push_back(e["logprob"]);
      nlohmann::json top = nlohmann::json::object();
      // Keyed by text, as OpenAI's legacy format is: tokens that print the
      // same keep the first (likeliest) entry rather than the last.
      for (const auto& t : e["top_logprobs"]) top.emplace(t["token"].get<std::string>(), t["logprob"]);
      tops.push_back(top);
    }
    return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}};
  }

  void record_metrics() const {
    for (size_t i = 0; i < prompt_tokens.size() * n; ++i) {
      const GenerationOutcome& o = stream->result(uint32_t(i)).outcome;
      Metrics& m = st->metrics;
      m.count("minnow_prompt_tokens_total", {{"model", model}}, o.n_prompt);
      m.count("minnow_generated_tokens_total", {{"model", model}}, o.n_generated);
      m.observe("minnow_queue_time_seconds", o.queue_seconds);
      m.observe("minnow_request_duration_seconds", o.total_seconds);
      if (o.n_generated > 0) m.observe("minnow_time_to_first_token_seconds", o.first_token_seconds);
      if (o.n_generated > 1)
        m.observe("minnow_time_per_output_token_seconds",
                  (o.total_seconds - o.first_token_seconds) / double(o.n_generated - 1));
    }
  }

  void cancel_all() const {
    stream->mark_abandoned();
    for (uint64_t rid : stream->request_ids())
      if (rid) lm->scheduler->cancel(rid);
  }
};

uint64_t call_id_seed(const Job& job, uint32_t choice) {
  return std::hash<std::string>{}(job.id) + choice;
}

nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls, uint32_t first_index, bool with_index) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t k = 0; k < calls.size(); ++k) {
    nlohmann::json c = {{"id", calls[k].id}, {"type", "function"},
                        {"function", {{"name", calls[k].name}, {"arguments", calls[k].arguments}}}};
    if (with_index) c["index"] = first_index + k;
    out.push_back(std::move(c));
  }
  return out;
}

// The assistant message of a whole reply, with tool calls parsed out.
nlohmann::json assistant_message(const Job& job, uint32_t choice, const std::string& text, std::string& finish) {
  if (!job.tools) return {{"role", "assistant"}, {"content", text}};
  ParsedAssistantMessage parsed = parse_tool_calls(job.tool_format, text, call_id_seed(job, choice));
  if (parsed.tool_calls.empty()) return {{"role", "assistant"}, {"content", parsed.content}};
  finish = "tool_calls";
  return {{"role", "assistant"},
          {"content", parsed.content.empty() ? nlohmann::json() : nlohmann::json(parsed.content)},
          {"tool_calls", tool_calls_json(parsed.tool_calls, 0, false)}};
}

nlohmann::json whole_response(const Job& job) {
  nlohmann::json out = job.envelope(false);
  nlohmann::json choices = nlohmann::json::array();
  for (uint32_t i = 0; i < job.prompt_tokens.size() * job.n; ++i) {
    const ChoiceResult& r = job.stream->result(i);
    std::string finish = r.finish_reason;
    nlohmann::json c = {{"index", i}, {"logprobs", job.logprobs_json(r.logprobs)}};
    if (job.api == Api::kChat) {
      c["message"] = assistant_message(job, i, r.text, finish);
    } else {
      c["text"] = (job.echo.empty() ? "" : job.echo[i / job.n]) + r.text;
    }
    c["finish_reason"] = finish;
    choices.push_back(std::move(c));
  }
  out["choices"] = std::move(choices);
  out["usage"] = job.usage();
  return out;
}

std::string sse(const nlohmann::json& j) { return "data: " + dump_json(j) + "\n\n"; }

nlohmann::json chunk_for(const Job& job, uint32_t index, const nlohmann::json& delta_or_text, const nlohmann::json& lp,
                         const nlohmann::json& finish) {
  nlohmann::json out = job.envelope(true);
  nlohmann::json c = {{"index", index}, {"logprobs", lp}, {"finish_reason", finish}};
  if (job.api == Api::kChat) c["delta"] = delta_or_text;
  else c["text"] = delta_or_text;
  out["choices"] = nlohmann::json::array({c});
  if (job.include_usage) out["usage"] = nullptr;
  return out;
}

// SSE events for what a choice's tool-call parser released: content, then
// each finished call whole (name and arguments in one delta, as vLLM does).
std::string tool_deltas(Job& job, uint32_t choice, const ToolCallStreamParser::Delta& d, const nlohmann::json& lp) {
  std::string out;
  if (!d.content.empty() || !lp.is_null()) out += sse(chunk_for(job, choice, {{"content", d.content}}, lp, nullptr));
  if (!d.calls.empty()) {
    out += sse(chunk_for(job, choice, {{"tool_calls", tool_calls_json(d.calls, job.calls_streamed[choice], true)}},
                         nullptr, nullptr));
    job.calls_streamed[choice] += uint32_t(d.calls.size());
  }
  return out;
}

void respond_streaming(httplib::Response& res, std::shared_ptr<Job> job) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto started = std::make_shared<bool>(false);
  auto finished = std::make_shared<bool>(false);
  res.set_chunked_content_provider(
      "text/event-stream",
      [job, started, finished](size_t, httplib::DataSink& sink) {
        const uint32_t n_choices = uint32_t(job->prompt_tokens.size() * job->n);
        if (!*started) {
          *started = true;
          for (uint32_t i = 0; i < n_choices; ++i) {
            nlohmann::json first = job->api == Api::kChat ? nlohmann::json{{"role", "assistant"}, {"content", ""}}
                                                          : nlohmann::json(job->echo.empty() ? "" : job->echo[i / job->n]);
            const std::string s = sse(chunk_for(*job, i, first, nullptr, nullptr));
            if (!sink.write(s.data(), s.size())) return false;
          }
        }
        std::vector<Delta> deltas;
        const bool done = job->stream->wait(std::chrono::milliseconds(500), deltas);
        for (const Delta& d : deltas) {
          nlohmann::json lp = d.logprob.is_null() ? nlohmann::json() : job->logprobs_json(nlohmann::json::array({d.logprob}));
          if (job->tools) {
            const std::string s = tool_deltas(*job, d.choice, job->parsers[d.choice].feed(d.text), lp);
            if (!s.empty() && !sink.write(s.data(), s.size())) return false;
            continue;
          }
          nlohmann::json body = job->api == Api::kChat ? nlohmann::json{{"content", d.text}} : nlohmann::json(d.text);
          const std::string s = sse(chunk_for(*job, d.choice, body, lp, nullptr));
          if (!sink.write(s.data(), s.size())) return false;
        }
        if (deltas.empty() && !done) {
          static const std::string kKeepAlive = ": keep-alive\n\n";  // also notices a vanished client
          if (!sink.write(kKeepAlive.data(), kKeepAlive.size())) return false;
        }
        if (!done) return true;
        std::string tail;
        for (uint32_t i = 0; i < n_choices; ++i) {
          const ChoiceResult& r = job->stream->result(i);
          if (r.outcome.reason == FinishReason::kError) {
            tail += sse({{"error", {{"message", r.outcome.error}, {"type", "server_error"}, {"param", nullptr},
                                    {"code", nullptr}}}});
            continue;
          }
          std::string finish = r.finish_reason;
          if (job->tools) {
            tail += tool_deltas(*job, i, job->parsers[i].finish(), nullptr);
            if (job->calls_streamed[i] > 0) finish = "tool_calls";
          }
          tail += sse(chunk_for(*job, i, job->api == Api::kChat ? nlohmann::json::object() : nlohmann::json(""), nullptr,
                                finish));
        }
        if (job->include_usage) {
          nlohmann::json u = job->envelope(true);
          u["choices"] = nlohmann::json::array();
          u["usage"] = job->usage();
          tail += sse(u);
        }
        tail += "data: [DONE]\n\n";
        *finished = true;
        job->record_metrics();
        if (!sink.write(tail.data(), tail.size())) return false;
        sink.done();
        return true;
      },
      [job, finished](bool) {
        if (!*finished) job->cancel_all();  // the client went away mid-stream
      });
}

// Tool use of a chat request: the reply format, and the grammar that forces
// a call when tool_choice asks for one.
struct ToolUse {
  bool active = false;
  ToolCallFormat format = ToolCallFormat::kNone;
};

void generate(ServerState& st, Api api, GenerationSpec& spec, std::vector<std::vector<int32_t>> prompts,
              std::shared_ptr<LoadedModel> lm, std::vector<std::string> echo, httplib::Response& res,
              ToolUse tools = {}) {
  auto job = std::make_shared<Job>();
  job->api = api;
  job->id = new_id(api);
  job->created = unix_now();
  job->model = lm->alias;
  job->lm = lm;
  job->n = spec.n;
  job->include_usage = spec.include_usage;
  job->logprobs = spec.logprobs;
  job->echo = std::move(echo);
  job->arrived = Clock::now();
  job->st = &st;
  const uint32_t n_choices = uint32_t(prompts.size() * spec.n);
  job->stream = std::make_shared<GenerationStream>(lm->text, n_choices, spec.stop, spec.top_logprobs, spec.logprobs);
  if (tools.active) {
    job->tools = true;
    job->tool_format = tools.format;
    job->stream->render_special_tokens(true);  // markers like [TOOL_CALLS] are control tokens
    for (uint32_t i = 0; i < n_choices; ++i) job->parsers.emplace_back(tools.format, call_id_seed(*job, i));
    job->calls_streamed.assign(n_choices, 0);
  }
  // One automaton for every choice (and every request with this grammar):
  // they share its cache of token masks.
  std::shared_ptr<GrammarAutomaton> automaton;
  if (spec.grammar) automaton = lm->text->automaton_for(spec.grammar);
  const uint32_t n_ctx = lm->scheduler->n_ctx();
  const auto deadline = Clock::now() + std::chrono::milliseconds(int64_t(st.options.request_timeout_s * 1000));
  for (const auto& p : prompts) {
    if (p.size() >= n_ctx) {
      send_error(res, 400,
                 "This model's context holds " + std::to_string(n_ctx) + " tokens; the prompt has " +
                     std::to_string(p.size()) + ".",
                 "invalid_request_error", api == Api::kChat ? "messages" : "prompt", "context_length_exceeded");
      return;
    }
    job->prompt_tokens.push_back(uint32_t(p.size()));
  }
  for (uint32_t i = 0; i < n_choices; ++i) {
    const auto& prompt = prompts[i / spec.n];
    const uint32_t room = n_ctx - uint32_t(prompt.size());
    const uint32_t max_tokens = spec.max_tokens ? std::min(spec.max_tokens, room) : room;
    GenerationRequest request = job->stream->make_request(i, prompt, spec.sampling, max_tokens, deadline, spec.ignore_eos);
    request.grammar = automaton;
    auto id = lm->scheduler->submit(std::move(request));
    if (!id.ok()) {
      job->cancel_all();
      // Wait for the ones already queued to report, so the stream outlives them.
      std::vector<Delta> ignore;
      if (i > 0)
        while (!job->stream->wait(std::chrono::milliseconds(100), ignore)) {}
      send_error(res, id.error());
      return;
    }
    job->stream->set_request_id(i, *id);
  }
  if (spec.stream) {
    respond_streaming(res, job);
    return;
  }
  std::vector<Delta> ignore;
  while (!job->stream->wait(std::chrono::milliseconds(1000), ignore)) ignore.clear();
  for (uint32_t i = 0; i < n_choices; ++i)
    if (job->stream->result(i).outcome.reason == FinishReason::kError) {
      send_error(res, 500, job->stream->result(i).outcome.error, "server_error");
      return;
    }
  job->record_metrics();
  res.set_content(dump_json(whole_response(*job)), "application/json");
}

// The model, which must generate text.
Expected<std::shared_ptr<LoadedModel>> text_model(ServerState& st, const std::string& alias) {
  MINNOW_ASSIGN_OR_RETURN(auto lm, st.registry.get(alias));
  if (!lm->scheduler)
    return invalid_argument("the model '" + lm->alias + "' makes embeddings; it cannot generate text").with_field("model");
  return lm;
}

}  // namespace

void register_generation_routes(httplib::Server& svr, ServerState& st) {
  svr.Post("/v1/chat/completions", [&st](const httplib::Request& req, httplib::Response& res) {
    auto spec = parse_chat_request(req.body, st.options.max_n);
    if (!spec.ok()) return send_error(res, spec.error());
    auto lm = text_model(st, spec->model);
    if (!lm.ok()) return send_error(res, lm.error());
    ToolUse tools;
    tools.active = spec->tools.active();
    // Templates without tool support still get the tools (most ignore them);
    // their replies are read in the most common format, Hermes'.
    const ToolCallFormat detected = detect_tool_call_format((*lm)->text->chat_template());
    tools.format = detected == ToolCallFormat::kNone ? ToolCallFormat::kHermes : detected;
    if (spec->tools.forced()) {
      auto g = tool_call_grammar(tools.format, spec->tools);
      if (!g.ok()) return send_error(res, g.error());
      spec->grammar = std::move(*g);
    }
    const nlohmann::ordered_json no_tools;
    auto rendered = (*lm)->text->render_chat(spec->messages, tools.active ? spec->tools.tools : no_tools, true);
    if (!rendered.ok()) return send_error(res, 400, rendered.error().message(), "invalid_request_error", "messages");
    auto ids = (*lm)->text->tokenize_chat(*rendered, spec->untrusted);
    if (!ids.ok()) return send_error(res, ids.error());
    generate(st, Api::kChat, *spec, {std::move(*ids)}, *lm, {}, res, tools);
  });
  svr.Post("/v1/completions", [&st](const httplib::Request& req, httplib::Response& res) {
    auto spec = parse_completion_request(req.body, st.options.max_n);
    if (!spec.ok()) return send_error(res, spec.error());
    auto lm = text_model(st, spec->model);
    if (!lm.ok()) return send_error(res, lm.error());
    std::vector<std::vector<int32_t>> prompts = spec->token_prompts;
    const int32_t n_vocab = int32_t((*lm)->text->model().hparams().n_vocab);
    for (const auto& p : prompts)
      for (int32_t t : p)
        if (t >= n_vocab)
          return send_error(res, 400, "token id " + std::to_string(t) + " is outside the vocabulary", "invalid_request_error",
                            "prompt", "invalid_value");
    std::vector<std::string> echo;
    for (const auto& text : spec->prompts) {
      auto ids = (*lm)->text->tokenize(text);  // control-token text stays text
      if (!ids.ok()) return send_error(res, ids.error());
      if (ids->empty()) return send_error(res, 400, "the prompt is empty", "invalid_request_error", "prompt");
      prompts.push_back(std::move(*ids));
      if (spec->echo) echo.push_back(text);
    }
    if (spec->echo && echo.empty())
      for (const auto& p : prompts) echo.push_back((*lm)->text->tokenizer().decode(p, false));
    generate(st, Api::kCompletion, *spec, std::move(prompts), *lm, std::move(echo), res);
  });
}

}  // namespace minnow
