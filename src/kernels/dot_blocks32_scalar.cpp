// Scalar twins of the Q4_1, Q5_1, IQ4_NL and BF16 kernels: the specification
// dot_blocks32_avx2.cpp is tested against. Like dot_scalar.cpp they form the
// same integer block sums as the SIMD path, so tests see only float rounding.
#include <cstring>
#include <type_traits>

#include "base/half.h"
#include "kernels/kernel_fill.h"
#include "quant/block_formats.h"

namespace minnow::kernels {
namespace {

using namespace quant;

template <class Block>
Block load(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof(Block));
  return b;
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

float dot_bf16(const uint8_t* w, const uint8_t* x, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    float b;
    std::memcpy(&h, w + 2 * i, 2);
    std::memcpy(&b, x + 4 * i, 4);
    sum += bf16_to_float(h) * b;
  }
  return sum;
}

}  // namespace

void fill_blocks32_scalar(KernelTable& t) {
  t.dot[uint32_t(GgmlType::Q4_1)] = dot_kernel(ActFormat::kQ8_0, dot_q45_1<false>);
  t.dot[uint32_t(GgmlType::Q5_1)] = dot_kernel(ActFormat::kQ8_0, dot_q45_1<true>);
  t.dot[uint32_t(GgmlType::IQ4_NL)] = dot_kernel(ActFormat::kQ8_0, dot_iq4_nl);
  t.dot[uint32_t(GgmlType::BF16)] = dot_kernel(ActFormat::kF32, dot_bf16);
}

}  // namespace minnow::kernels
