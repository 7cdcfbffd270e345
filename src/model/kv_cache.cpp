#include "model/kv_cache.h"

#include <cstring>

#include "base/half.h"
#include "kernels/f16_rows.h"
#include "kernels/kernel_table.h"

namespace minnow {

KvCache::KvCache(uint32_t n_layer, uint32_t n_ctx, uint32_t kv_dim, KvType type)
    : n_ctx_(n_ctx), kv_dim_(kv_dim), type_(type), n_elements_(size_t(n_layer) * n_ctx * kv_dim),
      memory_(allocate_huge_pages(2 * n_elements_ * element_bytes())) {}

uint64_t KvCache::bytes() const { return 2 * uint64_t(n_elements_) * element_bytes(); }

void KvCache::store(uint32_t layer, uint32_t pos, const float* k, const float* v) {
  const size_t at = index(layer, pos);
  if (type_ == KvType::kF16) {
    if (kernels::kernel_table().isa != kernels::Isa::kScalar) {
      kernels::f32_to_f16_row(k, k16() + at, kv_dim_);
      kernels::f32_to_f16_row(v, v16() + at, kv_dim_);
      return;
    }
    for (uint32_t i = 0; i < kv_dim_; ++i) {
      k16()[at + i] = float_to_fp16(k[i]);
      v16()[at + i] = float_to_fp16(v[i]);
    }
  } else {
    std::memcpy(k32() + at, k, kv_dim_ * sizeof(float));
    std::memcpy(v32() + at, v, kv_dim_ * sizeof(float));
  }
}

void KvCache::load_k(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  const size_t at = index(layer, pos) + offset;
  if (type_ == KvType::kF16)
    for (uint32_t i = 0; i < n; ++i) out[i] = fp16_to_float(k16()[at + i]);
  else
    std::memcpy(out, k32() + at, n * sizeof(float));
}

void KvCache::load_v(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  const size_t at = index(layer, pos) + offset;
  if (type_ == KvType::kF16)
    for (uint32_t i = 0; i < n; ++i) out[i] = fp16_to_float(v16()[at + i]);
  else
    std::memcpy(out, v32() + at, n * sizeof(float));
}

const void* KvCache::k_data(uint32_t layer) const { return keys() + index(layer, 0) * element_bytes(); }

const void* KvCache::v_data(uint32_t layer) const { return values() + index(layer, 0) * element_bytes(); }

}  // namespace minnow
