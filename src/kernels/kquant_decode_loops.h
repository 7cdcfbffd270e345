// Internal: what the decode-panel kernels of every ISA share
// (kquant_decode_avx2.cpp, kquant_decode_avx512.cpp): loads of a panel's
// scales, the token loops over a panel's super-blocks, and the table entry
// that makes a type's matrices repacked at load.
//
// A decode panel type D gives kBlockBytes (a panel super-block),
// super_block<kTokens>(p, x, x_stride, acc): one panel super-block against
// kTokens Q8_K blocks (token t's at x + t * x_stride), adding the 8 rows'
// products to acc[t], the values decoded once for all tokens; and
// to_gemm_panel(panel, n, out): a decode panel as the GEMM panel (whose
// multiplies prompts keep).
//
// Everything here has internal linkage (as kernel_fill.h's helpers): each
// ISA's file compiles its own copy with its own flags.
#pragma once

#include <immintrin.h>

#include <cstring>
#include <vector>

#include "kernels/blocks_avx2.h"
#include "kernels/kernel_table.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::decode_panels {
namespace {

using avx2::kQ8KBytes;

// The 8 fp16 values at p (a panel's d or dmin, one per row) as floats.
inline __m256 halves8(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// The GEMM panels' scale vector of group g: values[8g + r] - bias (row r)
// as int16 lanes 2r and 2r + 1, 32 bytes at out.
inline void store_scale_pairs(const uint8_t* values, int g, int16_t bias, uint8_t* out) {
  const __m128i v = _mm_sub_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(values + 8 * g))),
                                  _mm_set1_epi16(bias));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_set_m128i(_mm_unpackhi_epi16(v, v), _mm_unpacklo_epi16(v, v)));
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

// int16 lane pairs as the GEMM panels' two scale vectors, each value in
// both lanes of its row.
inline void store_pair_halves(__m256i pairs, uint8_t* even, uint8_t* odd) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(even), even_lanes(pairs));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(odd), odd_lanes(pairs));
}

// The end of a super-block for kTokens tokens: 8 rows' integer sums
// (scaled: times the sub-block scales; offset: the offset or mins term)
// become acc[t] += dx_t (d scaled - f offset), dx_t token t's Q8_K scale.
template <int kTokens>
__attribute__((always_inline)) inline void finish_super_block(const uint8_t* x, size_t x_stride, __m256 d, __m256 f,
                                                              const __m256i* scaled, const __m256i* offset,
                                                              __m256* acc) {
#pragma GCC unroll 4
  for (int t = 0; t < kTokens; ++t) {
    float dx;
    std::memcpy(&dx, x + t * x_stride, 4);
    const __m256 v = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(scaled[t]), _mm256_mul_ps(f, _mm256_cvtepi32_ps(offset[t])));
    acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx), v, acc[t]);
  }
}

// The 64 six-bit values of a scales or mins field as bytes, value v at out[v].
__attribute__((always_inline)) inline void unpack_six_bit(const uint8_t* field, uint8_t* out) {
  const __m256i low = simd::load256(field), low4 = _mm256_set1_epi8(0x0f);
  const __m128i top = _mm_loadu_si128(reinterpret_cast<const __m128i*>(field + 32)), top2 = _mm_set1_epi8(3);
  auto bits = [&](int i) { return _mm_and_si128(_mm_srli_epi16(top, 2 * i), top2); };  // values 16i .. 16i + 15
  const __m256i top_a = _mm256_set_m128i(bits(1), bits(0)), top_b = _mm256_set_m128i(bits(3), bits(2));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_or_si256(_mm256_and_si256(low, low4), _mm256_slli_epi16(top_a, 4)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32),
                      _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low, 4), low4), _mm256_slli_epi16(top_b, 4)));
}

