// AVX2 kernels for the low-bit super-block types Q2_K, Q3_K and IQ4_XS,
// tested against their scalar twins in dot_scalar.cpp. Each super-
// block's integer sum is formed with maddubs/madd and scaled once; weights
// are kept unsigned wherever an activation sum can take their offset.
#include <cstring>

#include "base/half.h"
#include "kernels/blocks_avx2.h"
#include "kernels/gemm_avx2.h"
#include "kernels/kernel_fill.h"
#include "kernels/kquant_rows_avx2.h"
#include "quant/block_formats.h"
#include "quant/iq_quants.h"

namespace minnow::kernels::avx2 {
namespace {

using namespace simd;
using quant::kQK_K;

inline float q8k_scale(const uint8_t* b) { return float_at(b); }

// A madd multiplier for 16-groups g (low 128-bit lane) and g + 1 (high lane)
// of a maddubs result: every int16 of a lane is that group's scale. `sc`
// holds the 16 int8 scales in both lanes; each int16 picks its scale byte
// twice and the arithmetic shift sign-extends the copy in its top byte.
inline __m256i scale_pair(__m256i sc, int g) {
  const __m256i pick = _mm256_set_m128i(_mm_set1_epi16(int16_t((g + 1) * 0x0101)), _mm_set1_epi16(int16_t(g * 0x0101)));
  return _mm256_srai_epi16(_mm256_shuffle_epi8(sc, pick), 8);
}

// Each Body<kTokens>::run below takes one super-block `a` against kTokens Q8_K blocks
// b[t] (one token's dot, or a small decode batch's, Dot2TokensFn): the
// block is decoded once and acc[t] gets its scaled sum, offsets and mins
// already taken off.

// Q2_K: scales 0..15 in the low nibbles, mins in the high ones. The inner
// loop multiplies the unsigned 2-bit values; the mins come back as
// dmin * sum_g min_g * bsums_g.
template <int kTokens>
struct Q2KBody {
  __attribute__((always_inline)) static void run(const uint8_t* a, const uint8_t* const* b, __m256* acc) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0f)));
    const float d = half_at(a + 80), dmin = half_at(a + 82);
    __m256i sumi[kTokens];
    for (int t = 0; t < kTokens; ++t) {
      const __m256i min_products = _mm256_madd_epi16(mins, load256(b[t] + kQ8KBsums));
      acc[t] = _mm256_fnmadd_ps(_mm256_set1_ps(q8k_scale(b[t]) * dmin), _mm256_cvtepi32_ps(min_products), acc[t]);
      sumi[t] = _mm256_setzero_si256();
    }
    const __m256i sc = _mm256_broadcastsi128_si256(_mm_and_si128(packed, _mm_set1_epi8(0x0f)));
#pragma GCC unroll 2
    for (int half = 0; half < 2; ++half) {
      const __m256i q = load256(a + 16 + 32 * half);
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        const __m256i u = plane2(q, p), scale = scale_pair(sc, 8 * half + 2 * p);
        for (int t = 0; t < kTokens; ++t) {
          const __m256i prod = _mm256_maddubs_epi16(u, load256(b[t] + kQ8KQs + 128 * half + 32 * p));
          sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(prod, scale));
        }
      }
    }
    for (int t = 0; t < kTokens; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(q8k_scale(b[t]) * d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
  }
};

// Q3_K: the 3-bit values are multiplied as unsigned 0..7 (maddubs needs an
// unsigned side); the offset of 4 is taken off in the integer sum as
// 4 * sum_g scale_g * bsums_g, so the result stays one exact int32 sum.
template <int kTokens>
struct Q3KBody {
  __attribute__((always_inline)) static void run(const uint8_t* a, const uint8_t* const* b, __m256* acc) {
    const __m128i scales = q3_k_scales(a + 96);
    const __m256i scales16 = _mm256_cvtepi8_epi16(scales);
    __m256i sumi[kTokens];
    for (int t = 0; t < kTokens; ++t) {
      const __m256i offset = _mm256_madd_epi16(scales16, load256(b[t] + kQ8KBsums));
      sumi[t] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 2));
    }
    const __m256i sc = _mm256_broadcastsi128_si256(scales);
    const __m256i hm = load256(a);
