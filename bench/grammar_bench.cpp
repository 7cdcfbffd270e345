// Grammar-constrained decoding cost at a real 151k vocabulary (Qwen's
// tokenizer.json from ../shared/conformance): the token mask for a nested
// JSON schema, per generated token.
//
//   GrammarMaskPerToken   one document generated token by token: mask + accept
//                         each step, masks cached per grammar state as in serving
//                         a repeated schema (GrammarAutomatonCache)
//   GrammarMaskFirstUse   the same with a fresh automaton: every state is new
//   GrammarMaskCold       one mask in a state never seen before (the trie walk)
//   GrammarAllowsGreedy   the greedy fast path: is the argmax allowed?
#include <benchmark/benchmark.h>

#include <filesystem>
#include <vector>

#include "sampling/grammar_matcher.h"
#include "sampling/json_schema_grammar.h"
#include "tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;

const char* kSchema = R"({"type": "object", "properties": {
  "id": {"type": "integer"}, "name": {"type": "string"},
  "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
  "owner": {"type": "object", "properties": {"login": {"type": "string"}, "admin": {"type": "boolean"},
            "teams": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"},
                      "size": {"type": "integer"}}, "required": ["name"]}}}, "required": ["login"]},
  "score": {"type": "number"}}, "required": ["id", "name", "owner"]})";

const char* kDocument =
    R"({"id": 42, "name": "minnow runtime", "tags": ["llm", "cpu", "gguf"], "owner": {"login": "octo", "admin": true, )"
    R"("teams": [{"name": "kernels", "size": 3}, {"name": "server", "size": 5}]}, "score": 0.97})";

struct Fixture {
  std::optional<minnow::Tokenizer> tok;
  std::shared_ptr<const minnow::GrammarVocab> table;
  std::shared_ptr<const minnow::Grammar> grammar;
  std::vector<int32_t> doc;
  bool ok = false;

  Fixture() {
    const fs::path p = fs::path(MINNOW_SOURCE_DIR) / ".." / "shared/conformance/tokenizer-json/qwen3/tokenizer.json";
    auto t = minnow::load_tokenizer_json(p.string());
    if (!t.ok()) return;
    tok.emplace(std::move(*t));
    std::vector<std::string> pieces(size_t(tok->n_vocab()));
    for (size_t i = 0; i < pieces.size(); ++i) pieces[i] = tok->token_to_piece(int32_t(i));
    table = std::make_shared<minnow::GrammarVocab>(std::move(pieces), std::vector<int32_t>{tok->eos()});
    auto gbnf = minnow::json_schema_to_gbnf(nlohmann::ordered_json::parse(kSchema));
    auto g = minnow::Grammar::parse(*gbnf);
    grammar = *g;
    minnow::EncodeOptions o;
    o.add_special = false;
    doc = *tok->encode(kDocument, o);
    ok = true;
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void mask_document(benchmark::State& state, bool fresh) {
  const Fixture& f = fixture();
  if (!f.ok) return state.SkipWithError("qwen3 tokenizer.json not found in ../shared/conformance");
  auto automaton = std::make_shared<minnow::GrammarAutomaton>(f.grammar, f.table);
  std::vector<float> logits(f.table->size());
  size_t tokens = 0;
  for (auto _ : state) {
    if (fresh) automaton = std::make_shared<minnow::GrammarAutomaton>(f.grammar, f.table);
    minnow::GrammarMatcher m(automaton);
    for (int32_t t : f.doc) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      m.mask(logits);
      if (logits[size_t(t)] != 0.0f) return state.SkipWithError("the document's token was masked");
      if (!m.accept(t).ok()) return state.SkipWithError("the document left the grammar");
    }
    tokens += f.doc.size();
  }
  state.counters["vocab"] = double(f.table->size());
  state.counters["doc_tokens"] = double(f.doc.size());
  state.counters["s_per_token"] = benchmark::Counter(double(tokens), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void GrammarMaskPerToken(benchmark::State& state) { mask_document(state, false); }
BENCHMARK(GrammarMaskPerToken)->Unit(benchmark::kMillisecond);
void GrammarMaskFirstUse(benchmark::State& state) { mask_document(state, true); }
BENCHMARK(GrammarMaskFirstUse)->Unit(benchmark::kMillisecond);

void GrammarMaskCold(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.ok) return state.SkipWithError("qwen3 tokenizer.json not found in ../shared/conformance");
  std::vector<float> logits(f.table->size());
  // Inside a string value: nearly every token is allowed, the worst case.
  const std::string prefix = R"({"id": 1, "name": "ab)";
  for (auto _ : state) {
    state.PauseTiming();
    auto automaton = std::make_shared<minnow::GrammarAutomaton>(f.grammar, f.table);
    minnow::GrammarMatcher m(automaton);
    (void)m.accept_text(prefix);
    state.ResumeTiming();
    m.mask(logits);
    benchmark::DoNotOptimize(logits.data());
  }
}
BENCHMARK(GrammarMaskCold)->Unit(benchmark::kMillisecond);

void GrammarAllowsGreedy(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.ok) return state.SkipWithError("qwen3 tokenizer.json not found in ../shared/conformance");
  auto automaton = std::make_shared<minnow::GrammarAutomaton>(f.grammar, f.table);
  size_t tokens = 0;
  for (auto _ : state) {
    minnow::GrammarMatcher m(automaton);
    for (int32_t t : f.doc) {
      benchmark::DoNotOptimize(m.allows(t));
      (void)m.accept(t);
    }
    tokens += f.doc.size();
  }
  state.counters["s_per_token"] = benchmark::Counter(double(tokens), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(GrammarAllowsGreedy)->Unit(benchmark::kMicrosecond);

}  // namespace
