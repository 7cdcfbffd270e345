// K-quant encoders: a scale search per group, then the group scales are
// themselves quantized (4 or 6 bits against one half-precision super-scale),
// and finally every value is re-rounded against the scale the decoder will
// really see.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_formats.h"
#include "quant/k_quants.h"
#include "quant/k_scale_search.h"
#include "quant/quant_math.h"

namespace minnow::quant {

void quantize_q2_k(const float* x, uint8_t* dst, size_t n_blocks) {
  constexpr float kScaleLevels = 15.0f;  // 4-bit scales and mins
  for (size_t i = 0; i < n_blocks; ++i, x += kQK_K, dst += sizeof(BlockQ2_K)) {
    BlockQ2_K b{};
    uint8_t L[kQK_K], L_scratch[16];
    float weights[16], mins[16], scales[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = search_scale_min(16, 3, x + 16 * j, weights, L + 16 * j, mins[j], L_scratch, -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    if (max_scale > 0.0f) {
      const float iscale = kScaleLevels / max_scale;
      for (int j = 0; j < 16; ++j) b.scales[j] = uint8_t(nearest_int(iscale * scales[j]));
      b.d = float_to_fp16(max_scale / kScaleLevels);
    } else {
      b.d = float_to_fp16(0.0f);
    }
    if (max_min > 0.0f) {
      const float iscale = kScaleLevels / max_min;
      for (int j = 0; j < 16; ++j) b.scales[j] = uint8_t(b.scales[j] | (nearest_int(iscale * mins[j]) << 4));
      b.dmin = float_to_fp16(max_min / kScaleLevels);
    } else {
      b.dmin = float_to_fp16(0.0f);
    }
    for (int j = 0; j < 16; ++j) {
      const float d = fp16_to_float(b.d) * float(b.scales[j] & 0x0f);
      if (d == 0.0f) continue;
      const float dm = fp16_to_float(b.dmin) * float(b.scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = uint8_t(clamp_int(nearest_int((x[16 * j + ii] + dm) / d), 0, 3));
    }
    for (int j = 0; j < kQK_K; j += 128)
      for (int l = 0; l < 32; ++l)
        b.qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    store_block(dst, b);
  }
}

void quantize_q3_k(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK_K, dst += sizeof(BlockQ3_K)) {
    BlockQ3_K b{};
    int8_t L[kQK_K];
    float scales[16];
    float max_scale = 0.0f, amax = 0.0f;
    for (int j = 0; j < 16; ++j) {
      scales[j] = search_q3_scale(16, 4, x + 16 * j, L + 16 * j, true);
      if (std::fabs(scales[j]) > amax) {
        amax = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < 16; ++j) {
        const int l = clamp_int(nearest_int(iscale * scales[j]), -32, 31) + 32;
        if (j < 8) b.scales[j] = uint8_t(l & 0x0f);
        else b.scales[j - 8] = uint8_t(b.scales[j - 8] | ((l & 0x0f) << 4));
        b.scales[j % 4 + 8] = uint8_t(b.scales[j % 4 + 8] | ((l >> 4) << (2 * (j / 4))));
      }
      b.d = float_to_fp16(1.0f / iscale);
    } else {
      b.d = float_to_fp16(0.0f);
    }
    for (int j = 0; j < 16; ++j) {
      int sc = j < 8 ? b.scales[j] & 0x0f : b.scales[j - 8] >> 4;
      sc = (sc | (((b.scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
      const float d = fp16_to_float(b.d) * float(sc);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = int8_t(clamp_int(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
    }
    // The third bit goes to hmask: bit plane p of byte m is element 32*p + m.
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < kQK_K; ++j) {
      if (L[j] > 3) {
        b.hmask[m] = uint8_t(b.hmask[m] | hm);
        L[j] = int8_t(L[j] - 4);
      }
      if (++m == kQK_K / 8) {
        m = 0;
        hm = uint8_t(hm << 1);
      }
    }
    for (int j = 0; j < kQK_K; j += 128)
      for (int l = 0; l < 32; ++l)
        b.qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    store_block(dst, b);
  }
}

namespace {

// Shared by Q4_K and Q5_K: eight groups of 32 with asymmetric codes in
// [0, nmax], then 6-bit scales and mins packed into 12 bytes. L gets the
// final codes.
void quantize_k_scale_min_block(const float* x, int nmax, float rmin, int nstep, uint16_t& d_out,
                                uint16_t& dmin_out, uint8_t packed[kKScaleBytes], uint8_t L[kQK_K]) {
  uint8_t L_scratch[32];
  float weights[32], mins[8], scales[8];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    // Weight by magnitude plus the group's RMS: large values matter more,
    // but small ones are never ignored.
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32.0f);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = search_scale_min(32, nmax, x + 32 * j, weights, L + 32 * j, mins[j], L_scratch, rmin, 0.1f, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  std::memset(packed, 0, kKScaleBytes);
  for (int j = 0; j < 8; ++j) {
    const int ls = std::min(63, nearest_int(inv_scale * scales[j]));
    const int lm = std::min(63, nearest_int(inv_min * mins[j]));
    if (j < 4) {
      packed[j] = uint8_t(ls);
      packed[j + 4] = uint8_t(lm);
    } else {
      packed[j + 4] = uint8_t((ls & 0x0f) | ((lm & 0x0f) << 4));
      packed[j - 4] = uint8_t(packed[j - 4] | ((ls >> 4) << 6));
      packed[j] = uint8_t(packed[j] | ((lm >> 4) << 6));
    }
  }
  d_out = float_to_fp16(max_scale / 63.0f);
  dmin_out = float_to_fp16(max_min / 63.0f);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k_scale_min(j, packed, sc, m);
    const float d = fp16_to_float(d_out) * float(sc);
    if (d == 0.0f) continue;
    const float dm = fp16_to_float(dmin_out) * float(m);
    for (int ii = 0; ii < 32; ++ii) L[32 * j + ii] = uint8_t(clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
  }
}

}  // namespace

void quantize_q4_k(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK_K, dst += sizeof(BlockQ4_K)) {
    BlockQ4_K b{};
    uint8_t L[kQK_K];
    quantize_k_scale_min_block(x, 15, -1.0f, 20, b.d, b.dmin, b.scales, L);
    uint8_t* q = b.qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
    store_block(dst, b);
  }
}

void quantize_q5_k(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK_K, dst += sizeof(BlockQ5_K)) {
    BlockQ5_K b{};
    uint8_t L[kQK_K];
    quantize_k_scale_min_block(x, 31, -0.5f, 15, b.d, b.dmin, b.scales, L);
    uint8_t* ql = b.qs;
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK_K; n += 64, ql += 32, m1 = uint8_t(m1 << 2), m2 = uint8_t(m2 << 2)) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j], l2 = L[n + j + 32];
        if (l1 > 15) {
          l1 -= 16;
          b.qh[j] = uint8_t(b.qh[j] | m1);
        }
        if (l2 > 15) {
          l2 -= 16;
          b.qh[j] = uint8_t(b.qh[j] | m2);
        }
        ql[j] = uint8_t(l1 | (l2 << 4));
      }
    }
    store_block(dst, b);
  }
}

void quantize_q6_k(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK_K, dst += sizeof(BlockQ6_K)) {
    BlockQ6_K b{};
    int8_t L[kQK_K];
    float scales[16];
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int ib = 0; ib < 16; ++ib) {
      scales[ib] = search_symmetric_scale(16, 32, x + 16 * ib, L + 16 * ib, 1);
      if (std::fabs(scales[ib]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      b.d = float_to_fp16(0.0f);  // all codes zero: decodes to zeros
      store_block(dst, b);
      continue;
    }
    const float iscale = -128.0f / max_scale;
    b.d = float_to_fp16(1.0f / iscale);
    for (int ib = 0; ib < 16; ++ib) b.scales[ib] = int8_t(std::min(127, nearest_int(iscale * scales[ib])));
    for (int j = 0; j < 16; ++j) {
      const float d = fp16_to_float(b.d) * float(b.scales[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = int8_t(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }
    uint8_t* ql = b.ql;
    uint8_t* qh = b.qh;
    for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l] & 0x0f, q2 = L[j + l + 32] & 0x0f;
        const int q3 = L[j + l + 64] & 0x0f, q4 = L[j + l + 96] & 0x0f;
        ql[l] = uint8_t(q1 | (q3 << 4));
        ql[l + 32] = uint8_t(q2 | (q4 << 4));
        qh[l] = uint8_t((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                        ((L[j + l + 96] >> 4) << 6));
      }
    }
    store_block(dst, b);
  }
}

void quantize_q8_k(const float* x, uint8_t* dst, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, x += kQK_K, dst += sizeof(BlockQ8_K)) {
    BlockQ8_K b{};
    float max = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax != 0.0f) {
      // -127 (not -128): the codes stay symmetric, so int8 dot products with
      // sign tricks (x86 maddubs) cannot overflow.
      const float iscale = -127.0f / max;
      for (int j = 0; j < kQK_K; ++j) b.qs[j] = int8_t(std::min(127, nearest_int(iscale * x[j])));
      for (int g = 0; g < kQK_K / 16; ++g) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
        b.bsums[g] = int16_t(sum);
      }
      b.d = 1.0f / iscale;
    }
    store_block(dst, b);
  }
}

}  // namespace minnow::quant
