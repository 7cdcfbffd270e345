#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/tiny_model.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

GgufWriter every_value_type() {
  GgufWriter w;
  w.set("u8", GgufValue::u8(200));
  w.set("i8", GgufValue::i8(-100));
  w.set("u16", GgufValue::u16(60000));
  w.set("i16", GgufValue::i16(-30000));
  w.set("u32", GgufValue::u32(4000000000u));
  w.set("i32", GgufValue::i32(-2000000000));
  w.set("u64", GgufValue::u64(18000000000000000000ull));
  w.set("i64", GgufValue::i64(-9000000000000000000ll));
  w.set("f32", GgufValue::f32(0.25f));
  w.set("f64", GgufValue::f64(1e300));
  w.set("bool", GgufValue::boolean(true));
  w.set("str", GgufValue::string(std::string("h\xc3\xa9llo\0x", 8)));
  w.set("arr.str", GgufValue::string_array({"a", "", "ccc"}));
  w.set("arr.nested", GgufValue::array(GgufValueType::ARRAY,
                                       {GgufValue::i32_array({1, 2}), GgufValue::i32_array({})}));
  w.set("arr.empty", GgufValue::array(GgufValueType::FLOAT64, {}));
  return w;
}

TEST(GgufRoundTrip, EveryValueTypeSurvives) {
  GgufWriter w = every_value_type();
  std::vector<float> data = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(w.add_f32_tensor("t", {3, 2}, data).ok());
  const auto bytes = w.serialize();
  auto f = GgufFile::parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->metadata().size(), 15u);
  EXPECT_EQ(f->get_int("u8"), 200);
  EXPECT_EQ(f->get_int("i8"), -100);
  EXPECT_EQ(f->get_int("u16"), 60000);
  EXPECT_EQ(f->get_int("i16"), -30000);
  EXPECT_EQ(f->get_int("u32"), 4000000000ll);
  EXPECT_EQ(f->find("u64")->as_uint(), 18000000000000000000ull);
  EXPECT_EQ(f->get_int("u64"), std::nullopt);  // does not fit int64
  EXPECT_EQ(f->get_int("i64"), -9000000000000000000ll);
  EXPECT_EQ(f->get_double("f32"), 0.25);
  EXPECT_EQ(f->get_double("f64"), 1e300);
  EXPECT_EQ(f->get_bool("bool"), true);
  EXPECT_EQ(f->get_string("str"), std::string("h\xc3\xa9llo\0x", 8));
  EXPECT_EQ(*f->find("arr.nested"), *GgufFile::parse(bytes)->find("arr.nested"));
  const auto* nested = f->find("arr.nested")->as_array();
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ((*nested)[0].as_array()->at(1).as_int(), 2);
  // Writing what was read reproduces the same bytes.
  GgufWriter again;
  for (const auto& [k, v] : f->metadata()) again.set(k, v);
  ASSERT_TRUE(again.add_f32_tensor("t", {3, 2}, data).ok());
  EXPECT_EQ(again.serialize(), bytes);
}

TEST(GgufRoundTrip, TensorsAreAlignedAndZeroCopy) {
  GgufWriter w(64);
  std::vector<float> a(5, 1.5f), b(7, -2.0f);
  ASSERT_TRUE(w.add_f32_tensor("a", {5}, a).ok());
  ASSERT_TRUE(w.add_f32_tensor("b", {7}, b).ok());
  const auto bytes = w.serialize();
  auto f = GgufFile::parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  const auto* tb = f->find_tensor("b");
  ASSERT_NE(tb, nullptr);
  EXPECT_EQ(tb->offset % 64, 0u);
  auto span = f->tensor_data(*tb);
  EXPECT_EQ(span.data(), bytes.data() + f->data_offset() + tb->offset);
  float first;
  std::memcpy(&first, span.data(), 4);
  EXPECT_EQ(first, -2.0f);
}

