// Keys and values of every layer for one sequence, F16 by default (half the
// memory; llama.cpp's default too) or F32, on 2 MB pages where the kernel
// allows: decode reads every layer's rows back from DRAM each token, one
// head's 128-256 bytes of each row, and over 4 KB pages that walk was a
// TLB miss every 16-32 positions. Keys are stored in the fused kernel's
// transposed tiles of 16 positions (kernels/attention.h), values as rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include "base/huge_pages.h"

namespace minnow {

enum class KvType { kF16, kF32 };

class KvCache {
 public:
  KvCache(uint32_t n_layer, uint32_t n_ctx, uint32_t kv_dim, KvType type);
  // False when the memory could not be had.
  bool ok() const { return bool(memory_); }

  uint32_t n_ctx() const { return n_ctx_; }
  uint32_t n_past() const { return n_past_; }
  void set_n_past(uint32_t n) { n_past_ = n; }
  uint64_t bytes() const;

  void store(uint32_t layer, uint32_t pos, const float* k, const float* v);
  // Reads one head's slice of position `pos` into out[head_dim].
  void load_k(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const;
  void load_v(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const;
  // Raw memory of one layer for fused kernels (uint16_t halves for kF16,
  // floats for kF32): keys as kernels::key_element() places them, values
  // with position p's row at data + p * kv_dim() elements.
  const void* k_data(uint32_t layer) const;
  const void* v_data(uint32_t layer) const;
  uint32_t kv_dim() const { return kv_dim_; }
  KvType type() const { return type_; }

 private:
  // Element of the layer's first position; each layer holds whole key tiles.
  size_t layer_start(uint32_t layer) const { return size_t(layer) * n_slots_ * kv_dim_; }
  size_t value_index(uint32_t layer, uint32_t pos) const { return layer_start(layer) + size_t(pos) * kv_dim_; }
  size_t key_index(uint32_t layer, uint32_t pos, uint32_t i) const;
  size_t element_bytes() const { return type_ == KvType::kF16 ? 2 : 4; }
  uint8_t* keys() const { return memory_.get(); }
  uint8_t* values() const { return memory_.get() + n_elements_ * element_bytes(); }
  uint16_t* k16() const { return reinterpret_cast<uint16_t*>(keys()); }
  uint16_t* v16() const { return reinterpret_cast<uint16_t*>(values()); }
  float* k32() const { return reinterpret_cast<float*>(keys()); }
  float* v32() const { return reinterpret_cast<float*>(values()); }
  uint32_t n_ctx_, kv_dim_;
  uint32_t n_slots_;  // n_ctx_ rounded up to whole key tiles
  uint32_t n_past_ = 0;
  KvType type_;
  size_t n_elements_;
  // Keys, then values: n_elements_ halves (kF16) or floats (kF32) each. One
  // allocation, so that only the end of it rounds up to a 2 MB page.
  HugePageBuffer memory_;
};

}  // namespace minnow
