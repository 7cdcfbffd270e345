// AVX2+FMA (the x86-64-v3 baseline).
#include "kernels/norms.h"

#include <immintrin.h>

#include <cmath>

#include "kernels/simd_avx2.h"

namespace minnow::kernels {
namespace {

using simd::hsum;

// Sum of (x[i] - shift)^2, four independent accumulators so the FMA latency
// is hidden; the tail in double, like the twin.
double sum_squares(const float* x, size_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int j = 0; j < 4; ++j) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8 * j), s);
      acc[j] = _mm256_fmadd_ps(d, d, acc[j]);
    }
  for (; i + 8 <= n; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), s);
    acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
  }
  double sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += double(x[i] - shift) * (x[i] - shift);
  return sum;
}

double sum(const float* x, size_t n) {
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc[0] = _mm256_add_ps(acc[0], _mm256_loadu_ps(x + i));
    acc[1] = _mm256_add_ps(acc[1], _mm256_loadu_ps(x + i + 8));
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_add_ps(acc[0], _mm256_loadu_ps(x + i));
  double s = hsum(_mm256_add_ps(acc[0], acc[1]));
  for (; i < n; ++i) s += x[i];
  return s;
}

// x = (x - shift) * scale * w + b, with w and b optional.
void scale_shift(float* x, const float* w, const float* b, size_t n, float shift, float scale) {
  const __m256 vs = _mm256_set1_ps(scale), vm = _mm256_set1_ps(shift);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vs);
    if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
    if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + i));
    _mm256_storeu_ps(x + i, v);
  }
  for (; i < n; ++i) {
    float v = (x[i] - shift) * scale;
    if (w) v *= w[i];
    if (b) v += b[i];
    x[i] = v;
  }
}

}  // namespace

void rms_norm(float* x, const float* w, size_t n, float eps) {
  if (n == 0) return;
  const float scale = float(1.0 / std::sqrt(sum_squares(x, n, 0.0f) / double(n) + eps));
  scale_shift(x, w, nullptr, n, 0.0f, scale);
}

void layer_norm(float* x, const float* w, const float* b, size_t n, float eps) {
  if (n == 0) return;
  const float mean = float(sum(x, n) / double(n));
  const float inv = float(1.0 / std::sqrt(sum_squares(x, n, mean) / double(n) + eps));
  scale_shift(x, w, b, n, mean, inv);
}

}  // namespace minnow::kernels
