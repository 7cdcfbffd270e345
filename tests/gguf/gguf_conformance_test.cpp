// Every GGUF file in ../shared/conformance (written by llama.cpp's tools)
// must load, with the offsets and types its index records.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "gguf/gguf_file.h"
#include "quant/dequantize.h"
#include "support/test_paths.h"

namespace minnow {
namespace {

namespace fs = std::filesystem;

TEST(GgufConformance, EveryConformanceFileLoads) {
  MINNOW_REQUIRE_CONFORMANCE();
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(test::conformance_dir())) {
    if (entry.path().extension() != ".gguf") continue;
    auto f = GgufFile::open(entry.path().string());
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    EXPECT_GE(f->version(), 2u);
    EXPECT_FALSE(f->metadata().empty()) << entry.path();
    ++n;
  }
  EXPECT_GE(n, 40);
}

TEST(GgufConformance, QuantIndexOffsetsAndTypesAgree) {
  MINNOW_REQUIRE_CONFORMANCE();
  const fs::path dir = test::conformance_dir() / "quant";
  auto text = read_file((dir / "index.json").string());
  ASSERT_TRUE(text.ok());
  const auto index = nlohmann::json::parse(*text);
  for (const auto& entry : index["files"]) {
    auto f = GgufFile::open((dir / entry["file"].get<std::string>()).string());
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    const GgufTensorInfo* t = f->find_tensor("tensor");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(uint32_t(t->type), entry["ggml_type_id"].get<uint32_t>());
    EXPECT_EQ(t->ne, (std::vector<uint64_t>{256, 64}));
    EXPECT_EQ(t->n_bytes, entry["data_bytes"].get<uint64_t>()) << entry["type"];
    EXPECT_EQ(f->data_offset() + t->offset, entry["tensor_data_offset_in_file"].get<uint64_t>()) << entry["type"];
  }
}

// The float types need no quant library: check them bit-exactly here.
TEST(GgufConformance, FloatTensorsDequantizeBitExactly) {
  MINNOW_REQUIRE_CONFORMANCE();
  const fs::path dir = test::conformance_dir() / "quant";
  for (const char* type : {"F16", "BF16"}) {
    auto f = GgufFile::open((dir / (std::string(type) + ".gguf")).string());
    ASSERT_TRUE(f.ok());
    const GgufTensorInfo* t = f->find_tensor("tensor");
    std::vector<float> got(size_t(t->n_elements));
    ASSERT_TRUE(dequantize(t->type, f->tensor_data(*t), got).ok());
    auto want = read_file((dir / (std::string(type) + ".dequant.f32")).string());
    ASSERT_TRUE(want.ok());
    ASSERT_EQ(want->size(), got.size() * 4);
    EXPECT_EQ(std::memcmp(want->data(), got.data(), want->size()), 0) << type;
  }
}

}  // namespace
}  // namespace minnow
