// Internal to the attention kernels: the AVX-512 kernels for one query
// token and for a prompt's tile of tokens (attention_avx512.cpp), and the
// chunk results attention.cpp combines.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/attention.h"

namespace minnow::kernels {

// One decode token's attention over a chunk of its keys, left for the
// caller to combine with the other chunks' (attention.cpp): per query head
// of the group, the unnormalised sum of p_j v_j ([group][head_dim] at acc),
// then the largest score (max[group]) and the sum of exp(score - max)
// (sum[group]), at partial + partial_floats(group, head_dim) * item.
inline size_t partial_floats(uint32_t group, uint32_t head_dim) { return size_t(group) * (head_dim + 2); }
inline void store_partial(float* partial, uint32_t group, uint32_t head_dim, const float* acc, const float* max,
                          const float* sum) {
  const size_t n_acc = size_t(group) * head_dim;
  std::copy_n(acc, n_acc, partial);
  std::copy_n(max, group, partial + n_acc);
  std::copy_n(sum, group, partial + n_acc + group);
}

// Query token t of `a`, KV head hk, over keys [first, last): normalised
// into a.out, or unnormalised into `partial` (see partial_floats) when it
// is not null. False, doing nothing, for shapes it does not take: an F32
// cache, head sizes other than 64 and 128, more than 8 query heads per KV
// head. Call only where the CPU has AVX-512.
bool attend_one_token_avx512(const AttentionArgs& a, uint32_t t, uint32_t hk, uint32_t first, uint32_t last,
                             float* partial);

// Query tokens [t0, t0 + nt) of `a` (a prompt's tile, no sliding window),
// KV head hk, over keys from `first` to each token's end, normalised into
// a.out. False, doing nothing, for shapes it does not take: an F32 cache,
// head sizes other than 64 and 128, more than 8 tokens or more than 8
// query heads per KV head. Call only where the CPU has AVX-512.
bool attend_tile_avx512(const AttentionArgs& a, uint32_t t0, uint32_t nt, uint32_t hk, uint32_t first);

}  // namespace minnow::kernels
