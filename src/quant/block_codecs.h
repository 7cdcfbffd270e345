// One table row per supported type: how to decode and encode whole blocks.
// dequantize() and quantize() validate sizes and then call through it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/ggml_type.h"

namespace minnow::quant {

using DequantizeBlocksFn = void (*)(const uint8_t* src, float* dst, size_t n_blocks);
using QuantizeBlocksFn = void (*)(const float* src, uint8_t* dst, size_t n_blocks);

struct BlockCodec {
  GgmlType type;
  DequantizeBlocksFn dequantize;
  QuantizeBlocksFn quantize;
};

// nullptr for types minnow cannot convert.
const BlockCodec* find_block_codec(GgmlType type);

}  // namespace minnow::quant