#pragma GCC unroll 2
    for (int half = 0; half < 2; ++half) {
      const __m256i q = load256(a + 32 + 32 * half);
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        const __m256i u = _mm256_or_si256(plane2(q, p), hbit_as_4(hm, 4 * half + p));
        const __m256i scale = scale_pair(sc, 8 * half + 2 * p);
        for (int t = 0; t < kTokens; ++t) {
          const __m256i prod = _mm256_maddubs_epi16(u, load256(b[t] + kQ8KQs + 128 * half + 32 * p));
          sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(prod, scale));
        }
      }
    }
    const float d = half_at(a + 108);
    for (int t = 0; t < kTokens; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(q8k_scale(b[t]) * d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
  }
};

// IQ4_XS: the nibbles index the codebook with pshufb, then a signed int8
// dot. Codes are >= -127 and Q8_K activations symmetric in [-127, 127], so
// moving the codes' sign onto the activations (maddubs wants one unsigned
// side) neither overflows a byte nor saturates a pair sum.
template <int kTokens>
struct IQ4XSBody {
  __attribute__((always_inline)) static void run(const uint8_t* a, const uint8_t* const* b, __m256* acc) {
    const __m256i codebook = iq4_codebook();
    int ls[8];
    quant::iq4_xs_group_scales(a, ls);
    __m256i sumi[kTokens];
    for (int t = 0; t < kTokens; ++t) sumi[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int ib = 0; ib < 8; ++ib) {
      const __m256i v = _mm256_shuffle_epi8(codebook, nibbles_32(a + 8 + 16 * ib));
      const __m256i magnitude = _mm256_sign_epi8(v, v), scale = _mm256_set1_epi16(int16_t(ls[ib]));
      for (int t = 0; t < kTokens; ++t) {
        const __m256i y = load256(b[t] + kQ8KQs + 32 * ib);
        const __m256i prod = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(y, v));
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(prod, scale));
      }
    }
    const float d = half_at(a);
    for (int t = 0; t < kTokens; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(q8k_scale(b[t]) * d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
  }
};

// The three kernels of one type from its body: DotFn, Dot2Fn, Dot2TokensFn.
template <size_t kBytes, template <int> class Body>
struct LowKQuant {
  static float dot(const uint8_t* w, const uint8_t* x, size_t n) {
    __m256 acc[1] = {_mm256_setzero_ps()};
    for (size_t i = 0; i < n / kQK_K; ++i) {
      const uint8_t* a = w + i * kBytes;
      prefetch_ahead(a, kBytes);
      const uint8_t* b[1] = {x + i * kQ8KBytes};
      Body<1>::run(a, b, acc);
    }
    return hsum(acc[0]);
  }
  static void dot2(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out) {
    dot2_tokens<kBytes, 1>(w0, w1, x, 0, n, out, out + 1, 0, Body<1>::run);
  }
  static constexpr Dot2TokensFn tokens = dot2_tokens_n<kBytes, Body>;
};

using Q2K = LowKQuant<sizeof(quant::BlockQ2_K), Q2KBody>;
using Q3K = LowKQuant<sizeof(quant::BlockQ3_K), Q3KBody>;
using IQ4XS = LowKQuant<sizeof(quant::BlockIQ4_XS), IQ4XSBody>;

}  // namespace
}  // namespace minnow::kernels::avx2

namespace minnow::kernels {

void fill_kquant_low_avx2(KernelTable& t) {
  auto set = [&](GgmlType type, auto kernels, PanelKernel panel) {
    using K = decltype(kernels);
    t.dot[uint32_t(type)] = dot_kernel(ActFormat::kQ8_K, K::dot, nullptr, panel);
    t.dot[uint32_t(type)].dot2 = K::dot2;
    t.dot[uint32_t(type)].dot2_tokens = K::tokens;
  };
  set(GgmlType::Q2_K, avx2::Q2K{}, avx2::panel_kernel_q2_k());
  set(GgmlType::Q3_K, avx2::Q3K{}, avx2::panel_kernel_q3_k());
  set(GgmlType::IQ4_XS, avx2::IQ4XS{}, avx2::panel_kernel_iq4_xs());
}

}  // namespace minnow::kernels
