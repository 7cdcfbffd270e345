// Internal: Q4_K, Q5_K, IQ4_XS, Q3_K, Q2_K and Q6_K matrices repacked at
// load for decode ("decode panels": the AVX-512 path for all six, the AVX2
// path for Q3_K and Q2_K), exactly as large as the rows they hold, so they
// can replace the file's rows under the same memory bound as the legacy
// types' panels.
//
// The row layouts make decode unpack each super-block's scales per row and
// spend int16 multiplies per row (Q4_K 25, Q5_K 23 GB/s a core in cache on
// Zen 4, below what DRAM delivers to one core there). Here 8 rows'
// super-blocks sit together with their nibbles interleaved as the legacy
// panels' are, so a 32-element sub-block of all 8 rows is 8 vpdpbusd and its
// per-row scale one int32 multiply (kquant_decode_avx512.cpp).
//
// Panel super-block (8 rows, 8 x sizeof(BlockQ4_K or BlockQ5_K): 1152 or 1408 B):
//   [0, 16)     d[8] fp16           [16, 32)   dmin[8] fp16
//   [32, 80)    the 64 six-bit scales, value index v = 8 * sub-block + row:
//               32 B of low nibbles (byte k: value k low, value k + 32 high),
//               then 16 B of top bits (byte j, bits 2i..2i+1: value j + 16i)
//   [80, 128)   the 64 six-bit mins, the same way
//   [128, ...)  sub-block s (0..7), 128 B (Q4_K) or 160 B (Q5_K) each: 4 x 32 B
//               where byte 4r + e of vector j holds element 4j + e of row r's
//               sub-block in its low nibble and element 16 + 4j + e in its
//               high one (the legacy panels' chunks j and j + 4); Q5_K then
//               32 B whose bit c of byte 4r + e is the fifth bit of element
//               4c + e. A sub-block is the per-call GEMM panel's group byte
//               for byte, and a panel is read front to back.
//
// IQ4_XS panel super-block (8 rows, 1088 B = 8 x sizeof(BlockIQ4_XS)):
//   [0, 16)     d[8] fp16
//   [16, 64)    the 64 group scales plus 32 (0..63), six-bit as above
//   [64, 1088)  group g (0..7), 128 B: byte 4r + e of vector j holds the
//               codes of elements 4j + e (low nibble) and 16 + 4j + e (high)
//               of row r's group: the row's own byte qs[16g + 4j + e]
//
// Q3_K panel super-block (8 rows, 880 B = 8 x sizeof(BlockQ3_K)):
//   [0, 16)     d[8] fp16
//   [16, 112)   the 128 six-bit scales (0..63, the weight's plus 32), value
//               index v = 16g + 2r + h for sub-block 2g + h of row r: two
//               fields as above (v < 64, then the rest), so that group g's
//               16 bytes, widened, are int16 pairs (row r: sub-blocks 2g, 2g + 1)
//   [112, 880)  group g (0..7, sub-blocks 2g and 2g + 1), 96 B: three 32 B
//               vectors V0 V1 V2 whose byte 4r + e holds the 3-bit values
//               u (0..7, weight d * scale * (u - 4)) of element 4c + e of
//               row r's group for chunks c: V0 bits 0-2 chunk 0, 3-5 chunk
//               4, 6-7 chunk 3's low two bits; V1 chunks 1, 5 and chunk 7's
//               low bits; V2 chunks 2, 6, bit 6 chunk 3's third bit, bit 7
//               chunk 7's. Chunks 0-2 are one mask each, 4-6 one mask that
//               leaves them times 8 (sub-block 2g + 1's sums are shifted
//               back once), 3 and 7 two shifts, two masks and an or.
//
// Q6_K panel super-block (8 rows, 1680 B = 8 x sizeof(BlockQ6_K)):
//   [0, 16)     d[8] fp16
//   [16, 144)   the rows' int8 scales, byte 16g + 2r + h for sub-block
//               2g + h of row r
//   [144, 1680) group g (0..7), 192 B: six 32 B vectors V0..V5 whose byte
//               4r + e holds in bits 0-5 the value (0..63, weight
//               d * scale * (value - 32)) of element 4c + e of row r's group
//               for chunk c = 0..5, and in bits 6-7 two bits of chunk 6
//               (V0: bits 0-1, V1: 2-3, V4: 4-5) or chunk 7 (V2, V3, V5)
//
// Q2_K panel super-block (8 rows, 672 B = 8 x sizeof(BlockQ2_K)):
//   [0, 16)     d[8] fp16           [16, 32)   dmin[8] fp16
//   [32, 160)   the rows' scale bytes (scale low nibble, min high), byte
//               16g + 2r + h for sub-block 2g + h of row r
//   [160, 672)  group g (0..7), 64 B: two 32 B vectors whose byte 4r + e
//               holds, in bits 2c..2c+1, element 4c + e (vector 0) or
//               16 + 4c + e (vector 1) of row r's group
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/block_formats.h"

