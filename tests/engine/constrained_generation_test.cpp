// Grammar-constrained decoding through the scheduler on a conformance model
// (random weights, byte-level BPE): sampled outputs always validate against
// their schema, and greedy constrained decoding departs from unconstrained
// greedy only at the steps where the mask removes the argmax.
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <nlohmann/json.hpp>

#include "engine/scheduler.h"
#include "engine/text_model.h"
#include "sampling/json_schema_grammar.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

using Json = nlohmann::ordered_json;

// A deliberately small, independent validator for the keywords the test
// schema uses; it shares no code with the schema-to-grammar converter.
bool validates(const Json& schema, const Json& v, std::string& why) {
  auto fail = [&](const std::string& w) {
    why = w + " at " + v.dump();
    return false;
  };
  if (schema.contains("enum")) {
    for (const auto& e : schema["enum"])
      if (e == v) return true;
    return fail("not in enum");
  }
  const std::string type = schema.value("type", "");
  if (type == "object") {
    if (!v.is_object()) return fail("not an object");
    for (const auto& r : schema.value("required", Json::array()))
      if (!v.contains(r.get<std::string>())) return fail("missing " + r.get<std::string>());
    const Json props = schema.value("properties", Json::object());
    for (const auto& [k, x] : v.items()) {
      if (!props.contains(k)) return fail("unexpected key " + k);
      if (!validates(props[k], x, why)) return false;
    }
    return true;
  }
  if (type == "array") {
    if (!v.is_array()) return fail("not an array");
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) return fail("too few items");
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return fail("too many items");
    for (const auto& x : v)
      if (!validates(schema["items"], x, why)) return false;
    return true;
  }
  if (type == "string") {
    if (!v.is_string()) return fail("not a string");
    // maxLength counts code points.
    size_t n = 0;
    for (unsigned char c : v.get<std::string>()) n += (c & 0xC0) != 0x80;
    if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) return fail("string too long");
    return true;
  }
  if (type == "integer") {
    if (!v.is_number_integer()) return fail("not an integer");
    if (schema.contains("minimum") && v.get<int64_t>() < schema["minimum"].get<int64_t>()) return fail("below minimum");
    if (schema.contains("maximum") && v.get<int64_t>() > schema["maximum"].get<int64_t>()) return fail("above maximum");
    return true;
  }
  if (type == "boolean") return v.is_boolean() ? true : fail("not a boolean");
  if (type == "null") return v.is_null() ? true : fail("not null");
  return fail("unknown schema type " + type);
}

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "minItems": 1, "maxItems": 3},
    "home": {"type": "object",
             "properties": {"city": {"type": "string", "maxLength": 8}, "zip": {"type": "integer", "minimum": 0, "maximum": 99999}},
             "required": ["city"]},
    "active": {"type": "boolean"},
    "note": {"type": "null"}
  },
  "required": ["name", "age", "tags"]
})";

class ConstrainedGeneration : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::conformance_dir().empty()) GTEST_SKIP() << "../shared/conformance not found beside the project root; skipping";
    auto tm = TextModel::load((test::conformance_dir() / "models" / "qwen2-tiny-Q8_0.gguf").string());
    ASSERT_TRUE(tm.ok()) << tm.error().to_string();
    tm_ = *tm;
    SchedulerOptions so;
    so.n_slots = 4;
    so.n_ctx = 512;
    so.n_threads = 1;
    so.max_queue = 256;
    auto s = Scheduler::create(tm_->model_ptr(), so);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    scheduler_ = std::move(*s);
    schema_ = Json::parse(kSchema);
    auto gbnf = json_schema_to_gbnf(schema_);
    ASSERT_TRUE(gbnf.ok()) << gbnf.error().to_string();
    auto g = Grammar::parse(*gbnf);
    ASSERT_TRUE(g.ok()) << g.error().to_string();
    automaton_ = std::make_shared<GrammarAutomaton>(*g, tm_->token_table());
  }

  struct Run {
    std::vector<int32_t> tokens;
    std::vector<std::vector<float>> raw_logits;
    GenerationOutcome outcome;
  };

  std::future<Run> submit(const SamplingParams& sp, bool keep_logits) {
    auto run = std::make_shared<Run>();
    auto done = std::make_shared<std::promise<Run>>();
    GenerationRequest r;
    r.prompt = *tm_->tokenize("Describe a person as JSON:");
    r.sampling = sp;
    r.max_tokens = 400;
    r.stop_tokens = tm_->stop_tokens();
    r.grammar = automaton_;
    r.want_logits = keep_logits;
    r.on_token = [run, keep_logits](int32_t t, std::span<const float> logits) {
      run->tokens.push_back(t);
      EXPECT_EQ(logits.empty(), !keep_logits);  // copied only when asked for
      if (keep_logits) run->raw_logits.emplace_back(logits.begin(), logits.end());
      return true;
    };
    r.on_done = [run, done](const GenerationOutcome& o) {
      run->outcome = o;
      done->set_value(*run);
    };
    EXPECT_TRUE(scheduler_->submit(std::move(r)).ok());
    return done->get_future();
  }

  std::string text_of(const std::vector<int32_t>& tokens) const {
    std::string s;
    for (int32_t t : tokens) s += tm_->tokenizer().token_to_piece(t);
    return s;
  }

  std::shared_ptr<const TextModel> tm_;
  std::unique_ptr<Scheduler> scheduler_;
  Json schema_;
  std::shared_ptr<GrammarAutomaton> automaton_;
};