// A buffer parsed as releasable (the synthetic bench's generated weights)
// lets the model drop a copied tensor's whole pages, as a mapped file's;
// a plain parse never touches the caller's bytes.
TEST(GgufRoundTrip, ReleasableBuffersDropTheWholePagesOfACopiedTensor) {
  GgufWriter w(64);
  std::vector<float> a(8192, 1.5f);  // 32 KB: several whole pages
  ASSERT_TRUE(w.add_f32_tensor("a", {8192}, a).ok());
  const auto bytes = w.serialize();
  for (const bool releasable : {false, true}) {
    // Page-aligned anonymous memory, as the synthetic model's buffer is.
    const size_t page = 4096, size = (bytes.size() + page - 1) / page * page;
    std::unique_ptr<uint8_t, decltype(&std::free)> buf(static_cast<uint8_t*>(std::aligned_alloc(page, size)), std::free);
    ASSERT_NE(buf, nullptr);
    std::memcpy(buf.get(), bytes.data(), bytes.size());
    const std::span<const uint8_t> span(buf.get(), bytes.size());
    auto f = releasable ? GgufFile::parse_releasable(span, "buffer") : GgufFile::parse(span);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    const auto data = f->tensor_data(*f->find_tensor("a"));
    f->release_pages(data);
    size_t zero = 0;
    for (size_t i = 0; i < data.size(); i += 4) {
      float v;
      std::memcpy(&v, data.data() + i, 4);
      zero += v == 0.0f;
      if (v != 0.0f) {
        EXPECT_EQ(v, 1.5f) << "byte " << i;
      }
    }
    if (releasable) {
      EXPECT_GE(zero * 4, data.size() - 2 * page) << "every whole page inside the tensor dropped";
    } else {
      EXPECT_EQ(zero, 0u);
    }
    // Bytes outside the tensor (the header) are never dropped.
    EXPECT_EQ(std::memcmp(buf.get(), bytes.data(), 64), 0);
  }
}

TEST(GgufRoundTrip, TakeSerializedGivesTheSameBytesAndEmptiesTheWriter) {
  GgufWriter w(64);
  w.set("general.name", GgufValue::string("x"));
  std::vector<float> a(5, 1.5f), b(70, -2.0f);
  ASSERT_TRUE(w.add_f32_tensor("a", {5}, a).ok());
  ASSERT_TRUE(w.add_f32_tensor("b", {7, 10}, b).ok());
  const auto copy = w.serialize();
  const auto taken = w.take_serialized();
  EXPECT_EQ(copy, taken);
  auto f = GgufFile::parse(w.serialize());  // what is left: metadata, no tensors
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_NE(f->find("general.name"), nullptr);
}

TEST(GgufRoundTrip, FileOnDiskViaMmap) {
  test::TempDir dir;
  TinyModelSpec spec;
  ASSERT_TRUE(make_tiny_model(spec).write(dir.file("tiny.gguf")).ok());
  auto f = GgufFile::open(dir.file("tiny.gguf"));
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->architecture(), "llama");
  EXPECT_EQ(f->get_int("llama.block_count"), 2);
  ASSERT_NE(f->find_tensor("blk.1.ffn_down.weight"), nullptr);
  EXPECT_EQ(f->find_tensor("blk.1.ffn_down.weight")->ne, (std::vector<uint64_t>{spec.n_ff, spec.n_embd}));
  EXPECT_FALSE(std::filesystem::exists(dir.file("tiny.gguf.tmp")));
}

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter w;
  std::vector<uint8_t> too_short(10);
  EXPECT_FALSE(w.add_tensor("q", GgmlType::Q4_0, {32, 2}, too_short).ok());
  EXPECT_FALSE(w.add_tensor("q", GgmlType::Q4_0, {31}, std::vector<uint8_t>(18)).ok());
  EXPECT_TRUE(w.add_tensor("q", GgmlType::Q4_0, {32, 2}, std::vector<uint8_t>(36)).ok());
  EXPECT_FALSE(w.add_tensor("q", GgmlType::Q4_0, {32, 2}, std::vector<uint8_t>(36)).ok());
}

}  // namespace
}  // namespace minnow

namespace minnow {
namespace {

TEST(GgufFile, DropArraysRemovesOnlyArraysUnderThePrefix) {
  const std::vector<uint8_t> bytes = make_tiny_model({}).serialize();
  auto f = GgufFile::parse(bytes);
  ASSERT_TRUE(f.ok());
  ASSERT_NE(f->find("tokenizer.ggml.tokens"), nullptr);
  const size_t before = f->metadata().size();
  f->drop_arrays("tokenizer.ggml.");
  EXPECT_EQ(f->find("tokenizer.ggml.tokens"), nullptr);
  EXPECT_EQ(f->find("tokenizer.ggml.scores"), nullptr);
  EXPECT_EQ(f->find("tokenizer.ggml.token_type"), nullptr);
  EXPECT_EQ(f->metadata().size(), before - 3);
  // Scalars under the prefix and everything else stay, and look-ups still work.
  EXPECT_EQ(f->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f->get_int("tokenizer.ggml.eos_token_id"), 4);
  EXPECT_FALSE(f->architecture().empty());
}

}  // namespace
}  // namespace minnow
