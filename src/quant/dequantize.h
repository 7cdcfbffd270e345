// Reference (scalar) dequantization: the specification that fast kernels are
// tested against. Bit-exact with ggml's to_float for every supported type.
#pragma once

#include <cstdint>
#include <span>

#include "base/ggml_type.h"
#include "base/status.h"

namespace minnow {

bool dequantize_supported(GgmlType type);

// Converts whole blocks: src must hold exactly dst.size() elements of `type`.
Status dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst);

}  // namespace minnow
