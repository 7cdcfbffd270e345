// A weight matrix of random normal values stored in any type the kernels
// take: what every matmul and dot test starts from. Header-only so that the
// support library needs no kernels or quantizer (the tests that use it link both).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/matmul.h"
#include "quant/quantize.h"

namespace minnow::test {

struct RandomMatrix {
  std::vector<uint8_t> storage;  // the rows, `offset` bytes in
  kernels::WeightMatrix w;
};

// rows x cols values drawn from N(0, 1) with rng, stored as `type` (F32
// copied, the rest quantized). offset > 0 puts the rows at an address that
// far past the allocation's start (1: rows at odd addresses).
inline RandomMatrix random_matrix(GgmlType type, uint64_t cols, uint64_t rows, std::mt19937& rng, size_t offset = 0) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> values(cols * rows);
  for (auto& v : values) v = dist(rng);
  RandomMatrix m;
  const size_t row_bytes = *quantized_size(type, cols);
  m.storage.resize(offset + row_bytes * rows);
  uint8_t* data = m.storage.data() + offset;
  if (type == GgmlType::F32)
    std::memcpy(data, values.data(), values.size() * sizeof(float));
  else
    EXPECT_TRUE(quantize(type, values, {data, row_bytes * rows}).ok()) << ggml_type_name(type);
  m.w = {data, type, cols, rows, row_bytes};
  return m;
}

}  // namespace minnow::test
