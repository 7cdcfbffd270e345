// silu_mul's AVX-512 body (activations.cpp dispatches to it on that path):
// sixteen lanes, 2^n applied by vscalefps, the ragged tail under a mask.
// Decode runs SiLU on one token's 4864 values on the calling thread while
// the worker waits; in 256-bit registers that was 3.5 us a layer.
//
// Only the AVX-512 files get AVX-512 flags; nothing here has external
// linkage but silu_mul_avx512.
#include <immintrin.h>

#include "kernels/activations.h"
#include "kernels/exp_avx512.h"

namespace minnow::kernels {
namespace {

using avx512::exp16;

__m512 silu_mul16(__m512 g, __m512 up) {
  const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), up);
}

}  // namespace

void silu_mul_avx512(const float* gate, const float* up, float* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, silu_mul16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, m, silu_mul16(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace minnow::kernels
