// Every model in ../shared/conformance/models against llama.cpp's logits:
// batched prefill rows, the greedy continuation, and incremental decode rows.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "model/context.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

namespace fs = std::filesystem;

std::vector<float> read_f32(const fs::path& p) {
  auto bytes = read_file(p.string());
  EXPECT_TRUE(bytes.ok()) << p;
  std::vector<float> v(bytes.ok() ? bytes->size() / 4 : 0);
  if (!v.empty()) std::memcpy(v.data(), bytes->data(), v.size() * 4);
  return v;
}

double rel_error(const float* a, const float* ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += double(a[i] - ref[i]) * (a[i] - ref[i]);
    den += double(ref[i]) * ref[i];
  }
  return std::sqrt(num / den);
}

int argmax(const float* x, size_t n) { return int(std::max_element(x, x + n) - x); }

class ModelConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelConformance, MatchesLlamaCpp) {
  MINNOW_REQUIRE_CONFORMANCE();
  const fs::path dir = test::conformance_dir() / "models";
  const std::string name = GetParam();
  auto ref_text = read_file((dir / (name + ".ref.json")).string());
  ASSERT_TRUE(ref_text.ok());
  const auto ref = nlohmann::json::parse(*ref_text);
  auto model = Model::load((dir / (name + ".gguf")).string());
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  auto ctx = InferenceContext::create(*model, {128, KvType::kF16});
  ASSERT_TRUE(ctx.ok());
  const auto prompt = ref["prompt_tokens"].get<std::vector<int32_t>>();

  if (ref["arch"] == "bert") {
    auto emb = (*ctx)->embed(prompt);
    ASSERT_TRUE(emb.ok()) << emb.error().to_string();
    const auto want = read_f32(dir / ref["embedding_file"].get<std::string>());
    ASSERT_EQ(emb->size(), want.size());
    double dot = 0;
    for (size_t i = 0; i < want.size(); ++i) dot += double((*emb)[i]) * want[i];
    EXPECT_GE(dot, 0.999) << name;  // both are L2-normalized: dot is the cosine
    return;
  }

  const bool quantized = ref["quant"] != "F32" && ref["quant"] != "F16";
  const double tol = quantized ? 5e-2 : 2e-3;
  const size_t n_vocab = ref["n_vocab"].get<size_t>();
  auto logits = (*ctx)->decode(prompt, /*all_logits=*/true);
  ASSERT_TRUE(logits.ok()) << logits.error().to_string();
  const auto want = read_f32(dir / ref["logits_file"].get<std::string>());
  ASSERT_EQ(logits->size(), want.size());
  double worst = 0;
  for (size_t r = 0; r < prompt.size(); ++r)
    worst = std::max(worst, rel_error(&(*logits)[r * n_vocab], &want[r * n_vocab], n_vocab));
  EXPECT_LE(worst, tol) << name << ": prefill rows";

  // Greedy: step 0 from the last prompt row, then one token at a time.
  const auto greedy = ref["greedy_tokens"].get<std::vector<int32_t>>();
  const auto gen_want = read_f32(dir / ref["gen_logits_file"].get<std::string>());
  std::vector<float> row(logits->end() - long(n_vocab), logits->end());
  std::vector<int32_t> got;
  double worst_gen = 0;
  for (size_t g = 0; g < greedy.size(); ++g) {
    worst_gen = std::max(worst_gen, rel_error(row.data(), &gen_want[g * n_vocab], n_vocab));
    got.push_back(argmax(row.data(), n_vocab));
    if (g + 1 == greedy.size()) break;
    auto next = (*ctx)->decode(std::vector<int32_t>{got.back()});
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    row = *next;
  }
  EXPECT_EQ(got, greedy) << name;
  EXPECT_LE(worst_gen, tol) << name << ": incremental decode rows";
}

INSTANTIATE_TEST_SUITE_P(
    All, ModelConformance,
    ::testing::Values("llama-tiny-F32", "llama-tiny-Q4_0", "llama-tiny-Q4_K_M", "llama-tiny-Q6_K", "llama-tiny-Q8_0",
                      "qwen2-tiny-F16", "qwen2-tiny-Q4_0", "qwen2-tiny-Q4_K_M", "qwen2-tiny-Q6_K", "qwen2-tiny-Q8_0",
                      "phi3-tiny-F32", "phi3-tiny-Q4_K_M", "phi3-tiny-Q8_0", "gemma2-tiny-F16", "gemma2-tiny-Q4_K_M",
                      "gemma2-tiny-Q8_0", "starcoder2-tiny-F32", "starcoder2-tiny-Q4_K_M", "starcoder2-tiny-Q8_0",
                      "bert-tiny-F32", "bert-tiny-Q8_0"),
    [](const auto& info) {
      std::string n = info.param;
      for (auto& c : n)
        if (c == '-') c = '_';
      return n;
    });

}  // namespace
}  // namespace minnow
