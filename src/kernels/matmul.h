// Weight matrix times activations through the kernel table, split by rows
// across a thread pool.
#pragma once

#include <cstdint>

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
};

// y[t][r] = sum_c W[r][c] * x[t][c]; x is [n_tokens][n_cols], y is
// [n_tokens][n_rows]. Activations are converted once to the kernel's format;
// with several tokens each small tile of weight rows is applied to every token
// while it sits in L1. pool == nullptr runs on the calling thread.
void matmul(const KernelTable& table, const WeightMatrix& w, const float* x, uint32_t n_tokens, float* y,
            ThreadPool* pool);

}  // namespace minnow::kernels
