// On-disk block layouts of the GGUF weight types, byte for byte as ggml
// writes them (ggml-common.h). Scales are IEEE halves stored as raw bits.
// Blocks in a file may sit at any byte offset, so readers memcpy a block
// into one of these structs instead of casting the pointer.
#pragma once

#include <cstdint>

namespace minnow::quant {

inline constexpr int kQK = 32;     // elements per block of the legacy types and IQ4_NL
inline constexpr int kQK_K = 256;  // elements per super-block of the K-quants and IQ4_XS
inline constexpr int kKScaleBytes = 12;  // 8 six-bit scales + 8 six-bit mins (Q4_K, Q5_K)

struct BlockQ4_0 { uint16_t d; uint8_t qs[kQK / 2]; };
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ5_1 { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[kQK]; };

// 16 groups of 16; each scale byte holds a 4-bit scale (low) and 4-bit min (high).
struct BlockQ2_K { uint8_t scales[kQK_K / 16]; uint8_t qs[kQK_K / 4]; uint16_t d; uint16_t dmin; };
// 16 groups of 16; 3-bit values = 2 low bits in qs + 1 high bit in hmask; 6-bit signed scales.
struct BlockQ3_K { uint8_t hmask[kQK_K / 8]; uint8_t qs[kQK_K / 4]; uint8_t scales[12]; uint16_t d; };
// 8 groups of 32 with 6-bit scales and mins packed into 12 bytes.
struct BlockQ4_K { uint16_t d; uint16_t dmin; uint8_t scales[kKScaleBytes]; uint8_t qs[kQK_K / 2]; };
struct BlockQ5_K { uint16_t d; uint16_t dmin; uint8_t scales[kKScaleBytes]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2]; };
// 16 groups of 16; 6-bit values = 4 low bits in ql + 2 high bits in qh; int8 scales.
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; uint16_t d; };
// Activations for K-quant dot products: float scale, and the sum of each
// 16-group so that the min terms of Q2_K/Q4_K/Q5_K cost one multiply per group.
struct BlockQ8_K { float d; int8_t qs[kQK_K]; int16_t bsums[kQK_K / 16]; };

struct BlockIQ4_NL { uint16_t d; uint8_t qs[kQK / 2]; };
// 8 groups of 32 with 6-bit scales: low 4 bits in scales_l, high 2 in scales_h.
struct BlockIQ4_XS { uint16_t d; uint16_t scales_h; uint8_t scales_l[kQK_K / 64]; uint8_t qs[kQK_K / 2]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136);

// The non-uniform 4-bit codebook of IQ4_NL and IQ4_XS: denser near zero,
// where most weights of a normal-ish distribution fall.
inline constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace minnow::quant
