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

// out[r] = act(g[r], u[r]) elementwise for n values, g = gate . x, u = up . x
// (kernels::silu_mul, gelu_mul).
using GatedActFn = void (*)(const float* g, const float* u, float* out, size_t n);
// One token through a gated FFN's two input projections in one pass:
// out[r] = act(gate row r . x, up row r . x). A work unit runs gate panel
// (or rows) k and up panel k in lockstep (TokenPanelPairFn / Dot2Fn: two
// streams per thread, as Job says) and applies act to what it computed, so
// no thread reads the other's gate/up outputs and the caller has no serial
// activation step between the passes. gate and up have one type, shape and
// layout. Returns false, doing nothing, where no pair kernel serves them
// (float types, the scalar table): the caller then runs matmul_many and act.
bool matmul_gated_token(const KernelTable& table, const WeightMatrix& gate, const WeightMatrix& up, const float* x,
                        GatedActFn act, float* out, ThreadPool* pool);

// Whether `table` wants a matrix of this type and shape repacked into panels
// at load (the rows must fill whole panels).
bool wants_prepack(const KernelTable& table, GgmlType type, uint64_t n_cols, uint64_t n_rows);
// Repacks w (GGUF layout) into out, w.row_bytes * w.n_rows bytes; the result
// is the same matrix with packed = true. With a pool its threads share the
// panels, at least 1 MB each; the bytes are the same either way.
WeightMatrix prepack(const KernelTable& table, const WeightMatrix& w, uint8_t* out, ThreadPool* pool = nullptr);
// Row r of a weight matrix as floats (embedding look-up), either layout.
void matrix_row(const KernelTable& table, const WeightMatrix& w, uint64_t r, float* out);

}  // namespace minnow::kernels
