#include "quant/legacy_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_formats.h"
#include "quant/quant_math.h"

namespace minnow::quant {
namespace {

constexpr int kHalf = kQK / 2;  // element j and j+16 share a byte

// The signed value of largest magnitude: symmetric types map it to the most
// negative code, which has one more step than the positive side.
float signed_absmax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, float& min, float& max) {
  min = 3.402823466e+38f;
  max = -3.402823466e+38f;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

uint32_t load_qh(const uint8_t qh[4]) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

}  // namespace

void dequantize_q4_0(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ4_0), y += kQK) {
    const auto b = load_block<BlockQ4_0>(src);
    const float d = fp16_to_float(b.d);
    for (int j = 0; j < kHalf; ++j) {
      y[j] = float((b.qs[j] & 0x0f) - 8) * d;
      y[j + kHalf] = float((b.qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ4_1), y += kQK) {
    const auto b = load_block<BlockQ4_1>(src);
    const float d = fp16_to_float(b.d), m = fp16_to_float(b.m);
    for (int j = 0; j < kHalf; ++j) {
      y[j] = float(b.qs[j] & 0x0f) * d + m;
      y[j + kHalf] = float(b.qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_q5_0(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ5_0), y += kQK) {
    const auto b = load_block<BlockQ5_0>(src);
    const float d = fp16_to_float(b.d);
    const uint32_t qh = load_qh(b.qh);  // bit j: fifth bit of element j
    for (int j = 0; j < kHalf; ++j) {
      const int h0 = int((qh >> j) << 4) & 0x10;
      const int h1 = int(qh >> (j + 12)) & 0x10;
      y[j] = float(((b.qs[j] & 0x0f) | h0) - 16) * d;
      y[j + kHalf] = float(((b.qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void dequantize_q5_1(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ5_1), y += kQK) {
    const auto b = load_block<BlockQ5_1>(src);
    const float d = fp16_to_float(b.d), m = fp16_to_float(b.m);
    const uint32_t qh = load_qh(b.qh);
    for (int j = 0; j < kHalf; ++j) {
      const int h0 = int((qh >> j) << 4) & 0x10;
      const int h1 = int(qh >> (j + 12)) & 0x10;
      y[j] = float((b.qs[j] & 0x0f) | h0) * d + m;
      y[j + kHalf] = float((b.qs[j] >> 4) | h1) * d + m;
    }
  }
}

void dequantize_q8_0(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ8_0), y += kQK) {
    const auto b = load_block<BlockQ8_0>(src);
    const float d = fp16_to_float(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = float(b.qs[j]) * d;
  }
}

void quantize_q4_0(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK, dst += sizeof(BlockQ4_0)) {
    BlockQ4_0 b;
    const float d = signed_absmax(x) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = float_to_fp16(d);
    for (int j = 0; j < kHalf; ++j) {
      // +8.5 then truncation = round half up; 16 (the extreme) clamps to 15.
      const int q0 = truncate_clamped(x[j] * id + 8.5f, 0, 15);
      const int q1 = truncate_clamped(x[j + kHalf] * id + 8.5f, 0, 15);
      b.qs[j] = uint8_t(q0 | (q1 << 4));
    }
    store_block(dst, b);
  }
}

void quantize_q4_1(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK, dst += sizeof(BlockQ4_1)) {
    BlockQ4_1 b;
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = float_to_fp16(d);
    b.m = float_to_fp16(min);
    for (int j = 0; j < kHalf; ++j) {
      const int q0 = truncate_clamped((x[j] - min) * id + 0.5f, 0, 15);
      const int q1 = truncate_clamped((x[j + kHalf] - min) * id + 0.5f, 0, 15);
      b.qs[j] = uint8_t(q0 | (q1 << 4));
    }
    store_block(dst, b);
  }
}

void quantize_q5_0(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK, dst += sizeof(BlockQ5_0)) {
    BlockQ5_0 b;
    const float d = signed_absmax(x) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = float_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kHalf; ++j) {
      const int q0 = truncate_clamped(x[j] * id + 16.5f, 0, 31);
      const int q1 = truncate_clamped(x[j + kHalf] * id + 16.5f, 0, 31);
      b.qs[j] = uint8_t((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= uint32_t((q0 & 0x10) >> 4) << j;
      qh |= uint32_t((q1 & 0x10) >> 4) << (j + kHalf);
    }
    std::memcpy(b.qh, &qh, 4);
    store_block(dst, b);
  }
}

void quantize_q5_1(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK, dst += sizeof(BlockQ5_1)) {
    BlockQ5_1 b;
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = float_to_fp16(d);
    b.m = float_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kHalf; ++j) {
      const int q0 = truncate_clamped((x[j] - min) * id + 0.5f, 0, 31);
      const int q1 = truncate_clamped((x[j + kHalf] - min) * id + 0.5f, 0, 31);
      b.qs[j] = uint8_t((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= uint32_t((q0 & 0x10) >> 4) << j;
      qh |= uint32_t((q1 & 0x10) >> 4) << (j + kHalf);
    }
    std::memcpy(b.qh, &qh, 4);
    store_block(dst, b);
  }
}

void quantize_q8_0(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK, dst += sizeof(BlockQ8_0)) {
    BlockQ8_0 b;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = float_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b.qs[j] = int8_t(truncate_clamped(std::round(x[j] * id), -127, 127));
    store_block(dst, b);
  }
}

}  // namespace minnow::quant
