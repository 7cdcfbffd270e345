// Internal to the AVX-512 files (compiled with AVX-512 flags): e^x in 16
// lanes, the constants of exp_poly.h, 2^n applied by vscalefps.
#pragma once

#include <immintrin.h>

#include <iterator>

#include "kernels/exp_poly.h"

namespace minnow::kernels::avx512 {
namespace {

// x clamped to [-87, 88.7]; relative error ~2e-7.
inline __m512 exp16(__m512 x) {
  using namespace exp_poly;
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x));
  __m512 p = _mm512_set1_ps(kHorner[0]);
  for (size_t k = 1; k < std::size(kHorner); ++k) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kHorner[k]));
  return _mm512_scalef_ps(p, n);
}

}  // namespace
}  // namespace minnow::kernels::avx512
