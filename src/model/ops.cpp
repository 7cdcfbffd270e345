#include "model/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace minnow::ops {

void rms_norm(float* x, const float* w, size_t n, float eps) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += double(x[i]) * x[i];
  const float scale = float(1.0 / std::sqrt(sum / double(n) + eps));
  for (size_t i = 0; i < n; ++i) x[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void layer_norm(float* x, const float* w, const float* b, size_t n, float eps) {
  double mean = 0.0;
  for (size_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  double var = 0.0;
  for (size_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const double inv = 1.0 / std::sqrt(var / double(n) + eps);
  for (size_t i = 0; i < n; ++i) {
    float v = float((x[i] - mean) * inv);
    if (w) v *= w[i];
    if (b) v += b[i];
    x[i] = v;
  }
}

void add(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

void softmax(float* x, size_t n) {
  if (n == 0) return;
  const float mx = *std::max_element(x, x + n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + 0.044715f * x * x)));
}

void softcap(float* x, size_t n, float cap) {
  for (size_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void rope_angles(int64_t pos, uint32_t rope_dim, float freq_base, float freq_scale, const float* freq_factors,
                 float mscale, float* cos_out, float* sin_out) {
  for (uint32_t i = 0; i < rope_dim / 2; ++i) {
    double theta = double(pos) * freq_scale * std::pow(double(freq_base), -2.0 * i / double(rope_dim));
    if (freq_factors) theta /= freq_factors[i];
    cos_out[i] = float(std::cos(theta)) * mscale;
    sin_out[i] = float(std::sin(theta)) * mscale;
  }
}

void rope_rotate(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, const float* cos,
                 const float* sin, RopeStyle style) {
  const uint32_t half = rope_dim / 2;
  for (uint32_t i = 0; i < half; ++i) {
    // NORM rotates adjacent pairs; NEOX pairs dim i with dim i + rope_dim/2.
    const uint32_t a = style == RopeStyle::kNorm ? 2 * i : i;
    const uint32_t b = style == RopeStyle::kNorm ? 2 * i + 1 : i + half;
    for (uint32_t h = 0; h < n_heads; ++h) {
      float* v = x + size_t(h) * head_dim;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * cos[i] - x1 * sin[i];
      v[b] = x0 * sin[i] + x1 * cos[i];
    }
  }
}

void rope(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, int64_t pos, float freq_base,
          float freq_scale, const float* freq_factors, RopeStyle style, float mscale) {
  std::vector<float> cos(rope_dim / 2), sin(rope_dim / 2);
  rope_angles(pos, rope_dim, freq_base, freq_scale, freq_factors, mscale, cos.data(), sin.data());
  rope_rotate(x, n_heads, head_dim, rope_dim, cos.data(), sin.data(), style);
}

const float* longrope_factors(const float* short_factors, const float* long_factors, uint32_t original_ctx,
                              uint32_t n_ctx) {
  if (long_factors && original_ctx > 0 && n_ctx > original_ctx) return long_factors;
  return short_factors ? short_factors : long_factors;
}

}  // namespace minnow::ops
