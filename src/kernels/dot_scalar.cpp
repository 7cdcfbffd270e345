// Scalar twins: the specification every SIMD kernel is tested against. They
// compute the same integer block sums as the SIMD paths (weights x int8
// activations), so the only difference a test may see is float rounding.
#include <cstring>
#include <type_traits>

#include "base/half.h"
#include "kernels/kernel_fill.h"
#include "quant/block_formats.h"
#include "quant/iq_quants.h"
#include "quant/k_quants.h"
#include "quant/quant_math.h"

namespace minnow::kernels {
namespace {

using namespace quant;

float dot_f32(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    float a, b;
    std::memcpy(&a, w + 4 * i, 4);
    std::memcpy(&b, x + 4 * i, 4);
    sum += a * b;
  }
  return sum;
}

// 16-bit floats (fp16 or bf16, per ToFloat) against float activations.
template <float (*ToFloat)(uint16_t)>
float dot_16bit(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    float b;
    std::memcpy(&h, w + 2 * i, 2);
    std::memcpy(&b, x + 4 * i, 4);
    sum += ToFloat(h) * b;
  }
  return sum;
}

// d * sum(q) of activation block i, stored after the nb Q8_0 blocks
// (ActFormat::kQ8_0).
float act_block_sum(const uint8_t* x, size_t nb, size_t i) {
  float f;
  std::memcpy(&f, x + nb * sizeof(BlockQ8_0) + i * sizeof(float), sizeof(float));
  return f;
}

// Value j (element order: low nibbles are 0..15, high ones 16..31) of a
// 32-element block as the integer the SIMD kernels multiply: the code less
// the type's offset (Q4_0: 8, Q5_0: 16), or IQ4_NL's codebook entry.
template <class Block>
int block_value(const Block& a, int j) {
  if constexpr (std::is_same_v<Block, BlockQ8_0>) {
    return a.qs[j];
  } else {
    int u = j < kQK / 2 ? a.qs[j] & 0x0f : a.qs[j - kQK / 2] >> 4;
    if constexpr (std::is_same_v<Block, BlockIQ4_NL>) return kIq4Values[u];
    if constexpr (requires { a.qh; }) {  // Q5_0, Q5_1: the fifth bits
      uint32_t qh;
      std::memcpy(&qh, a.qh, 4);
      u |= int((qh >> j) & 1) << 4;
    }
    if constexpr (std::is_same_v<Block, BlockQ4_0>) u -= 8;
    if constexpr (std::is_same_v<Block, BlockQ5_0>) u -= 16;
    return u;
  }
}

// The 32-element block types against Q8_0 activations: d_w * d_x * sum of
// value * q per block; Q4_1 and Q5_1 (value = d * u + m) add m_w times the
// activations' precomputed d_x * sum(q).
template <class Block>
float dot_block32(const uint8_t* w, const uint8_t* x, size_t n) {
  const size_t nb = n / kQK;
  float sum = 0.0f;
  for (size_t i = 0; i < nb; ++i) {
    const auto a = load_block<Block>(w + i * sizeof(Block));
    const auto b = load_block<BlockQ8_0>(x + i * sizeof(BlockQ8_0));
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += block_value(a, j) * b.qs[j];
    float block = fp16_to_float(a.d) * fp16_to_float(b.d) * float(s);
    if constexpr (requires { a.m; }) block += fp16_to_float(a.m) * act_block_sum(x, nb, i);
    sum += block;
  }
  return sum;
}

// Q4_K and Q5_K: value = d*scale*q - dmin*min per 32-group. The min term
// uses the activation block's 16-group sums, as the SIMD kernels do.
template <bool kFifthBit>
float dot_q45_k(const uint8_t* w, const uint8_t* x, size_t n) {
  using Block = std::conditional_t<kFifthBit, BlockQ5_K, BlockQ4_K>;
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load_block<Block>(w + i * sizeof(Block));
    const auto b = load_block<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
    int sumi = 0, summ = 0;
    for (int g = 0; g < 8; ++g) {
      uint8_t sc, m;
      k_scale_min(g, a.scales, sc, m);
      const int pair = g / 2, shift = (g % 2) * 4;
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        int q = (a.qs[pair * 32 + l] >> shift) & 0x0f;
        if constexpr (kFifthBit) q |= ((a.qh[l] >> g) & 1) << 4;
        s += q * b.qs[g * 32 + l];
      }
      sumi += int(sc) * s;
      summ += int(m) * (b.bsums[2 * g] + b.bsums[2 * g + 1]);
    }
    sum += b.d * (fp16_to_float(a.d) * float(sumi) - fp16_to_float(a.dmin) * float(summ));
  }
  return sum;
}

