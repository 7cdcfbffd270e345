// AVX2 decode over the Q3_K and Q2_K decode panels (kquant_decode_panel.h):
// the AVX-512 path's layouts, multiplied with maddubs instead of vpdpbusd.
//
// Per 32-element group of 8 rows: the eight chunks' values (Q3_K 0..7, Q2_K
// 0..3) are decoded once for all tokens; each token's four chunks of a
// 16-element sub-block are four maddubs added in int16 (at most
// 4 x 2 x 7 x 128, no saturation), and one madd by the sub-block's scale,
// both lanes of a row, widens them. The offset (Q3_K's -4) or the mins
// (Q2_K) meet the block's bsums in one madd a group. The row dots these
// replace read 11-12 GB/s a core in cache on Zen 4 (`MINNOW_ISA=avx2`).
//
// Prompts convert each decode panel to the Q6K GEMM panel per call, as on
// the AVX-512 path.
#include <immintrin.h>

#include "kernels/kernel_fill.h"
#include "kernels/kquant_decode_loops.h"
#include "kernels/kquant_decode_panel.h"
#include "kernels/kquant_panel_layout.h"

namespace minnow::kernels::avx2 {
namespace {

using namespace decode_panels;

// Sixteen products of a sub-block for 8 rows: four chunks' values against
// the activation bytes at xs (chunk c's four at xs + 4c), summed in int16
// lanes (2r, 2r + 1: row r).
__attribute__((always_inline)) inline __m256i sub_block_sums(const __m256i v[4], const uint8_t* xs) {
  const __m256i s01 = _mm256_add_epi16(_mm256_maddubs_epi16(v[0], simd::broadcast4(xs)),
                                       _mm256_maddubs_epi16(v[1], simd::broadcast4(xs + 4)));
  const __m256i s23 = _mm256_add_epi16(_mm256_maddubs_epi16(v[2], simd::broadcast4(xs + 8)),
                                       _mm256_maddubs_epi16(v[3], simd::broadcast4(xs + 12)));
  return _mm256_add_epi16(s01, s23);
}

// Each row's value of a pair vector (int16 lane 2r: sub-block 2g, 2r + 1:
// 2g + 1) in both of its lanes: the even sub-block's, or the odd one's.
__attribute__((always_inline)) inline __m256i even_lanes(__m256i pairs) {
  constexpr int kEven = _MM_SHUFFLE(2, 2, 0, 0);
  return _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(pairs, kEven), kEven);
}
__attribute__((always_inline)) inline __m256i odd_lanes(__m256i pairs) {
  constexpr int kOdd = _MM_SHUFFLE(3, 3, 1, 1);
  return _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(pairs, kOdd), kOdd);
}

// A group's decoded values, its two sub-blocks' scale pairs and the pairs
// that meet the bsums; Layout::group(p, g, a, b, pairs, offsets) fills them.
// One panel super-block for kTokens tokens: acc[t] += dx (d * sum - f * offset).
template <class Layout, int kTokens>
__attribute__((always_inline)) inline void low_super_block(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                           __m256 acc[kTokens]) {
  __m256i scaled[kTokens], offset[kTokens];
  for (int t = 0; t < kTokens; ++t) scaled[t] = offset[t] = _mm256_setzero_si256();
  typename Layout::Scales scales(p);
#pragma GCC unroll 8
  for (int g = 0; g < 8; ++g) {
    __m256i a[4], b[4];
    Layout::group_values(p + Layout::kQsAt + Layout::kGroupBytes * g, a, b);
    const __m256i pairs = scales.pairs(g), offsets = scales.offsets(g);
    const __m256i sa = even_lanes(pairs), sb = odd_lanes(pairs);
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) {
      const uint8_t* xb = x + t * x_stride;
      const uint8_t* xs = xb + kQ8KQs + 32 * g;
      const __m256i both = _mm256_add_epi32(_mm256_madd_epi16(sub_block_sums(a, xs), sa),
                                            _mm256_madd_epi16(sub_block_sums(b, xs + 16), sb));
      scaled[t] = _mm256_add_epi32(scaled[t], both);
      offset[t] = _mm256_add_epi32(offset[t], _mm256_madd_epi16(offsets, simd::broadcast4(xb + kQ8KBsums + 4 * g)));
    }
  }
  const __m256 d = halves8(p + Layout::kDAt), f = Layout::offset_factor(p);
