// Internal: byte offsets inside one super-block of the K-quant and IQ4_XS
// panels (8 rows), written by the AVX2 packers (gemm_kquant_avx2.cpp, which describes
// the layouts) and read by the AVX2 and AVX-512 GEMMs alike.
#pragma once

#include <cstddef>

namespace minnow::kernels::kquant_layout {

// Q4_K (kFifthBit false) and Q5_K: d[8], dmin[8] floats; scale16[8], min16[8]
// (32 B per group: int16 lanes 2r, 2r+1 = row r's value); then 8 groups.
template <bool kFifthBit>
struct Q45K {
  static constexpr size_t kGroupBytes = kFifthBit ? 160 : 128;  // 4 x 32 B of nibbles (+ 32 B of fifth bits)
  static constexpr size_t kDminAt = 32, kScalesAt = 64, kMinsAt = kScalesAt + 256, kQsAt = kMinsAt + 256;
  static constexpr size_t kBlockBytes = kQsAt + 8 * kGroupBytes;
};

// Q6_K (and Q3_K, Q2_K): d[8], f[8] floats; scale16[16] per 16-element
// sub-block; pair16[8] offsets; then 8 groups of 8 chunks x 32 B of bytes.
struct Q6K {
  static constexpr size_t kFAt = 32, kScalesAt = 64, kPairsAt = kScalesAt + 16 * 32, kQsAt = kPairsAt + 8 * 32;
  static constexpr size_t kGroupBytes = 256;
  static constexpr size_t kBlockBytes = kQsAt + 8 * kGroupBytes;
};

// IQ4_XS: d[8] floats; scale16[8] per 32-element group (int8 scales,
// sign-extended); then 8 groups of 8 chunks x 32 B of signed codebook values.
struct IQ4XS {
  static constexpr size_t kScalesAt = 32, kQsAt = kScalesAt + 8 * 32;
  static constexpr size_t kGroupBytes = 256;
  static constexpr size_t kBlockBytes = kQsAt + 8 * kGroupBytes;
};

}  // namespace minnow::kernels::kquant_layout
