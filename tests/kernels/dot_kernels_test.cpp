// Every SIMD dot kernel this CPU can run against its scalar twin, and the
// scalar twin against dequantize-then-multiply, on random rows of one block,
// several blocks and odd block counts, at misaligned addresses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "base/ggml_type.h"
#include "base/half.h"
#include "kernels/kernel_table.h"
#include "quant/block_codecs.h"
#include "quant/dequantize.h"
#include "quant/k_quants.h"
#include "quant/quantize.h"

namespace minnow::kernels {
namespace {

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16,   GgmlType::Q8_0,  GgmlType::Q4_0,
                           GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,   GgmlType::IQ4_NL, GgmlType::Q2_K,
                           GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,   GgmlType::Q6_K,  GgmlType::IQ4_XS};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& f : v) f = dist(rng);
  return v;
}

// Bytes of `type` for `values`, placed `skew` bytes into the returned buffer.
std::vector<uint8_t> encode(GgmlType type, const std::vector<float>& values, size_t skew) {
  const size_t bytes = *quantized_size(type, values.size());
  std::vector<uint8_t> out(bytes + skew + 64);
  if (type == GgmlType::F32) {
    std::memcpy(out.data() + skew, values.data(), bytes);
  } else {
    EXPECT_TRUE(quantize(type, values, {out.data() + skew, bytes}).ok());
  }
  return out;
}

struct Case {
  std::vector<uint8_t> w, x;
  size_t skew_w, skew_x, n;
  double magnitude;  // sum |w_i x_i| of the decoded values: the scale of rounding error
  double exact;      // sum w_i x_i of the decoded values, in double
};

Case make_case(GgmlType type, const DotKernel& k, size_t n, uint32_t seed, size_t skew_w, size_t skew_x) {
  Case c{encode(type, random_floats(n, seed), skew_w), {}, skew_w, skew_x, n, 0, 0};
  const std::vector<float> xf = random_floats(n, seed + 1000);
  c.x.assign(act_row_bytes(k.act, n) + skew_x + 64, 0);
  quantize_act(k.act, xf.data(), c.x.data() + skew_x, n);

  std::vector<float> wd(n), xd(n);
  const size_t wbytes = *quantized_size(type, n);
  EXPECT_TRUE(dequantize(type, {c.w.data() + skew_w, wbytes}, wd).ok());
  const GgmlType act_type = k.act == ActFormat::kF32 ? GgmlType::F32
                            : k.act == ActFormat::kQ8_0 ? GgmlType::Q8_0 : GgmlType::Q8_K;
  EXPECT_TRUE(dequantize(act_type, {c.x.data() + skew_x, *quantized_size(act_type, n)}, xd).ok());
  for (size_t i = 0; i < n; ++i) {
    c.magnitude += std::fabs(double(wd[i]) * xd[i]);
    c.exact += double(wd[i]) * xd[i];
  }
  return c;
}

std::vector<size_t> sizes_for(GgmlType type) {
  const size_t block = ggml_type_info(type)->block_elems == 1 ? 1 : ggml_type_info(type)->block_elems;
  if (block == 1) return {1, 7, 16, 31, 32, 33, 100, 896, 1001};
  return {block, 2 * block, 3 * block, 5 * block, 7 * block, 19 * block};
}

TEST(DotKernels, ScalarTwinMatchesDequantizedProduct) {
  const KernelTable& scalar = *kernel_table_for(Isa::kScalar);
  for (GgmlType type : kTypes) {
    const DotKernel& k = scalar.for_type(type);
    if (!k.dot) {
      ADD_FAILURE() << "no scalar kernel for " << ggml_type_name(type);
      continue;
    }
    for (size_t n : sizes_for(type)) {
      const Case c = make_case(type, k, n, uint32_t(n), 0, 0);
      const float got = k.dot(c.w.data(), c.x.data(), n);
      EXPECT_NEAR(got, c.exact, 1e-5 * c.magnitude + 1e-6) << ggml_type_name(type) << " n=" << n;
    }
  }
}

TEST(DotKernels, EverySimdPathMatchesScalarTwin) {
  const KernelTable& scalar = *kernel_table_for(Isa::kScalar);
  int paths = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = kernel_table_for(isa);
    if (!table) continue;  // this CPU cannot run it
    ++paths;
    for (GgmlType type : kTypes) {
      const DotKernel& k = table->for_type(type);
      if (!k.dot || !scalar.for_type(type).dot || k.act != scalar.for_type(type).act) {
        ADD_FAILURE() << isa_name(isa) << " " << ggml_type_name(type) << ": missing, or a different activation format";
        continue;
      }
      for (size_t n : sizes_for(type)) {
        for (size_t skew : {0, 1, 3}) {
          const Case c = make_case(type, k, n, uint32_t(7 * n + skew), skew, (skew * 5) % 7);
          const float want = scalar.for_type(type).dot(c.w.data() + c.skew_w, c.x.data() + c.skew_x, n);
          const float got = k.dot(c.w.data() + c.skew_w, c.x.data() + c.skew_x, n);
          EXPECT_NEAR(got, want, 1e-5 * c.magnitude + 1e-6)
              << isa_name(isa) << " " << ggml_type_name(type) << " n=" << n << " skew=" << skew;
        }
      }
    }
  }
  if (isa_supported(Isa::kAvx2)) {
    EXPECT_GE(paths, 1);
  }
}

