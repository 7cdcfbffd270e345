#include "kernels/kquant_decode_panel.h"

#include <cstring>

#include "base/half.h"
#include "quant/k_quants.h"

namespace minnow::kernels {
namespace {
uint16_t u16_at(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
}  // namespace
}  // namespace minnow::kernels

namespace minnow::kernels::q4k_panel {
namespace {

using quant::kQK_K;
constexpr size_t kRowBytes = sizeof(quant::BlockQ4_K);
constexpr size_t kRowQsAt = offsetof(quant::BlockQ4_K, qs);
constexpr int kValues = 64;  // 8 sub-blocks x 8 rows

// Six-bit value v (0..63) of a scales or mins field (layout in the header).
uint8_t six_bit(const uint8_t* field, int v) {
  const uint8_t low = (field[v % 32] >> (v < 32 ? 0 : 4)) & 0x0f;
  const uint8_t top = (field[32 + v % 16] >> (2 * (v / 16))) & 3;
  return uint8_t(low | top << 4);
}

void put_six_bit(const uint8_t values[kValues], uint8_t* field) {
  for (int k = 0; k < 32; ++k) field[k] = uint8_t((values[k] & 0x0f) | (values[k + 32] & 0x0f) << 4);
  for (int j = 0; j < 16; ++j) {
    uint8_t top = 0;
    for (int i = 0; i < 4; ++i) top = uint8_t(top | ((values[j + 16 * i] >> 4) & 3) << (2 * i));
    field[32 + j] = top;
  }
}

}  // namespace

void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
    uint8_t scales[kValues], mins[kValues];
    for (size_t r = 0; r < kRows; ++r) {
      const uint8_t* a = w + r * row_bytes + sb * kRowBytes;
      std::memcpy(panel + kDAt + 2 * r, a + offsetof(quant::BlockQ4_K, d), 2);
      std::memcpy(panel + kDminAt + 2 * r, a + offsetof(quant::BlockQ4_K, dmin), 2);
      for (int s = 0; s < 8; ++s)
        quant::k_scale_min(s, a + offsetof(quant::BlockQ4_K, scales), scales[8 * s + r], mins[8 * s + r]);
      // Four elements at a time: word j of sub-block s takes bytes 4j.. and
      // 16 + 4j.. of the row's 32-byte run, low nibbles for even s, high for odd.
      const uint8_t* qs = a + kRowQsAt;
      for (int s = 0; s < 8; ++s)
        for (int j = 0; j < 4; ++j) {
          uint32_t lo, hi;
          std::memcpy(&lo, qs + 32 * (s / 2) + 4 * j, 4);
          std::memcpy(&hi, qs + 32 * (s / 2) + 16 + 4 * j, 4);
          const uint32_t word =
              s % 2 == 0 ? (lo & 0x0f0f0f0fu) | (hi & 0x0f0f0f0fu) << 4 : (lo >> 4 & 0x0f0f0f0fu) | (hi & 0xf0f0f0f0u);
          std::memcpy(panel + kQsAt + kSubBlockBytes * s + 32 * j + 4 * r, &word, 4);
        }
    }
    put_six_bit(scales, panel + kScalesAt);
    put_six_bit(mins, panel + kMinsAt);
  }
}

void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out) {
  const size_t row = r % kRows;
  const uint8_t* p = panels + r / kRows * (n / kQK_K * kBlockBytes);
  for (size_t sb = 0; sb < n / kQK_K; ++sb, p += kBlockBytes) {
    const float d = fp16_to_float(u16_at(p + kDAt + 2 * row)), min = fp16_to_float(u16_at(p + kDminAt + 2 * row));
    for (int s = 0; s < 8; ++s) {
      // The reference dequantizer's arithmetic, so the rows come back bit for bit.
      const float d1 = d * float(six_bit(p + kScalesAt, 8 * s + int(row)));
      const float m1 = min * float(six_bit(p + kMinsAt, 8 * s + int(row)));
      const uint8_t* q = p + kQsAt + kSubBlockBytes * s + 4 * row;
      for (int e = 0; e < 32; ++e) {
        const uint8_t byte = q[32 * ((e % 16) / 4) + e % 4];
        *out++ = d1 * float(e < 16 ? byte & 0x0f : byte >> 4) - m1;
      }
    }
  }
}

}  // namespace minnow::kernels::q4k_panel
