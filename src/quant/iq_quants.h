// The non-linear 4-bit types: IQ4_NL (32-element blocks, one half scale) and
// IQ4_XS (256-element super-blocks, 6-bit sub-scales). Both map codes through
// the kIq4Values codebook. Each function converts n_blocks consecutive blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace minnow::quant {

// The scale of 32-element group ib (0..7) of an IQ4_XS super-block, -32..31:
// its low 4 bits are nibble ib % 2 of scales_l[ib / 2], its top 2 bits
// bits 2 ib, 2 ib + 1 of scales_h.
inline int iq4_xs_group_scale(uint16_t scales_h, const uint8_t* scales_l, int ib) {
  return (((scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((scales_h >> (2 * ib)) & 3) << 4)) - 32;
}

// All eight group scales of the IQ4_XS super-block at `block` (its bytes as
// stored: d, scales_h, scales_l, qs).
inline void iq4_xs_group_scales(const uint8_t* block, int ls[8]) {
  uint16_t scales_h;
  std::memcpy(&scales_h, block + 2, 2);
  for (int ib = 0; ib < 8; ++ib) ls[ib] = iq4_xs_group_scale(scales_h, block + 4, ib);
}

void dequantize_iq4_nl(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_iq4_xs(const uint8_t* src, float* dst, size_t n_blocks);

void quantize_iq4_nl(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_iq4_xs(const float* src, uint8_t* dst, size_t n_blocks);

}  // namespace minnow::quant