TEST(DotKernels, FourRowKernelsMatchScalarTwinPerRow) {
  const KernelTable& scalar = *kernel_table_for(Isa::kScalar);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = kernel_table_for(isa);
    if (!table) continue;
    for (GgmlType type : kTypes) {
      const DotKernel& k = table->for_type(type);
      if (!k.dot4) continue;
      for (size_t n : sizes_for(type)) {
        // Four activation rows, each at its own odd offset inside one buffer.
        const size_t act = act_row_bytes(k.act, n), stride = act + 3;
        const Case c = make_case(type, k, n, uint32_t(n), 1, 0);
        std::vector<uint8_t> xs(4 * stride + 8);
        std::vector<double> magnitude(4);
        for (int r = 0; r < 4; ++r) {
          const Case cr = make_case(type, k, n, uint32_t(n * 13 + r), 1, 0);
          std::memcpy(xs.data() + 5 + r * stride, cr.x.data(), act);
          magnitude[r] = cr.magnitude;
        }
        float got[4];
        k.dot4(c.w.data() + 1, xs.data() + 5, stride, n, got);
        for (int r = 0; r < 4; ++r) {
          const float want = scalar.for_type(type).dot(c.w.data() + 1, xs.data() + 5 + r * stride, n);
          EXPECT_NEAR(got[r], want, 1e-5 * (magnitude[r] + c.magnitude) + 1e-4)
              << isa_name(isa) << " " << ggml_type_name(type) << " n=" << n << " row " << r;
        }
      }
    }
  }
}

TEST(DotKernels, PairTokenKernelsMatchScalarTwinPerRowAndToken) {
  const KernelTable& scalar = *kernel_table_for(Isa::kScalar);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = kernel_table_for(isa);
    if (!table) continue;
    for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                          GgmlType::IQ4_XS}) {
      // Without it a small decode batch decodes each super-block once per token.
      ASSERT_NE(table->for_type(type).dot2_tokens, nullptr) << isa_name(isa) << " " << ggml_type_name(type);
    }
    for (GgmlType type : kTypes) {
      const DotKernel& k = table->for_type(type);
      if (!k.dot2_tokens) continue;
      for (size_t n : sizes_for(type)) {
        for (uint32_t n_tokens = 2; n_tokens <= kPairTokensMax; ++n_tokens) {
          // Two rows from different buffers (odd addresses), tokens at odd strides.
          const Case r0 = make_case(type, k, n, uint32_t(n * 7), 1, 0);
          const Case r1 = make_case(type, k, n, uint32_t(n * 7 + 1), 3, 0);
          const size_t act = act_row_bytes(k.act, n), stride = act + 3;
          std::vector<uint8_t> xs(kPairTokensMax * stride + 8);
          std::vector<double> magnitude(n_tokens);
          for (uint32_t t = 0; t < n_tokens; ++t) {
            const Case ct = make_case(type, k, n, uint32_t(n * 13 + t), 1, 0);
            std::memcpy(xs.data() + 5 + t * stride, ct.x.data(), act);
            magnitude[t] = ct.magnitude;
          }
          // Outputs interleaved with a stride, as matmul's [token][row] rows; the
          // slots between them must stay untouched.
          const size_t y_stride = 5;
          std::vector<float> y(y_stride * kPairTokensMax + 2, -7.0f);
          k.dot2_tokens(r0.w.data() + 1, r1.w.data() + 3, xs.data() + 5, stride, n, n_tokens, y.data(), y.data() + 2,
                        y_stride);
          for (uint32_t t = 0; t < n_tokens; ++t) {
            const uint8_t* x = xs.data() + 5 + t * stride;
            const float want0 = scalar.for_type(type).dot(r0.w.data() + 1, x, n);
            const float want1 = scalar.for_type(type).dot(r1.w.data() + 3, x, n);
            EXPECT_NEAR(y[t * y_stride], want0, 1e-5 * (magnitude[t] + r0.magnitude) + 1e-4)
                << isa_name(isa) << " " << ggml_type_name(type) << " n=" << n << " tokens=" << n_tokens << " t=" << t;
            EXPECT_NEAR(y[t * y_stride + 2], want1, 1e-5 * (magnitude[t] + r1.magnitude) + 1e-4)
                << isa_name(isa) << " " << ggml_type_name(type) << " n=" << n << " tokens=" << n_tokens << " t=" << t;
            for (size_t i : {size_t(1), size_t(3), size_t(4)}) EXPECT_EQ(y[t * y_stride + i], -7.0f);
          }
          for (size_t i = n_tokens * y_stride; i < y.size(); ++i) EXPECT_EQ(y[i], -7.0f) << "past the last token";
        }
      }
    }
  }
}

