// The tokenizer.ggml.pre table: every name compiles, splits as its model
// does, and the GGUF names for Llama 3 / Qwen2 agree with the regexes in
// those models' tokenizer.json on every conformance text.
#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_paths.h"
#include "tokenizer/conformance_cases.h"

namespace minnow {
namespace {

std::vector<std::string> split(const Pretokenizer& p, std::string_view text) {
  std::vector<std::string_view> pieces;
  EXPECT_TRUE(p.split(text, pieces).ok());
  return {pieces.begin(), pieces.end()};
}

Pretokenizer named(const char* name) {
  auto p = Pretokenizer::from_name(name);
  EXPECT_TRUE(p.ok()) << name << ": " << p.error().to_string();
  return std::move(p).value();
}

using Pieces = std::vector<std::string>;

TEST(Pretokenizer, EveryKnownNameCompiles) {
  for (const char* name : {"default", "gpt-2", "phi-2", "llama3", "llama-bpe", "qwen2", "starcoder", "deepseek-llm",
                           "deepseek-coder", "falcon", "mpt", "olmo", "refact", "command-r", "smollm", "dbrx",
                           "stablelm2"}) {
    auto p = Pretokenizer::from_name(name);
    EXPECT_TRUE(p.ok()) << name;
  }
  auto bad = Pretokenizer::from_name("brand-new");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("brand-new"), std::string::npos);
}

TEST(Pretokenizer, NumbersFollowEachModel) {
  EXPECT_EQ(split(named("llama3"), "12345"), (Pieces{"123", "45"}));
  EXPECT_EQ(split(named("qwen2"), "123"), (Pieces{"1", "2", "3"}));
  EXPECT_EQ(split(named("gpt-2"), "abc 12345"), (Pieces{"abc", " 12345"}));
  EXPECT_EQ(split(named("starcoder"), "x12"), (Pieces{"x", "1", "2"}));
  EXPECT_EQ(split(named("deepseek-coder"), "a12"), (Pieces{"a", "1", "2"}));
  EXPECT_EQ(split(named("falcon"), "1234567"), (Pieces{"123", "456", "7"}));
}

TEST(Pretokenizer, WhitespaceAndContractions) {
  // The last space of a run goes to the following word.
  EXPECT_EQ(split(named("gpt-2"), "   Hello"), (Pieces{"  ", " Hello"}));
  EXPECT_EQ(split(named("llama3"), "DON'T stop\n\n"), (Pieces{"DON", "'T", " stop", "\n\n"}));
  EXPECT_EQ(split(named("gpt-2"), "DON'T"), (Pieces{"DON", "'", "T"}));  // GPT-2 is case-sensitive
  EXPECT_EQ(split(named("deepseek-llm"), "Hi\n\nthere"), (Pieces{"Hi", "\n", "\n", "there"}));
}

TEST(Pretokenizer, InvalidUtf8IsIsolatedNotAnError) {
  const std::string text = "ab\xff\xfe cd";
  const Pieces pieces = split(named("llama3"), text);
  std::string joined;
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(joined, text);
}

// The "pre_tokenizer" object of a tokenizer.json, cut out by brace matching
// so the 10 MB vocabulary is not parsed just for one regex.
nlohmann::json pre_tokenizer_object(const std::string& doc) {
  const size_t key = doc.find("\"pre_tokenizer\"");
  const size_t open = doc.find('{', key);
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < doc.size(); ++i) {
    const char c = doc[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return nlohmann::json::parse(doc.substr(open, i + 1 - open));
    }
  }
  return {};
}

// The GGUF name must split exactly like the tokenizer.json it came from.
void expect_same_as_json(const char* pre, const char* dir) {
  const auto base = test::conformance_dir() / "tokenizer-json" / dir;
  const auto j = pre_tokenizer_object(test::read_file_bytes(base / "tokenizer.json"));
  const std::string regex = j["pretokenizers"][0]["pattern"]["Regex"];
  auto from_json = Pretokenizer::from_regexes({regex});
  ASSERT_TRUE(from_json.ok()) << from_json.error().to_string();
  const Pretokenizer from_name = named(pre);
  for (const auto& c : test::read_cases_jsonl(base / "cases.jsonl"))
    EXPECT_EQ(split(from_name, c.text), split(*from_json, c.text)) << pre << " on '" << c.text << "'";
}

TEST(Pretokenizer, GgufNamesMatchTokenizerJsonRegexes) {
  MINNOW_REQUIRE_CONFORMANCE();
  expect_same_as_json("llama-bpe", "llama3");
  expect_same_as_json("qwen2", "qwen3");
}

}  // namespace
}  // namespace minnow
