#include "model/kv_cache.h"

#include <cstring>

#include <algorithm>

#include "base/half.h"
#include "kernels/attention.h"
#include "kernels/f16_rows.h"
#include "kernels/kernel_table.h"

namespace minnow {

KvCache::KvCache(uint32_t n_layer, uint32_t n_ctx, uint32_t n_head_kv, uint32_t head_dim, KvType type)
    : n_ctx_(n_ctx), n_head_kv_(n_head_kv), head_dim_(head_dim),
      head_stride_(kernels::key_elements(n_ctx, head_dim)), type_(type),
      n_elements_(size_t(n_layer) * n_head_kv * head_stride()),
      memory_(allocate_huge_pages(2 * n_elements_ * element_bytes())) {}

uint64_t KvCache::bytes() const { return 2 * uint64_t(n_elements_) * element_bytes(); }

size_t KvCache::key_index(uint32_t layer, uint32_t pos, uint32_t i) const {
  return layer_start(layer) + (i / head_dim_) * head_stride() + kernels::key_element(pos, i % head_dim_, head_dim_);
}

size_t KvCache::value_index(uint32_t layer, uint32_t pos, uint32_t i) const {
  return layer_start(layer) + (i / head_dim_) * head_stride() + size_t(pos) * head_dim_ + i % head_dim_;
}

void KvCache::store(uint32_t layer, uint32_t pos, const float* k, const float* v) {
  const bool vector = kernels::kernel_table().isa != kernels::Isa::kScalar;
  for (uint32_t h = 0; h < n_head_kv_; ++h) {
    const uint32_t i0 = h * head_dim_;
    // The head's value row is contiguous; its key row is scattered a
    // tile's width apart.
    const size_t v_at = value_index(layer, pos, i0), k_at = key_index(layer, pos, i0);
    if (type_ == KvType::kF32) {
      std::memcpy(v32() + v_at, v + i0, head_dim_ * sizeof(float));
      for (uint32_t d = 0; d < head_dim_; ++d) k32()[k_at + size_t(d) * kernels::kKeyTile] = k[i0 + d];
      continue;
    }
    if (!vector) {
      for (uint32_t d = 0; d < head_dim_; ++d) {
        v16()[v_at + d] = float_to_fp16(v[i0 + d]);
        k16()[k_at + size_t(d) * kernels::kKeyTile] = float_to_fp16(k[i0 + d]);
      }
      continue;
    }
    kernels::f32_to_f16_row(v + i0, v16() + v_at, head_dim_);
    uint16_t halves[256];
    for (uint32_t d0 = 0; d0 < head_dim_; d0 += 256) {
      const uint32_t n = std::min(256u, head_dim_ - d0);
      kernels::f32_to_f16_row(k + i0 + d0, halves, n);
      for (uint32_t d = 0; d < n; ++d) k16()[k_at + size_t(d0 + d) * kernels::kKeyTile] = halves[d];
    }
  }
}

void KvCache::load_k(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  for (uint32_t i = 0; i < n; ++i) {
    const size_t e = key_index(layer, pos, offset + i);
    out[i] = type_ == KvType::kF16 ? fp16_to_float(k16()[e]) : k32()[e];
  }
}

void KvCache::load_v(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  for (uint32_t i = 0; i < n; ++i) {
    const size_t e = value_index(layer, pos, offset + i);
    out[i] = type_ == KvType::kF16 ? fp16_to_float(v16()[e]) : v32()[e];
  }
}

const void* KvCache::k_data(uint32_t layer) const { return keys() + layer_start(layer) * element_bytes(); }

const void* KvCache::v_data(uint32_t layer) const { return values() + layer_start(layer) * element_bytes(); }

}  // namespace minnow
