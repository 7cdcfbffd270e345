#include "model/weights.h"

#include "quant/dequantize.h"

namespace minnow {

void dequantize_row(const TensorRef& w, uint64_t row, float* out) {
  // Types and shapes were validated at load, so this cannot fail.
  (void)dequantize(w.type, {w.data + row * w.row_bytes, w.row_bytes}, {out, w.ne0});
}

void matmul(const TensorRef& w, const float* x, uint32_t n_tokens, float* y) {
  std::vector<float> row_buf(w.type == GgmlType::F32 ? 0 : w.ne0);
  for (uint64_t o = 0; o < w.ne1; ++o) {
    const float* row = w.f32() + o * w.ne0;
    if (w.type != GgmlType::F32) {
      dequantize_row(w, o, row_buf.data());
      row = row_buf.data();
    }
    for (uint32_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + size_t(t) * w.ne0;
      float sum = 0.0f;
      for (uint64_t i = 0; i < w.ne0; ++i) sum += row[i] * xt[i];
      y[size_t(t) * w.ne1 + o] = sum;
    }
  }
}

}  // namespace minnow
