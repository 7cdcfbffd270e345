#include "model/weights.h"

#include "kernels/matmul.h"

namespace minnow {

namespace {
kernels::WeightMatrix matrix_of(const TensorRef& w) { return {w.data, w.type, w.ne0, w.ne1, w.row_bytes, w.packed}; }
}  // namespace

void dequantize_row(const TensorRef& w, uint64_t row, float* out) {
  kernels::matrix_row(kernels::kernel_table(), matrix_of(w), row, out);
}

void matmul(const TensorRef& w, const float* x, uint32_t n_tokens, float* y) {
  kernels::matmul(kernels::kernel_table(), matrix_of(w), x, n_tokens, y, current_thread_pool());
}

}  // namespace minnow
