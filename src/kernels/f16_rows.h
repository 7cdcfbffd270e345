// float -> IEEE half for rows of values (the F16 KV cache's stores) with
// F16C: bit-exact with base/half.h's float_to_fp16, its scalar twin.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow::kernels {

void f32_to_f16_row(const float* x, uint16_t* out, size_t n);

}  // namespace minnow::kernels
