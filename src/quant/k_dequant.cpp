// K-quant decoders. Loop orders and the order of each multiplication follow
// ggml's to_float exactly: float rounding makes (d*sc)*q differ from d*(sc*q).
#include <cstring>

#include "quant/block_formats.h"
#include "quant/k_quants.h"
#include "quant/quant_math.h"

namespace minnow::quant {

void dequantize_q2_k(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ2_K)) {
    const auto b = load_block<BlockQ2_K>(src);
    const float d = fp16_to_float(b.d), min = fp16_to_float(b.dmin);
    const uint8_t* q = b.qs;
    int is = 0;
    // Each 32-byte run of qs holds four 2-bit planes of 32 values (two groups).
    for (int n = 0; n < kQK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = b.scales[is++];
          const float dl = d * float(sc & 0x0f), ml = min * float(sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * float((q[l + 16 * half] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void dequantize_q3_k(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ3_K)) {
    const auto b = load_block<BlockQ3_K>(src);
    const float d_all = fp16_to_float(b.d);
    int8_t scales[16];
    unpack_q3_k_scales(b.scales, scales);
    const uint8_t* q = b.qs;
    uint8_t m = 1;  // which hmask bit belongs to the current plane
    int is = 0;
    for (int n = 0; n < kQK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = uint8_t(m << 1)) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * float(scales[is++]);
          for (int l = 16 * half; l < 16 * half + 16; ++l)
            *y++ = dl * float(((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4));
        }
      }
    }
  }
}

void dequantize_q4_k(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ4_K)) {
    const auto b = load_block<BlockQ4_K>(src);
    const float d = fp16_to_float(b.d), min = fp16_to_float(b.dmin);
    const uint8_t* q = b.qs;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t sc, m;
      k_scale_min(is, b.scales, sc, m);
      const float d1 = d * float(sc), m1 = min * float(m);
      k_scale_min(is + 1, b.scales, sc, m);
      const float d2 = d * float(sc), m2 = min * float(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
    }
  }
}

void dequantize_q5_k(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ5_K)) {
    const auto b = load_block<BlockQ5_K>(src);
    const float d = fp16_to_float(b.d), min = fp16_to_float(b.dmin);
    const uint8_t* ql = b.qs;
    uint8_t u1 = 1, u2 = 2;  // qh bits of the low and high nibble plane
    for (int is = 0; is < 8; is += 2, ql += 32, u1 = uint8_t(u1 << 2), u2 = uint8_t(u2 << 2)) {
      uint8_t sc, m;
      k_scale_min(is, b.scales, sc, m);
      const float d1 = d * float(sc), m1 = min * float(m);
      k_scale_min(is + 1, b.scales, sc, m);
      const float d2 = d * float(sc), m2 = min * float(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0x0f) + ((b.qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

void dequantize_q6_k(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ6_K)) {
    const auto b = load_block<BlockQ6_K>(src);
    const float d = fp16_to_float(b.d);
    const uint8_t* ql = b.ql;
    const uint8_t* qh = b.qh;
    const int8_t* sc = b.scales;
    for (int n = 0; n < kQK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * float(sc[is]) * float(q1);
        y[l + 32] = d * float(sc[is + 2]) * float(q2);
        y[l + 64] = d * float(sc[is + 4]) * float(q3);
        y[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
    }
  }
}

void dequantize_q8_k(const uint8_t* src, float* y, size_t n_blocks) {
  for (size_t i = 0; i < n_blocks; ++i, src += sizeof(BlockQ8_K)) {
    const auto b = load_block<BlockQ8_K>(src);
    for (int j = 0; j < kQK_K; ++j) *y++ = b.d * float(b.qs[j]);
  }
}

}  // namespace minnow::quant
