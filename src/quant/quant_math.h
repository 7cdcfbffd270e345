// Small helpers shared by the block codecs. They reproduce ggml's rounding
// exactly, because byte-exact quantization depends on every tie going the
// same way.
#pragma once

#include <cstdint>
#include <cstring>

#include "base/half.h"

namespace minnow::quant {

// Round to nearest, ties to even, for |x| < 2^22: adding 1.5*2^23 pushes the
// fraction bits out of the mantissa in the FPU's default rounding mode.
inline int nearest_int(float x) {
  const float shifted = x + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// C's float-to-int truncation, clamped to [lo, hi] first. The legacy encoders
// truncate after adding 0.5; with finite but denormal inputs the inverse
// scale can overflow to inf and a plain cast of inf or NaN is undefined.
// For in-range values this is exactly the cast ggml does.
inline int truncate_clamped(float v, int lo, int hi) {
  if (!(v >= float(lo))) return lo;  // also NaN
  if (v >= float(hi)) return hi;
  return int(v);
}

// Scales are stored as halves and the decoder sees the rounded value; the
// encoders round-trip them through the same conversion.
inline float half_round_trip(float x) { return fp16_to_float(float_to_fp16(x)); }

template <class Block>
Block load_block(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof(Block));
  return b;
}

template <class Block>
void store_block(uint8_t* p, const Block& b) {
  std::memcpy(p, &b, sizeof(Block));
}

// Groups whose largest magnitude is below this are treated as all zero.
inline constexpr float kGroupMaxEps = 1e-15f;

}  // namespace minnow::quant
