// AVX2+FMA (the x86-64-v3 baseline). Scalar twins: the formulas in
// src/model/ops.cpp, which the tests compare with.
#include "kernels/activations.h"
#include "kernels/exp_poly.h"
#include "kernels/kernel_table.h"

#include <immintrin.h>

#include <cmath>
#include <iterator>

namespace minnow::kernels {
namespace {

// e^x = 2^n e^r, n = round(x / ln2), |r| <= ln2/2; e^r by a degree-6
// polynomial; 2^n through the exponent field (split in two factors so that
// n = 128 near the overflow edge still comes out right).
__m256 exp8(__m256 x) {
  const __m256 too_small = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.7f));
  using namespace exp_poly;
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x));
  __m256 p = _mm256_set1_ps(kHorner[0]);
  for (size_t k = 1; k < std::size(kHorner); ++k) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kHorner[k]));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half_n = _mm256_srai_epi32(ni, 1);
  const __m256 f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half_n, _mm256_set1_epi32(127)), 23));
  const __m256 f2 = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half_n), _mm256_set1_epi32(127)), 23));
  return _mm256_andnot_ps(too_small, _mm256_mul_ps(_mm256_mul_ps(p, f1), f2));
}

// tanh(x) = 1 - 2 / (e^2x + 1): exp8's clamp makes it saturate at +-1
// without special cases.
__m256 tanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp8(_mm256_add_ps(x, x));
  return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
}

float gelu_tanh1(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * x * (1.0f + 0.044715f * x * x)));
}

}  // namespace

void exp_vec(const float* x, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, exp8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) out[i] = std::exp(x[i]);
}

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  if (kernel_table().isa == Isa::kAvx512) return silu_mul_avx512(gate, up, out, n);
  size_t i = 0;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void gelu_mul(const float* x, const float* up, float* out, size_t n) {
  const __m256 minus2 = _mm256_set1_ps(-2.0f), one = _mm256_set1_ps(1.0f);
  const __m256 k0 = _mm256_set1_ps(0.7978845608028654f), k1 = _mm256_set1_ps(0.044715f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    // 0.5 x (1 + tanh u) = x / (1 + e^-2u): no cancellation for negative x.
    const __m256 u = _mm256_mul_ps(_mm256_mul_ps(k0, v), _mm256_fmadd_ps(_mm256_mul_ps(k1, v), v, one));
    __m256 g = _mm256_div_ps(v, _mm256_add_ps(one, exp8(_mm256_mul_ps(minus2, u))));
    if (up) g = _mm256_mul_ps(g, _mm256_loadu_ps(up + i));
    _mm256_storeu_ps(out + i, g);
  }
  for (; i < n; ++i) out[i] = gelu_tanh1(x[i]) * (up ? up[i] : 1.0f);
}

void softcap(float* x, size_t n, float cap) {
  const __m256 c = _mm256_set1_ps(cap), inv = _mm256_set1_ps(1.0f / cap);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(c, tanh8(_mm256_mul_ps(_mm256_loadu_ps(x + i), inv))));
  for (; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

}  // namespace minnow::kernels
