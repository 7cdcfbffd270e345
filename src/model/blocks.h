// Blocks shared by every architecture: norms, projections with optional
// bias, and the feed-forward variants. x is always [n_tokens][width].
#pragma once

#include <span>

#include <cstdint>
#include <vector>

#include "model/arch.h"
#include "model/weights.h"

namespace minnow::blocks {

// In place; RMSNorm ignores b.
void norm(NormKind kind, float* x, uint32_t n_tokens, uint32_t n, const TensorRef& w, const TensorRef& b, float eps);
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
