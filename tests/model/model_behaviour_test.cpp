// Properties of the forward pass on fixture models, and its error paths.
#include <gtest/gtest.h>

#include "base/float_mode.h"

#include <cmath>
#include <sstream>

#include "base/huge_pages.h"
#include "gguf/tiny_model.h"
#include "model/context.h"
#include "support/run_command.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

std::shared_ptr<const Model> load_fixture(const test::TempDir& dir, GgufWriter w, const std::string& name = "m.gguf") {
  const std::string path = dir.file(name);
  EXPECT_TRUE(w.write(path).ok());
  auto m = Model::load(path);
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  return m.ok() ? *m : nullptr;
}

// At load the matrices matmul reads leave a mapped file for the huge-page
// arena (base/huge_pages.h), while an untied token embedding, only looked up
// by row, stays mapped so that only the rows read are paged in.
TEST(ModelBehaviour, MatmulWeightsMoveToTheArenaAndTheUntiedEmbeddingStays) {
  test::TempDir dir;
  auto model = load_fixture(dir, make_tiny_model({}));
  ASSERT_TRUE(model);
  const GgufFile& file = model->file();
  auto in_file = [&](const char* name) {
    const GgufTensorInfo* t = file.find_tensor(name);
    EXPECT_NE(t, nullptr) << name;
    return t ? file.tensor_data(*t).data() : nullptr;
  };
  ASSERT_TRUE(model->output()) << "the tiny model has its own output.weight";
  EXPECT_EQ(model->global(Role::kTokEmbd).data, in_file("token_embd.weight"));
  if (!huge_pages_enabled()) GTEST_SKIP() << "MINNOW_HUGE_PAGES=0: every matrix stays in the file";
  EXPECT_NE(model->layer(0, Role::kQ).data, in_file("blk.0.attn_q.weight"));
  EXPECT_NE(model->layer(1, Role::kDown).data, in_file("blk.1.ffn_down.weight"));
  EXPECT_NE(model->output().data, in_file("output.weight"));
  // Same bytes wherever they live: row 3 of ffn_down as the file has it.
  const TensorRef& down = model->layer(1, Role::kDown);
  std::vector<float> moved(down.ne0), original(down.ne0);
  dequantize_row(down, 3, moved.data());
  TensorRef at_file = down;
  at_file.data = in_file("blk.1.ffn_down.weight");
  at_file.packed = false;
  dequantize_row(at_file, 3, original.data());
  EXPECT_EQ(moved, original);
}

TEST(ModelBehaviour, BatchedPrefillEqualsOneTokenAtATime) {
  test::TempDir dir;
  auto model = load_fixture(dir, make_tiny_model({}));
  ASSERT_TRUE(model);
  const std::vector<int32_t> tokens = {1, 72, 101, 108, 108, 111, 33};
  auto batched = InferenceContext::create(model, {64, KvType::kF32});
  auto stepwise = InferenceContext::create(model, {64, KvType::kF32});
  auto all = (*batched)->decode(tokens, true);
  ASSERT_TRUE(all.ok());
  const size_t V = model->hparams().n_vocab;
  for (size_t t = 0; t < tokens.size(); ++t) {
    auto row = (*stepwise)->decode(std::vector<int32_t>{tokens[t]});
    ASSERT_TRUE(row.ok());
    for (size_t i = 0; i < V; ++i) ASSERT_NEAR((*row)[i], (*all)[t * V + i], 1e-4) << "token " << t;
  }
  EXPECT_EQ((*stepwise)->n_past(), tokens.size());
}

// decode_into leaves in the caller's vector exactly what decode returns,
// whatever that vector held before (all the rows of a prompt, or stale
// values), and keeps its storage from one token to the next.
TEST(ModelBehaviour, DecodeIntoReusesTheVectorAndMatchesDecode) {
  test::TempDir dir;
  auto model = load_fixture(dir, make_tiny_model({}));
  ASSERT_TRUE(model);
  const std::vector<int32_t> prompt = {1, 72, 101}, next = {108, 111, 33};
  auto fresh = InferenceContext::create(model, {64, KvType::kF16});
  auto reused = InferenceContext::create(model, {64, KvType::kF16});
  ASSERT_TRUE((*fresh)->decode(prompt).ok());
  std::vector<float> logits;
  ASSERT_TRUE((*reused)->decode_into(prompt, logits, true).ok());
  const size_t V = model->hparams().n_vocab;
  ASSERT_EQ(logits.size(), prompt.size() * V);
  for (size_t k = 0; k < next.size(); ++k) {
    std::fill(logits.begin(), logits.end(), 1e30f);
    const float* storage = logits.data();
    auto want = (*fresh)->decode(std::span<const int32_t>(&next[k], 1));
    ASSERT_TRUE(want.ok());
    ASSERT_TRUE((*reused)->decode_into(std::span<const int32_t>(&next[k], 1), logits).ok());
    EXPECT_EQ(logits, *want) << "token " << k;
    EXPECT_EQ(logits.data(), storage) << "token " << k << ": the vector was reallocated";
  }
  // A failing call (an id outside the vocabulary) reports it and keeps the cache as it was.
  const int32_t bad = int32_t(V);
  EXPECT_FALSE((*reused)->decode_into(std::span<const int32_t>(&bad, 1), logits).ok());
  EXPECT_EQ((*reused)->n_past(), prompt.size() + next.size());
}

