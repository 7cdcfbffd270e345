// The recipe table: which tensors get which type, and the bits per weight
// each recipe gives on real model shapes (shapes only, no weights).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "quant/quant_recipe.h"
#include "quant/quantize.h"

namespace minnow {
namespace {

struct Shape {
  std::string name;
  std::vector<uint64_t> ne;
};

// A Llama-layout model's tensor list (ggml order: ne[0] is the row length).
std::vector<Shape> llama_shapes(uint64_t n_embd, uint64_t n_ff, uint64_t n_vocab, uint32_t n_layer, uint64_t kv_dim) {
  std::vector<Shape> s = {{"token_embd.weight", {n_embd, n_vocab}}, {"output_norm.weight", {n_embd}},
                          {"output.weight", {n_embd, n_vocab}}};
  for (uint32_t l = 0; l < n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    s.push_back({p + "attn_norm.weight", {n_embd}});
    s.push_back({p + "attn_q.weight", {n_embd, n_embd}});
    s.push_back({p + "attn_k.weight", {n_embd, kv_dim}});
    s.push_back({p + "attn_v.weight", {n_embd, kv_dim}});
    s.push_back({p + "attn_output.weight", {n_embd, n_embd}});
    s.push_back({p + "ffn_norm.weight", {n_embd}});
    s.push_back({p + "ffn_gate.weight", {n_embd, n_ff}});
    s.push_back({p + "ffn_up.weight", {n_embd, n_ff}});
    s.push_back({p + "ffn_down.weight", {n_ff, n_embd}});
  }
  return s;
}

double bits_per_weight(const std::string& recipe_name, const ModelQuantInfo& info, const std::vector<Shape>& shapes) {
  const QuantRecipe recipe = *find_quant_recipe(recipe_name);
  double bits = 0, params = 0;
  for (const auto& s : shapes) {
    uint64_t n = 1;
    for (auto d : s.ne) n *= d;
    const TensorTypeChoice c = choose_tensor_type(recipe, info, s.name, s.ne);
    bits += 8.0 * double(c.quantize ? *quantized_size(c.type, n) : n * 4);
    params += double(n);
  }
  return bits / params;
}

GgmlType type_of(const std::string& recipe, const std::string& name, std::vector<uint64_t> ne,
                 ModelQuantInfo info = {32, 1, true}) {
  return choose_tensor_type(*find_quant_recipe(recipe), info, name, ne).type;
}

TEST(QuantRecipe, EveryCommandLineTypeIsARecipe) {
  for (const char* name : {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M",
                           "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"})
    EXPECT_TRUE(find_quant_recipe(name).has_value()) << name;
  EXPECT_FALSE(find_quant_recipe("Q4_K").has_value());
  EXPECT_EQ(find_quant_recipe("Q4_K_M")->file_type, 15u);
}

TEST(QuantRecipe, Llama7BShapesGiveLlamaCppBitsPerWeight) {
  // Llama-2-7B: llama.cpp's Q4_K_M file is 3.80 GiB for 6.74 B weights = 4.84 bpw.
  const auto shapes = llama_shapes(4096, 11008, 32000, 32, 4096);
  const ModelQuantInfo info{32, 1, true};
  const double q4_k_m = bits_per_weight("Q4_K_M", info, shapes);
  std::printf("  7B bpw:");
  for (const auto& r : quant_recipes()) std::printf(" %s %.3f", std::string(r.name).c_str(), bits_per_weight(std::string(r.name), info, shapes));
  std::printf("\n");
  EXPECT_GE(q4_k_m, 4.8);
  EXPECT_LE(q4_k_m, 4.9);
  // llama.cpp's published sizes for the same model (bpw): Q5_K_M 5.68, Q3_K_M 3.91, Q6_K 6.56, Q8_0 8.50.
  EXPECT_NEAR(bits_per_weight("Q5_K_M", info, shapes), 5.68, 0.05);
  EXPECT_NEAR(bits_per_weight("Q3_K_M", info, shapes), 3.91, 0.05);
  EXPECT_NEAR(bits_per_weight("Q6_K", info, shapes), 6.56, 0.02);
  EXPECT_NEAR(bits_per_weight("Q8_0", info, shapes), 8.50, 0.01);
  EXPECT_NEAR(bits_per_weight("F16", info, shapes), 16.0, 0.01);
}

double gib(const std::string& recipe, const ModelQuantInfo& info, const std::vector<Shape>& shapes) {
  double params = 0;
  for (const auto& s : shapes) params += double(s.ne.size() == 1 ? s.ne[0] : s.ne[0] * s.ne[1]);
  return bits_per_weight(recipe, info, shapes) * params / 8.0 / double(1ull << 30);
}

TEST(QuantRecipe, Llama3_8BShapesGiveLlamaCppFileSizes) {
  // GQA (32 query heads, 8 KV heads): the n_gqa >= 4 rules apply. Sizes in
  // GiB are the ones llama-quantize's help lists for Llama-3-8B.
  const auto shapes = llama_shapes(4096, 14336, 128256, 32, 1024);
  const ModelQuantInfo info{32, 4, true};
  EXPECT_NEAR(gib("Q2_K", info, shapes), 2.96, 0.03);
  EXPECT_NEAR(gib("Q3_K_M", info, shapes), 3.74, 0.03);
  EXPECT_NEAR(gib("Q4_K_M", info, shapes), 4.58, 0.03);
  EXPECT_NEAR(gib("Q5_K_M", info, shapes), 5.33, 0.03);
  EXPECT_NEAR(gib("Q6_K", info, shapes), 6.14, 0.03);
  EXPECT_NEAR(gib("Q8_0", info, shapes), 7.96, 0.03);
}

TEST(QuantRecipe, Q4KMGivesMoreBitsToAttnVAndFfnDownInChosenLayers) {
  // use_more_bits over 32 layers: 0-3, 28-31, and every third from 6.
  for (int layer : {0, 3, 6, 9, 28, 31})
    EXPECT_EQ(type_of("Q4_K_M", "blk." + std::to_string(layer) + ".ffn_down.weight", {11008, 4096}), GgmlType::Q6_K) << layer;
  for (int layer : {4, 5, 7, 8, 26})
    EXPECT_EQ(type_of("Q4_K_M", "blk." + std::to_string(layer) + ".attn_v.weight", {4096, 4096}), GgmlType::Q4_K) << layer;
  EXPECT_EQ(type_of("Q4_K_M", "blk.0.attn_v.weight", {4096, 4096}), GgmlType::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.0.attn_q.weight", {4096, 4096}), GgmlType::Q4_K);
  EXPECT_EQ(type_of("Q4_K_M", "output.weight", {4096, 32000}), GgmlType::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", "token_embd.weight", {4096, 32000}), GgmlType::Q4_K);
  EXPECT_EQ(type_of("Q3_K_M", "blk.1.attn_v.weight", {4096, 4096}), GgmlType::Q5_K);
  EXPECT_EQ(type_of("Q3_K_M", "blk.2.attn_v.weight", {4096, 4096}), GgmlType::Q4_K);
  EXPECT_EQ(type_of("Q3_K_M", "blk.0.attn_output.weight", {4096, 4096}), GgmlType::Q4_K);
  EXPECT_EQ(type_of("Q2_K", "blk.5.attn_v.weight", {4096, 1024}, {32, 4, true}), GgmlType::Q4_K);
  EXPECT_EQ(type_of("IQ4_XS", "blk.5.attn_v.weight", {4096, 1024}, {32, 4, true}), GgmlType::Q5_K);
  EXPECT_EQ(type_of("IQ4_XS", "blk.5.attn_v.weight", {4096, 1024}, {32, 1, true}), GgmlType::IQ4_XS);
  EXPECT_EQ(type_of("Q4_0", "output.weight", {4096, 32000}), GgmlType::Q6_K);
  EXPECT_EQ(type_of("Q8_0", "output.weight", {4096, 32000}), GgmlType::Q8_0);
  EXPECT_EQ(type_of("F16", "output.weight", {4096, 32000}), GgmlType::F16);
}

TEST(QuantRecipe, TiedEmbeddingsAreTreatedAsTheOutput) {
  EXPECT_EQ(type_of("Q4_K_M", "token_embd.weight", {896, 151936}, {24, 7, false}), GgmlType::Q8_0);  // 896 % 256 != 0
  EXPECT_EQ(type_of("Q4_K_M", "token_embd.weight", {1024, 151936}, {24, 7, false}), GgmlType::Q6_K);
}

TEST(QuantRecipe, NormsBiasesAndVectorsAreNotQuantized) {
  const QuantRecipe r = *find_quant_recipe("Q4_0");
  EXPECT_FALSE(choose_tensor_type(r, {}, "blk.0.attn_norm.weight", std::vector<uint64_t>{4096}).quantize);
  EXPECT_FALSE(choose_tensor_type(r, {}, "blk.0.attn_q.bias", std::vector<uint64_t>{4096, 1}).quantize);
  EXPECT_FALSE(choose_tensor_type(r, {}, "blk.0.q_norm.weight", std::vector<uint64_t>{128, 1}).quantize);
  EXPECT_TRUE(choose_tensor_type(r, {}, "blk.0.attn_q.weight", std::vector<uint64_t>{4096, 4096}).quantize);
}

TEST(QuantRecipe, IncompatibleRowLengthsFallBackWithANote) {
  const QuantRecipe r = *find_quant_recipe("Q4_K_M");
  auto c = choose_tensor_type(r, {2, 1, true}, "blk.1.attn_q.weight", std::vector<uint64_t>{896, 896});
  EXPECT_EQ(c.type, GgmlType::Q5_0);
  EXPECT_NE(c.note.find("not a multiple of 256"), std::string::npos) << c.note;
  EXPECT_EQ(type_of("Q2_K", "blk.1.attn_q.weight", {96, 96}), GgmlType::IQ4_NL);
  EXPECT_EQ(type_of("Q5_K_M", "blk.1.attn_q.weight", {96, 96}), GgmlType::Q5_1);
  EXPECT_EQ(type_of("Q6_K", "blk.1.attn_q.weight", {96, 96}), GgmlType::Q8_0);
  EXPECT_EQ(type_of("Q4_0", "blk.1.attn_q.weight", {100, 96}), GgmlType::F16);
  EXPECT_TRUE(type_of("Q4_K_M", "blk.1.attn_q.weight", {256, 3}) == GgmlType::Q4_K);
}

}  // namespace
}  // namespace minnow
