// Blocks shared by every architecture: norms, projections with optional
// bias, and the feed-forward variants. x is always [n_tokens][width].
#pragma once

#include <span>

#include <cstdint>
#include <vector>

#include "model/arch.h"
#include "model/weights.h"

namespace minnow::blocks {

// True unless MINNOW_ISA=scalar asked for the reference ops (then every
// block below runs the scalar twins in src/model/ops.cpp).
bool vector_ops();

// In place; RMSNorm ignores b.
void norm(NormKind kind, float* x, uint32_t n_tokens, uint32_t n, const TensorRef& w, const TensorRef& b, float eps);
// The rotation angles of every token of a batch, computed once per forward
// pass and shared by all layers and heads.
struct RopeAngles {
  uint32_t half = 0;             // rope_dim / 2 angles per token
  std::vector<float> cos, sin;   // [n_tokens][half]
};
// Rotates x ([n_tokens][n_heads * head_dim]), token rows t0..t1 only.
void rope(const RopeAngles& a, bool neox, float* x, size_t t0, size_t t1, uint32_t n_heads, uint32_t head_dim);

// y = W x (+ b); y is resized to [n_tokens][w.ne1].
void linear(const TensorRef& w, const TensorRef& b, const float* x, uint32_t n_tokens, std::vector<float>& y);

// Several linear layers over the same input, in one pass over the thread
// pool (q/k/v; gate/up).
struct LinearOut {
  const TensorRef& w;
  const TensorRef& b;
  std::vector<float>& y;
};
void linear_many(std::span<const LinearOut> layers, const float* x, uint32_t n_tokens);
// Feed-forward of the given kind; returns [n_tokens][n_embd].
std::vector<float> ffn(FfnKind kind, const TensorRef& gate, const TensorRef& up, const TensorRef& up_b,
                       const TensorRef& down, const TensorRef& down_b, const float* x, uint32_t n_tokens,
                       uint32_t n_ff);

}  // namespace minnow::blocks
