// `minnow tokenize` as a user runs it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_command.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

std::string vocab(const char* name) {
  return (test::conformance_dir() / "tokenizer" / (std::string("ggml-vocab-") + name + ".gguf")).string();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(TokenizeCli, GgufTextAddsBosUnlessNoAddSpecial) {
  MINNOW_REQUIRE_CONFORMANCE();
  auto r = test::run_minnow({"tokenize", "-m", vocab("llama-spm"), "--text", "Hello world"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 15043 3186\n");
  r = test::run_minnow({"tokenize", "-m", vocab("llama-spm"), "--text", "Hello world", "--no-add-special", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse("[15043, 3186]"));
}

TEST(TokenizeCli, FileBytesAreTakenExactly) {
  MINNOW_REQUIRE_CONFORMANCE();
  test::TempDir dir;
  write_file(dir.file("in.txt"), "\n\n");
  auto r = test::run_minnow({"tokenize", "-m", vocab("gpt-2"), "--file", dir.file("in.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "628\n");  // "\n\n" is one GPT-2 token; nothing stripped
}

TEST(TokenizeCli, JsonlKeepsOrderAndParseSpecialIsOptIn) {
  MINNOW_REQUIRE_CONFORMANCE();
  test::TempDir dir;
  write_file(dir.file("in.jsonl"), "{\"text\": \"Hello\"}\n{\"text\": \"<|endoftext|>\"}\n{\"text\": \"\"}\n");
  auto r = test::run_minnow({"tokenize", "-m", vocab("gpt-2"), "--jsonl", dir.file("in.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[15496]}\n{\"ids\":[27,91,437,1659,5239,91,29]}\n{\"ids\":[]}\n");
  r = test::run_minnow({"tokenize", "-m", vocab("gpt-2"), "--jsonl", dir.file("in.jsonl"), "--parse-special"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("{\"ids\":[50256]}"), std::string::npos) << r.out;
}

TEST(TokenizeCli, TokenizerJsonAndPieces) {
  MINNOW_REQUIRE_CONFORMANCE();
  const auto tj = (test::conformance_dir() / "tokenizer-json/qwen3/tokenizer.json").string();
  auto r = test::run_minnow({"tokenize", "--tokenizer", tj, "--text", "Hello world", "--pieces", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["id"], 9707);
  EXPECT_EQ(j[1]["piece"], "\xC4\xA0world");  // "Ġworld"
}

TEST(TokenizeCli, BadInputsAreOneLineErrors) {
  test::TempDir dir;
  auto r = test::run_minnow({"tokenize", "-m", dir.file("missing.gguf"), "--text", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("minnow: error:"), std::string::npos);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
  r = test::run_minnow({"tokenize", "--text", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-m MODEL or --tokenizer"), std::string::npos) << r.err;
  if (test::conformance_dir().empty()) return;
  write_file(dir.file("bad.jsonl"), "{\"text\": \"ok\"}\nnot json\n");
  r = test::run_minnow({"tokenize", "-m", vocab("gpt-2"), "--jsonl", dir.file("bad.jsonl")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");  // nothing partial
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace minnow
