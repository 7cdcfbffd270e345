// AVX2+FMA kernels (the x86-64-v3 baseline, so no target attributes needed).
// Quantized types multiply int8 activations with maddubs and scale each
// block's int32 sum once; two accumulators hide the FMA latency.
#include "kernels/dot_avx2.h"

#include "base/half.h"
#include "kernels/kernel_fill.h"
#include "kernels/blocks_avx2.h"
#include "kernels/gemm_avx2.h"
#include "kernels/kquant_rows_avx2.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::avx2 {

using namespace simd;
using quant::kQK;
using quant::kQK_K;

float dot_f32(const uint8_t* w, const uint8_t* x, size_t n) {
  const float* a = reinterpret_cast<const float*>(w);
  const float* b = reinterpret_cast<const float*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += float_at(w + 4 * i) * float_at(x + 4 * i);  // rows may be misaligned
  return sum;
}

namespace {

// 16-bit floats against float activations; Load8 widens 8 of them.
template <__m256 (*Load8)(const uint8_t*), float (*ToFloat)(uint16_t)>
float dot_16bit(const uint8_t* w, const uint8_t* x, size_t n) {
  const float* b = reinterpret_cast<const float*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(Load8(w + 2 * i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(Load8(w + 2 * i + 16), _mm256_loadu_ps(b + i + 8), acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    sum += ToFloat(h) * float_at(x + 4 * i);  // rows may be misaligned
  }
  return sum;
}

__m256 f16x8(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
// bf16 is the top half of an f32: widen to 32 bits and shift into place.
__m256 bf16x8(const uint8_t* p) {
  const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}

}  // namespace

float dot_f16(const uint8_t* w, const uint8_t* x, size_t n) { return dot_16bit<f16x8, fp16_to_float>(w, x, n); }

namespace {

// fp16 scales of 8 blocks `stride` bytes apart, as floats. Assembled in
// general-purpose registers: on Zen 3 those integer pipes are otherwise idle
// here, and it avoids a vector load of eight narrow stores.
inline __m256 scales8(const uint8_t* p, size_t stride) {
  auto h = [&](int j) {
    uint16_t v;
    std::memcpy(&v, p + j * stride, 2);
    return uint64_t(v);
  };
  const uint64_t lo = h(0) | h(1) << 16 | h(2) << 32 | h(3) << 48;
  const uint64_t hi = h(4) | h(5) << 16 | h(6) << 32 | h(7) << 48;
  return _mm256_cvtph_ps(_mm_set_epi64x(int64_t(hi), int64_t(lo)));
}

// One weight row against kTokens activation rows x_stride bytes apart. Each
// weight block is decoded once for all tokens; eight blocks share one scale
// conversion and each block picks its scale with a permute. The activations'
// scales and d * sum(q) are floats after their blocks (ActFormat::kQ8_0).
template <class B, int kTokens>
void dot_rows(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  const size_t nb = n / kQK;
  auto sums_of = [&](int t) { return x + t * x_stride + nb * kQ8; };
  auto scales_of = [&](int t) { return x + t * x_stride + nb * (kQ8 + 4); };
  // One token alone needs two accumulators (one FMA chain would be
  // latency-bound); four tokens interleave four chains, and a second set of
  // accumulators would spill AVX2's 16 registers.
  constexpr int kAcc = kTokens >= 4 ? 1 : 2;
  __m256 acc[kTokens][kAcc];
  for (int t = 0; t < kTokens; ++t)
    for (int j = 0; j < kAcc; ++j) acc[t][j] = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    const uint8_t* a = w + i * B::kBytes;
    if constexpr (kTokens == 1) prefetch_ahead(a, 8 * B::kBytes);
    const __m256 dw = scales8(a, B::kBytes);
    __m256 d[kTokens];
    for (int t = 0; t < kTokens; ++t) {
      d[t] = _mm256_mul_ps(dw, _mm256_loadu_ps(reinterpret_cast<const float*>(scales_of(t) + 4 * i)));
      const __m256 x_sums = _mm256_loadu_ps(reinterpret_cast<const float*>(sums_of(t) + 4 * i));
      if constexpr (B::kOffset != 0.0f)
        acc[t][kAcc - 1] = _mm256_fnmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(B::kOffset)), x_sums, acc[t][kAcc - 1]);
      if constexpr (B::kMinAt != 0)  // lane-wise too, so it shares an accumulator
        acc[t][kAcc - 1] = _mm256_fmadd_ps(scales8(a + B::kMinAt, B::kBytes), x_sums, acc[t][kAcc - 1]);
    }
    // Unrolled so that acc[t][k & 1] are registers, not stack slots.
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const __m256i u = B::unpack(a + k * B::kBytes);
      const __m256i pick = _mm256_set1_epi32(k);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const __m256i s = B::sums(u, load256(x + t * x_stride + (i + k) * kQ8 + 2));
        acc[t][k % kAcc] =
            _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d[t], pick), _mm256_cvtepi32_ps(s), acc[t][k % kAcc]);
      }
    }
  }
  float tail[kTokens] = {};
  for (; i < nb; ++i) {
    const uint8_t* a = w + i * B::kBytes;
    const __m256i u = B::unpack(a);
    const float dw = half_at(a);
    for (int t = 0; t < kTokens; ++t) {
      const uint8_t* b = x + t * x_stride + i * kQ8;
      const __m256i s = B::sums(u, load256(b + 2));
      acc[t][0] = _mm256_fmadd_ps(_mm256_set1_ps(dw * float_at(scales_of(t) + 4 * i)), _mm256_cvtepi32_ps(s),
                                  acc[t][0]);
      const float x_sum = float_at(sums_of(t) + 4 * i);
      tail[t] -= B::kOffset * dw * x_sum;
      if constexpr (B::kMinAt != 0) tail[t] += half_at(a + B::kMinAt) * x_sum;
    }
  }
  for (int t = 0; t < kTokens; ++t)
    out[t] = hsum(kAcc == 1 ? acc[t][0] : _mm256_add_ps(acc[t][0], acc[t][kAcc - 1])) + tail[t];
}

