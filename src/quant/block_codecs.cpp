#include "quant/block_codecs.h"

#include <cstring>

#include "base/half.h"
#include "quant/iq_quants.h"
#include "quant/k_quants.h"
#include "quant/legacy_blocks.h"

namespace minnow::quant {
namespace {

// The float types are blocks of one element.
void dequantize_f32(const uint8_t* src, float* dst, size_t n) { if (n) std::memcpy(dst, src, n * 4); }
void quantize_f32(const float* src, uint8_t* dst, size_t n) { if (n) std::memcpy(dst, src, n * 4); }

void dequantize_f16(const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = fp16_to_float(h);
  }
}

void quantize_f16(const float* src, uint8_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const uint16_t h = float_to_fp16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void dequantize_bf16(const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = bf16_to_float(h);
  }
}

void quantize_bf16(const float* src, uint8_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const uint16_t h = float_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

constexpr BlockCodec kCodecs[] = {
    {GgmlType::F32, dequantize_f32, quantize_f32},
    {GgmlType::F16, dequantize_f16, quantize_f16},
    {GgmlType::BF16, dequantize_bf16, quantize_bf16},
    {GgmlType::Q4_0, dequantize_q4_0, quantize_q4_0},
    {GgmlType::Q4_1, dequantize_q4_1, quantize_q4_1},
    {GgmlType::Q5_0, dequantize_q5_0, quantize_q5_0},
    {GgmlType::Q5_1, dequantize_q5_1, quantize_q5_1},
    {GgmlType::Q8_0, dequantize_q8_0, quantize_q8_0},
    {GgmlType::Q2_K, dequantize_q2_k, quantize_q2_k},
    {GgmlType::Q3_K, dequantize_q3_k, quantize_q3_k},
    {GgmlType::Q4_K, dequantize_q4_k, quantize_q4_k},
    {GgmlType::Q5_K, dequantize_q5_k, quantize_q5_k},
    {GgmlType::Q6_K, dequantize_q6_k, quantize_q6_k},
    {GgmlType::Q8_K, dequantize_q8_k, quantize_q8_k},
    {GgmlType::IQ4_NL, dequantize_iq4_nl, quantize_iq4_nl},
    {GgmlType::IQ4_XS, dequantize_iq4_xs, quantize_iq4_xs},
};

}  // namespace

const BlockCodec* find_block_codec(GgmlType type) {
  for (const auto& c : kCodecs)
    if (c.type == type) return &c;
  return nullptr;
}

}  // namespace minnow::quant
