// Zero-copy views of weight tensors in the mapped file, and the reference
// matrix product over any weight type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/ggml_type.h"
#include "base/thread_pool.h"

namespace minnow {

struct TensorRef {
  const uint8_t* data = nullptr;
  GgmlType type = GgmlType::F32;
  uint64_t ne0 = 0;  // row length (input features)
  uint64_t ne1 = 1;  // rows (output features)
  uint64_t row_bytes = 0;
  // Repacked at load into the kernel table's panels (kernels::prepack).
  bool packed = false;

  explicit operator bool() const { return data != nullptr; }
  // Only valid for F32 tensors (norm weights, biases): they are read directly.
  const float* f32() const { return reinterpret_cast<const float*>(data); }
};

// y[t][o] = sum_i W[o][i] * x[t][i] for t < n_tokens, o < w.ne1.
// x is [n_tokens][w.ne0], y is [n_tokens][w.ne1]. Runs the kernel table's
// dot products (activations quantized to Q8_0/Q8_K for quantized weights),
// split by rows over current_thread_pool().
void matmul(const TensorRef& w, const float* x, uint32_t n_tokens, float* y);
// ys[i] = ws[i] x for matrices with the same input width, in one pass over
// the pool (the activations are converted once).
void matmul_many(std::span<const TensorRef* const> ws, const float* x, uint32_t n_tokens, std::span<float* const> ys);

// One token through a gated FFN's gate and up matrices in one pass:
// out[r] = act(gate row r . x, up row r . x), act as kernels::silu_mul.
// False (nothing done) where the kernel table has no two-stream kernel for
// them; the caller then runs matmul_many and the activation.
using GatedActivationFn = void (*)(const float* g, const float* u, float* out, size_t n);
bool matmul_gated_token(const TensorRef& gate, const TensorRef& up, const float* x, GatedActivationFn act, float* out);

// Bytes of repacked storage the kernel table wants for this matrix (it
// reads a panel layout), or 0 when it reads the file's rows as they are.
size_t prepacked_bytes(const TensorRef& w);
// Repacks the matrix into `out` (prepacked_bytes(w) of them), on the pool's
// threads where one is given, and points w there (packed = true).
void prepack_for_kernels(TensorRef& w, uint8_t* out, ThreadPool* pool = nullptr);

// Row `row` of the tensor as floats (embedding look-up).
void dequantize_row(const TensorRef& w, uint64_t row, float* out);

}  // namespace minnow
