// AVX-512 VNNI panel GEMM for Q4_K, Q5_K, Q6_K, Q3_K, Q2_K and IQ4_XS weights
// against Q8_K activations, over the AVX2 panel layouts
// (gemm_kquant_avx2.cpp packs them per call; kquant_panel_layout.h has the
// offsets). As in gemm_avx512.cpp, two panels (16 rows) fill a 512-bit
// register and vpdpbusd multiplies a chunk by the token's four activation
// bytes, broadcast by the instruction. Where AVX2 keeps int16 partial sums
// and applies each group's per-row scale with a madd, the int32 group sums
// here go to float and meet the scales in one FMA (a group's int32 sum does
// not fit the int16 a madd would need). The mins (Q4_K, Q5_K) and offsets
// (Q6_K family) meet the activations' 16-element sums with vpdpwssd.
//
// Only this file and gemm_avx512.cpp get AVX-512 flags; nothing here has
// external linkage but fill_kquant_vnni_panels.
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks_avx2.h"
#include "kernels/kernel_fill.h"
#include "kernels/kquant_panel_layout.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::avx512 {
namespace {

using simd::load256;
using quant::kQK_K;
using avx2::kQ8KBsums, avx2::kQ8KBytes, avx2::kQ8KQs;

inline __m512i load_pair(const uint8_t* p0, const uint8_t* p1, size_t at) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(load256(p0 + at)), load256(p1 + at), 1);
}
inline __m512 floats_pair(const uint8_t* p0, const uint8_t* p1, size_t at) {
  return _mm512_castsi512_ps(load_pair(p0, p1, at));
}
inline __m512i broadcast4(const uint8_t* p) {
  int32_t four;
  std::memcpy(&four, p, 4);
  return _mm512_set1_epi32(four);  // folded into the instruction's {1to16} operand
}
// A scale16 row pair (int16 lanes 2r, 2r+1 both = row r's scale) as floats,
// sign-extended from the upper copy.
inline __m512 scale_floats(const uint8_t* p0, const uint8_t* p1, size_t at) {
  return _mm512_cvtepi32_ps(_mm512_srai_epi32(load_pair(p0, p1, at), 16));
}

// The end of a super-block: acc[t] += d_x(t) * (f[t] * d - kMScale * factor * m),
// m = sum_j pairs16[j] . (bsums[2j], bsums[2j+1]) with one vpdpwssd per
// pair: the mins (Q4_K, Q5_K: factor dmin), the offsets (the Q6_K panel:
// factor f) or IQ4_XS's bias (its scales, factor d, kMScale 128). d is the
// block's first 8 floats.
template <int kTokens, int kMScale = 1, class XBlock>
__attribute__((always_inline)) inline void finish_super_block(const uint8_t* p0, const uint8_t* p1, size_t pairs_at,
                                                              size_t factor_at, XBlock xb, const __m512 f[kTokens],
                                                              __m512 acc[kTokens]) {
  const __m512 d = floats_pair(p0, p1, 0);
  const __m512 factor = _mm512_mul_ps(floats_pair(p0, p1, factor_at), _mm512_set1_ps(float(kMScale)));
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
    __m512i m = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j)
      m = _mm512_dpwssd_epi32(m, load_pair(p0, p1, pairs_at + 32 * j), broadcast4(xb(t) + kQ8KBsums + 4 * j));
    const __m512 v = _mm512_fmsub_ps(f[t], d, _mm512_mul_ps(_mm512_cvtepi32_ps(m), factor));
    acc[t] = _mm512_fmadd_ps(v, _mm512_set1_ps(simd::float_at(xb(t))), acc[t]);
  }
}

// f[t] += scale * (group g's 8 chunks . token t's 32 activations), per row:
// the groups of Q4_K, Q5_K and IQ4_XS, whose 32 elements share one scale.
// (Both helpers must inline into their token loop, or f and acc leave
// registers.)
template <int kTokens, class XBlock>
__attribute__((always_inline)) inline void group_products(const __m512i w[8], __m512 scale, int g, XBlock xb,
                                                          __m512 f[kTokens]) {
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
    const uint8_t* xq = xb(t) + kQ8KQs + 32 * g;
    __m512i s = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) s = _mm512_dpbusd_epi32(s, w[c], broadcast4(xq + 4 * c));
    f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, f[t]);
  }
}

