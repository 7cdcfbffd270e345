// AVX-512 VNNI decode over the K-quant and IQ4_XS decode panels
// (kquant_decode_panel.h), in 256-bit registers like the legacy types' token
// kernels (gemm_avx512.cpp).
//
// Q4_K, Q5_K, IQ4_XS: per 32-element sub-block of 8 rows, four 32-byte
// loads of nibbles (Q5_K: one more of fifth bits, each chunk's moved to bit
// 4), eight vpdpbusd against the token's Q8_K bytes, and one int32 multiply
// by the rows' six-bit scales; the mins meet the block's bsums the same
// way. Q4_K keeps the high nibbles in place (16 times their value: the
// int32 sums are then 16 times too, and one arithmetic shift per sub-block
// undoes it exactly). Zen 4, one thread, a 896 x 4864 matrix in L3: Q4_K
// 32-34 GB/s against the row kernel's 24-25, Q5_K 30-31 against 22-23,
// IQ4_XS (codes by vpshufb) 31 against 15.
//
// Q3_K, Q2_K, Q6_K (16-element sub-blocks; layouts and scale loads in
// kquant_decode_low.h): one template, LowVnni, with each type's decoder
// and scale product as a policy. Q3_K 28-29 GB/s, Q2_K 24-25 (rows: 11-12,
// the AVX2 dots), Q6_K 40-42 (rows 29-30) (docs/PERFORMANCE.md).
//
// Prompts and batches above kPairTokensMax run the per-call GEMM panel
// (gemm_kquant_avx512.cpp): each decode panel is converted to it first,
// which costs what packing it from rows did.
//
// Only the AVX-512 files get AVX-512 flags; nothing here has external
// linkage but fill_kquant_decode_panels.
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks_avx2.h"
#include "kernels/kernel_fill.h"
#include "kernels/kquant_decode_low.h"
#include "kernels/kquant_decode_panel.h"
#include "kernels/kquant_panel_layout.h"
#include "kernels/simd_avx2.h"

namespace minnow::kernels::avx512 {
namespace {

using avx2::kQ8KBsums, avx2::kQ8KQs;
using namespace decode_panels;

template <bool kFifthBit>
struct Q45K {
  using Sizes = q45k_panel::Sizes<kFifthBit>;
  static constexpr size_t kBlockBytes = Sizes::kBlockBytes;
  using Gemm = kquant_layout::Q45K<kFifthBit>;

