// Vectorised element-wise activations for the FFN: prefill applies them to
// n_tokens x n_ff values, where libm's scalar expf would cost as much as a
// small matmul.
#pragma once

#include <cstddef>

namespace minnow::kernels {

// out[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x). out may alias gate or up.
void silu_mul(const float* gate, const float* up, float* out, size_t n);
// Its AVX-512 body, which silu_mul runs when the kernel path is avx512
// (callable only where the CPU has AVX-512; exposed for its test).
void silu_mul_avx512(const float* gate, const float* up, float* out, size_t n);

// out[i] = gelu(x[i]) * up[i] (tanh approximation); up null means plain gelu.
// out may alias x or up.
void gelu_mul(const float* x, const float* up, float* out, size_t n);

// x[i] = cap * tanh(x[i] / cap) in place (Gemma 2's logit soft-capping).
void softcap(float* x, size_t n, float cap);

// e^x, relative error ~2e-7 for x in [-87, 88] (0 below, inf above): the
// vector routine silu_mul uses, exposed for its test.
void exp_vec(const float* x, float* out, size_t n);

}  // namespace minnow::kernels
