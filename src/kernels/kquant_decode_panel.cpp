#include "kernels/kquant_decode_panel.h"

#include <cstring>
#include <type_traits>

#include "base/half.h"
#include "quant/iq_quants.h"
#include "quant/k_quants.h"

namespace minnow::kernels {
namespace {

constexpr int kValues = 64;  // six-bit fields: 8 sub-blocks x 8 rows

uint16_t u16_at(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

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

// The 4-bit code (Q4_K/Q5_K nibble, IQ4_XS codebook index) of element e
// (0..31) of row r in a 128-byte group of a panel (layout in the header).
int group_code(const uint8_t* group, size_t r, int e) {
  const uint8_t byte = group[32 * ((e % 16) / 4) + 4 * r + e % 4];
  return e < 16 ? byte & 0x0f : byte >> 4;
}

// The 8x8 bit matrix whose row i is byte i, transposed: bit j of byte i
// becomes bit i of byte j (three rounds of swapping blocks across the diagonal).
uint64_t transpose_bits(uint64_t x) {
  uint64_t t = (x ^ (x >> 7)) & 0x00aa00aa00aa00aaull;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000cccc0000ccccull;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000f0f0f0f0ull;
  return x ^ t ^ (t << 28);
}
}  // namespace
}  // namespace minnow::kernels

namespace minnow::kernels::q45k_panel {

using quant::kQK_K;

template <bool kFifthBit>
void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  using S = Sizes<kFifthBit>;
  using Row = std::conditional_t<kFifthBit, quant::BlockQ5_K, quant::BlockQ4_K>;
  for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += S::kBlockBytes) {
    uint8_t scales[kValues], mins[kValues];
    for (size_t r = 0; r < kRows; ++r) {
      const uint8_t* a = w + r * row_bytes + sb * S::kRowBytes;
      std::memcpy(panel + kDAt + 2 * r, a + offsetof(Row, d), 2);
      std::memcpy(panel + kDminAt + 2 * r, a + offsetof(Row, dmin), 2);
      for (int s = 0; s < 8; ++s) quant::k_scale_min(s, a + offsetof(Row, scales), scales[8 * s + r], mins[8 * s + r]);
      // Four elements at a time: word j of sub-block s takes bytes 4j.. and
      // 16 + 4j.. of the row's 32-byte run, low nibbles for even s, high for odd.
      const uint8_t* qs = a + offsetof(Row, qs);
      for (int s = 0; s < 8; ++s) {
        uint8_t* sub = panel + kQsAt + S::kSubBlockBytes * s;
        for (int j = 0; j < 4; ++j) {
          uint32_t lo, hi;
          std::memcpy(&lo, qs + 32 * (s / 2) + 4 * j, 4);
          std::memcpy(&hi, qs + 32 * (s / 2) + 16 + 4 * j, 4);
          const uint32_t word =
              s % 2 == 0 ? (lo & 0x0f0f0f0fu) | (hi & 0x0f0f0f0fu) << 4 : (lo >> 4 & 0x0f0f0f0fu) | (hi & 0xf0f0f0f0u);
          std::memcpy(sub + 32 * j + 4 * r, &word, 4);
        }
      }
      if constexpr (kFifthBit) {
        // Element 4c + e's fifth bit in sub-block s is bit s of qh[4c + e];
        // the panel wants it as bit c of sub-block s's byte 4r + e: for each
        // e an 8x8 bit transpose of the bytes qh[e], qh[4 + e], ...
        const uint8_t* qh = a + offsetof(quant::BlockQ5_K, qh);
        for (int e = 0; e < 4; ++e) {
          uint64_t bytes = 0;
          for (int c = 0; c < 8; ++c) bytes |= uint64_t(qh[4 * c + e]) << (8 * c);
          const uint64_t by_sub_block = transpose_bits(bytes);
          for (int s = 0; s < 8; ++s)
            panel[kQsAt + S::kSubBlockBytes * s + kFifthAt + 4 * r + e] = uint8_t(by_sub_block >> (8 * s));
        }
      }
    }
    put_six_bit(scales, panel + kScalesAt);
    put_six_bit(mins, panel + kMinsAt);
  }
}

