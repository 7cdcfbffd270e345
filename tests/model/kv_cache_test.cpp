// The KV cache's layout: what store() writes, load_k/load_v read back
// (the reference attention's view), and the raw memory the fused kernels
// read holds keys where kernels::key_element() says and values as rows,
// for positions on both sides of a tile boundary, in every layer.
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
  constexpr uint32_t kLayers = 3, kCtx = 37, kKvDim = 24;  // 37: a ragged last tile
  KvCache kv(kLayers, kCtx, kKvDim, type);
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
      for (uint32_t i = 0; i < kKvDim; ++i) {
        EXPECT_EQ(raw(kv.k_data(layer), kernels::key_element(pos, i, kKvDim)), key_value(layer, pos, i));
        EXPECT_EQ(raw(kv.v_data(layer), size_t(pos) * kKvDim + i), value_value(layer, pos, i));
      }
    }
  // A layer's keys fill whole tiles: the ragged tile of one layer does not
  // run into the next layer's keys.
  const size_t element = type == KvType::kF16 ? 2 : 4;
  EXPECT_GE(static_cast<const char*>(kv.k_data(1)) - static_cast<const char*>(kv.k_data(0)),
            ptrdiff_t(kernels::key_elements(kCtx, kKvDim) * element));
}

TEST(KvCache, F16KeysSitInTransposedTilesAndValuesInRows) { check_layout(KvType::kF16); }
TEST(KvCache, F32KeysSitInTransposedTilesAndValuesInRows) { check_layout(KvType::kF32); }

}  // namespace
}  // namespace minnow