float dot_q6_k(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load_block<BlockQ6_K>(w + i * sizeof(BlockQ6_K));
    const auto b = load_block<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
    int sumi = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = a.ql + 64 * half;
      const uint8_t* qh = a.qh + 32 * half;
      const int8_t* sc = a.scales + 8 * half;
      const int8_t* y = b.qs + 128 * half;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        sumi += sc[is] * q1 * y[l] + sc[is + 2] * q2 * y[l + 32] + sc[is + 4] * q3 * y[l + 64] +
                sc[is + 6] * q4 * y[l + 96];
      }
    }
    sum += b.d * fp16_to_float(a.d) * float(sumi);
  }
  return sum;
}

// Q2_K and Q3_K spread each 128-element half over 32 bytes of qs: element
// 128 * half + 32 * plane + l is 2-bit field `plane` of byte 32 * half + l.
inline int low2(const uint8_t* qs, int e) { return (qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3; }

// Q2_K: value = d * scale * q - dmin * min per 16-group. The min term uses
// the activation's 16-group sums, as the SIMD kernel does.
float dot_q2_k(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load_block<BlockQ2_K>(w + i * sizeof(BlockQ2_K));
    const auto b = load_block<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
    int sumi = 0, summ = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += low2(a.qs, 16 * g + l) * b.qs[16 * g + l];
      sumi += int(a.scales[g] & 0x0f) * s;
      summ += int(a.scales[g] >> 4) * b.bsums[g];
    }
    sum += b.d * (fp16_to_float(a.d) * float(sumi) - fp16_to_float(a.dmin) * float(summ));
  }
  return sum;
}

// Q3_K: value = d * scale * (q - 4), where q's third bit is the hmask bit
// (plane 4 * half + 2-bit plane of the element, byte e % 32).
float dot_q3_k(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load_block<BlockQ3_K>(w + i * sizeof(BlockQ3_K));
    const auto b = load_block<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
    int8_t scales[16];
    unpack_q3_k_scales(a.scales, scales);
    int sumi = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * g + l;
        const int high = (a.hmask[e % 32] >> (e / 32)) & 1;
        s += (low2(a.qs, e) + 4 * high - 4) * b.qs[e];
      }
      sumi += scales[g] * s;
    }
    sum += b.d * fp16_to_float(a.d) * float(sumi);
  }
  return sum;
}

// IQ4_XS: value = d * (scale - 32) * kIq4Values[code] per 32-group; within
// a group the low nibbles are elements 0..15, the high ones 16..31.
float dot_iq4_xs(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load_block<BlockIQ4_XS>(w + i * sizeof(BlockIQ4_XS));
    const auto b = load_block<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
    int sumi = 0;
    for (int ib = 0; ib < kQK_K / kQK; ++ib) {
      const uint8_t* q = a.qs + 16 * ib;
      const int8_t* y = b.qs + 32 * ib;
      int s = 0;
      for (int j = 0; j < 16; ++j) s += kIq4Values[q[j] & 0x0f] * y[j] + kIq4Values[q[j] >> 4] * y[j + 16];
      sumi += iq4_xs_group_scale(a.scales_h, a.scales_l, ib) * s;
    }
    sum += b.d * fp16_to_float(a.d) * float(sumi);
  }
  return sum;
}

}  // namespace

void fill_scalar_kernels(KernelTable& t) {
  auto set = [&](GgmlType type, ActFormat act, DotFn fn) { t.dot[uint32_t(type)] = dot_kernel(act, fn); };
  set(GgmlType::F32, ActFormat::kF32, dot_f32);
  set(GgmlType::F16, ActFormat::kF32, dot_16bit<fp16_to_float>);
  set(GgmlType::BF16, ActFormat::kF32, dot_16bit<bf16_to_float>);
  set(GgmlType::Q8_0, ActFormat::kQ8_0, dot_block32<BlockQ8_0>);
  set(GgmlType::Q4_0, ActFormat::kQ8_0, dot_block32<BlockQ4_0>);
  set(GgmlType::Q4_1, ActFormat::kQ8_0, dot_block32<BlockQ4_1>);
  set(GgmlType::Q5_0, ActFormat::kQ8_0, dot_block32<BlockQ5_0>);
  set(GgmlType::Q5_1, ActFormat::kQ8_0, dot_block32<BlockQ5_1>);
  set(GgmlType::IQ4_NL, ActFormat::kQ8_0, dot_block32<BlockIQ4_NL>);
  set(GgmlType::Q4_K, ActFormat::kQ8_K, dot_q45_k<false>);
  set(GgmlType::Q5_K, ActFormat::kQ8_K, dot_q45_k<true>);
  set(GgmlType::Q6_K, ActFormat::kQ8_K, dot_q6_k);
  set(GgmlType::Q2_K, ActFormat::kQ8_K, dot_q2_k);
  set(GgmlType::Q3_K, ActFormat::kQ8_K, dot_q3_k);
  set(GgmlType::IQ4_XS, ActFormat::kQ8_K, dot_iq4_xs);
}

}  // namespace minnow::kernels