// Q2_K, Q3_K and Q6_K keep a group's two sub-block scales side by side
// for each row: 16 signed bytes as int16 lane pairs (lane 2r sub-block 2g
// of row r, 2r + 1 sub-block 2g + 1).
__attribute__((always_inline)) inline __m256i int8_pairs(const uint8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <class D>
void token_panel(const uint8_t* p, const uint8_t* x, size_t n, float* y) {
  __m256 acc[1] = {_mm256_setzero_ps()};
  for (size_t b = 0; b < n / quant::kQK_K; ++b, p += D::kBlockBytes, x += kQ8KBytes) {
    simd::prefetch_ahead(p, D::kBlockBytes);
    D::template super_block<1>(p, x, 0, acc);
  }
  _mm256_storeu_ps(y, acc[0]);
}

// kTokens tokens against two panels anywhere in memory, super-block by
// super-block in lockstep: token t's products at y0/y1 + t * y_stride.
template <class D, int kTokens>
void tokens_panel_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, float* y0,
                       float* y1, size_t y_stride) {
  __m256 acc0[kTokens], acc1[kTokens];
  for (int t = 0; t < kTokens; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < n / quant::kQK_K; ++b, p0 += D::kBlockBytes, p1 += D::kBlockBytes, x += kQ8KBytes) {
    simd::prefetch_ahead(p0, D::kBlockBytes);
    simd::prefetch_ahead(p1, D::kBlockBytes);
    D::template super_block<kTokens>(p0, x, x_stride, acc0);
    D::template super_block<kTokens>(p1, x, x_stride, acc1);
  }
  for (int t = 0; t < kTokens; ++t) {
    _mm256_storeu_ps(y0 + t * y_stride, acc0[t]);
    _mm256_storeu_ps(y1 + t * y_stride, acc1[t]);
  }
}

// One token, two panels (TokenPanelPairFn).
template <class D>
void token_panel_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t n, float* y0, float* y1) {
  tokens_panel_pair<D, 1>(p0, p1, x, 0, n, y0, y1, 0);
}

// A small decode batch (TokensPanelPairFn).
template <class D>
void tokens_pair(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens,
                 float* y0, float* y1, size_t y_stride) {
  simd::with_token_count<kPairTokensMax>(
      n_tokens, [&](auto k) { tokens_panel_pair<D, decltype(k)::value>(p0, p1, x, x_stride, n, y0, y1, y_stride); });
}

// The per-call GEMM panels the table had (D::Gemm's), which prompts still run.
template <class D>
struct ViaGemmPanel {
  static inline PanelKernel inner;

  static const uint8_t* converted(const uint8_t* panel, size_t n, size_t count) {
    thread_local std::vector<uint8_t> buf;
    const size_t bytes = inner.panel_bytes(n), decode_bytes = n / quant::kQK_K * D::kBlockBytes;
    buf.resize(count * bytes);
    for (size_t i = 0; i < count; ++i) D::to_gemm_panel(panel + i * decode_bytes, n, buf.data() + i * bytes);
    return buf.data();
  }
  // `next` is not passed on: the GEMM would ask for the converted layout's
  // bytes. Asking for the next decode panels here measured the same (pp128).
  static void gemm(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
                   size_t y_stride, const uint8_t*) {
    inner.gemm(converted(panel, n, 1), x, x_stride, n, n_tokens, y, y_stride, nullptr);
  }
  static void gemm_pair(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
                        size_t y_stride, const uint8_t*) {
    inner.gemm_pair(converted(panel, n, 2), x, x_stride, n, n_tokens, y, y_stride, nullptr);
  }
};

template <class D>
void set_decode_panel(KernelTable& t, GgmlType type, PackPanelFn pack, UnpackRowFn unpack_row) {
  PanelKernel& panel = t.dot[uint32_t(type)].panel;
  ViaGemmPanel<D>::inner = panel;
  PanelKernel decode;
  decode.pack = pack;
  decode.unpack_row = unpack_row;
  decode.bytes_per_block = D::kBlockBytes / (quant::kQK_K / 32);
  decode.prepack = true;
  decode.gemm = ViaGemmPanel<D>::gemm;
  decode.gemm_pair = panel.gemm_pair ? ViaGemmPanel<D>::gemm_pair : nullptr;
  decode.token = token_panel<D>;
  decode.token_pair = token_panel_pair<D>;
  decode.tokens_pair = tokens_pair<D>;
  // Batches of up to four tokens, streaming from DRAM, ran faster here than
  // through the GEMM panel, although in cache the GEMM won at 4 tokens
  // (llama3.2-1b Q5_K_M tg32 x4: 87-88 vs 70 t/s).
  decode.pair_tokens_max = kPairTokensMax;
  // Rows left unpacked (a matrix whose rows do not fill whole panels) pack
  // straight into the GEMM panels, not into decode panels to convert.
  decode.per_call = &ViaGemmPanel<D>::inner;
  panel = decode;
}

}  // namespace
}  // namespace minnow::kernels::decode_panels