#pragma GCC unroll 4
  for (int t = 0; t < kTokens; ++t) {
    float dx;
    std::memcpy(&dx, x + t * x_stride, 4);
    const __m256 v = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(scaled[t]), _mm256_mul_ps(f, _mm256_cvtepi32_ps(offset[t])));
    acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx), v, acc[t]);
  }
}

// A decode panel as the Q6K GEMM panel: d and its offset factor f as floats, the scales in
// both lanes of each row, the offsets as pairs, values plus `bias`.
template <class Layout>
void low_to_gemm_panel(const uint8_t* panel, size_t n, uint8_t* out, uint8_t bias) {
  using Gemm = kquant_layout::Q6K;
  for (size_t sb = 0; sb < n / quant::kQK_K; ++sb, panel += Layout::kBlockBytes, out += Gemm::kBlockBytes) {
    _mm256_storeu_ps(reinterpret_cast<float*>(out), halves8(panel + Layout::kDAt));
    _mm256_storeu_ps(reinterpret_cast<float*>(out + Gemm::kFAt), Layout::gemm_factor(panel));
    typename Layout::Scales scales(panel);
    for (int g = 0; g < 8; ++g) {
      const __m256i pairs = scales.pairs(g);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + Gemm::kPairsAt + 32 * g), scales.offsets(g));
      store_pair_halves(pairs, out + Gemm::kScalesAt + 32 * (2 * g), out + Gemm::kScalesAt + 32 * (2 * g + 1));
      __m256i a[4], b[4];
      Layout::group_values(panel + Layout::kQsAt + Layout::kGroupBytes * g, a, b);
      uint8_t* group = out + Gemm::kQsAt + Gemm::kGroupBytes * g;
      const __m256i add = _mm256_set1_epi8(char(bias));
      for (int c = 0; c < 4; ++c) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(group + 32 * c), _mm256_add_epi8(a[c], add));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(group + 32 * (c + 4)), _mm256_add_epi8(b[c], add));
      }
    }
  }
}

// Q3_K: values 0..7 (weight d * scale * (u - 4)); the six-bit scales
// unpacked once a super-block; the offset is 4 d times the scales.
struct Q3KLayout {
  static constexpr size_t kBlockBytes = q3k_panel::kBlockBytes, kQsAt = q3k_panel::kQsAt,
                          kGroupBytes = q3k_panel::kGroupBytes, kDAt = q3k_panel::kDAt;
  struct Scales {
    alignas(32) uint8_t bytes[128];  // signed, the panel's order
    explicit Scales(const uint8_t* p) {
      unpack_six_bit(p + q3k_panel::kScalesAt, bytes);
      unpack_six_bit(p + q3k_panel::kScalesAt + 48, bytes + 64);
      for (int i = 0; i < 128; i += 32)
        _mm256_store_si256(reinterpret_cast<__m256i*>(bytes + i),
                           _mm256_sub_epi8(simd::load256(bytes + i), _mm256_set1_epi8(32)));
    }
    __m256i pairs(int g) const { return int8_pairs(bytes + 16 * g); }
    __m256i offsets(int g) const { return pairs(g); }
  };
  static __m256 offset_factor(const uint8_t* p) {
    return _mm256_mul_ps(halves8(p + q3k_panel::kDAt), _mm256_set1_ps(4.0f));
  }
  // The GEMM panel's values are u + 28: its offset is 32 d times the scales.
  static __m256 gemm_factor(const uint8_t* p) { return _mm256_mul_ps(halves8(p + q3k_panel::kDAt), _mm256_set1_ps(32.0f)); }
  __attribute__((always_inline)) static void group_values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    const __m256i v0 = simd::load256(q), v1 = simd::load256(q + 32), v2 = simd::load256(q + 64);
    const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4), m7 = _mm256_set1_epi8(7);
    a[0] = _mm256_and_si256(v0, m7);
    a[1] = _mm256_and_si256(v1, m7);
    a[2] = _mm256_and_si256(v2, m7);
    a[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v0, 6), m3),
                           _mm256_and_si256(_mm256_srli_epi16(v2, 4), m4));
    b[0] = _mm256_and_si256(_mm256_srli_epi16(v0, 3), m7);
    b[1] = _mm256_and_si256(_mm256_srli_epi16(v1, 3), m7);
    b[2] = _mm256_and_si256(_mm256_srli_epi16(v2, 3), m7);
    b[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v1, 6), m3),
                           _mm256_and_si256(_mm256_srli_epi16(v2, 5), m4));
  }
};

