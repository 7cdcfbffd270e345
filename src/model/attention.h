// Scaled dot-product attention of a batch of queries over the KV cache.
#pragma once

#include <cstdint>
#include <span>

#include "model/kv_cache.h"

namespace minnow {

struct AttentionParams {
  uint32_t n_head = 0, n_head_kv = 0, head_dim = 0;
  float scale = 1.0f;     // applied to q·k before softcap
  float softcap = 0.0f;   // 0: none
  bool causal = true;
  uint32_t window = 0;    // 0: unlimited; else a key at pk is seen from p iff p - pk < window
};

// q: [n_tokens][n_head*head_dim] for positions pos0.., out: same shape.
// Keys/values for positions [0, pos0 + n_tokens) must already be in the cache.
void attention(const AttentionParams& p, const float* q, uint32_t n_tokens, uint32_t pos0, const KvCache& kv,
               uint32_t layer, float* out);

// The same for several sequences of a batch (each with its own cache), in
// one pass over the thread pool.
struct AttentionQuery {
  const float* q = nullptr;
  uint32_t n_tokens = 0, pos0 = 0;
  const KvCache* kv = nullptr;
  float* out = nullptr;
};
void attention_many(const AttentionParams& p, std::span<const AttentionQuery> queries, uint32_t layer);

}  // namespace minnow
