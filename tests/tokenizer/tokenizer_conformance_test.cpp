// Every case of ../shared/conformance/tokenizer{,-json} must encode to exactly
// the reference ids, and decode back to the input where the tokenizer is
// lossless.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "gguf/gguf_file.h"
#include "support/test_paths.h"
#include "tokenizer/conformance_cases.h"
#include "tokenizer/tokenizer.h"

namespace minnow {
namespace {

std::string ids_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

// Checked here, where each vocabulary is loaded anyway (loading dominates
// the cost of these tests under sanitizers).
void check_robustness(const Tokenizer& t, const std::string& name) {
  const std::string bad = std::string("ok \xff\xfe ") + "\xc3" + " \xed\xa0\x80 \xf0\x9f\xa6" + "x\xc0\xaf";
  auto ids = t.encode(bad, {.add_special = false});
  ASSERT_TRUE(ids.ok()) << ids.error().to_string();
  if (name == "bert-bge") {
    EXPECT_EQ(t.decode(*ids), "ok x");  // invalid bytes are dropped like control characters
  } else if (name == "deepseek-llm") {
    // No normal tokens for bytes that never occur in UTF-8 (0xC0, 0xF8-0xFF):
    // they map to added look-alike tokens, so only the valid part round-trips.
    EXPECT_EQ(t.decode(*ids).substr(0, 3), "ok ");
  } else {
    EXPECT_EQ(t.decode(*ids), bad);
  }
  // 100k repeated characters: one huge pre-token / segment each.
  std::string llamas;
  for (int i = 0; i < 25000; ++i) llamas += "\xf0\x9f\xa6\x99";
  for (const std::string& run : {std::string(100000, 'a'), std::string(100000, ' '), llamas}) {
    auto r = t.encode(run + "x", {.add_special = false});
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->empty());
    if (name != "bert-bge") {
      EXPECT_EQ(t.decode(*r), run + "x");
    }
  }
}

struct GgufVocabCase {
  const char* name;
  bool lossless;  // WordPiece lower-cases and drops spaces
};

class GgufConformance : public ::testing::TestWithParam<GgufVocabCase> {};

TEST_P(GgufConformance, EncodesEveryCaseExactlyAndRoundTrips) {
  MINNOW_REQUIRE_CONFORMANCE();
  const auto dir = test::conformance_dir() / "tokenizer";
  const std::string base = std::string("ggml-vocab-") + GetParam().name;
  auto file = GgufFile::open((dir / (base + ".gguf")).string());
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  auto tok = load_tokenizer_from_gguf(*file);
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();

  const auto cases = test::read_inp_out(dir / (base + ".gguf.inp"), dir / (base + ".gguf.out"));
  ASSERT_EQ(cases.size(), 46u);
  const auto jsonl = test::read_cases_jsonl(dir / (base + ".cases.jsonl"));
  ASSERT_EQ(jsonl.size(), cases.size());
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    ASSERT_EQ(jsonl[i].text, c.text) << "case " << i;
    ASSERT_EQ(jsonl[i].ids, c.ids) << "case " << i;
    auto ids = tok->encode(c.text, {.add_special = false, .parse_special = false});
    ASSERT_TRUE(ids.ok()) << ids.error().to_string();
    if (*ids != c.ids) ++failures;
    EXPECT_EQ(ids_string(*ids), ids_string(c.ids)) << "case " << i << " text '" << c.text << "'";
    if (GetParam().lossless) {
      EXPECT_EQ(tok->decode(*ids), c.text) << "case " << i;
    }
  }
  EXPECT_EQ(failures, 0);
  check_robustness(*tok, GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Vocabs, GgufConformance,
                         ::testing::Values(GgufVocabCase{"llama-spm", true}, GgufVocabCase{"phi-3", true},
                                           GgufVocabCase{"gpt-2", true}, GgufVocabCase{"deepseek-llm", true},
                                           GgufVocabCase{"bert-bge", false}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

std::string nfc(const std::string& s) {
  auto* p = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str()));
  std::string out = p ? reinterpret_cast<const char*>(p) : s;
  std::free(p);
  return out;
}

bool contains(const std::vector<int32_t>& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

// User text must not inject <|im_start|> unless the caller asks for it.
void check_qwen_special_tokens(const Tokenizer& t) {
  const int32_t im_start = *t.find_token("<|im_start|>");
  EXPECT_EQ(im_start, 151644);
  auto plain = t.encode("<|im_start|>system\nhi", {.add_special = false});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(contains(*plain, im_start));
  auto parsed = t.encode("<|im_start|>system", {.add_special = false, .parse_special = true});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->front(), im_start);
  // Non-special added tokens (<think>) are matched either way, as in HF.
  const int32_t think = *t.find_token("<think>");
  auto th = t.encode("<think>", {.add_special = false});
  ASSERT_TRUE(th.ok());
  EXPECT_EQ(*th, std::vector<int32_t>{think});
  EXPECT_EQ(t.eos(), *t.find_token("<|im_end|>"));
  EXPECT_FALSE(t.add_bos());
  EXPECT_FALSE(t.chat_template().empty());
}

class JsonConformance : public ::testing::TestWithParam<const char*> {};

TEST_P(JsonConformance, EncodesEveryCaseExactlyAndRoundTrips) {
  MINNOW_REQUIRE_CONFORMANCE();
  const auto dir = test::conformance_dir() / "tokenizer-json" / GetParam();
  auto tok = load_tokenizer_json((dir / "tokenizer.json").string());
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const auto cases = test::read_cases_jsonl(dir / "cases.jsonl");
  ASSERT_EQ(cases.size(), 384u);
  const bool normalizes = std::string(GetParam()) == "qwen3";
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    // The reference matches added tokens in the text: parse_special on.
    auto ids = tok->encode(c.text, {.add_special = false, .parse_special = true});
    ASSERT_TRUE(ids.ok()) << ids.error().to_string();
    if (*ids != c.ids) ++failures;
    EXPECT_EQ(ids_string(*ids), ids_string(c.ids)) << "case " << i << " text '" << c.text << "'";
    if (c.has_ids_add_special) {
      auto with = tok->encode(c.text, {.add_special = true, .parse_special = true});
      ASSERT_TRUE(with.ok());
      EXPECT_EQ(*with, c.ids_add_special) << "case " << i;
    } else {
      auto with = tok->encode(c.text, {.add_special = true, .parse_special = true});
      ASSERT_TRUE(with.ok());
      EXPECT_EQ(*with, c.ids) << "add_special changes nothing for case " << i;
    }
    const std::string expected_text = normalizes ? nfc(c.text) : c.text;
    EXPECT_EQ(tok->decode(*ids, /*skip_special=*/false), expected_text) << "case " << i;
  }
  EXPECT_EQ(failures, 0);
  if (normalizes) check_qwen_special_tokens(*tok);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, JsonConformance, ::testing::Values("qwen3", "llama3"));

}  // namespace
}  // namespace minnow
