// Reference (scalar) dequantization: the specification that fast kernels are
// tested against. Bit-exact with ggml's to_float for every supported type:
// F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K IQ4_NL IQ4_XS.
#pragma once

#include <cstdint>
#include <span>

#include "base/ggml_type.h"
#include "base/status.h"

namespace minnow {

bool dequantize_supported(GgmlType type);

// Converts whole blocks: src must hold exactly dst.size() elements of `type`,
// and dst.size() must be a multiple of the type's block size. Any number of
// blocks (a row, many rows, zero) is fine. Never fails on the byte values.
Status dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst);

}  // namespace minnow
