#include "quant/iq_quants.h"

#include <cmath>
#include <cstring>

#include "quant/block_formats.h"
#include "quant/quant_math.h"

namespace minnow::quant {
namespace {

constexpr int kCodes = 16;
// How many ±1 steps of the inverse scale around the max-fitting one to try.
constexpr int kScaleTries = 7;

// Index of the codebook entry nearest to x (ties go to the lower entry
// unless strictly closer above, as in ggml).
int nearest_code(float x) {
  if (x <= kIq4Values[0]) return 0;
  if (x >= kIq4Values[kCodes - 1]) return kCodes - 1;
  int lo = 0, hi = kCodes - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < kIq4Values[mid]) hi = mid;
    else lo = mid;
  }
  return x - kIq4Values[hi - 1] < kIq4Values[hi] - x ? hi - 1 : hi;
}

// Best scale for one 32-value group, weighting errors by x²: start from the
// scale that maps the largest value onto the codebook's end, then try
// neighbouring inverse scales and keep the best least-squares fit.
float fit_group_scale(const float* x, uint8_t L[kQK]) {
  float weight[kQK];
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    weight[j] = x[j] * x[j];
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (amax < kGroupMaxEps) return 0.0f;
  float d = -max / float(kIq4Values[0]);
  float id = 1.0f / d;
  float sumqx = 0.0f, sumq2 = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    const int l = nearest_code(id * x[j]);
    L[j] = uint8_t(l);
    const float q = kIq4Values[l];
    sumqx += weight[j] * q * x[j];
    sumq2 += weight[j] * q * q;
  }
  d = sumqx / sumq2;
  float best = d * sumqx;
  for (int itry = -kScaleTries; itry <= kScaleTries; ++itry) {
    id = (float(itry) + float(kIq4Values[0])) / max;
    sumqx = sumq2 = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      const float q = kIq4Values[nearest_code(id * x[j])];
      sumqx += weight[j] * q * x[j];
      sumq2 += weight[j] * q * q;
    }
    if (sumq2 > 0.0f && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

void pack_nibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = uint8_t(L[j] | (L[j + kQK / 2] << 4));
}

}  // namespace

void dequantize_iq4_nl(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockIQ4_NL), y += kQK) {
    const auto b = load_block<BlockIQ4_NL>(src);
    const float d = fp16_to_float(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * float(kIq4Values[b.qs[j] & 0x0f]);
      y[j + kQK / 2] = d * float(kIq4Values[b.qs[j] >> 4]);
    }
  }
}

void dequantize_iq4_xs(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockIQ4_XS)) {
    const auto b = load_block<BlockIQ4_XS>(src);
    const float d = fp16_to_float(b.d);
    const uint8_t* qs = b.qs;
    for (int ib = 0; ib < kQK_K / kQK; ++ib, qs += kQK / 2, y += kQK) {
      const float dl = d * float(iq4_xs_group_scale(b.scales_h, b.scales_l, ib));
      for (int j = 0; j < kQK / 2; ++j) {
        y[j] = dl * float(kIq4Values[qs[j] & 0x0f]);
        y[j + kQK / 2] = dl * float(kIq4Values[qs[j] >> 4]);
      }
    }
  }
}

void quantize_iq4_nl(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK, dst += sizeof(BlockIQ4_NL)) {
    BlockIQ4_NL b{};
    uint8_t L[kQK];
    const float d = fit_group_scale(x, L);
    b.d = float_to_fp16(d);
    // Re-round every value against the scale that was actually fitted.
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < kQK; ++j) L[j] = uint8_t(nearest_code(id * x[j]));
    pack_nibbles(L, b.qs);
    store_block(dst, b);
  }
}

void quantize_iq4_xs(const float* x, uint8_t* dst, size_t n_blocks) {
  constexpr int kGroups = kQK_K / kQK;
  for (size_t i = 0; i < n_blocks; ++i, x += kQK_K, dst += sizeof(BlockIQ4_XS)) {
    BlockIQ4_XS b{};
    uint8_t L[kQK_K];
    float scales[kGroups];
    float max_scale = 0.0f, amax_scale = 0.0f;
    for (int ib = 0; ib < kGroups; ++ib) {
      scales[ib] = fit_group_scale(x + kQK * ib, L + kQK * ib);
      if (std::fabs(scales[ib]) > amax_scale) {
        amax_scale = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    // Sub-scales are 6-bit signed multiples of d; the largest maps to -32.
    const float d = -max_scale / 32.0f;
    b.d = float_to_fp16(d);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int ib = 0; ib < kGroups; ++ib) {
      int l = clamp_int(nearest_int(id * scales[ib]), -32, 31);
      const float dl = d * float(l);
      const float idl = dl != 0.0f ? 1.0f / dl : 0.0f;
      for (int j = 0; j < kQK; ++j) L[kQK * ib + j] = uint8_t(nearest_code(idl * x[kQK * ib + j]));
      l += 32;
      if (ib % 2 == 0) b.scales_l[ib / 2] = uint8_t(l & 0x0f);
      else b.scales_l[ib / 2] = uint8_t(b.scales_l[ib / 2] | ((l & 0x0f) << 4));
      b.scales_h = uint16_t(b.scales_h | ((l >> 4) << (2 * ib)));
    }
    for (int ib = 0; ib < kGroups; ++ib) pack_nibbles(L + kQK * ib, b.qs + kQK / 2 * ib);
    store_block(dst, b);
  }
}

}  // namespace minnow::quant