// The layouts. Each gives decode(p0, p1, g, w): group g's 8 chunks of the
// 16 rows as unsigned bytes; group<kTokens>(...): that group's products into
// f; and the end of its super-block for finish_super_block (kPairsAt,
// kFactorAt, kMScale).

// Q4_K, Q5_K: eight 32-element groups with a 6-bit scale and min each.
template <bool kFifthBit>
struct Q45K : kquant_layout::Q45K<kFifthBit> {
  using L = kquant_layout::Q45K<kFifthBit>;
  // min16[g] lanes are min g twice: min[g] * (bsums[2g] + bsums[2g+1]).
  static constexpr size_t kPairsAt = L::kMinsAt, kFactorAt = L::kDminAt;
  static constexpr int kMScale = 1;

  static void decode(const uint8_t* p0, const uint8_t* p1, int g, __m512i w[8]) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const size_t q = L::kQsAt + L::kGroupBytes * g;
    for (int j = 0; j < 4; ++j) {
      const __m512i v = load_pair(p0, p1, q + 32 * j);  // chunk j low, chunk j + 4 high nibbles
      w[j] = _mm512_and_si512(v, low4);
      w[j + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
    if constexpr (kFifthBit) {
      const __m512i high = load_pair(p0, p1, q + 128);  // bit c of byte i: chunk c's fifth bit
      for (int c = 0; c < 8; ++c)
        w[c] = _mm512_mask_add_epi8(w[c], _mm512_test_epi8_mask(high, _mm512_set1_epi8(int8_t(1 << c))), w[c],
                                    _mm512_set1_epi8(16));
    }
  }
  template <int kTokens, class XBlock>
  __attribute__((always_inline)) static void group(const __m512i w[8], const uint8_t* p0, const uint8_t* p1, int g,
                                                   XBlock xb, __m512 f[kTokens]) {
    group_products<kTokens>(w, scale_floats(p0, p1, L::kScalesAt + 32 * g), g, xb, f);
  }
};

// The Q6_K panel (Q6_K, Q3_K, Q2_K): values 0..63 as bytes, a signed scale
// per 16 elements, and the offset term f * sum_j o_j * bsums[j].
struct Q6K : kquant_layout::Q6K {
  using L = kquant_layout::Q6K;
  static constexpr size_t kPairsAt = L::kPairsAt, kFactorAt = L::kFAt;
  static constexpr int kMScale = 1;

  static void decode(const uint8_t* p0, const uint8_t* p1, int g, __m512i w[8]) {
    for (int c = 0; c < 8; ++c) w[c] = load_pair(p0, p1, L::kQsAt + L::kGroupBytes * g + 32 * c);
  }
  template <int kTokens, class XBlock>
  __attribute__((always_inline)) static void group(const __m512i w[8], const uint8_t* p0, const uint8_t* p1, int g,
                                                   XBlock xb, __m512 f[kTokens]) {
    // Chunks 0-3 are sub-block 2g, 4-7 sub-block 2g + 1.
    const __m512 scale_a = scale_floats(p0, p1, L::kScalesAt + 32 * (2 * g));
    const __m512 scale_b = scale_floats(p0, p1, L::kScalesAt + 32 * (2 * g + 1));
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) {
      const uint8_t* xq = xb(t) + kQ8KQs + 32 * g;
      __m512i sa = _mm512_setzero_si512(), sb = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        sa = _mm512_dpbusd_epi32(sa, w[c], broadcast4(xq + 4 * c));
        sb = _mm512_dpbusd_epi32(sb, w[c + 4], broadcast4(xq + 16 + 4 * c));
      }
      f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sa), scale_a, f[t]);
      f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sb), scale_b, f[t]);
    }
  }
};