  // A lone token splits its vpdpbusd chains in two so that their latency is not the limit.
  template <int kTokens>
  __attribute__((always_inline)) static void super_block(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                         __m256 acc[kTokens]) {
    using namespace q45k_panel;
    constexpr int kChains = kTokens == 1 ? 2 : 1;
    alignas(32) uint8_t scales[64], mins[64];
    unpack_six_bit(p + kScalesAt, scales);
    unpack_six_bit(p + kMinsAt, mins);
    const __m256i low4 = _mm256_set1_epi8(0x0f), high4 = _mm256_set1_epi8(char(0xf0));
    __m256i scaled[kTokens], mins_sum[kTokens];
    for (int t = 0; t < kTokens; ++t) scaled[t] = mins_sum[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      const uint8_t* q = p + kQsAt + Sizes::kSubBlockBytes * s;
      // Q4_K keeps the high nibbles in place (x16, undone by one shift of
      // the sums); Q5_K's fifth bit would not fit there.
      __m256i lo[4], hi[4];
      const __m256i fifth = kFifthBit ? simd::load256(q + kFifthAt) : _mm256_setzero_si256();
      for (int j = 0; j < 4; ++j) {
        const __m256i v = simd::load256(q + 32 * j);
        if constexpr (kFifthBit) {
          lo[j] = _mm256_or_si256(_mm256_and_si256(v, low4), simd::move_bit(fifth, j, 4));
          hi[j] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4), simd::move_bit(fifth, j + 4, 4));
        } else {
          lo[j] = _mm256_and_si256(v, low4);
          hi[j] = _mm256_and_si256(v, high4);
        }
      }
      const __m256i sc = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + 8 * s)));
      const __m256i mn = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mins + 8 * s)));
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const uint8_t* xb = x + t * x_stride;
        const uint8_t* xs = xb + kQ8KQs + 32 * s;
        __m256i l[kChains], h[kChains];
        for (int c = 0; c < kChains; ++c) l[c] = h[c] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          l[j % kChains] = _mm256_dpbusd_epi32(l[j % kChains], lo[j], simd::broadcast4(xs + 4 * j));
          h[j % kChains] = _mm256_dpbusd_epi32(h[j % kChains], hi[j], simd::broadcast4(xs + 16 + 4 * j));
        }
        if constexpr (kChains == 2) {
          l[0] = _mm256_add_epi32(l[0], l[1]);
          h[0] = _mm256_add_epi32(h[0], h[1]);
        }
        const __m256i sum = _mm256_add_epi32(l[0], kFifthBit ? h[0] : _mm256_srai_epi32(h[0], 4));
        int16_t bsums[2];
        std::memcpy(bsums, xb + kQ8KBsums + 4 * s, 4);
        scaled[t] = _mm256_add_epi32(scaled[t], _mm256_mullo_epi32(sum, sc));
        mins_sum[t] = _mm256_add_epi32(mins_sum[t], _mm256_mullo_epi32(mn, _mm256_set1_epi32(bsums[0] + bsums[1])));
      }
    }
    finish_super_block<kTokens>(x, x_stride, halves8(p + kDAt), halves8(p + kDminAt), scaled, mins_sum, acc);
  }

  // One decode panel as the GEMM panel (kquant_layout::Q45K): floats for d
  // and dmin, each group's scales and mins as int16 lane pairs, the nibbles
  // (and fifth bits) as they are.
  static void to_gemm_panel(const uint8_t* panel, size_t n, uint8_t* out) {
    using namespace q45k_panel;
    static_assert(Gemm::kGroupBytes == Sizes::kSubBlockBytes, "the groups move as they are");
    for (size_t sb = 0; sb < n / quant::kQK_K; ++sb, panel += kBlockBytes, out += Gemm::kBlockBytes) {
      _mm256_storeu_ps(reinterpret_cast<float*>(out), halves8(panel + kDAt));
      _mm256_storeu_ps(reinterpret_cast<float*>(out + Gemm::kDminAt), halves8(panel + kDminAt));
      alignas(32) uint8_t scales[64], mins[64];
      unpack_six_bit(panel + kScalesAt, scales);
      unpack_six_bit(panel + kMinsAt, mins);
      for (int g = 0; g < 8; ++g) {
        store_scale_pairs(scales, g, 0, out + Gemm::kScalesAt + 32 * g);
        store_scale_pairs(mins, g, 0, out + Gemm::kMinsAt + 32 * g);
      }
      for (size_t i = 0; i < 8 * Sizes::kSubBlockBytes; i += 32)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + Gemm::kQsAt + i), simd::load256(panel + kQsAt + i));
    }
  }
};

// IQ4_XS: codes through the codebook (vpshufb), stored plus 128 so that
// vpdpbusd takes them unsigned; the 128 * sum(x) this adds comes off with
// the block's bsums. Group scales are -32..31 (six-bit minus 32).
struct IQ4XS {
  static constexpr size_t kBlockBytes = iq4xs_panel::kBlockBytes;
  using Gemm = kquant_layout::IQ4XS;

  template <int kTokens>
  __attribute__((always_inline)) static void super_block(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                         __m256 acc[kTokens]) {
    using namespace iq4xs_panel;
    constexpr int kChains = kTokens == 1 ? 2 : 1;
    alignas(32) uint8_t scales[64];
    unpack_six_bit(p + kScalesAt, scales);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i shifted = _mm256_xor_si256(avx2::iq4_codebook(), _mm256_set1_epi8(char(0x80)));  // value + 128
    __m256i scaled[kTokens];
    for (int t = 0; t < kTokens; ++t) scaled[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const uint8_t* q = p + kQsAt + kGroupBytes * g;
      __m256i lo[4], hi[4];
      for (int j = 0; j < 4; ++j) {
        const __m256i v = simd::load256(q + 32 * j);
        lo[j] = _mm256_shuffle_epi8(shifted, _mm256_and_si256(v, low4));
        hi[j] = _mm256_shuffle_epi8(shifted, _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
      }
      const __m256i sc =
          _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + 8 * g))),
                           _mm256_set1_epi32(32));
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const uint8_t* xb = x + t * x_stride;
        const uint8_t* xs = xb + kQ8KQs + 32 * g;
        __m256i l[kChains];
        for (int c = 0; c < kChains; ++c) l[c] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          l[j % kChains] = _mm256_dpbusd_epi32(l[j % kChains], lo[j], simd::broadcast4(xs + 4 * j));
          l[(j + 1) % kChains] = _mm256_dpbusd_epi32(l[(j + 1) % kChains], hi[j], simd::broadcast4(xs + 16 + 4 * j));
        }
        if constexpr (kChains == 2) l[0] = _mm256_add_epi32(l[0], l[1]);
        int16_t bsums[2];
        std::memcpy(bsums, xb + kQ8KBsums + 4 * g, 4);
        const __m256i sum = _mm256_sub_epi32(l[0], _mm256_set1_epi32(128 * (bsums[0] + bsums[1])));
        scaled[t] = _mm256_add_epi32(scaled[t], _mm256_mullo_epi32(sum, sc));
      }
    }
    const __m256 d = halves8(p + kDAt);
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) {
      float dx;
      std::memcpy(&dx, x + t * x_stride, 4);
      acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(dx), d), _mm256_cvtepi32_ps(scaled[t]), acc[t]);
    }
  }

  // The GEMM panel: d as floats, each group's scale as int16 lane pairs,
  // the codes' signed values one byte each.
  static void to_gemm_panel(const uint8_t* panel, size_t n, uint8_t* out) {
    using namespace iq4xs_panel;
    const __m256i low4 = _mm256_set1_epi8(0x0f), book = avx2::iq4_codebook();
    for (size_t sb = 0; sb < n / quant::kQK_K; ++sb, panel += kBlockBytes, out += Gemm::kBlockBytes) {
      _mm256_storeu_ps(reinterpret_cast<float*>(out), halves8(panel + kDAt));
      alignas(32) uint8_t scales[64];
      unpack_six_bit(panel + kScalesAt, scales);
      for (int g = 0; g < 8; ++g) {
        store_scale_pairs(scales, g, 32, out + Gemm::kScalesAt + 32 * g);
        const uint8_t* q = panel + kQsAt + kGroupBytes * g;
        uint8_t* group = out + Gemm::kQsAt + Gemm::kGroupBytes * g;
        for (int j = 0; j < 4; ++j) {
          const __m256i codes = simd::load256(q + 32 * j);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(group + 32 * j),
                              _mm256_shuffle_epi8(book, _mm256_and_si256(codes, low4)));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(group + 32 * (j + 4)),
                              _mm256_shuffle_epi8(book, _mm256_and_si256(_mm256_srli_epi16(codes, 4), low4)));
        }
      }
    }
  }
};