namespace minnow::kernels::q45k_panel {

inline constexpr size_t kRows = 8;
inline constexpr size_t kDAt = 0, kDminAt = 16, kScalesAt = 32, kMinsAt = 80, kQsAt = 128;
inline constexpr size_t kFifthAt = 128;  // within a Q5_K sub-block: after its 4 x 32 B of nibbles

template <bool kFifthBit>
struct Sizes {
  static constexpr size_t kRowBytes = kFifthBit ? sizeof(quant::BlockQ5_K) : sizeof(quant::BlockQ4_K);
  static constexpr size_t kBlockBytes = kRows * kRowBytes;
  static constexpr size_t kSubBlockBytes = kFifthBit ? 160 : 128;
  static_assert(kQsAt + 8 * kSubBlockBytes == kBlockBytes, "as large as the rows");
};

// Rows w, w + row_bytes, ... (8 of them, n elements each, GGUF Q4_K or
// Q5_K) into panel (n / 256 * kBlockBytes bytes).
template <bool kFifthBit>
void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel);
// Row r of a matrix stored as consecutive decode panels, dequantized exactly
// as quant::dequantize does the row.
template <bool kFifthBit>
void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out);

}  // namespace minnow::kernels::q45k_panel

namespace minnow::kernels::iq4xs_panel {

inline constexpr size_t kRows = 8;
inline constexpr size_t kBlockBytes = kRows * sizeof(quant::BlockIQ4_XS);
inline constexpr size_t kDAt = 0, kScalesAt = 16, kQsAt = 64, kGroupBytes = 128;
static_assert(kQsAt + 8 * kGroupBytes == kBlockBytes, "as large as the rows");

// As q45k_panel's, for GGUF IQ4_XS rows.
void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel);
void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out);

}  // namespace minnow::kernels::iq4xs_panel

namespace minnow::kernels::q3k_panel {

inline constexpr size_t kRows = 8;
inline constexpr size_t kBlockBytes = kRows * sizeof(quant::BlockQ3_K);
inline constexpr size_t kDAt = 0, kScalesAt = 16, kQsAt = 112, kGroupBytes = 96;
static_assert(kQsAt + 8 * kGroupBytes == kBlockBytes, "as large as the rows");

// As q45k_panel's, for GGUF Q3_K rows.
void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel);
void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out);
// The value u (0..7) of chunk c (0..7), byte 4r + e, of a 96-byte group.
int group_value(const uint8_t* group, size_t r, int c, int e);

}  // namespace minnow::kernels::q3k_panel

namespace minnow::kernels::q2k_panel {

inline constexpr size_t kRows = 8;
inline constexpr size_t kBlockBytes = kRows * sizeof(quant::BlockQ2_K);
inline constexpr size_t kDAt = 0, kDminAt = 16, kScalesAt = 32, kQsAt = 160, kGroupBytes = 64;
static_assert(kQsAt + 8 * kGroupBytes == kBlockBytes, "as large as the rows");

// As q45k_panel's, for GGUF Q2_K rows.
void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel);
void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out);

}  // namespace minnow::kernels::q2k_panel

namespace minnow::kernels::q6k_panel {

inline constexpr size_t kRows = 8;
inline constexpr size_t kBlockBytes = kRows * sizeof(quant::BlockQ6_K);
inline constexpr size_t kDAt = 0, kScalesAt = 16, kQsAt = 144, kGroupBytes = 192;
static_assert(kQsAt + 8 * kGroupBytes == kBlockBytes, "as large as the rows");

// As q45k_panel's, for GGUF Q6_K rows.
void pack(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel);
void unpack_row(const uint8_t* panels, size_t r, size_t n, float* out);

}  // namespace minnow::kernels::q6k_panel
