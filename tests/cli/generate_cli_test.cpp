// run, embed and perplexity as a user calls them.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gguf/tiny_model.h"
#include "support/run_command.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

class GenerateCli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(make_tiny_model({}).write(model_).ok()); }
  test::TempDir dir_;
  std::string model_ = dir_.file("tiny.gguf");
};

TEST_F(GenerateCli, OneShotRunIsReproducibleWithASeed) {
  auto a = test::run_minnow({"run", "-m", model_, "-p", "Hello", "-n", "12", "--temp", "0.9", "--seed", "5"});
  auto b = test::run_minnow({"run", "-m", model_, "-p", "Hello", "-n", "12", "--temp", "0.9", "--seed", "5"});
  auto c = test::run_minnow({"run", "-m", model_, "-p", "Hello", "-n", "12", "--temp", "0.9", "--seed", "6"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_FALSE(a.out.empty());
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  // K and V: 2 layers x 512 positions x 32 dims x 2 bytes each = 0.125 MiB
  EXPECT_NE(a.err.find("KV cache 0.1 MiB (f16, 512 tokens)"), std::string::npos) << a.err;
}

TEST_F(GenerateCli, RunRejectsBadInput) {
  auto r = test::run_minnow({"run", "-m", model_, "-p", "x", "-n", "-5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "minnow: error: -n: must be in 0..1048576\n");
  r = test::run_minnow({"run", "-m", model_, "-p", std::string(600, 'a'), "--ctx", "64"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the context holds 64"), std::string::npos) << r.err;
  r = test::run_minnow({"run", "-m", model_, "-p", "x", "--kv-type", "f8"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "minnow: error: --kv-type: must be f16 or f32, not 'f8'\n");
  r = test::run_minnow({"run", "-m", model_, "-p", "x", "--temp", "-1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("temperature"), std::string::npos);
  TinyModelSpec odd;
  odd.arch = "rwkv6";
  ASSERT_TRUE(make_tiny_model(odd).write(dir_.file("rwkv.gguf")).ok());
  r = test::run_minnow({"run", "-m", dir_.file("rwkv.gguf"), "-p", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("architecture 'rwkv6' is not supported"), std::string::npos) << r.err;
}

TEST_F(GenerateCli, RunFollowsAGrammarOrAJsonSchema) {
  {
    std::ofstream(dir_.file("yn.gbnf")) << "root ::= (\"yes\" | \"no\") \"!\"\n";
    std::ofstream(dir_.file("s.json")) << R"({"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9}},"required":["n"]})";
    std::ofstream(dir_.file("bad.json")) << R"({"type":"string","pattern":"a+"})";
  }
  for (const char* seed : {"1", "2", "3"}) {
    auto r = test::run_minnow({"run", "-m", model_, "-p", "Hi", "--temp", "1", "--seed", seed, "--grammar-file", dir_.file("yn.gbnf")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out == "yes!\n" || r.out == "no!\n") << r.out;
    r = test::run_minnow({"run", "-m", model_, "-p", "Hi", "--temp", "1", "--seed", seed, "--json-schema", dir_.file("s.json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out;
    EXPECT_GE(j["n"].get<int>(), 1);
    EXPECT_LE(j["n"].get<int>(), 9);
  }
  auto r = test::run_minnow({"run", "-m", model_, "-p", "Hi", "--json-schema", dir_.file("bad.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pattern"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  std::ofstream(dir_.file("broken.gbnf")) << "root ::= (\"a\"\n";
  r = test::run_minnow({"run", "-m", model_, "-p", "Hi", "--grammar-file", dir_.file("broken.gbnf")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("grammar: line 2, column 1: expected ')'"), std::string::npos) << r.err;
}

TEST_F(GenerateCli, InteractiveChatReadsTurnsUntilExit) {
  // stdin is /dev/null in run_minnow: end of input ends the chat cleanly.
  auto r = test::run_minnow({"run", "-m", model_, "-n", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(GenerateCli, PerplexityReportsAFiniteValue) {
  std::ofstream(dir_.file("text.txt")) << std::string(2000, 'a') + " the quick brown fox";
  auto r = test::run_minnow({"perplexity", "-m", model_, "-f", dir_.file("text.txt"), "--ctx", "64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double ppl = 0;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "PPL = %lf", &ppl), 1) << r.out;
  EXPECT_TRUE(std::isfinite(ppl) && ppl > 1.0);
  std::ofstream(dir_.file("short.txt")) << "hi";
  r = test::run_minnow({"perplexity", "-m", model_, "-f", dir_.file("short.txt")});
  EXPECT_EQ(r.exit_code, 1);
}

// Issue 10's memory bound: peak RSS of `minnow run` <= model file + KV
// cache + 64 MiB, on qwen2.5-0.5b-shaped files. At load every matrix moves
// into one huge-page arena (Q4_0 and Q5_0/Q8_0 repacked into panels, the
// K-quants of Q4_K_M copied as they are) and the file's pages of each are
// released. Sanitizers add shadow memory, so they skip it.
class RunCliMemory : public ::testing::TestWithParam<const char*> {};

TEST_P(RunCliMemory, PeakResidentMemoryStaysWithinFilePlusKvPlus64MiB) {
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  GTEST_SKIP() << "resident memory is only meaningful in a release build without sanitizers";
#endif
  test::TempDir dir;
  const std::string path = dir.file("q05.gguf");
  auto made = test::run_minnow({"demo", "--synthetic", "qwen2.5-0.5b", "--quant", GetParam(), "--out", path});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto r = test::run_minnow({"run", "-m", path, "-p", "Hello", "-n", "8", "--ctx", "512", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t at = r.err.find("peak RSS ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const double rss_mib = std::stod(r.err.substr(at + 9));
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  const double file_mib = double(f.tellg()) / (1 << 20);
  // K and V, f16: 24 layers x 512 positions x 128 dims x 2 bytes each = 6 MiB.
  const double kv_mib = 6.0;
  EXPECT_GT(rss_mib, 0.5 * file_mib) << "the weights were read";
  EXPECT_LE(rss_mib, file_mib + kv_mib + 64.0) << r.err;
  EXPECT_NE(r.err.find("KV cache 6.0 MiB (f16, 512 tokens)"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Quants, RunCliMemory, ::testing::Values("Q4_0", "Q4_K_M"));

TEST(EmbedCli, BertEmbeddingIsUnitLength) {
  MINNOW_REQUIRE_CONFORMANCE();
  const auto model = (test::conformance_dir() / "models" / "bert-tiny-F32.gguf").string();
  auto r = test::run_minnow({"embed", "-m", model, "--text", "hello world"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto v = j["embedding"].get<std::vector<double>>();
  ASSERT_EQ(v.size(), 256u);
  double norm = 0;
  for (double x : v) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  test::TempDir dir;
  ASSERT_TRUE(make_tiny_model({}).write(dir.file("t.gguf")).ok());
  r = test::run_minnow({"embed", "-m", dir.file("t.gguf"), "--text", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("embeddings need an embedding model"), std::string::npos);
}

}  // namespace
}  // namespace minnow
