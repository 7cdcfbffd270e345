#include "kernels/f16_rows.h"

#include <immintrin.h>

#include "base/half.h"

namespace minnow::kernels {

void f32_to_f16_row(const float* x, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    // Rounds to nearest even, overflows to inf and makes subnormals as
    // float_to_fp16 does; only NaN differs (F16C keeps payload bits), so
    // eight values holding one take the scalar route.
    const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    if (!_mm256_testz_ps(nan, nan)) {
      for (size_t j = i; j < i + 8; ++j) out[j] = float_to_fp16(x[j]);
      continue;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) out[i] = float_to_fp16(x[i]);
}

}  // namespace minnow::kernels
