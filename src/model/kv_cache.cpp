#include "model/kv_cache.h"

#include <cstring>

#include "base/half.h"
#include "kernels/f16_rows.h"
#include "kernels/kernel_table.h"

namespace minnow {

KvCache::KvCache(uint32_t n_layer, uint32_t n_ctx, uint32_t kv_dim, KvType type)
    : n_ctx_(n_ctx), kv_dim_(kv_dim), type_(type) {
  const size_t n = size_t(n_layer) * n_ctx * kv_dim;
  if (type == KvType::kF16) {
    k16_.resize(n);
    v16_.resize(n);
  } else {
    k32_.resize(n);
    v32_.resize(n);
  }
}

uint64_t KvCache::bytes() const {
  return (k16_.size() + v16_.size()) * 2 + (k32_.size() + v32_.size()) * 4;
}

void KvCache::store(uint32_t layer, uint32_t pos, const float* k, const float* v) {
  const size_t at = index(layer, pos);
  if (type_ == KvType::kF16) {
    if (kernels::kernel_table().isa != kernels::Isa::kScalar) {
      kernels::f32_to_f16_row(k, &k16_[at], kv_dim_);
      kernels::f32_to_f16_row(v, &v16_[at], kv_dim_);
      return;
    }
    for (uint32_t i = 0; i < kv_dim_; ++i) {
      k16_[at + i] = float_to_fp16(k[i]);
      v16_[at + i] = float_to_fp16(v[i]);
    }
  } else {
    std::memcpy(&k32_[at], k, kv_dim_ * sizeof(float));
    std::memcpy(&v32_[at], v, kv_dim_ * sizeof(float));
  }
}

void KvCache::load_k(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  const size_t at = index(layer, pos) + offset;
  if (type_ == KvType::kF16)
    for (uint32_t i = 0; i < n; ++i) out[i] = fp16_to_float(k16_[at + i]);
  else
    std::memcpy(out, &k32_[at], n * sizeof(float));
}

void KvCache::load_v(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const {
  const size_t at = index(layer, pos) + offset;
  if (type_ == KvType::kF16)
    for (uint32_t i = 0; i < n; ++i) out[i] = fp16_to_float(v16_[at + i]);
  else
    std::memcpy(out, &v32_[at], n * sizeof(float));
}

const void* KvCache::k_data(uint32_t layer) const {
  return type_ == KvType::kF16 ? static_cast<const void*>(&k16_[index(layer, 0)]) : &k32_[index(layer, 0)];
}

const void* KvCache::v_data(uint32_t layer) const {
  return type_ == KvType::kF16 ? static_cast<const void*>(&v16_[index(layer, 0)]) : &v32_[index(layer, 0)];
}

}  // namespace minnow
