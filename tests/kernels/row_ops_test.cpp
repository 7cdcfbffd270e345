// The vectorised norms, RoPE, GELU and soft-capping against their scalar
// twins in src/model/ops.cpp, on ragged lengths (every tail path), with and
// without weights, both RoPE pairings and partial rotary dims.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "base/half.h"
#include "kernels/activations.h"
#include "kernels/f16_rows.h"
#include "kernels/norms.h"
#include "kernels/rope.h"
#include "model/ops.h"

namespace minnow::kernels {
namespace {

std::vector<float> random_row(size_t n, uint32_t seed, float lo = -3.0f, float hi = 3.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel, const char* what,
                  size_t n) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], rel * (std::fabs(want[i]) + 1e-3)) << what << " n=" << n << " i=" << i;
}

constexpr size_t kLengths[] = {1, 7, 8, 9, 31, 32, 33, 63, 896, 1000, 4097};

TEST(RowOps, RmsNormMatchesTwin) {
  for (size_t n : kLengths)
    for (bool weighted : {false, true}) {
      std::vector<float> x = random_row(n, uint32_t(n)), w = random_row(n, uint32_t(n) + 1, 0.5f, 2.0f);
      // A large offset makes float summation lose digits if done carelessly.
      for (float& v : x) v += 40.0f;
      std::vector<float> want = x;
      ops::rms_norm(want.data(), weighted ? w.data() : nullptr, n, 1e-6f);
      rms_norm(x.data(), weighted ? w.data() : nullptr, n, 1e-6f);
      expect_close(x, want, 1e-5, "rms_norm", n);
    }
}

TEST(RowOps, LayerNormMatchesTwin) {
  for (size_t n : kLengths)
    for (int variant = 0; variant < 3; ++variant) {
      std::vector<float> x = random_row(n, uint32_t(n) + 7), w = random_row(n, 3, 0.5f, 2.0f),
                         b = random_row(n, 4);
      for (float& v : x) v += 100.0f;  // the mean must be taken out before squaring
      const float* wp = variant >= 1 ? w.data() : nullptr;
      const float* bp = variant == 2 ? b.data() : nullptr;
      std::vector<float> want = x;
      ops::layer_norm(want.data(), wp, bp, n, 1e-5f);
      layer_norm(x.data(), wp, bp, n, 1e-5f);
      if (n == 1) {  // a single value normalises to 0 (then + b)
        EXPECT_NEAR(x[0], want[0], 1e-3);
        continue;
      }
      // Both subtract a mean of ~100 from values of ~100: the float mean's
      // rounding (~4e-6) shows in every output, so the bound is absolute.
      for (size_t i = 0; i < n; ++i) ASSERT_NEAR(x[i], want[i], 3e-5 * (std::fabs(want[i]) + 1)) << "n=" << n << " i=" << i;
    }
}

TEST(RowOps, RopeRotateMatchesTwin) {
  struct Shape {
    uint32_t n_heads, head_dim, rope_dim;
  };
  const Shape shapes[] = {{14, 64, 64}, {2, 128, 128}, {4, 96, 32}, {3, 80, 80}, {1, 2, 2}, {5, 256, 200}, {2, 6, 6}};
  std::vector<float> factors(128);
  for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + float(i % 7);  // Llama 3-style per-pair divisors
  for (const Shape& sh : shapes)
    for (bool neox : {false, true})
      for (int64_t pos : {int64_t(0), int64_t(1), int64_t(37), int64_t(100000)}) {
        const uint32_t half = sh.rope_dim / 2;
        std::vector<float> c(half), s(half);
        ops::rope_angles(pos, sh.rope_dim, 1e6f, 0.5f, pos == 37 ? factors.data() : nullptr, 1.2f, c.data(), s.data());
        std::vector<float> x = random_row(size_t(sh.n_heads) * sh.head_dim, uint32_t(pos) + sh.head_dim);
        std::vector<float> want = x;
        ops::rope_rotate(want.data(), sh.n_heads, sh.head_dim, sh.rope_dim, c.data(), s.data(),
                         neox ? ops::RopeStyle::kNeox : ops::RopeStyle::kNorm);
        rope_rotate(x.data(), sh.n_heads, sh.head_dim, sh.rope_dim, c.data(), s.data(), neox);
        expect_close(x, want, 1e-5, neox ? "rope neox" : "rope norm", sh.head_dim);
      }
}