template <bool kFifthBit>
void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out) {
  using S = Sizes<kFifthBit>;
  const size_t row = r % kRows;
  const uint8_t* p = panels + r / kRows * (n / kQK_K * S::kBlockBytes);
  for (size_t sb = 0; sb < n / kQK_K; ++sb, p += S::kBlockBytes) {
    const float d = fp16_to_float(u16_at(p + kDAt + 2 * row)), min = fp16_to_float(u16_at(p + kDminAt + 2 * row));
    for (int s = 0; s < 8; ++s) {
      // The reference dequantizer's arithmetic, so the rows come back bit for bit.
      const float d1 = d * float(six_bit(p + kScalesAt, 8 * s + int(row)));
      const float m1 = min * float(six_bit(p + kMinsAt, 8 * s + int(row)));
      const uint8_t* sub = p + kQsAt + S::kSubBlockBytes * s;
      for (int e = 0; e < 32; ++e) {
        int q = group_code(sub, row, e);
        if constexpr (kFifthBit) q += (sub[kFifthAt + 4 * row + e % 4] >> (e / 4) & 1) ? 16 : 0;
        *out++ = d1 * float(q) - m1;
      }
    }
  }
}

template void pack<false>(const uint8_t*, size_t, size_t, uint8_t*);
template void pack<true>(const uint8_t*, size_t, size_t, uint8_t*);
template void unpack_row<false>(const uint8_t*, size_t, size_t, float*);
template void unpack_row<true>(const uint8_t*, size_t, size_t, float*);

}  // namespace minnow::kernels::q45k_panel

namespace minnow::kernels::iq4xs_panel {

using quant::kQK_K;

void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
    uint8_t scales[kValues];
    for (size_t r = 0; r < kRows; ++r) {
      const uint8_t* a = w + r * row_bytes + sb * sizeof(quant::BlockIQ4_XS);
      std::memcpy(panel + kDAt + 2 * r, a + offsetof(quant::BlockIQ4_XS, d), 2);
      int ls[8];
      quant::iq4_xs_group_scales(a, ls);
      for (int g = 0; g < 8; ++g) scales[8 * g + r] = uint8_t(ls[g] + 32);
      // A group's 16 bytes hold elements i (low nibble) and 16 + i (high):
      // bytes 4j..4j+3 are chunks j and j + 4, as the panel keeps them.
      const uint8_t* qs = a + offsetof(quant::BlockIQ4_XS, qs);
      for (int g = 0; g < 8; ++g)
        for (int j = 0; j < 4; ++j)
          std::memcpy(panel + kQsAt + kGroupBytes * g + 32 * j + 4 * r, qs + 16 * g + 4 * j, 4);
    }
    put_six_bit(scales, panel + kScalesAt);
  }
}

void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out) {
  const size_t row = r % kRows;
  const uint8_t* p = panels + r / kRows * (n / kQK_K * kBlockBytes);
  for (size_t sb = 0; sb < n / kQK_K; ++sb, p += kBlockBytes) {
    const float d = fp16_to_float(u16_at(p + kDAt + 2 * row));
    for (int g = 0; g < 8; ++g) {
      // The reference dequantizer's arithmetic, so the rows come back bit for bit.
      const float dl = d * float(int(six_bit(p + kScalesAt, 8 * g + int(row))) - 32);
      for (int e = 0; e < 32; ++e)
        *out++ = dl * float(quant::kIq4Values[group_code(p + kQsAt + kGroupBytes * g, row, e)]);
    }
  }
}

}  // namespace minnow::kernels::iq4xs_panel

