#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "gguf/tiny_model.h"
#include "support/run_command.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

TEST(InspectCli, HumanTableShowsSummaryMetadataAndTensors) {
  test::TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  ASSERT_TRUE(make_tiny_model(TinyModelSpec{}).write(path).ok());
  auto r = test::run_minnow({"inspect", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture:  llama"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("32.00 bits per weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("llama.block_count"), std::string::npos);
  EXPECT_NE(r.out.find("[str x 288] \"<unk>\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("blk.1.ffn_down.weight"), std::string::npos);
  EXPECT_NE(r.out.find("[128, 64]"), std::string::npos);
}

TEST(InspectCli, JsonListsEveryTensorWithAbsoluteOffsets) {
  test::TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  ASSERT_TRUE(make_tiny_model(TinyModelSpec{}).write(path).ok());
  auto r = test::run_minnow({"inspect", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["metadata"]["llama.embedding_length"]["value"], 64);
  EXPECT_EQ(j["tensors"].size(), 3u + 2u * 9u);
  EXPECT_EQ(j["tensors"][0]["name"], "token_embd.weight");
  EXPECT_EQ(j["tensors"][0]["offset"], j["data_offset"]);
}

TEST(InspectCli, DequantWritesRawFloatsAtomically) {
  test::TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  ASSERT_TRUE(make_tiny_model(TinyModelSpec{}).write(path).ok());
  const std::string out = dir.file("norm.f32");
  auto r = test::run_minnow({"inspect", path, "--tensor", "output_norm.weight", "--dequant", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto bytes = read_file(out);
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 64u * 4);
  float v;
  std::memcpy(&v, bytes->data(), 4);
  EXPECT_EQ(v, 1.0f);

  r = test::run_minnow({"inspect", path, "--tensor", "nope", "--dequant", dir.file("x.f32")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tensor named 'nope'"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.f32")));
}

TEST(InspectCli, BadInvocationsExitOneWithOneLine) {
  auto r = test::run_minnow({"inspect", "/nonexistent/model.gguf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "minnow: error: /nonexistent/model.gguf: cannot open: No such file or directory\n");
  r = test::run_minnow({"inspect", "/tmp"});
  EXPECT_EQ(r.exit_code, 1);
  r = test::run_minnow({"frobnicate"});
  EXPECT_EQ(r.exit_code, 1);
}

TEST(InspectCli, PrintsEveryConformanceModel) {
  MINNOW_REQUIRE_CONFORMANCE();
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(test::conformance_dir())) {
    if (e.path().extension() != ".gguf") continue;
    auto r = test::run_minnow({"inspect", e.path().string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << e.path() << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["file"], e.path().string());
    ++n;
  }
  EXPECT_GE(n, 40);
}

}  // namespace
}  // namespace minnow
