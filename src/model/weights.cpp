#include "model/weights.h"

#include "kernels/matmul.h"

namespace minnow {

namespace {
kernels::WeightMatrix matrix_of(const TensorRef& w) { return {w.data, w.type, w.ne0, w.ne1, w.row_bytes, w.packed}; }
}  // namespace

size_t prepacked_bytes(const TensorRef& w) {
  if (!w || w.packed || !kernels::wants_prepack(kernels::kernel_table(), w.type, w.ne0, w.ne1)) return 0;
  return size_t(w.row_bytes * w.ne1);
}

void prepack_for_kernels(TensorRef& w, uint8_t* out, ThreadPool* pool) {
  w.data = kernels::prepack(kernels::kernel_table(), matrix_of(w), out, pool).data;
  w.packed = true;
}

void dequantize_row(const TensorRef& w, uint64_t row, float* out) {
  kernels::matrix_row(kernels::kernel_table(), matrix_of(w), row, out);
}

void matmul(const TensorRef& w, const float* x, uint32_t n_tokens, float* y) {
  kernels::matmul(kernels::kernel_table(), matrix_of(w), x, n_tokens, y, current_thread_pool());
}

bool matmul_gated_token(const TensorRef& gate, const TensorRef& up, const float* x, GatedActivationFn act, float* out) {
  return kernels::matmul_gated_token(kernels::kernel_table(), matrix_of(gate), matrix_of(up), x, act, out,
                                     current_thread_pool());
}

void matmul_many(std::span<const TensorRef* const> ws, const float* x, uint32_t n_tokens, std::span<float* const> ys) {
  std::vector<kernels::WeightMatrix> ms;
  ms.reserve(ws.size());
  for (const TensorRef* w : ws) ms.push_back(matrix_of(*w));
  kernels::matmul_many(kernels::kernel_table(), ms, x, n_tokens, ys, current_thread_pool());
}

}  // namespace minnow