TEST(DotKernels, EveryConvertibleWeightTypeHasAKernelOnEveryPath) {
  // Without one, matmul would dequantize each row to floats per call:
  // decode of such a model would run several times slower.
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* t = kernel_table_for(isa);
    if (!t) continue;
    EXPECT_EQ(t->isa, isa);
    for (uint32_t id = 0; id < kMaxGgmlType; ++id) {
      const GgmlType type = GgmlType(id);
      if (type == GgmlType::Q8_K || !quant::find_block_codec(type)) continue;  // Q8_K: activations only
      EXPECT_NE(t->for_type(type).dot, nullptr) << isa_name(isa) << " " << ggml_type_name(type);
    }
  }
}

TEST(Isa, NamesRoundTripAndChoiceIsSupported) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) EXPECT_EQ(isa_from_name(isa_name(isa)), isa);
  EXPECT_FALSE(isa_from_name("sse9").has_value());
  EXPECT_TRUE(isa_supported(choose_isa()));
  EXPECT_TRUE(isa_supported(Isa::kScalar));
}

TEST(Isa, EnvironmentForcesPath) {
  const char* old = std::getenv("MINNOW_ISA");
  const std::string saved = old ? old : "";
  setenv("MINNOW_ISA", "scalar", 1);
  EXPECT_EQ(choose_isa(), Isa::kScalar);
  setenv("MINNOW_ISA", "nonsense", 1);
  EXPECT_EQ(choose_isa(), best_supported_isa());
  if (old) setenv("MINNOW_ISA", saved.c_str(), 1); else unsetenv("MINNOW_ISA");
}

}  // namespace
}  // namespace minnow::kernels

namespace minnow::kernels {
namespace {

TEST(ActivationQuantization, Q8_KMatchesReferenceQuantizerBytes) {
  for (size_t n : {256, 2048, 4864}) {
    std::vector<float> x = random_floats(n, uint32_t(n) + 3);
    std::fill(x.begin() + 256, x.begin() + std::min<size_t>(n, 512), 0.0f);  // an all-zero block (n > 256)
    x[5] = 7.5f, x[9] = -7.5f;   // a tie in magnitude: the first one sets the sign
    x[n - 1] = -9.25f;           // the last block's extreme is negative
    if (n >= 2048) x[1100] = std::numeric_limits<float>::quiet_NaN(), x[1500] = std::numeric_limits<float>::infinity();
    std::vector<uint8_t> got(act_row_bytes(ActFormat::kQ8_K, n)), want(got.size());
    quantize_act(ActFormat::kQ8_K, x.data(), got.data(), n);
    quant::quantize_q8_k(x.data(), want.data(), n / 256);
    for (size_t b = 0; b < n / 256; ++b)
      EXPECT_TRUE(std::equal(want.begin() + long(b * 292), want.begin() + long((b + 1) * 292), got.begin() + long(b * 292)))
          << "n=" << n << " block " << b;
  }
}

TEST(ActivationQuantization, Q8_0MatchesReferenceQuantizerBytes) {
  for (size_t n : {32, 64, 896, 4864}) {
    std::vector<float> x = random_floats(n, uint32_t(n) + 7);
    x[3] = 0.0f;
    if (n >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // an all-zero block
    x[n - 1] = -1e-3f;
    if (n >= 896) {  // scales that are fp16 subnormals and one beyond fp16's range (stored as inf)
      for (size_t i = 64; i < 96; ++i) x[i] = 1e-6f * float(int(i % 7) - 3);
      for (size_t i = 96; i < 128; ++i) x[i] = 3e-9f * float(int(i % 5) - 2);
      x[200] = 1e30f;
    }
    std::vector<uint8_t> got(act_row_bytes(ActFormat::kQ8_0, n)), want(*quantized_size(GgmlType::Q8_0, n));
    quantize_act(ActFormat::kQ8_0, x.data(), got.data(), n);
    ASSERT_TRUE(quantize(GgmlType::Q8_0, x, want).ok());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), got.begin())) << "n=" << n;
    // Then one float per block: d * sum(q).
    for (size_t b = 0; b < n / 32; ++b) {
      int sum = 0;
      for (int j = 0; j < 32; ++j) sum += int8_t(want[b * 34 + 2 + j]);
      uint16_t d;
      std::memcpy(&d, &want[b * 34], 2);
      float got_sum;
      std::memcpy(&got_sum, &got[want.size() + 4 * b], 4);
      EXPECT_EQ(got_sum, fp16_to_float(d) * float(sum)) << "n=" << n << " block " << b;
      float got_scale;  // and after those, d itself as a float
      std::memcpy(&got_scale, &got[want.size() + 4 * (n / 32) + 4 * b], 4);
      EXPECT_EQ(got_scale, fp16_to_float(d)) << "n=" << n << " block " << b;
    }
  }
}

}  // namespace
}  // namespace minnow::kernels
