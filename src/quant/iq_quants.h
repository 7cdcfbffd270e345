// The non-linear 4-bit types: IQ4_NL (32-element blocks, one half scale) and
// IQ4_XS (256-element super-blocks, 6-bit sub-scales). Both map codes through
// the kIq4Values codebook. Each function converts n_blocks consecutive blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow::quant {

void dequantize_iq4_nl(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_iq4_xs(const uint8_t* src, float* dst, size_t n_blocks);

void quantize_iq4_nl(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_iq4_xs(const float* src, uint8_t* dst, size_t n_blocks);

}  // namespace minnow::quant
