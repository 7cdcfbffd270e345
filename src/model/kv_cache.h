// Keys and values of every layer for one sequence, F16 by default (half the
// memory; llama.cpp's default too) or F32, on 2 MB pages where the kernel
// allows: decode reads every layer's rows back from DRAM each token, one
// head's 128-256 bytes of each row, and over 4 KB pages that walk was a
// TLB miss every 16-32 positions. Each layer is laid out by KV head as the
// fused kernels read it (kernels/attention.h): a head's keys in transposed
// tiles of 16 positions, its values as rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include "base/huge_pages.h"

namespace minnow {

enum class KvType { kF16, kF32 };

class KvCache {
 public:
  KvCache(uint32_t n_layer, uint32_t n_ctx, uint32_t n_head_kv, uint32_t head_dim, KvType type);
  // False when the memory could not be had.
  bool ok() const { return bool(memory_); }

  uint32_t n_ctx() const { return n_ctx_; }
  uint32_t n_past() const { return n_past_; }
  void set_n_past(uint32_t n) { n_past_ = n; }
  uint64_t bytes() const;

  // k and v: position pos's rows of kv_dim() (KV head h at h * head_dim).
  void store(uint32_t layer, uint32_t pos, const float* k, const float* v);
  // Reads elements [offset, offset + n) of position pos's row into out.
  void load_k(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const;
  void load_v(uint32_t layer, uint32_t pos, uint32_t offset, uint32_t n, float* out) const;
  // Raw memory of one layer for fused kernels (uint16_t halves for kF16,
  // floats for kF32), KV head h's part head_stride() elements on.
  const void* k_data(uint32_t layer) const;
  const void* v_data(uint32_t layer) const;
  size_t head_stride() const { return head_stride_; }
  uint32_t kv_dim() const { return n_head_kv_ * head_dim_; }
  KvType type() const { return type_; }
  size_t element_bytes() const { return type_ == KvType::kF16 ? 2 : 4; }

 private:
  // Element i of position pos's row (head i / head_dim) of a layer.
  size_t layer_start(uint32_t layer) const { return size_t(layer) * n_head_kv_ * head_stride(); }
  size_t key_index(uint32_t layer, uint32_t pos, uint32_t i) const;
  size_t value_index(uint32_t layer, uint32_t pos, uint32_t i) const;
  uint8_t* keys() const { return memory_.get(); }
  uint8_t* values() const { return memory_.get() + n_elements_ * element_bytes(); }
  uint16_t* k16() const { return reinterpret_cast<uint16_t*>(keys()); }
  uint16_t* v16() const { return reinterpret_cast<uint16_t*>(values()); }
  float* k32() const { return reinterpret_cast<float*>(keys()); }
  float* v32() const { return reinterpret_cast<float*>(values()); }
  uint32_t n_ctx_, n_head_kv_, head_dim_;
  size_t head_stride_;  // kernels::key_elements(n_ctx_, head_dim_): whole key tiles
  uint32_t n_past_ = 0;
  KvType type_;
  size_t n_elements_;
  // Keys, then values: n_elements_ halves (kF16) or floats (kF32) each. One
  // allocation, so that only the end of it rounds up to a 2 MB page.
  HugePageBuffer memory_;
};

}  // namespace minnow
