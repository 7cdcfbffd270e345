// Scalar twins of the Q2_K, Q3_K and IQ4_XS kernels: the specification
// dot_kquant_low_avx2.cpp is tested against. Each forms the same exact
// integer sum per super-block as the SIMD path (only its grouping of the
// integer terms differs, which cannot change an exact sum), so tests see only
// float rounding. Element order and scale packing follow the reference
// decoders in quant/k_dequant.cpp and quant/iq_quants.cpp.
#include <cstring>

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

void fill_kquant_low_scalar(KernelTable& t) {
  t.dot[uint32_t(GgmlType::Q2_K)] = dot_kernel(ActFormat::kQ8_K, dot_q2_k);
  t.dot[uint32_t(GgmlType::Q3_K)] = dot_kernel(ActFormat::kQ8_K, dot_q3_k);
  t.dot[uint32_t(GgmlType::IQ4_XS)] = dot_kernel(ActFormat::kQ8_K, dot_iq4_xs);
}

}  // namespace minnow::kernels
