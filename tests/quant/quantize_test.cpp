// Round trips, edge blocks and size checks for every type quantize() writes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "quant/block_formats.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace minnow {
namespace {

const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16,   GgmlType::Q4_0,
                              GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,   GgmlType::Q8_0,
                              GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,   GgmlType::Q5_K,
                              GgmlType::Q6_K, GgmlType::Q8_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS};

// Normal weights with ~0.5% outliers 15x larger, like real LLM weight rows.
std::vector<float> normal_with_outliers(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng) * (u(rng) < 0.005f ? 15.0f : 1.0f);
  return v;
}

Expected<std::vector<float>> round_trip(GgmlType type, const std::vector<float>& x) {
  std::vector<uint8_t> bytes(*quantized_size(type, x.size()));
  MINNOW_TRY(quantize(type, x, bytes));
  std::vector<float> y(x.size());
  MINNOW_TRY(dequantize(type, bytes, y));
  return y;
}

double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    ref += double(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

// Upper bounds on relative RMSE for N(0,1) data with outliers: about 1.3x what
// each format measures today, so a broken encoder cannot pass.
double max_relative_rmse(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0.0;
    case GgmlType::F16: return 3e-4;
    case GgmlType::BF16: return 2e-3;
    case GgmlType::Q8_0: return 0.013;
    case GgmlType::Q8_K: return 0.03;  // one scale per 256 values
    case GgmlType::Q6_K: return 0.04;
    case GgmlType::Q5_1: case GgmlType::Q5_K: return 0.06;
    case GgmlType::Q5_0: return 0.095;
    case GgmlType::Q4_K: return 0.115;
    case GgmlType::Q4_1: case GgmlType::IQ4_NL: case GgmlType::IQ4_XS: return 0.14;
    case GgmlType::Q4_0: return 0.17;
    case GgmlType::Q3_K: return 0.21;
    default: return 0.34;  // Q2_K
  }
}

TEST(Quantize, EveryTypeRoundTripsWithinItsBitBudget) {
  const auto x = normal_with_outliers(256 * 16, 7);
  for (GgmlType t : kAllTypes) {
    SCOPED_TRACE(ggml_type_name(t));
    ASSERT_TRUE(quantize_supported(t));
    auto y = round_trip(t, x);
    ASSERT_TRUE(y.ok()) << y.error().to_string();
    const double e = relative_rmse(x, *y);
    EXPECT_LE(e, max_relative_rmse(t));
    std::printf("  %-7s relative rmse %.4f\n", std::string(ggml_type_name(t)).c_str(), e);
  }
}

TEST(Quantize, MoreBitsGiveSmallerErrors) {
  const auto x = normal_with_outliers(256 * 16, 11);
  const GgmlType ladder[] = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                             GgmlType::Q8_0};
  double previous = 1.0;
  for (GgmlType t : ladder) {
    const double e = relative_rmse(x, *round_trip(t, x));
    EXPECT_LT(e, previous) << ggml_type_name(t);
    previous = e;
  }
}

TEST(Quantize, AllZeroBlocksDecodeToExactZeros) {
  const std::vector<float> zeros(512, 0.0f);
  for (GgmlType t : kAllTypes) {
    auto y = round_trip(t, zeros);
    ASSERT_TRUE(y.ok()) << ggml_type_name(t);
    for (float v : *y) ASSERT_EQ(v, 0.0f) << ggml_type_name(t);
  }
}

TEST(Quantize, OneHugeOutlierKeepsItsValueAndSign) {
  std::vector<float> x = normal_with_outliers(512, 3);
  for (auto& v : x) v *= 0.01f;
  x[77] = -1000.0f;
  for (GgmlType t : kAllTypes) {
    auto y = round_trip(t, x);
    ASSERT_TRUE(y.ok()) << ggml_type_name(t);
    // Every format puts its extreme code on the block's largest magnitude.
    EXPECT_NEAR((*y)[77], -1000.0f, 1000.0f * 0.07f) << ggml_type_name(t);
    for (float v : *y) ASSERT_TRUE(std::isfinite(v)) << ggml_type_name(t);
  }
}

TEST(Quantize, NonFiniteInputIsAClearError) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    for (GgmlType t : kAllTypes) {
      std::vector<float> x(256, 1.0f);
      x[100] = bad;
      std::vector<uint8_t> bytes(*quantized_size(t, x.size()));
      Status s = quantize(t, x, bytes);
      ASSERT_FALSE(s.ok()) << ggml_type_name(t);
      EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(s.error().message().find("value 100 is"), std::string::npos) << s.error().message();
    }
  }
}