// Q2_K: values 0..3 (weight d * scale * q - dmin * min), the rows' scale
// bytes as they are: scales in the low nibbles, mins in the high ones.
struct Q2KLayout {
  static constexpr size_t kBlockBytes = q2k_panel::kBlockBytes, kQsAt = q2k_panel::kQsAt,
                          kGroupBytes = q2k_panel::kGroupBytes, kDAt = q2k_panel::kDAt;
  struct Scales {
    const uint8_t* p;
    explicit Scales(const uint8_t* panel) : p(panel + q2k_panel::kScalesAt) {}
    __m256i bytes(int g) const {
      return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)));
    }
    __m256i pairs(int g) const { return _mm256_and_si256(bytes(g), _mm256_set1_epi16(0x0f)); }
    __m256i offsets(int g) const { return _mm256_srli_epi16(bytes(g), 4); }
  };
  static __m256 offset_factor(const uint8_t* p) { return halves8(p + q2k_panel::kDminAt); }
  static __m256 gemm_factor(const uint8_t* p) { return offset_factor(p); }
  __attribute__((always_inline)) static void group_values(const uint8_t* q, __m256i a[4], __m256i b[4]) {
    const __m256i w0 = simd::load256(q), w1 = simd::load256(q + 32), m3 = _mm256_set1_epi8(3);
    for (int c = 0; c < 4; ++c) {
      a[c] = _mm256_and_si256(_mm256_srli_epi16(w0, 2 * c), m3);
      b[c] = _mm256_and_si256(_mm256_srli_epi16(w1, 2 * c), m3);
    }
  }
};

// The decode-panel type for the shared loops (kquant_decode_loops.h).
template <class Layout, uint8_t kGemmBias>
struct LowPanel {
  static constexpr size_t kBlockBytes = Layout::kBlockBytes;
  template <int kTokens>
  __attribute__((always_inline)) static void super_block(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                         __m256 acc[kTokens]) {
    low_super_block<Layout, kTokens>(p, x, x_stride, acc);
  }
  static void to_gemm_panel(const uint8_t* panel, size_t n, uint8_t* out) {
    low_to_gemm_panel<Layout>(panel, n, out, kGemmBias);
  }
};

// The Q6K GEMM panel holds Q3_K's u - 4 as u + 28 (gemm_kquant_avx2.cpp).
using Q3K = LowPanel<Q3KLayout, 28>;
using Q2K = LowPanel<Q2KLayout, 0>;

}  // namespace
}  // namespace minnow::kernels::avx2

namespace minnow::kernels {

void fill_kquant_decode_panels_avx2(KernelTable& t) {
  avx2::set_decode_panel<avx2::Q3K>(t, GgmlType::Q3_K, q3k_panel::pack, q3k_panel::unpack_row);
  avx2::set_decode_panel<avx2::Q2K>(t, GgmlType::Q2_K, q2k_panel::pack, q2k_panel::unpack_row);
}

}  // namespace minnow::kernels
