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
#include "kernels/kquant_decode_low.h"

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

// One panel super-block for kTokens tokens: per group the values decoded
// once (Layout::values), each token's two sub-block sums times their scales
// (each scale in both lanes of its row), and the offsets or mins against
// the bsums; acc[t] += dx (d * sum - f * offset).
template <class Layout, int kTokens>
__attribute__((always_inline)) inline void low_super_block(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                           __m256 acc[kTokens]) {
  __m256i scaled[kTokens], offset[kTokens];
  for (int t = 0; t < kTokens; ++t) scaled[t] = offset[t] = _mm256_setzero_si256();
  typename Layout::Scales scales(p);
#pragma GCC unroll 8
  for (int g = 0; g < 8; ++g) {
    __m256i a[4], b[4];
    Layout::values(p + Layout::kQsAt + Layout::kGroupBytes * g, a, b);
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
  finish_super_block<kTokens>(x, x_stride, halves8(p + Layout::kDAt), Layout::offset_factor(p), scaled, offset, acc);
}

// The decode-panel type for the shared loops (kquant_decode_loops.h).
template <class Layout>
struct LowPanel {
  static constexpr size_t kBlockBytes = Layout::kBlockBytes;
  template <int kTokens>
  __attribute__((always_inline)) static void super_block(const uint8_t* p, const uint8_t* x, size_t x_stride,
                                                         __m256 acc[kTokens]) {
    low_super_block<Layout, kTokens>(p, x, x_stride, acc);
  }
  static void to_gemm_panel(const uint8_t* panel, size_t n, uint8_t* out) { low_to_gemm_panel<Layout>(panel, n, out); }
};

using Q3K = LowPanel<Q3KLayout>;
using Q2K = LowPanel<Q2KLayout>;

}  // namespace
}  // namespace minnow::kernels::avx2

namespace minnow::kernels {

void fill_kquant_decode_panels_avx2(KernelTable& t) {
  avx2::set_decode_panel<avx2::Q3K>(t, GgmlType::Q3_K, q3k_panel::pack, q3k_panel::unpack_row);
  avx2::set_decode_panel<avx2::Q2K>(t, GgmlType::Q2_K, q2k_panel::pack, q2k_panel::unpack_row);
}

}  // namespace minnow::kernels