namespace minnow::kernels::q3k_panel {

using quant::kQK_K;

namespace {

// Group g's 32 elements of a GGUF Q3_K block as u = q + 4h (0..7), element
// 32g + 4c + e in byte e of word c: the group is plane g % 4 of qs' half
// g / 4, and its third bits are bit g of the 32 hmask bytes
// (dequantize_q3_k's order). Eight lanes a word: repacking runs at load.
void group_row_values(const uint8_t* block, int g, uint32_t u[8]) {
  const uint8_t* hmask = block + offsetof(quant::BlockQ3_K, hmask);
  const uint8_t* qs = block + offsetof(quant::BlockQ3_K, qs) + 32 * (g / 4);
  const int shift = 2 * (g % 4);
  for (int c = 0; c < 8; ++c) {
    uint32_t q, h;
    std::memcpy(&q, qs + 4 * c, 4);
    std::memcpy(&h, hmask + 4 * c, 4);
    u[c] = ((q >> shift) & 0x03030303u) | ((h >> g) & 0x01010101u) << 2;
  }
}

// Where sub-block j's scale of row r sits among the panel's 128 (header).
int scale_index(int j, size_t r) { return 16 * (j / 2) + 2 * int(r) + j % 2; }

}  // namespace

int group_value(const uint8_t* group, size_t r, int c, int e) {
  const uint8_t* v = group + 4 * r + e;  // V0 at v[0], V1 at v[32], V2 at v[64]
  switch (c) {
    case 3:
      return (v[0] >> 6) | ((v[64] >> 6) & 1) << 2;
    case 7:
      return (v[32] >> 6) | (v[64] >> 7) << 2;
    default:
      return (v[32 * (c % 4)] >> (c < 4 ? 0 : 3)) & 7;
  }
}

void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
    uint8_t scales[2 * kValues];  // value 16g + 2r + h: sub-block 2g + h of row r
    for (size_t r = 0; r < kRows; ++r) {
      const uint8_t* a = w + r * row_bytes + sb * sizeof(quant::BlockQ3_K);
      std::memcpy(panel + kDAt + 2 * r, a + offsetof(quant::BlockQ3_K, d), 2);
      int8_t sc[16];
      quant::unpack_q3_k_scales(a + offsetof(quant::BlockQ3_K, scales), sc);
      for (int j = 0; j < 16; ++j) scales[scale_index(j, r)] = uint8_t(sc[j] + 32);
      for (int g = 0; g < 8; ++g) {
        uint32_t u[8];  // chunk c's four values
        group_row_values(a, g, u);
        // Bytewise within each word: no field outgrows its byte.
        constexpr uint32_t kLow2 = 0x03030303u, kBit0 = 0x01010101u;
        const uint32_t v[3] = {u[0] | u[4] << 3 | (u[3] & kLow2) << 6, u[1] | u[5] << 3 | (u[7] & kLow2) << 6,
                               u[2] | u[6] << 3 | (u[3] >> 2 & kBit0) << 6 | (u[7] >> 2 & kBit0) << 7};
        for (int i = 0; i < 3; ++i) std::memcpy(panel + kQsAt + kGroupBytes * g + 32 * i + 4 * r, &v[i], 4);
      }
    }
    put_six_bit(scales, panel + kScalesAt);
    put_six_bit(scales + kValues, panel + kScalesAt + 48);
  }
}

void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out) {
  const size_t row = r % kRows;
  const uint8_t* p = panels + r / kRows * (n / kQK_K * kBlockBytes);
  for (size_t sb = 0; sb < n / kQK_K; ++sb, p += kBlockBytes) {
    const float d = fp16_to_float(u16_at(p + kDAt + 2 * row));
    for (int j = 0; j < 16; ++j) {
      // The reference dequantizer's arithmetic, so the rows come back bit for bit.
      const int v = scale_index(j, row);
      const float dl = d * float(int(six_bit(p + kScalesAt + 48 * (v / kValues), v % kValues)) - 32);
      const uint8_t* group = p + kQsAt + kGroupBytes * (j / 2);
      for (int i = 0; i < 16; ++i) {
        const int k = 16 * (j % 2) + i;  // element within the group
        *out++ = dl * float(group_value(group, row, k / 4, k % 4) - 4);
      }
    }
  }
}

}  // namespace minnow::kernels::q3k_panel

namespace minnow::kernels::q2k_panel {

using quant::kQK_K;

void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
    for (size_t r = 0; r < kRows; ++r) {
      const uint8_t* a = w + r * row_bytes + sb * sizeof(quant::BlockQ2_K);
      std::memcpy(panel + kDAt + 2 * r, a + offsetof(quant::BlockQ2_K, d), 2);
      std::memcpy(panel + kDminAt + 2 * r, a + offsetof(quant::BlockQ2_K, dmin), 2);
      const uint8_t* scales = a + offsetof(quant::BlockQ2_K, scales);
      for (int j = 0; j < 16; ++j) panel[kScalesAt + 16 * (j / 2) + 2 * r + j % 2] = scales[j];
      // Group g is plane g % 4 of qs' half g / 4 (dequantize_q2_k's order):
      // chunk c's four values are bits 2(g % 4).. of qs bytes 4c..4c+3.
      for (int g = 0; g < 8; ++g) {
        const uint8_t* qs = a + offsetof(quant::BlockQ2_K, qs) + 32 * (g / 4);
        uint32_t v[2] = {0, 0};
        for (int c = 0; c < 8; ++c) {
          uint32_t word;
          std::memcpy(&word, qs + 4 * c, 4);
          v[c / 4] |= (word >> (2 * (g % 4)) & 0x03030303u) << (2 * (c % 4));
        }
        for (int i = 0; i < 2; ++i) std::memcpy(panel + kQsAt + kGroupBytes * g + 32 * i + 4 * r, &v[i], 4);
      }
    }
  }
}