TEST(RowOps, RopeOfPositionZeroIsIdentityAndNormIsKept) {
  std::vector<float> c(32), s(32);
  ops::rope_angles(0, 64, 10000.0f, 1.0f, nullptr, 1.0f, c.data(), s.data());
  std::vector<float> x = random_row(128, 9), y = x;
  rope_rotate(y.data(), 2, 64, 64, c.data(), s.data(), true);
  EXPECT_EQ(x, y);
  ops::rope_angles(12345, 64, 10000.0f, 1.0f, nullptr, 1.0f, c.data(), s.data());
  rope_rotate(y.data(), 2, 64, 64, c.data(), s.data(), false);
  double before = 0, after = 0;
  for (size_t i = 0; i < x.size(); ++i) before += double(x[i]) * x[i], after += double(y[i]) * y[i];
  EXPECT_NEAR(after / before, 1.0, 1e-5);
  EXPECT_NE(x, y);
}

TEST(RowOps, GeluMulMatchesTwin) {
  for (size_t n : kLengths)
    for (bool gated : {false, true}) {
      std::vector<float> x = random_row(n, uint32_t(n) + 11, -12.0f, 12.0f), up = random_row(n, 5);
      std::vector<float> got(n), want(n);
      gelu_mul(x.data(), gated ? up.data() : nullptr, got.data(), n);
      for (size_t i = 0; i < n; ++i) want[i] = ops::gelu_tanh(x[i]) * (gated ? up[i] : 1.0f);
      for (size_t i = 0; i < n; ++i)  // the twin's 1 + tanh cancels for x << 0, so absolute there
        ASSERT_NEAR(got[i], want[i], 2e-6 * std::fabs(want[i]) + 2e-6) << "n=" << n << " x=" << x[i];
    }
  const float edges[9] = {-1e4f, -100.0f, -10.0f, -1e-20f, 0.0f, 1e-20f, 10.0f, 100.0f, 1e4f};
  float out[9];
  gelu_mul(edges, nullptr, out, 9);
  for (int i = 0; i < 9; ++i) {
    EXPECT_TRUE(std::isfinite(out[i])) << edges[i];
    EXPECT_NEAR(out[i], ops::gelu_tanh(edges[i]), 1e-6 * std::fabs(edges[i]) + 1e-6) << edges[i];
  }
}

TEST(RowOps, SoftcapMatchesTwin) {
  for (size_t n : kLengths) {
    std::vector<float> x = random_row(n, uint32_t(n) + 13, -200.0f, 200.0f);
    std::vector<float> want = x;
    ops::softcap(want.data(), n, 30.0f);
    softcap(x.data(), n, 30.0f);
    for (size_t i = 0; i < n; ++i) ASSERT_NEAR(x[i], want[i], 1e-5) << "n=" << n << " i=" << i;
  }
}

}  // namespace
}  // namespace minnow::kernels

namespace minnow::kernels {
namespace {

// Every 16th float bit pattern (all exponents, signs, NaN payloads,
// subnormals, the rounding ties), in rows of ragged lengths, against
// float_to_fp16 bit for bit.
TEST(RowOps, F32ToF16MatchesTwinBitForBit) {
  constexpr size_t kRow = 4099;  // not a multiple of 8: the scalar tail runs too
  std::vector<float> x(kRow);
  std::vector<uint16_t> got(kRow);
  uint64_t mismatches = 0;
  for (uint64_t base = 0; base < (uint64_t(1) << 32); base += 16 * kRow) {
    for (size_t i = 0; i < kRow; ++i) x[i] = bits_to_float(uint32_t(base + 16 * i + (i % 16)));
    f32_to_f16_row(x.data(), got.data(), kRow);
    for (size_t i = 0; i < kRow; ++i)
      if (got[i] != float_to_fp16(x[i]) && mismatches++ < 5)
        ADD_FAILURE() << "bits 0x" << std::hex << float_to_bits(x[i]) << ": " << got[i] << " vs " << float_to_fp16(x[i]);
  }
  EXPECT_EQ(mismatches, 0u);
  // A row of halfway cases between adjacent halves, with one NaN among them.
  for (size_t i = 0; i < 64; ++i) x[i] = fp16_to_float(uint16_t(0x3c00 + i)) + std::ldexp(1.0f, -11);
  x[13] = std::numeric_limits<float>::quiet_NaN();
  f32_to_f16_row(x.data(), got.data(), 64);
  for (size_t i = 0; i < 64; ++i) EXPECT_EQ(got[i], float_to_fp16(x[i])) << i;
}

}  // namespace
}  // namespace minnow::kernels
