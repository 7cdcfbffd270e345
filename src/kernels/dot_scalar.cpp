// Scalar twins: the specification every SIMD kernel is tested against. They
// compute the same integer block sums as the SIMD paths (weights x int8
// activations), so the only difference a test may see is float rounding.
#include <cstring>

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

float dot_f16(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    float b;
    std::memcpy(&h, w + 2 * i, 2);
    std::memcpy(&b, x + 4 * i, 4);
    sum += fp16_to_float(h) * b;
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

}  // namespace

void fill_scalar_kernels(KernelTable& t) {
  auto set = [&](GgmlType type, ActFormat act, DotFn fn) { t.dot[uint32_t(type)] = dot_kernel(act, fn); };
  set(GgmlType::F32, ActFormat::kF32, dot_f32);
  set(GgmlType::F16, ActFormat::kF32, dot_f16);
  set(GgmlType::Q8_0, ActFormat::kQ8_0, dot_q8_0);
  set(GgmlType::Q4_0, ActFormat::kQ8_0, dot_q4_0);
  set(GgmlType::Q5_0, ActFormat::kQ8_0, dot_q5_0);
  set(GgmlType::Q4_K, ActFormat::kQ8_K, dot_q45_k<false>);
  set(GgmlType::Q5_K, ActFormat::kQ8_K, dot_q45_k<true>);
  set(GgmlType::Q6_K, ActFormat::kQ8_K, dot_q6_k);
  fill_blocks32_scalar(t);
  fill_kquant_low_scalar(t);
}

}  // namespace minnow::kernels