// 200 samples in optimised builds; the sanitizer build (unoptimised, ~30x
// slower) checks memory safety on a fifth of them.
#ifdef NDEBUG
constexpr uint64_t kSamples = 200;
#else
constexpr uint64_t kSamples = 40;
#endif

TEST_F(ConstrainedGeneration, TwoHundredSampledOutputsAllValidate) {
  std::vector<std::future<Run>> runs;
  for (uint64_t seed = 0; seed < kSamples; ++seed) {
    SamplingParams sp;
    sp.temperature = 1.0f;
    sp.top_k = 0;
    sp.top_p = 1.0f;
    sp.min_p = 0.0f;
    sp.seed = seed;
    runs.push_back(submit(sp, false));
  }
  size_t distinct = 0;
  std::set<std::string> seen;
  for (auto& f : runs) {
    Run r = f.get();
    ASSERT_NE(r.outcome.reason, FinishReason::kError) << r.outcome.error;
    const std::string text = text_of(r.tokens);
    Json v = Json::parse(text, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << "not JSON: " << text;
    std::string why;
    EXPECT_TRUE(validates(schema_, v, why)) << why << "\n" << text;
    EXPECT_EQ(r.outcome.reason, FinishReason::kStop) << "the grammar's end should end generation: " << text;
    distinct += seen.insert(text).second;
  }
  EXPECT_GT(distinct, kSamples * 3 / 4) << "sampling should vary with the seed";
}

TEST_F(ConstrainedGeneration, GreedyDepartsFromUnconstrainedOnlyWhereTheMaskForcesIt) {
  Run r = submit(SamplingParams::greedy(), true).get();
  ASSERT_NE(r.outcome.reason, FinishReason::kError) << r.outcome.error;
  ASSERT_EQ(r.tokens.size(), r.raw_logits.size());
  GrammarMatcher probe(automaton_);
  size_t forced = 0;
  for (size_t i = 0; i < r.tokens.size(); ++i) {
    const auto& raw = r.raw_logits[i];
    const int32_t free_choice = int32_t(std::max_element(raw.begin(), raw.end()) - raw.begin());
    if (probe.allows(free_choice)) {
      EXPECT_EQ(r.tokens[i], free_choice) << "step " << i << ": the unconstrained choice was allowed";
    } else {
      ++forced;
      std::vector<float> masked = raw;
      probe.mask(masked);
      const int32_t best_allowed = int32_t(std::max_element(masked.begin(), masked.end()) - masked.begin());
      EXPECT_EQ(r.tokens[i], best_allowed) << "step " << i << ": the best allowed token";
    }
    ASSERT_TRUE(probe.accept(r.tokens[i]).ok());
  }
  EXPECT_GT(forced, 0u) << "a random model should need the mask at least once";
  std::string why;
  const Json v = Json::parse(text_of(r.tokens), nullptr, false);
  ASSERT_FALSE(v.is_discarded());
  EXPECT_TRUE(validates(schema_, v, why)) << why;
}

}  // namespace
}  // namespace minnow