// Q3_K, Q2_K and Q6_K (layouts and scales in kquant_decode_low.h): a
// group's two 16-element sub-blocks are four vpdpbusd each, their offset
// or mins one vpdpwssd against the bsums, and Fast says how a group's
// values come out (values) and how the sub-block sums meet their scales
// (add_scaled).
template <class Layout, class Fast>
struct LowVnni {
  static constexpr size_t kBlockBytes = Layout::kBlockBytes;

  template <int kTokens>
  __attribute__((always_inline)) static void super_block(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                         __m256 acc[kTokens]) {
    __m256i scaled[kTokens], offset[kTokens];
    for (int t = 0; t < kTokens; ++t) scaled[t] = offset[t] = _mm256_setzero_si256();
    const typename Layout::Scales scales(p);
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      __m256i a[4], b[4];
      Fast::values(p + Layout::kQsAt + Layout::kGroupBytes * g, a, b);
      const __m256i pairs = scales.pairs(g), offsets = scales.offsets(g);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const uint8_t* xb = x + t * x_stride;
        const uint8_t* xs = xb + kQ8KQs + 32 * g;
        __m256i la = _mm256_setzero_si256(), lb = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          la = _mm256_dpbusd_epi32(la, a[c], simd::broadcast4(xs + 4 * c));
          lb = _mm256_dpbusd_epi32(lb, b[c], simd::broadcast4(xs + 16 + 4 * c));
        }
        scaled[t] = Fast::add_scaled(scaled[t], la, lb, pairs);
        offset[t] = _mm256_dpwssd_epi32(offset[t], offsets, simd::broadcast4(xb + kQ8KBsums + 4 * g));
      }
    }
    finish_super_block<kTokens>(x, x_stride, halves8(p + Layout::kDAt), Layout::offset_factor(p), scaled, offset, acc);
  }

  static void to_gemm_panel(const uint8_t* panel, size_t n, uint8_t* out) { low_to_gemm_panel<Layout>(panel, n, out); }
};

// Both sub-blocks' sums (each under 2^15 in magnitude) in the int16 halves
// of one lane per row, the second's shifted left by kShift (16 less the
// power of two its values carry), and one vpdpwssd against the scale pair.
template <int kShift>
__attribute__((always_inline)) inline __m256i add_scaled_pair(__m256i acc, __m256i la, __m256i lb, __m256i pairs) {
  return _mm256_dpwssd_epi32(acc, _mm256_blend_epi16(la, _mm256_slli_epi32(lb, kShift), 0xaa), pairs);
}

constexpr int kAandBorC = 0xea;  // ternary logic: (A & B) | C
constexpr int kSelect = 0xca;    // ternary logic: A ? B : C, bit by bit

