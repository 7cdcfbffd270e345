// The KV cache's layout: what store() writes, load_k/load_v read back
// (the reference attention's view), and the raw memory the fused kernels
// read holds each KV head's keys where kernels::key_element() says and its
// values as rows, head_stride() apart, for positions on both sides of a
// tile boundary, in every layer.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/half.h"
#include "kernels/attention.h"
#include "model/kv_cache.h"

namespace minnow {
namespace {

float key_value(uint32_t layer, uint32_t pos, uint32_t i) { return float(layer * 100 + pos) + 0.25f * float(i % 4); }  // exact in F16
float value_value(uint32_t layer, uint32_t pos, uint32_t i) { return -key_value(layer, pos, i) - 0.5f; }

void check_layout(KvType type) {
  constexpr uint32_t kLayers = 3, kCtx = 37, kHeads = 3, kHeadDim = 8, kKvDim = kHeads * kHeadDim;  // 37: a ragged tile
  KvCache kv(kLayers, kCtx, kHeads, kHeadDim, type);
  ASSERT_TRUE(kv.ok());
  const uint32_t positions[] = {0, 1, 15, 16, 17, 31, 32, 36};
  std::vector<float> k(kKvDim), v(kKvDim);
  for (uint32_t layer = 0; layer < kLayers; ++layer)
    for (uint32_t pos : positions) {
      for (uint32_t i = 0; i < kKvDim; ++i) k[i] = key_value(layer, pos, i), v[i] = value_value(layer, pos, i);
      kv.store(layer, pos, k.data(), v.data());
    }
  auto raw = [&](const void* base, size_t element) {
    if (type == KvType::kF32) return static_cast<const float*>(base)[element];
    return fp16_to_float(static_cast<const uint16_t*>(base)[element]);
  };
  std::vector<float> out(8);
  for (uint32_t layer = 0; layer < kLayers; ++layer)
    for (uint32_t pos : positions) {
      kv.load_k(layer, pos, 8, 8, out.data());  // the second of three "heads" of 8
      for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(out[i], key_value(layer, pos, 8 + i)) << layer << " " << pos;
      kv.load_v(layer, pos, 16, 8, out.data());
      for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(out[i], value_value(layer, pos, 16 + i)) << layer << " " << pos;
      for (uint32_t h = 0; h < kHeads; ++h)
        for (uint32_t d = 0; d < kHeadDim; ++d) {
          const size_t head = h * kv.head_stride();
          EXPECT_EQ(raw(kv.k_data(layer), head + kernels::key_element(pos, d, kHeadDim)),
                    key_value(layer, pos, h * kHeadDim + d));
          EXPECT_EQ(raw(kv.v_data(layer), head + size_t(pos) * kHeadDim + d), value_value(layer, pos, h * kHeadDim + d));
        }
    }
  // A head's keys fill whole tiles, and a layer all its heads: the ragged
  // tile of one does not run into the next.
  const size_t element = type == KvType::kF16 ? 2 : 4;
  EXPECT_GE(kv.head_stride(), kernels::key_elements(kCtx, kHeadDim));
  EXPECT_EQ(static_cast<const char*>(kv.k_data(1)) - static_cast<const char*>(kv.k_data(0)),
            ptrdiff_t(kHeads * kv.head_stride() * element));
}

TEST(KvCache, F16KeysSitInTransposedTilesAndValuesInRows) { check_layout(KvType::kF16); }
TEST(KvCache, F32KeysSitInTransposedTilesAndValuesInRows) { check_layout(KvType::kF32); }

}  // namespace
}  // namespace minnow
