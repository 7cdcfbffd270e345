#include "model/kv_cache.h"

#include <cstring>

#include <algorithm>

#include "base/half.h"
#include "kernels/attention.h"
#include "kernels/f16_rows.h"
#include "kernels/kernel_table.h"

namespace minnow {

KvCache::KvCache(uint32_t n_layer, uint32_t n_ctx, uint32_t kv_dim, KvType type)
    : n_ctx_(n_ctx), kv_dim_(kv_dim),
      n_slots_((n_ctx + kernels::kKeyTile - 1) / kernels::kKeyTile * kernels::kKeyTile), type_(type),
      n_elements_(size_t(n_layer) * n_slots_ * kv_dim), memory_(allocate_huge_pages(2 * n_elements_ * element_bytes())) {}

size_t KvCache::key_index(uint32_t layer, uint32_t pos, uint32_t i) const {
  return layer_start(layer) + kernels::key_element(pos, i, kv_dim_);
}

uint64_t KvCache::bytes() const { return 2 * uint64_t(n_elements_) * element_bytes(); }

void KvCache::store(uint32_t layer, uint32_t pos, const float* k, const float* v) {
  const size_t at = value_index(layer, pos);
  // The key row is scattered a tile's width apart (16 elements).
  const size_t k_at = key_index(layer, pos, 0);
  if (type_ == KvType::kF16) {
    if (kernels::kernel_table().isa != kernels::Isa::kScalar) {
      kernels::f32_to_f16_row(v, v16() + at, kv_dim_);
      uint16_t halves[256];
      for (uint32_t i0 = 0; i0 < kv_dim_; i0 += 256) {
        const uint32_t n = std::min(256u, kv_dim_ - i0);
        kernels::f32_to_f16_row(k + i0, halves, n);
        for (uint32_t i = 0; i < n; ++i) k16()[k_at + size_t(i0 + i) * kernels::kKeyTile] = halves[i];
      }
      return;
    }
    for (uint32_t i = 0; i < kv_dim_; ++i) {
      k16()[k_at + size_t(i) * kernels::kKeyTile] = float_to_fp16(k[i]);
      v16()[at + i] = float_to_fp16(v[i]);
    }
  } else {
    for (uint32_t i = 0; i < kv_dim_; ++i) k32()[k_at + size_t(i) * kernels::kKeyTile] = k[i];
    std::memcpy(v32() + at, v, kv_dim_ * sizeof(float));
  }
}

void KvCache::load_k(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  const size_t at = key_index(layer, pos, offset);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t e = at + size_t(i) * kernels::kKeyTile;
    out[i] = type_ == KvType::kF16 ? fp16_to_float(k16()[e]) : k32()[e];
  }
}

void KvCache::load_v(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  const size_t at = value_index(layer, pos) + offset;
  if (type_ == KvType::kF16)
    for (uint32_t i = 0; i < n; ++i) out[i] = fp16_to_float(v16()[at + i]);
  else
    std::memcpy(out, v32() + at, n * sizeof(float));
}

const void* KvCache::k_data(uint32_t layer) const { return keys() + layer_start(layer) * element_bytes(); }

const void* KvCache::v_data(uint32_t layer) const { return values() + layer_start(layer) * element_bytes(); }

}  // namespace minnow
