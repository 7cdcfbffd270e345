// The 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0. Their encoders
// are deterministic one-pass formulas, reproduced byte for byte.
// Each function converts n_blocks consecutive blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow::quant {

void dequantize_q4_0(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q4_1(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q5_0(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q5_1(const uint8_t* src, float* dst, size_t n_blocks);
void dequantize_q8_0(const uint8_t* src, float* dst, size_t n_blocks);

void quantize_q4_0(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q4_1(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q5_0(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q5_1(const float* src, uint8_t* dst, size_t n_blocks);
void quantize_q8_0(const float* src, uint8_t* dst, size_t n_blocks);

}  // namespace minnow::quant