template <class B>
float dot1(const uint8_t* w, const uint8_t* x, size_t n) {
  float out;
  dot_rows<B, 1>(w, x, 0, n, &out);
  return out;
}

template <class B>
void dot4(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  dot_rows<B, 4>(w, x, x_stride, n, out);
}

}  // namespace

float dot_q8_0(const uint8_t* w, const uint8_t* x, size_t n) { return dot1<Q8_0Block>(w, x, n); }
float dot_q4_0(const uint8_t* w, const uint8_t* x, size_t n) { return dot1<Q4_0Block>(w, x, n); }
float dot_q5_0(const uint8_t* w, const uint8_t* x, size_t n) { return dot1<Q5_0Block>(w, x, n); }
void dot4_q8_0(const uint8_t* w, const uint8_t* x, size_t s, size_t n, float* out) {
  dot_rows<Q8_0Block, 4>(w, x, s, n, out);
}
void dot4_q4_0(const uint8_t* w, const uint8_t* x, size_t s, size_t n, float* out) {
  dot_rows<Q4_0Block, 4>(w, x, s, n, out);
}
void dot4_q5_0(const uint8_t* w, const uint8_t* x, size_t s, size_t n, float* out) {
  dot_rows<Q5_0Block, 4>(w, x, s, n, out);
}

float dot_q4_k(const uint8_t* w, const uint8_t* x, size_t n) { return dot_q45_k<false, MaddAdd>(w, x, n); }
float dot_q5_k(const uint8_t* w, const uint8_t* x, size_t n) { return dot_q45_k<true, MaddAdd>(w, x, n); }
void dot2_q4_k(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out) {
  dot2_q45_k<false, MaddAdd>(w0, w1, x, n, out);
}
void dot2_q5_k(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out) {
  dot2_q45_k<true, MaddAdd>(w0, w1, x, n, out);
}

// Q6_K values are 0..63 with an offset of 32: the int8 products use the
// unsigned values and the offset comes back as 32 * sum(scale * group sum).
namespace {

template <int kTokens>
void q6_k_rows(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  __m256 acc[kTokens], offset_acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = offset_acc[t] = _mm256_setzero_ps();
  for (size_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* a = w + i * sizeof(quant::BlockQ6_K);
    const float da = half_at(a + 208);
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 192));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc);
    int8_t s[16];
    std::memcpy(s, a + 192, 16);
    __m256i q[2][4], scale[2][4];
    for (int half = 0; half < 2; ++half) {
      q6_k_half(a, half, q[half]);
      // 16 products per 128-bit lane: each lane is one 16-group with its own scale.
      for (int k = 0; k < 4; ++k)
        scale[half][k] = _mm256_set_m128i(_mm_set1_epi16(s[8 * half + 2 * k + 1]), _mm_set1_epi16(s[8 * half + 2 * k]));
    }
    for (int t = 0; t < kTokens; ++t) {
      const uint8_t* b = x + t * x_stride + i * sizeof(quant::BlockQ8_K);
      float bd;
      std::memcpy(&bd, b, 4);
      const float d = bd * da;
      // sum_g scale[g] * bsums[g], 8 int32 lanes; times 32 below.
      const __m256i bias = _mm256_madd_epi16(sc16, load256(b + kQ8KBsums));
      offset_acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(32.0f * d), _mm256_cvtepi32_ps(bias), offset_acc[t]);
      __m256i sumi = _mm256_setzero_si256();
      for (int half = 0; half < 2; ++half)
        for (int k = 0; k < 4; ++k) {
          const __m256i p = _mm256_maddubs_epi16(q[half][k], load256(b + kQ8KQs + 128 * half + 32 * k));
          sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale[half][k]));
        }
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc[t]);
    }
  }
  for (int t = 0; t < kTokens; ++t) out[t] = hsum(_mm256_sub_ps(acc[t], offset_acc[t]));
}

}  // namespace

