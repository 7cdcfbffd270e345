#include "model/weights.h"

#include "kernels/matmul.h"
#include "quant/dequantize.h"

namespace minnow {

void dequantize_row(const TensorRef& w, uint64_t row, float* out) {
  // Types and shapes were validated at load, so this cannot fail.
  (void)dequantize(w.type, {w.data + row * w.row_bytes, w.row_bytes}, {out, w.ne0});
}

void matmul(const TensorRef& w, const float* x, uint32_t n_tokens, float* y) {
  const kernels::WeightMatrix m{w.data, w.type, w.ne0, w.ne1, w.row_bytes};
  kernels::matmul(kernels::kernel_table(), m, x, n_tokens, y, current_thread_pool());
}

}  // namespace minnow
