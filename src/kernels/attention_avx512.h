// Internal to the attention kernels: the AVX-512 kernel for one query token
// (attention_avx512.cpp) and the prefetch it uses (attention.cpp).
#pragma once

#include <cstdint>

#include "kernels/attention.h"

namespace minnow::kernels {

// Query token t of `a`, KV head hk, over keys [first, last). False, doing
// nothing, for shapes it does not take: an F32 cache, head sizes other than
// 64 and 128, more than 8 query heads per KV head. Call only where the CPU
// has AVX-512.
bool attend_one_token_avx512(const AttentionArgs& a, uint32_t t, uint32_t hk, uint32_t first, uint32_t last);

// Asks for the key and value rows of positions [p0, p1), KV head hk, ahead
// of their use (attention.cpp).
void prefetch_kv_rows(const AttentionArgs& a, uint32_t hk, uint32_t p0, uint32_t p1);

}  // namespace minnow::kernels
