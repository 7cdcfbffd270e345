// Weight matrix times activations through the kernel table, split by rows
// across a thread pool.
#pragma once

#include <cstdint>
#include <span>

#include "base/ggml_type.h"
#include "base/thread_pool.h"
#include "kernels/kernel_table.h"

namespace minnow::kernels {

// [n_rows][n_cols] in GGUF layout: each row is row_bytes of `type`.
struct WeightMatrix {
  const uint8_t* data = nullptr;
  GgmlType type = GgmlType::F32;
  uint64_t n_cols = 0;
  uint64_t n_rows = 0;
  uint64_t row_bytes = 0;
  // Stored as consecutive panels of the table's PanelKernel (see prepack).
  bool packed = false;
};

// y[t][r] = sum_c W[r][c] * x[t][c]; x is [n_tokens][n_cols], y is
// [n_tokens][n_rows]. Activations are converted once to the kernel's format;
// with several tokens each small tile of weight rows is applied to every token
// while it sits in L1. pool == nullptr runs on the calling thread.
void matmul(const KernelTable& table, const WeightMatrix& w, const float* x, uint32_t n_tokens, float* y,
            ThreadPool* pool);
// Several matrices with the same input (n_cols equal): ys[i] = ws[i] x. The
// activations are converted once per format and all rows go to the pool in
// one pass (q/k/v, gate/up).
void matmul_many(const KernelTable& table, std::span<const WeightMatrix> ws, const float* x, uint32_t n_tokens,
                 std::span<float* const> ys, ThreadPool* pool);

// Whether `table` wants a matrix of this type and shape repacked into panels
// at load (the rows must fill whole panels).
bool wants_prepack(const KernelTable& table, GgmlType type, uint64_t n_cols, uint64_t n_rows);
// Repacks w (GGUF layout) into out, w.row_bytes * w.n_rows bytes; the result
// is the same matrix with packed = true.
WeightMatrix prepack(const KernelTable& table, const WeightMatrix& w, uint8_t* out);
// Row r of a weight matrix as floats (embedding look-up), either layout.
void matrix_row(const KernelTable& table, const WeightMatrix& w, uint64_t r, float* out);

}  // namespace minnow::kernels
