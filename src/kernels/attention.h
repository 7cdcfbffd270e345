// Fused attention over the KV cache: for each query token and KV head, the
// group of query heads that share it walks the keys once (GQA), with an
// online softmax (running max and sum), so no score matrix is materialised.
// Keys and values are F16 or F32, one layer's laid out by KV head (below).
// Work is split over (tile of query tokens, KV head) pairs across the pool,
// or (key chunk, KV head) for a decode token with many keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/thread_pool.h"

namespace minnow::kernels {

// One layer's cache is laid out by KV head: head h's keys start at
// k + h * head_stride and its values at v + h * head_stride (elements), so
// that a work item (a KV head over a run of positions) reads two sequential
// streams, which the hardware prefetchers follow. Values are rows of
// head_dim per position. Keys are transposed in tiles of 16 positions:
// dimension d of position p at key_element(p, d, head_dim). A query's dot
// products with 16 keys are then 16 lanes of plain FMAs, with no
// horizontal reduction per key.
constexpr uint32_t kKeyTile = 16;
inline size_t key_element(size_t pos, size_t d, size_t head_dim) {
  return ((pos / kKeyTile) * head_dim + d) * kKeyTile + pos % kKeyTile;
}
// Elements one head's keys of n_pos positions take (whole tiles); the
// values of as many positions fit in the same.
inline size_t key_elements(size_t n_pos, size_t head_dim) {
  return (n_pos + kKeyTile - 1) / kKeyTile * kKeyTile * head_dim;
}

// The first key position `pos` sees: every one before it, or with a
// sliding window the last `window` of them.
inline uint32_t first_visible_key(uint32_t window, uint32_t pos) {
  return (window && pos + 1 > window) ? pos + 1 - window : 0;
}

struct AttentionArgs {
  uint32_t n_head = 0, n_head_kv = 0, head_dim = 0;
  float scale = 1.0f;    // applied to q.k before the softcap
  float softcap = 0.0f;  // 0: none
  bool causal = true;
  uint32_t window = 0;   // 0: unlimited; else key pk is seen from p iff p - pk < window
  const float* q = nullptr;  // [n_tokens][n_head * head_dim]
  uint32_t n_tokens = 0, pos0 = 0;
  const void* k = nullptr;   // head h, position p, dimension d at k + h * head_stride + key_element(p, d, head_dim)
  const void* v = nullptr;   // ... at v + h * head_stride + p * head_dim + d
  bool kv_f16 = true;
  size_t head_stride = 0;    // >= key_elements(positions, head_dim)
  float* out = nullptr;      // [n_tokens][n_head * head_dim]
};

// Needs head_dim % 8 == 0 (AVX2); returns false (doing nothing) otherwise.
bool attention(const AttentionArgs& a, ThreadPool* pool);

// Several independent attentions (the sequences of a batch) in one pass
// over the pool. All must share the head shape; false (doing nothing) when
// it cannot be vectorised.
bool attention_many(std::span<const AttentionArgs> jobs, ThreadPool* pool);

}  // namespace minnow::kernels
