// Scalar twins: the specification every SIMD kernel is tested against. They
// compute the same integer block sums as the SIMD paths (weights x int8
// activations), so the only difference a test may see is float rounding.
#include <cstring>
#include <type_traits>

#include "base/half.h"
#include "kernels/kernel_fill.h"
#include "quant/block_formats.h"
#include "quant/k_quants.h"

namespace minnow::kernels {
namespace {

using namespace quant;

template <class Block>
Block load(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof(Block));
  return b;
}

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

float dot_q8_0(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ8_0>(w + i * sizeof(BlockQ8_0));
    const auto b = load<BlockQ8_0>(x + i * sizeof(BlockQ8_0));
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += int(a.qs[j]) * int(b.qs[j]);
    sum += fp16_to_float(a.d) * fp16_to_float(b.d) * float(s);
  }
  return sum;
}

float dot_q4_0(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ4_0>(w + i * sizeof(BlockQ4_0));
    const auto b = load<BlockQ8_0>(x + i * sizeof(BlockQ8_0));
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j)
      s += (int(a.qs[j] & 0x0f) - 8) * b.qs[j] + (int(a.qs[j] >> 4) - 8) * b.qs[j + kQK / 2];
    sum += fp16_to_float(a.d) * fp16_to_float(b.d) * float(s);
  }
  return sum;
}

float dot_q5_0(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockQ5_0>(w + i * sizeof(BlockQ5_0));
    const auto b = load<BlockQ8_0>(x + i * sizeof(BlockQ8_0));
    uint32_t qh;
    std::memcpy(&qh, a.qh, 4);
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = int((a.qs[j] & 0x0f) | (((qh >> j) & 1) << 4)) - 16;
      const int hi = int((a.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
      s += lo * b.qs[j] + hi * b.qs[j + kQK / 2];
    }
    sum += fp16_to_float(a.d) * fp16_to_float(b.d) * float(s);
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
    const auto a = load<Block>(w + i * sizeof(Block));
    const auto b = load<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
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
    const auto a = load<BlockQ6_K>(w + i * sizeof(BlockQ6_K));
    const auto b = load<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
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

// d * sum(q) of activation block i, stored after the nb Q8_0 blocks
// (ActFormat::kQ8_0).
float act_block_sum(const uint8_t* x, size_t nb, size_t i) {
  float f;
  std::memcpy(&f, x + nb * sizeof(BlockQ8_0) + i * sizeof(float), sizeof(float));
  return f;
}

// Q4_1 and Q5_1: value = d * u + m with u unsigned, so a block contributes
// d_w * d_x * sum(u * q) + m_w * (d_x * sum(q)); the activations carry the
// second factor precomputed.
template <bool kFifthBit>
float dot_q45_1(const uint8_t* w, const uint8_t* x, size_t n) {
  using Block = std::conditional_t<kFifthBit, BlockQ5_1, BlockQ4_1>;
  const size_t nb = n / kQK;
  float sum = 0.0f;
  for (size_t i = 0; i < nb; ++i) {
    const auto a = load<Block>(w + i * sizeof(Block));
    const auto b = load<BlockQ8_0>(x + i * sizeof(BlockQ8_0));
    uint32_t qh = 0;
    if constexpr (kFifthBit) std::memcpy(&qh, a.qh, 4);
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = int((a.qs[j] & 0x0f) | (((qh >> j) & 1) << 4));
      const int hi = int((a.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
      s += lo * b.qs[j] + hi * b.qs[j + kQK / 2];
    }
    sum += fp16_to_float(a.d) * fp16_to_float(b.d) * float(s) + fp16_to_float(a.m) * act_block_sum(x, nb, i);
  }
  return sum;
}

float dot_iq4_nl(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    const auto a = load<BlockIQ4_NL>(w + i * sizeof(BlockIQ4_NL));
    const auto b = load<BlockQ8_0>(x + i * sizeof(BlockQ8_0));
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j)
      s += kIq4Values[a.qs[j] & 0x0f] * b.qs[j] + kIq4Values[a.qs[j] >> 4] * b.qs[j + kQK / 2];
    sum += fp16_to_float(a.d) * fp16_to_float(b.d) * float(s);
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
    const auto a = load<BlockQ2_K>(w + i * sizeof(BlockQ2_K));
    const auto b = load<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
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

// Scale j of the 12-byte Q3_K field, unbiased: the low nibble from bytes
// 0..7, the top two bits from bytes 8..11.
inline int q3_k_scale(const uint8_t* packed, int j) {
  const int low = j < 8 ? packed[j] & 0x0f : packed[j - 8] >> 4;
  const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// Q3_K: value = d * scale * (q - 4), where q's third bit is the hmask bit
// (plane 4 * half + 2-bit plane of the element, byte e % 32).
float dot_q3_k(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK_K; ++i) {
    const auto a = load<BlockQ3_K>(w + i * sizeof(BlockQ3_K));
    const auto b = load<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
    int sumi = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * g + l;
        const int high = (a.hmask[e % 32] >> (e / 32)) & 1;
        s += (low2(a.qs, e) + 4 * high - 4) * b.qs[e];
      }
      sumi += q3_k_scale(a.scales, g) * s;
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
    const auto a = load<BlockIQ4_XS>(w + i * sizeof(BlockIQ4_XS));
    const auto b = load<BlockQ8_K>(x + i * sizeof(BlockQ8_K));
    int sumi = 0;
    for (int ib = 0; ib < kQK_K / kQK; ++ib) {
      const int ls = ((a.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((a.scales_h >> (2 * ib)) & 3) << 4);
      const uint8_t* q = a.qs + 16 * ib;
      const int8_t* y = b.qs + 32 * ib;
      int s = 0;
      for (int j = 0; j < 16; ++j) s += kIq4Values[q[j] & 0x0f] * y[j] + kIq4Values[q[j] >> 4] * y[j + 16];
      sumi += (ls - 32) * s;
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
  set(GgmlType::Q8_0, ActFormat::kQ8_0, dot_q8_0);
  set(GgmlType::Q4_0, ActFormat::kQ8_0, dot_q4_0);
  set(GgmlType::Q5_0, ActFormat::kQ8_0, dot_q5_0);
  set(GgmlType::Q4_K, ActFormat::kQ8_K, dot_q45_k<false>);
  set(GgmlType::Q5_K, ActFormat::kQ8_K, dot_q45_k<true>);
  set(GgmlType::Q6_K, ActFormat::kQ8_K, dot_q6_k);
  set(GgmlType::Q4_1, ActFormat::kQ8_0, dot_q45_1<false>);
  set(GgmlType::Q5_1, ActFormat::kQ8_0, dot_q45_1<true>);
  set(GgmlType::IQ4_NL, ActFormat::kQ8_0, dot_iq4_nl);
  set(GgmlType::Q2_K, ActFormat::kQ8_K, dot_q2_k);
  set(GgmlType::Q3_K, ActFormat::kQ8_K, dot_q3_k);
  set(GgmlType::IQ4_XS, ActFormat::kQ8_K, dot_iq4_xs);
}

}  // namespace minnow::kernels