// IQ4_XS: signed codebook values (>= -127) with an int8 scale per 32-element
// group. As unsigned bytes v xor 0x80 = v + 128, so each group's products
// carry 128 * scale * (its activations' sum), which comes off at the end
// through the scales and the 16-element sums (scale16[g] lanes are scale g
// twice).
struct IQ4XS : kquant_layout::IQ4XS {
  using L = kquant_layout::IQ4XS;
  static constexpr size_t kPairsAt = L::kScalesAt, kFactorAt = 0;  // factor d
  static constexpr int kMScale = 128;

  static void decode(const uint8_t* p0, const uint8_t* p1, int g, __m512i w[8]) {
    for (int c = 0; c < 8; ++c)
      w[c] = _mm512_xor_si512(load_pair(p0, p1, L::kQsAt + L::kGroupBytes * g + 32 * c), _mm512_set1_epi8(-128));
  }
  template <int kTokens, class XBlock>
  __attribute__((always_inline)) static void group(const __m512i w[8], const uint8_t* p0, const uint8_t* p1, int g,
                                                   XBlock xb, __m512 f[kTokens]) {
    group_products<kTokens>(w, scale_floats(p0, p1, L::kScalesAt + 32 * g), g, xb, f);
  }
};

// One super-block of a panel pair: group by group, then its end.
template <class L, int kTokens, class XBlock>
__attribute__((always_inline)) inline void super_block(const uint8_t* p0, const uint8_t* p1, XBlock xb,
                                                       __m512 acc[kTokens]) {
  __m512 f[kTokens];
  for (int t = 0; t < kTokens; ++t) f[t] = _mm512_setzero_ps();
#pragma GCC unroll 1
  for (int g = 0; g < 8; ++g) {
    __m512i w[8];
    L::decode(p0, p1, g, w);
    L::template group<kTokens>(w, p0, p1, g, xb, f);
  }
  finish_super_block<kTokens, L::kMScale>(p0, p1, L::kPairsAt, L::kFactorAt, xb, f, acc);
}

// kTokens activation rows against two panels, a super-block at a time.
template <class L, int kTokens>
void panel_tokens(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, float* y,
                  size_t y_stride) {
  __m512 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t sb = 0; sb < n / kQK_K; ++sb)
    super_block<L, kTokens>(p0 + sb * L::kBlockBytes, p1 + sb * L::kBlockBytes,
                            [&](int t) { return x + t * x_stride + sb * kQ8KBytes; }, acc);
  for (int t = 0; t < kTokens; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

// Two consecutive panels against every token: token groups of 8 (8 float
// sums, 8 accumulators and 8 chunk registers), then one of the 1-7 left.
template <class L>
void pair_gemm(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
               size_t y_stride, const uint8_t* /*next: packed per call*/) {
  const uint8_t* second = panel + n / kQK_K * L::kBlockBytes;
  simd::for_token_groups<8>(n_tokens, [&](auto k, size_t t) {
    panel_tokens<L, decltype(k)::value>(panel, second, x + t * x_stride, x_stride, n, y + t * y_stride, y_stride);
  });
}

}  // namespace
}  // namespace minnow::kernels::avx512

namespace minnow::kernels {

// Each type keeps the AVX2 panel the table copied (packed per call); only
// the multiply changes.
void fill_kquant_vnni_panels(KernelTable& t) {
  using namespace avx512;
  set_pair_gemm(t, GgmlType::Q4_K, pair_gemm<Q45K<false>>);
  set_pair_gemm(t, GgmlType::Q5_K, pair_gemm<Q45K<true>>);
  set_pair_gemm(t, GgmlType::Q6_K, pair_gemm<Q6K>);
  set_pair_gemm(t, GgmlType::Q3_K, pair_gemm<Q6K>);  // Q6_K's panels
  set_pair_gemm(t, GgmlType::Q2_K, pair_gemm<Q6K>);
  set_pair_gemm(t, GgmlType::IQ4_XS, pair_gemm<IQ4XS>);
}

}  // namespace minnow::kernels