TEST(Quantize, SizesMustBeWholeBlocks) {
  std::vector<float> x(100, 1.0f);
  std::vector<uint8_t> bytes(1000);
  EXPECT_FALSE(quantize(GgmlType::Q4_0, x, bytes).ok());  // 100 % 32 != 0
  x.resize(96);
  EXPECT_FALSE(quantize(GgmlType::Q4_0, x, bytes).ok());  // wrong dst size
  bytes.resize(3 * 18);
  EXPECT_TRUE(quantize(GgmlType::Q4_0, x, bytes).ok());
  EXPECT_FALSE(quantize(GgmlType::Q4_K, x, std::span<uint8_t>(bytes)).ok());  // 96 % 256 != 0
  EXPECT_FALSE(quantize(GgmlType::IQ2_XXS, x, bytes).ok());
  EXPECT_EQ(quantized_size(GgmlType::Q6_K, 512), std::optional<size_t>(420));
  EXPECT_EQ(quantized_size(GgmlType::Q6_K, 300), std::nullopt);
  // Zero values are zero whole blocks.
  EXPECT_TRUE(quantize(GgmlType::Q4_K, std::span<const float>(), std::span<uint8_t>()).ok());
  EXPECT_TRUE(dequantize(GgmlType::Q4_K, std::span<const uint8_t>(), std::span<float>()).ok());
}

TEST(Quantize, OddRowCountsAndMisalignedBuffersMatchBlockByBlock) {
  // 7 blocks of 256, encoded at once and then one block at a time from an
  // odd byte offset: the codecs must not depend on alignment or neighbours.
  const auto x = normal_with_outliers(256 * 7, 5);
  for (GgmlType t : kAllTypes) {
    SCOPED_TRACE(ggml_type_name(t));
    const size_t n = *quantized_size(t, x.size());
    std::vector<uint8_t> whole(n), pieces(n + 1);
    ASSERT_TRUE(quantize(t, x, whole).ok());
    const size_t block_bytes = n / 7;
    for (size_t b = 0; b < 7; ++b)
      ASSERT_TRUE(quantize(t, std::span(x).subspan(b * 256, 256), std::span(pieces).subspan(1 + b * block_bytes, block_bytes)).ok());
    EXPECT_EQ(std::memcmp(whole.data(), pieces.data() + 1, n), 0);
    std::vector<float> y(x.size() + 1);
    ASSERT_TRUE(dequantize(t, std::span(pieces).subspan(1, n), std::span(y).subspan(1, x.size())).ok());
    auto direct = round_trip(t, x);
    EXPECT_EQ(std::memcmp(y.data() + 1, direct->data(), x.size() * 4), 0);
  }
}

TEST(Quantize, SmallAndPositiveOnlyBlocksStayAccurate) {
  std::vector<float> small(256), positive(256);
  for (size_t i = 0; i < 256; ++i) {
    small[i] = 1e-3f * std::sin(float(i));
    positive[i] = 1.0f + 0.01f * float(i);
  }
  for (GgmlType t : kAllTypes) {
    // Without outliers every format does at least as well as on the noisy data.
    EXPECT_LE(relative_rmse(small, *round_trip(t, small)), max_relative_rmse(t)) << ggml_type_name(t);
    EXPECT_LE(relative_rmse(positive, *round_trip(t, positive)), max_relative_rmse(t)) << ggml_type_name(t);
  }
}

TEST(Quantize, ValuesBelowHalfPrecisionFlushToZeroNotGarbage) {
  // Block scales are halves: a block of 1e-6 values has a scale under the
  // smallest subnormal half and decodes to (near) zero, as in llama.cpp.
  std::vector<float> tiny(256);
  for (size_t i = 0; i < 256; ++i) tiny[i] = 1e-6f * std::sin(float(i) + 0.5f);
  for (GgmlType t : kAllTypes) {
    auto y = round_trip(t, tiny);
    ASSERT_TRUE(y.ok());
    for (float v : *y) ASSERT_LE(std::fabs(v), 2e-6f) << ggml_type_name(t);
  }
}

TEST(Quantize, Q8KStoresSymmetricCodesAndGroupSums) {
  const auto x = normal_with_outliers(512, 9);
  std::vector<uint8_t> bytes(*quantized_size(GgmlType::Q8_K, x.size()));
  ASSERT_TRUE(quantize(GgmlType::Q8_K, x, bytes).ok());
  for (size_t b = 0; b < 2; ++b) {
    quant::BlockQ8_K block;
    std::memcpy(&block, bytes.data() + b * sizeof block, sizeof block);
    int extreme = 0;
    for (int j = 0; j < 256; ++j) {
      EXPECT_GE(block.qs[j], -127);
      extreme = std::max(extreme, std::abs(int(block.qs[j])));
      EXPECT_NEAR(block.d * block.qs[j], x[b * 256 + j], std::fabs(block.d) * 0.5f + 1e-6f);
    }
    EXPECT_EQ(extreme, 127);
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += block.qs[16 * g + l];
      EXPECT_EQ(block.bsums[g], sum);
    }
  }
}

TEST(Dequantize, RandomBytesNeverCrashForAnyType) {
  std::mt19937_64 rng(1);
  for (GgmlType t : kAllTypes) {
    auto info = ggml_type_info(t);
    std::vector<uint8_t> bytes(info->block_bytes * 3);
    for (auto& b : bytes) b = uint8_t(rng());
    std::vector<float> y(info->block_elems * 3);
    EXPECT_TRUE(dequantize(t, bytes, y).ok()) << ggml_type_name(t);
    EXPECT_FALSE(dequantize(t, std::span(bytes).first(bytes.size() - 1), y).ok()) << ggml_type_name(t);
  }
}

}  // namespace
}  // namespace minnow
