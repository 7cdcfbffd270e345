// Vectorised rotary position embedding: rotates pairs of dims by angles the
// caller computed once per position (the same for every layer and head).
// Scalar twin: ops::rope (src/model/ops.cpp), which the tests compare with.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow::kernels {

// Rotates the first rope_dim dims of each of n_heads heads (head_dim apart)
// by cos[i], sin[i], i < rope_dim / 2. neox pairs dim i with i + rope_dim/2
// (GPT-NeoX, Qwen); otherwise pair i is dims 2i and 2i+1 (Llama's GGUF order).
void rope_rotate(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, const float* cos,
                 const float* sin, bool neox);

}  // namespace minnow::kernels
