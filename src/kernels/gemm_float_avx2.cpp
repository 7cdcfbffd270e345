// AVX2 panel GEMM for F32, F16 and BF16 weights against F32 activations
// (prefill, batched decode). A panel is 8 weight rows converted to f32 once
// per call, one row after another; blocks of 4 rows x 3 tokens then keep 12
// accumulators in registers and spend 7 loads per 12 FMAs, where the dot
// kernel spends two loads and a conversion per FMA, and a horizontal sum per
// row and token (pp128 F16 on Machine A: 4x2 blocks 95-105, 4x3 123-145 t/s).
// The scalar twin is the scalar dot of each row.
#include "kernels/gemm_avx2.h"

#include "base/half.h"
#include "kernels/simd_avx2.h"

namespace minnow::kernels::avx2 {
namespace {

using namespace simd;

// Eight weights from element k of a row, as floats.
struct F32Row {
  static __m256 load8(const uint8_t* row, size_t k) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k); }
};
struct F16Row {
  static __m256 load8(const uint8_t* row, size_t k) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
  }
};
struct BF16Row {
  static __m256 load8(const uint8_t* row, size_t k) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
};

// Callers guarantee n % 32 == 0 (panel_bytes counts 32-element blocks).
template <class Row>
void pack_rows(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  float* out = reinterpret_cast<float*>(panel);
  for (size_t r = 0; r < kPanelRows; ++r, out += n)
    for (size_t k = 0; k < n; k += 8) _mm256_storeu_ps(out + k, Row::load8(w + r * row_bytes, k));
}

// kRows panel rows (p, p + n, ...) against kTokens activation rows.
template <int kRows, int kTokens>
void block(const float* p, size_t n, const float* x, size_t x_stride, float* y, size_t y_stride) {
  __m256 acc[kRows][kTokens];
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm256_setzero_ps();
  for (size_t k = 0; k < n; k += 8) {
    __m256 xs[kTokens];
    for (int t = 0; t < kTokens; ++t) xs[t] = _mm256_loadu_ps(x + t * x_stride + k);
    for (int r = 0; r < kRows; ++r) {
      const __m256 w = _mm256_loadu_ps(p + r * n + k);
      for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm256_fmadd_ps(w, xs[t], acc[r][t]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) y[t * y_stride + r] = hsum(acc[r][t]);
}

void float_panel_gemm(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
                      size_t y_stride, const uint8_t* /*next: packed per call*/) {
  const float* p = reinterpret_cast<const float*>(panel);
  const float* xf = reinterpret_cast<const float*>(x);
  const size_t xs = x_stride / sizeof(float);
  auto blocks = [&](auto tokens, size_t t) {
    for (size_t r = 0; r < kPanelRows; r += 4)
      block<4, decltype(tokens)::value>(p + r * n, n, xf + t * xs, xs, y + t * y_stride + r, y_stride);
  };
  size_t t = 0;
  for (; t + 3 <= n_tokens; t += 3) blocks(std::integral_constant<int, 3>{}, t);
  if (n_tokens - t == 2) blocks(std::integral_constant<int, 2>{}, t);
  if (n_tokens - t == 1) blocks(std::integral_constant<int, 1>{}, t);
}

template <class Row>
constexpr PanelKernel float_panel_kernel() {
  return {pack_rows<Row>, float_panel_gemm, nullptr, kPanelRows * 32 * sizeof(float)};
}

}  // namespace

PanelKernel panel_kernel_f32() { return float_panel_kernel<F32Row>(); }
PanelKernel panel_kernel_f16() { return float_panel_kernel<F16Row>(); }
PanelKernel panel_kernel_bf16() { return float_panel_kernel<BF16Row>(); }

}  // namespace minnow::kernels::avx2
