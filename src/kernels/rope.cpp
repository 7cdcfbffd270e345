// AVX2+FMA (the x86-64-v3 baseline).
#include "kernels/rope.h"

#include <immintrin.h>

namespace minnow::kernels {
namespace {

void rotate_pair(float* a, float* b, float c, float s) {
  const float x0 = *a, x1 = *b;
  *a = x0 * c - x1 * s;
  *b = x0 * s + x1 * c;
}

void rotate_neox(float* v, uint32_t half, const float* cos, const float* sin) {
  uint32_t i = 0;
  for (; i + 8 <= half; i += 8) {
    const __m256 a = _mm256_loadu_ps(v + i), b = _mm256_loadu_ps(v + half + i);
    const __m256 c = _mm256_loadu_ps(cos + i), s = _mm256_loadu_ps(sin + i);
    _mm256_storeu_ps(v + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
    _mm256_storeu_ps(v + half + i, _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c)));
  }
  for (; i < half; ++i) rotate_pair(v + i, v + half + i, cos[i], sin[i]);
}

// Four adjacent pairs per register: with each angle's cos and sin doubled
// across its pair, fmaddsub gives x0 c - x1 s in even lanes and
// x1 c + x0 s in odd ones.
void rotate_adjacent(float* v, uint32_t half, const float* cos, const float* sin) {
  const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
  uint32_t i = 0;
  for (; i + 4 <= half; i += 4) {
    const __m256 x = _mm256_loadu_ps(v + 2 * i);
    const __m256 swapped = _mm256_permute_ps(x, 0xB1);
    const __m256 c = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(cos + i)), dup);
    const __m256 s = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(sin + i)), dup);
    _mm256_storeu_ps(v + 2 * i, _mm256_fmaddsub_ps(x, c, _mm256_mul_ps(swapped, s)));
  }
  for (; i < half; ++i) rotate_pair(v + 2 * i, v + 2 * i + 1, cos[i], sin[i]);
}

}  // namespace

void rope_rotate(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, const float* cos,
                 const float* sin, bool neox) {
  const uint32_t half = rope_dim / 2;
  for (uint32_t h = 0; h < n_heads; ++h) {
    float* v = x + size_t(h) * head_dim;
    if (neox)
      rotate_neox(v, half, cos, sin);
    else
      rotate_adjacent(v, half, cos, sin);
  }
}

}  // namespace minnow::kernels
