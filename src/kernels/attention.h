// Fused attention over the KV cache: for each query token and KV head, the
// group of query heads that share it walks the keys once (GQA), with an
// online softmax (running max and sum), so no score matrix is materialised.
// Keys/values are F16 or F32 rows of one layer. Work is split over
// (tile of query tokens, KV head) pairs across the pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/thread_pool.h"

namespace minnow::kernels {

// Keys are kept transposed in tiles of 16 positions: within tile p / 16,
// element i of position p's key row (i < kv_dim, KV head h's dimension d at
// i = h * head_dim + d) sits at (tile * kv_dim + i) * 16 + p % 16. A
// query's dot products with 16 keys are then 16 lanes of plain FMAs, with
// no horizontal reduction per key, and one KV head's part of a tile is one
// contiguous run. Values stay rows: they are summed along the row anyway.
constexpr uint32_t kKeyTile = 16;
inline size_t key_element(size_t pos, size_t i, size_t kv_dim) {
  return ((pos / kKeyTile) * kv_dim + i) * kKeyTile + pos % kKeyTile;
}
// Elements that hold the keys of n_pos positions (whole tiles).
inline size_t key_elements(size_t n_pos, size_t kv_dim) {
  return (n_pos + kKeyTile - 1) / kKeyTile * kKeyTile * kv_dim;
}

struct AttentionArgs {
  uint32_t n_head = 0, n_head_kv = 0, head_dim = 0;
  float scale = 1.0f;    // applied to q.k before the softcap
  float softcap = 0.0f;  // 0: none
  bool causal = true;
  uint32_t window = 0;   // 0: unlimited; else key pk is seen from p iff p - pk < window
  const float* q = nullptr;  // [n_tokens][n_head * head_dim]
  uint32_t n_tokens = 0, pos0 = 0;
  const void* k = nullptr;   // tiles: key_element(p, h * head_dim + d, kv_stride) (elements)
  const void* v = nullptr;   // rows: position p, KV head h at v + p * kv_stride + h * head_dim
  bool kv_f16 = true;
  size_t kv_stride = 0;      // kv_dim: n_head_kv * head_dim
  float* out = nullptr;      // [n_tokens][n_head * head_dim]
};

// Needs head_dim % 8 == 0 (AVX2); returns false (doing nothing) otherwise.
bool attention(const AttentionArgs& a, ThreadPool* pool);

// Several independent attentions (the sequences of a batch) in one pass
// over the pool. All must share the head shape; false (doing nothing) when
// it cannot be vectorised.
bool attention_many(std::span<const AttentionArgs> jobs, ThreadPool* pool);

}  // namespace minnow::kernels
