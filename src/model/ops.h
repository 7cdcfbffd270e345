// Scalar reference ops on rows of floats. Shapes: `x` is [n_rows][n] unless
// stated. These are the twins the fast kernels will be tested against.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow::ops {

void rms_norm(float* x, const float* w, size_t n, float eps);  // in place; w may be null
void layer_norm(float* x, const float* w, const float* b, size_t n, float eps);
void add(float* x, const float* y, size_t n);                   // x += y
void softmax(float* x, size_t n);
float silu(float x);
float gelu_tanh(float x);
void softcap(float* x, size_t n, float cap);                    // cap * tanh(x / cap)

enum class RopeStyle { kNorm, kNeox };
// cos and sin (times mscale) of the rope_dim/2 rotation angles at position
// pos; freq_factors (rope_dim/2 values) divide the frequencies when not null.
void rope_angles(int64_t pos, uint32_t rope_dim, float freq_base, float freq_scale, const float* freq_factors,
                 float mscale, float* cos, float* sin);
// Rotates the first rope_dim dims of each of n_heads heads by those angles
// (the twin of kernels::rope_rotate).
void rope_rotate(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, const float* cos,
                 const float* sin, RopeStyle style);
// Rotates the first rope_dim dims of each of n_heads heads at position pos.
// freq_factors (rope_dim/2 values) divide the frequencies when not null;
// mscale multiplies the rotation (LongRoPE's attention factor).
void rope(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, int64_t pos, float freq_base,
          float freq_scale, const float* freq_factors, RopeStyle style, float mscale = 1.0f);

// LongRoPE (Phi-3): the long factors once the context outgrows the one the
// model was trained with, else the short ones; null when the model has none.
const float* longrope_factors(const float* short_factors, const float* long_factors, uint32_t original_ctx,
                              uint32_t n_ctx);

}  // namespace minnow::ops
