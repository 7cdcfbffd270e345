// AVX2 panel GEMM for Q4_0, Q5_0 and Q8_0 weights against Q8_0 activations.
// A panel holds kPanelRows = 8 rows decoded to bytes, each block stored as
// eight 32-byte chunks: chunk c is elements 4c..4c+3 of rows 0..7. One
// maddubs of a chunk with those four activation bytes broadcast gives, per
// row, two int16 partial sums; chunks add up in int16 as far as the values
// allow, and one madd + convert + FMA per block and token then finishes all
// eight rows at once (a dot kernel spends those per row). The scalar twin is
// the scalar dot of each row: tests compare every element.
#include "kernels/gemm_avx2.h"

#include "kernels/blocks_avx2.h"

namespace minnow::kernels::avx2 {
namespace {

using quant::kQK;
constexpr int kChunks = 8;  // 4-element chunks per 32-element block

// Bytes per block: 8 float scales, then the chunks; Q8_0 adds the signed
// chunks (maddubs reads |w| and takes the sign from w).
template <class B>
constexpr size_t panel_block_bytes() {
  return 32 + 32 * kChunks * (B::kSigned ? 2 : 1);
}

// Rows r[0..7] of 8 int32 each, transposed in place: r[c] becomes element c
// of every row (row order kept).
inline void transpose8x8_epi32(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3, then 4-7
    __m256i* tt = t + 4 * h;
    u[4 * h + 0] = _mm256_unpacklo_epi64(tt[0], tt[2]);
    u[4 * h + 1] = _mm256_unpackhi_epi64(tt[0], tt[2]);
    u[4 * h + 2] = _mm256_unpacklo_epi64(tt[1], tt[3]);
    u[4 * h + 3] = _mm256_unpackhi_epi64(tt[1], tt[3]);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x20);
    r[c + 4] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x31);
  }
}

template <class B>
void pack_panel(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  for (size_t b = 0; b < n / kQK; ++b, panel += panel_block_bytes<B>()) {
    alignas(32) float scales[kPanelRows];
    __m256i rows[kPanelRows];
    for (size_t j = 0; j < kPanelRows; ++j) {
      const uint8_t* a = w + j * row_bytes + b * B::kBytes;
      scales[j] = half_at(a);
      rows[j] = B::unpack(a);
    }
    transpose8x8_epi32(rows);
    _mm256_storeu_ps(reinterpret_cast<float*>(panel), _mm256_load_ps(scales));
    for (int c = 0; c < kChunks; ++c) {
      __m256i* chunk = reinterpret_cast<__m256i*>(panel + 32 + 32 * c);
      if constexpr (B::kSigned) {
        _mm256_storeu_si256(chunk, _mm256_abs_epi8(rows[c]));
        _mm256_storeu_si256(chunk + kChunks, rows[c]);
      } else {
        _mm256_storeu_si256(chunk, rows[c]);
      }
    }
  }
}

// kTokens activation rows against one panel.
template <class B, int kTokens>
void panel_tokens(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, float* y, size_t y_stride) {
  const size_t nb = n / kQK;
  const __m256i ones = _mm256_set1_epi16(1);
  auto row = [&](int t) { return x + t * x_stride; };
  auto x_float = [&](int t, size_t array, size_t b) {  // d * sum(q) (array 0) or d (array 1) of block b
    return _mm256_broadcast_ss(reinterpret_cast<const float*>(row(t) + nb * (kQ8 + 4 * array) + 4 * b));
  };
  __m256 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* p = panel + b * panel_block_bytes<B>();
    __m256i s32[kTokens];
#pragma GCC unroll 8
    for (int g = 0; g < kChunks; g += B::kSumChunks) {
      __m256i s16[kTokens];
#pragma GCC unroll 8
      for (int c = g; c < g + B::kSumChunks; ++c) {
        const __m256i wc = load256(p + 32 + 32 * c);
        __m256i sign;
        if constexpr (B::kSigned) sign = load256(p + 32 + 32 * (kChunks + c));
#pragma GCC unroll 4
        for (int t = 0; t < kTokens; ++t) {
          int32_t four;
          std::memcpy(&four, row(t) + b * kQ8 + 2 + 4 * c, 4);
          __m256i xc = _mm256_set1_epi32(four);
          if constexpr (B::kSigned) xc = _mm256_sign_epi8(xc, sign);
          const __m256i prod = _mm256_maddubs_epi16(wc, xc);
          s16[t] = c == g ? prod : _mm256_add_epi16(s16[t], prod);
        }
      }
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const __m256i part = _mm256_madd_epi16(s16[t], ones);
        s32[t] = g == 0 ? part : _mm256_add_epi32(s32[t], part);
      }
    }
    const __m256 dw = _mm256_loadu_ps(reinterpret_cast<const float*>(p));
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) {
      __m256 v = _mm256_cvtepi32_ps(s32[t]);
      if constexpr (B::kOffset != 0.0f)
        v = _mm256_fmsub_ps(v, x_float(t, 1, b), _mm256_mul_ps(_mm256_set1_ps(B::kOffset), x_float(t, 0, b)));
      else
        v = _mm256_mul_ps(v, x_float(t, 1, b));
      acc[t] = _mm256_fmadd_ps(dw, v, acc[t]);
    }
  }
  for (int t = 0; t < kTokens; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

template <class B>
void panel_gemm(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
                size_t y_stride) {
  size_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) panel_tokens<B, 4>(panel, x + t * x_stride, x_stride, n, y + t * y_stride, y_stride);
  switch (n_tokens - t) {
    case 3: panel_tokens<B, 3>(panel, x + t * x_stride, x_stride, n, y + t * y_stride, y_stride); break;
    case 2: panel_tokens<B, 2>(panel, x + t * x_stride, x_stride, n, y + t * y_stride, y_stride); break;
    case 1: panel_tokens<B, 1>(panel, x + t * x_stride, x_stride, n, y + t * y_stride, y_stride); break;
    default: break;
  }
}

template <class B>
constexpr PanelKernel panel_kernel() {
  return {pack_panel<B>, panel_gemm<B>, panel_block_bytes<B>()};
}

}  // namespace

PanelKernel panel_kernel_q4_0() { return panel_kernel<Q4_0Block>(); }
PanelKernel panel_kernel_q5_0() { return panel_kernel<Q5_0Block>(); }
PanelKernel panel_kernel_q8_0() { return panel_kernel<Q8_0Block>(); }

}  // namespace minnow::kernels::avx2