void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out) {
  const size_t row = r % kRows;
  const uint8_t* p = panels + r / kRows * (n / kQK_K * kBlockBytes);
  for (size_t sb = 0; sb < n / kQK_K; ++sb, p += kBlockBytes) {
    const float d = fp16_to_float(u16_at(p + kDAt + 2 * row)), min = fp16_to_float(u16_at(p + kDminAt + 2 * row));
    for (int j = 0; j < 16; ++j) {
      // The reference dequantizer's arithmetic, so the rows come back bit for bit.
      const uint8_t sc = p[kScalesAt + 16 * (j / 2) + 2 * row + j % 2];
      const float dl = d * float(sc & 0x0f), ml = min * float(sc >> 4);
      const uint8_t* v = p + kQsAt + kGroupBytes * (j / 2) + 32 * (j % 2) + 4 * row;
      for (int i = 0; i < 16; ++i) *out++ = dl * float((v[i % 4] >> (2 * (i / 4))) & 3) - ml;
    }
  }
}

}  // namespace minnow::kernels::q2k_panel

namespace minnow::kernels::q6k_panel {

using quant::kQK_K;

namespace {

// Where chunk c's bits 6-7 of each of its three 2-bit parts go (chunks 6, 7).
constexpr int kSplitVector[2][3] = {{0, 1, 4}, {2, 3, 5}};

// Value of chunk c (0..7), byte 4r + e, of a 192-byte group.
int group_value(const uint8_t* group, size_t r, int c, int e) {
  const uint8_t* v = group + 4 * r + e;  // vector i at v[32 * i]
  if (c < 6) return v[32 * c] & 63;
  int value = 0;
  for (int part = 0; part < 3; ++part) value |= (v[32 * kSplitVector[c - 6][part]] >> 6) << (2 * part);
  return value;
}

}  // namespace

void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel) {
  for (size_t sb = 0; sb < n / kQK_K; ++sb, panel += kBlockBytes) {
    for (size_t r = 0; r < kRows; ++r) {
      const uint8_t* a = w + r * row_bytes + sb * sizeof(quant::BlockQ6_K);
      std::memcpy(panel + kDAt + 2 * r, a + offsetof(quant::BlockQ6_K, d), 2);
      const uint8_t* scales = a + offsetof(quant::BlockQ6_K, scales);
      for (int j = 0; j < 16; ++j) panel[kScalesAt + 16 * (j / 2) + 2 * r + j % 2] = scales[j];
      for (int g = 0; g < 8; ++g) {
        // Group g is quarter g % 4 of half g / 4 (dequantize_q6_k's order):
        // low bits from ql's run 32 (g % 2) of that half, nibble g % 4 / 2,
        // high bits from qh bits 2 (g % 4). Four values a word.
        const uint8_t* ql = a + offsetof(quant::BlockQ6_K, ql) + 64 * (g / 4) + 32 * (g % 2);
        const uint8_t* qh = a + offsetof(quant::BlockQ6_K, qh) + 32 * (g / 4);
        uint32_t u[8];
        for (int c = 0; c < 8; ++c) {
          uint32_t lo, hi;
          std::memcpy(&lo, ql + 4 * c, 4);
          std::memcpy(&hi, qh + 4 * c, 4);
          u[c] = (lo >> (4 * (g % 4 / 2)) & 0x0f0f0f0fu) | (hi >> (2 * (g % 4)) & 0x03030303u) << 4;
        }
        uint32_t v[6] = {u[0], u[1], u[2], u[3], u[4], u[5]};
        for (int c = 6; c < 8; ++c)
          for (int part = 0; part < 3; ++part) v[kSplitVector[c - 6][part]] |= (u[c] >> (2 * part) & 0x03030303u) << 6;
        for (int i = 0; i < 6; ++i) std::memcpy(panel + kQsAt + kGroupBytes * g + 32 * i + 4 * r, &v[i], 4);
      }
    }
  }
}

void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out) {
  const size_t row = r % kRows;
  const uint8_t* p = panels + r / kRows * (n / kQK_K * kBlockBytes);
  for (size_t sb = 0; sb < n / kQK_K; ++sb, p += kBlockBytes) {
    const float d = fp16_to_float(u16_at(p + kDAt + 2 * row));
    for (int j = 0; j < 16; ++j) {
      const int8_t sc = int8_t(p[kScalesAt + 16 * (j / 2) + 2 * row + j % 2]);
      const uint8_t* group = p + kQsAt + kGroupBytes * (j / 2);
      for (int i = 0; i < 16; ++i) {
        const int k = 16 * (j % 2) + i;  // element within the group
        // The reference dequantizer's arithmetic, so the rows come back bit for bit.
        *out++ = d * float(sc) * float(group_value(group, row, k / 4, k % 4) - 32);
      }
    }
  }
}

}  // namespace minnow::kernels::q6k_panel
