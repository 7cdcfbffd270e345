// Reference (scalar) quantization into every type dequantize() reads.
// Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 (and F16, BF16) reproduce llama.cpp's bytes
// exactly; the K-quants and IQ4 types use ggml's importance-free scale
// searches. Q8_K is the activation format of K-quant dot products.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/ggml_type.h"
#include "base/status.h"

namespace minnow {

bool quantize_supported(GgmlType type);

// Bytes that n_values elements of `type` occupy; nullopt when n_values is not
// a whole number of blocks or the type is unknown.
std::optional<size_t> quantized_size(GgmlType type, size_t n_values);

// Encodes whole blocks: src.size() must be a multiple of the block size and
// dst exactly quantized_size(). NaN or Inf in src is an error naming the
// first bad index (dst is then unspecified).
Status quantize(GgmlType type, std::span<const float> src, std::span<uint8_t> dst);

}  // namespace minnow