float dot_q6_k(const uint8_t* w, const uint8_t* x, size_t n) { return dot_q6_k_rows<MaddAdd>(w, x, n); }
void dot2_q6_k(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out) {
  dot2_q6_k_rows<MaddAdd>(w0, w1, x, n, out);
}

void dot4_q6_k(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  q6_k_rows<4>(w, x, x_stride, n, out);
}

}  // namespace minnow::kernels::avx2

namespace minnow::kernels {

void fill_avx2_kernels(KernelTable& t) {
  t.dot[uint32_t(GgmlType::F32)] = dot_kernel(ActFormat::kF32, avx2::dot_f32, nullptr, avx2::panel_kernel_f32());
  t.dot[uint32_t(GgmlType::F16)] = dot_kernel(ActFormat::kF32, avx2::dot_f16, nullptr, avx2::panel_kernel_f16());
  // Q4_0/Q5_0/Q8_0 panels are repacked at load on this path: decode then runs
  // the panel kernel too (fewer instructions per weight than the dot kernels;
  // tg128 Q4_0 47 -> 53 tokens/s), and batches skip the per-call packing. For
  // Q8_0 that packing was most of a batch's cost of the tied output
  // projection (151936 x 896, 8 tokens, 2 threads: 25-29 ms packed per call,
  // 17-19 ms prepacked), while one token reads either layout at DRAM speed
  // (9.0 vs 9.3 ms).
  auto prepacked = [](PanelKernel p) {
    p.prepack = true;
    return p;
  };
  t.dot[uint32_t(GgmlType::Q8_0)] = dot_kernel(ActFormat::kQ8_0, avx2::dot_q8_0, avx2::dot4_q8_0, prepacked(avx2::panel_kernel_q8_0()));
  t.dot[uint32_t(GgmlType::Q4_0)] = dot_kernel(ActFormat::kQ8_0, avx2::dot_q4_0, avx2::dot4_q4_0, prepacked(avx2::panel_kernel_q4_0()));
  t.dot[uint32_t(GgmlType::Q5_0)] = dot_kernel(ActFormat::kQ8_0, avx2::dot_q5_0, avx2::dot4_q5_0, prepacked(avx2::panel_kernel_q5_0()));
  t.dot[uint32_t(GgmlType::Q4_K)] = dot_kernel(ActFormat::kQ8_K, avx2::dot_q4_k, nullptr, avx2::panel_kernel_q4_k());
  t.dot[uint32_t(GgmlType::Q5_K)] = dot_kernel(ActFormat::kQ8_K, avx2::dot_q5_k, nullptr, avx2::panel_kernel_q5_k());
  t.dot[uint32_t(GgmlType::Q6_K)] = dot_kernel(ActFormat::kQ8_K, avx2::dot_q6_k, avx2::dot4_q6_k, avx2::panel_kernel_q6_k());
  // Decode's K-quant rows, two at a time (matmul.cpp: two streams per thread).
  t.dot[uint32_t(GgmlType::Q4_K)].dot2 = avx2::dot2_q4_k;
  t.dot[uint32_t(GgmlType::Q5_K)].dot2 = avx2::dot2_q5_k;
  t.dot[uint32_t(GgmlType::Q6_K)].dot2 = avx2::dot2_q6_k;
  t.dot[uint32_t(GgmlType::Q4_K)].dot2_tokens = avx2::dot2_tokens_q45_k<false, avx2::MaddAdd>;
  t.dot[uint32_t(GgmlType::Q5_K)].dot2_tokens = avx2::dot2_tokens_q45_k<true, avx2::MaddAdd>;
  t.dot[uint32_t(GgmlType::Q6_K)].dot2_tokens = avx2::dot2_tokens_q6_k<avx2::MaddAdd>;
  t.dot[uint32_t(GgmlType::Q4_1)] = dot_kernel(ActFormat::kQ8_0, avx2::dot1<avx2::Q4_1Block>, avx2::dot4<avx2::Q4_1Block>,
                                                prepacked(avx2::panel_kernel_q4_1()));
  t.dot[uint32_t(GgmlType::Q5_1)] = dot_kernel(ActFormat::kQ8_0, avx2::dot1<avx2::Q5_1Block>, avx2::dot4<avx2::Q5_1Block>,
                                                prepacked(avx2::panel_kernel_q5_1()));
  t.dot[uint32_t(GgmlType::IQ4_NL)] =
      dot_kernel(ActFormat::kQ8_0, avx2::dot1<avx2::IQ4_NLBlock>, avx2::dot4<avx2::IQ4_NLBlock>, avx2::panel_kernel_iq4_nl());
  t.dot[uint32_t(GgmlType::BF16)] =
      dot_kernel(ActFormat::kF32, avx2::dot_16bit<avx2::bf16x8, bf16_to_float>, nullptr, avx2::panel_kernel_bf16());
  fill_kquant_low_avx2(t);
  fill_kquant_decode_panels_avx2(t);
}

}  // namespace minnow::kernels