TEST(ModelBehaviour, SequencesBatchedTogetherMatchEachAlone) {
  test::TempDir dir;
  auto model = load_fixture(dir, make_tiny_model({}));
  ASSERT_TRUE(model);
  const std::vector<std::vector<int32_t>> prompts = {{1, 2, 3, 4, 5}, {9}, {200, 100, 50}};
  std::vector<std::unique_ptr<InferenceContext>> together, alone;
  for (size_t i = 0; i < prompts.size(); ++i) {
    together.push_back(std::move(*InferenceContext::create(model, {32, KvType::kF32})));
    alone.push_back(std::move(*InferenceContext::create(model, {32, KvType::kF32})));
  }
  // Give the sequences different histories first, so positions differ too.
  ASSERT_TRUE(together[1]->decode(std::vector<int32_t>{7, 7, 7}).ok());
  ASSERT_TRUE(alone[1]->decode(std::vector<int32_t>{7, 7, 7}).ok());
  std::vector<std::vector<float>> out(prompts.size());
  std::vector<DecodeItem> items;
  for (size_t i = 0; i < prompts.size(); ++i) items.push_back({together[i].get(), prompts[i], i == 0, &out[i]});
  ASSERT_TRUE(decode_batch(items).ok());
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto want = alone[i]->decode(prompts[i], i == 0);
    ASSERT_TRUE(want.ok());
    ASSERT_EQ(out[i].size(), want->size());
    for (size_t j = 0; j < want->size(); ++j) ASSERT_NEAR(out[i][j], (*want)[j], 1e-4) << "sequence " << i;
    EXPECT_EQ(together[i]->n_past(), alone[i]->n_past());
  }
  // An invalid item fails the whole batch before any state changes.
  std::vector<int32_t> bad = {999};
  items = {{together[0].get(), prompts[0], false, &out[0]}, {together[2].get(), bad, false, &out[2]}};
  EXPECT_FALSE(decode_batch(items).ok());
  EXPECT_EQ(together[0]->n_past(), 5u);
}

TEST(ModelBehaviour, F16CacheStaysCloseToF32) {
  test::TempDir dir;
  auto model = load_fixture(dir, make_tiny_model({}));
  ASSERT_TRUE(model);
  const std::vector<int32_t> tokens = {5, 6, 7, 8, 9, 10};
  auto a = (*InferenceContext::create(model, {16, KvType::kF16}))->decode(tokens);
  auto b = (*InferenceContext::create(model, {16, KvType::kF32}))->decode(tokens);
  ASSERT_TRUE(a.ok() && b.ok());
  double num = 0, den = 0;
  for (size_t i = 0; i < a->size(); ++i) {
    num += std::pow((*a)[i] - (*b)[i], 2);
    den += std::pow((*b)[i], 2);
  }
  EXPECT_LT(std::sqrt(num / den), 1e-2);
  EXPECT_GT(std::sqrt(num / den), 0.0);  // the F16 path really rounds
}

TEST(ModelBehaviour, DecodeLeavesTheCallersFloatModeAsItFoundIt) {
  // The forward pass flushes denormals (base/float_mode.h) only while it runs.
  test::TempDir dir;
  auto model = load_fixture(dir, make_tiny_model({}));
  ASSERT_TRUE(model);
  ASSERT_FALSE(denormals_flushed_on_this_thread());
  ASSERT_TRUE((*InferenceContext::create(model, {16, KvType::kF16}))->decode(std::vector<int32_t>{5, 6, 7}).ok());
  EXPECT_FALSE(denormals_flushed_on_this_thread());
}

TEST(ModelBehaviour, BadTokensAndFullContextFailWithoutSideEffects) {
  test::TempDir dir;
  auto model = load_fixture(dir, make_tiny_model({}));
  ASSERT_TRUE(model);
  auto ctx = std::move(*InferenceContext::create(model, {4, KvType::kF16}));
  auto bad = ctx->decode(std::vector<int32_t>{1, 288});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("token id 288 at index 1 is outside the vocabulary [0, 288)"),
            std::string::npos);
  EXPECT_FALSE(ctx->decode(std::vector<int32_t>{-1}).ok());
  EXPECT_FALSE(ctx->decode(std::vector<int32_t>{}).ok());
  EXPECT_EQ(ctx->n_past(), 0u);
  ASSERT_TRUE(ctx->decode(std::vector<int32_t>{1, 2, 3}).ok());
  auto full = ctx->decode(std::vector<int32_t>{4, 5});
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.error().to_string().find("context full"), std::string::npos);
  EXPECT_EQ(ctx->n_past(), 3u);
  EXPECT_FALSE(ctx->embed(std::vector<int32_t>{1}).ok());  // decoder models do not embed
}