// Q3_K: six of a group's eight chunks are one mask each; chunks 4-6 stay
// in bits 3-5 (times 8), so sub-block 2g + 1's sum is 8 times too large
// and lb << 13 puts it in the high half exactly (|sum| < 16 * 7 * 128).
struct Q3KFast {
  __attribute__((always_inline)) static void values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    const __m256i v0 = simd::load256(q), v1 = simd::load256(q + 32), v2 = simd::load256(q + 64);
    const __m256i m7 = _mm256_set1_epi8(7), m38 = _mm256_set1_epi8(0x38);
    a[0] = _mm256_and_si256(v0, m7);
    a[1] = _mm256_and_si256(v1, m7);
    a[2] = _mm256_and_si256(v2, m7);
    a[3] = _mm256_ternarylogic_epi32(_mm256_srli_epi16(v0, 6), _mm256_set1_epi8(3),
                                     _mm256_and_si256(_mm256_srli_epi16(v2, 4), _mm256_set1_epi8(4)), kAandBorC);
    b[0] = _mm256_and_si256(v0, m38);
    b[1] = _mm256_and_si256(v1, m38);
    b[2] = _mm256_and_si256(v2, m38);
    b[3] = _mm256_ternarylogic_epi32(_mm256_srli_epi16(v1, 3), _mm256_set1_epi8(0x18),
                                     _mm256_and_si256(_mm256_srli_epi16(v2, 2), _mm256_set1_epi8(0x20)), kAandBorC);
  }
  __attribute__((always_inline)) static __m256i add_scaled(__m256i acc, __m256i la, __m256i lb, __m256i pairs) {
    return add_scaled_pair<13>(acc, la, lb, pairs);
  }
};

// Q2_K: the plain values; sums under 16 * 3 * 128.
struct Q2KFast {
  __attribute__((always_inline)) static void values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    Q2KLayout::values(q, a, b);
  }
  __attribute__((always_inline)) static __m256i add_scaled(__m256i acc, __m256i la, __m256i lb, __m256i pairs) {
    return add_scaled_pair<16>(acc, la, lb, pairs);
  }
};

// Q6_K: chunks 6 and 7 gather their three 2-bit parts by two bit selects;
// sums reach 16 * 63 * 128, past int16, so each takes an int32 multiply.
struct Q6KFast {
  __attribute__((always_inline)) static __m256i top_bits(__m256i x, __m256i y, __m256i z) {
    const __m256i low = _mm256_ternarylogic_epi32(_mm256_set1_epi8(0x03), _mm256_srli_epi16(x, 6),
                                                  _mm256_srli_epi16(y, 4), kSelect);
    const __m256i all = _mm256_ternarylogic_epi32(_mm256_set1_epi8(0x0f), low, _mm256_srli_epi16(z, 2), kSelect);
    return _mm256_and_si256(all, _mm256_set1_epi8(63));
  }
  __attribute__((always_inline)) static void values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    Q6KLayout::values<Q6KFast>(q, a, b);
  }
  __attribute__((always_inline)) static __m256i add_scaled(__m256i acc, __m256i la, __m256i lb, __m256i pairs) {
    const __m256i sa = _mm256_srai_epi32(_mm256_slli_epi32(pairs, 16), 16), sb = _mm256_srai_epi32(pairs, 16);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_mullo_epi32(la, sa), _mm256_mullo_epi32(lb, sb)));
  }
};

using Q3K = LowVnni<Q3KLayout, Q3KFast>;
using Q2K = LowVnni<Q2KLayout, Q2KFast>;
using Q6K = LowVnni<Q6KLayout, Q6KFast>;


}  // namespace
}  // namespace minnow::kernels::avx512

namespace minnow::kernels {

void fill_kquant_decode_panels(KernelTable& t) {
  avx512::set_decode_panel<avx512::Q45K<false>>(t, GgmlType::Q4_K, q45k_panel::pack<false>,
                                                q45k_panel::unpack_row<false>);
  avx512::set_decode_panel<avx512::Q45K<true>>(t, GgmlType::Q5_K, q45k_panel::pack<true>, q45k_panel::unpack_row<true>);
  avx512::set_decode_panel<avx512::IQ4XS>(t, GgmlType::IQ4_XS, iq4xs_panel::pack, iq4xs_panel::unpack_row);
  avx512::set_decode_panel<avx512::Q3K>(t, GgmlType::Q3_K, q3k_panel::pack, q3k_panel::unpack_row);
  avx512::set_decode_panel<avx512::Q2K>(t, GgmlType::Q2_K, q2k_panel::pack, q2k_panel::unpack_row);
  avx512::set_decode_panel<avx512::Q6K>(t, GgmlType::Q6_K, q6k_panel::pack, q6k_panel::unpack_row);
}

}  // namespace minnow::kernels
