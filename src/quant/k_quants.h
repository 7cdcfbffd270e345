// The 256-element K-quant super-blocks: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, and the
// Q8_K activation format. Each function converts n_blocks consecutive blocks.
// Decoders (k_dequant.cpp) are bit-exact with ggml; encoders (k_quantize.cpp)
// are ggml's importance-free scale searches.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow::quant {

void dequantize_q2_k(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q3_k(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q4_k(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q5_k(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q6_k(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q8_k(const uint8_t* src, float* dst, size_t n_blocks);

void quantize_q2_k(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q3_k(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q4_k(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q5_k(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q6_k(const float* src, uint8_t* dst, size_t n_blocks);
// Activations: one scale per 256 values, symmetric int8 in [-127, 127].
void quantize_q8_k(const float* src, uint8_t* dst, size_t n_blocks);

// Unpacks scale/min number j (0..7) of the 12-byte Q4_K/Q5_K scale field:
// the first four live in the low 6 bits of bytes 0..7, the last four borrow
// the top 2 bits of those bytes.
inline void k_scale_min(int j, const uint8_t* q, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = uint8_t((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    min = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Q3_K packs sixteen 6-bit scales: low nibbles in bytes 0..7, high 2-bit
// pairs in bytes 8..11. Returns them biased by -32.
inline void unpack_q3_k_scales(const uint8_t packed[12], int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? packed[j] & 0x0f : packed[j - 8] >> 4;
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = int8_t((low | (high << 4)) - 32);
  }
}

}  // namespace minnow::quant