TEST(ModelBehaviour, UnknownArchitectureIsNamed) {
  test::TempDir dir;
  TinyModelSpec spec;
  spec.arch = "mamba";
  const std::string path = dir.file("x.gguf");
  ASSERT_TRUE(make_tiny_model(spec).write(path).ok());
  auto m = Model::load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().to_string().find("architecture 'mamba' is not supported (supported: llama"), std::string::npos);
}

// q_dim() and kv_dim() are 32-bit products of the head counts and sizes:
// head sizes past any real model's are refused at load, before a buffer is
// sized from them or a product can wrap onto the tensors' real shapes.
TEST(ModelBehaviour, ImplausibleHeadSizesAreRefused) {
  test::TempDir dir;
  for (uint32_t key_length : {8192u, 1u << 20}) {
    GgufWriter w = make_tiny_model({});
    w.set("llama.attention.key_length", GgufValue::u32(key_length));
    const std::string path = dir.file("heads.gguf");
    ASSERT_TRUE(w.write(path).ok());
    auto m = Model::load(path);
    ASSERT_FALSE(m.ok()) << key_length;
    EXPECT_NE(m.error().to_string().find("implausibly large (attention.key_length"), std::string::npos)
        << m.error().to_string();
  }
}

TEST(ModelBehaviour, MissingAndMisshapenTensorsAreAllListed) {
  test::TempDir dir;
  // Rebuild the fixture without blk.1.attn_k and with a wrong ffn_up shape.
  const auto bytes = make_tiny_model({}).serialize();
  auto src = GgufFile::parse(bytes);
  ASSERT_TRUE(src.ok());
  GgufWriter w;
  for (const auto& [k, v] : src->metadata()) w.set(k, v);
  for (const auto& t : src->tensors()) {
    if (t.name == "blk.1.attn_k.weight") continue;
    auto data = src->tensor_data(t);
    std::vector<uint64_t> ne = t.ne;
    if (t.name == "blk.0.ffn_up.weight") std::swap(ne[0], ne[1]);
    ASSERT_TRUE(w.add_tensor(t.name, t.type, ne, {data.begin(), data.end()}).ok());
  }
  const std::string path = dir.file("broken.gguf");
  ASSERT_TRUE(w.write(path).ok());
  auto m = Model::load(path);
  ASSERT_FALSE(m.ok());
  const std::string msg = m.error().to_string();
  EXPECT_NE(msg.find("missing blk.1.attn_k.weight [64, 32]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("blk.0.ffn_up.weight has shape [128, 64], expected [64, 128]"), std::string::npos) << msg;
}

TEST(LogitsCli, WritesAllRowsAndPrintsGreedyIds) {
  test::TempDir dir;
  const std::string path = dir.file("m.gguf");
  ASSERT_TRUE(make_tiny_model({}).write(path).ok());
  auto r = test::run_minnow({"logits", "-m", path, "--tokens", "1 2 3", "-o", dir.file("l.f32"), "--greedy", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::filesystem::file_size(dir.file("l.f32")), 3u * 288u * 4u);
  int count = 0;
  std::istringstream in(r.out);
  for (int id; in >> id; ++count) EXPECT_TRUE(id >= 0 && id < 288);
  EXPECT_EQ(count, 4);
  r = test::run_minnow({"logits", "-m", path, "--tokens", "1 x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "minnow: error: --tokens: 'x' is not a token id\n");
  r = test::run_minnow({"logits", "-m", path, "--tokens", "1 2 3", "--ctx", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("context full"), std::string::npos);
  r = test::run_minnow({"logits", "-m", path, "--tokens", "1", "--greedy", "-5"});
  EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
}  // namespace minnow

#include "model/ops.h"

namespace minnow {
namespace {

TEST(Rope, LongRopePicksFactorsByContextAndScalesMagnitude) {
  const float short_f[1] = {1.0f}, long_f[1] = {4.0f};
  EXPECT_EQ(ops::longrope_factors(short_f, long_f, 4096, 4096), short_f);
  EXPECT_EQ(ops::longrope_factors(short_f, long_f, 4096, 8192), long_f);
  EXPECT_EQ(ops::longrope_factors(nullptr, nullptr, 4096, 8192), nullptr);
  EXPECT_EQ(ops::longrope_factors(short_f, nullptr, 4096, 8192), short_f);

  // One head of two dims at position 1: a rotation by theta = 1 (or 1/4 with
  // the long factor), its length multiplied by mscale.
  float v[2] = {1.0f, 0.0f};
  ops::rope(v, 1, 2, 2, 1, 10000.0f, 1.0f, long_f, ops::RopeStyle::kNorm, 2.0f);
  EXPECT_NEAR(v[0], 2.0f * std::cos(0.25f), 1e-6);
  EXPECT_NEAR(v[1], 2.0f * std::sin(0.25f), 1e-6);
}

}  // namespace
}  // namespace minnow
