// AVX-512 (F, BW, VL, VNNI) kernels. Only this file is compiled with AVX-512
// enabled (per-file options in CMake) and its code runs only after CPUID said
// yes. It must not define inline functions with external linkage (the linker
// could keep this AVX-512 copy for everyone), hence the helpers' anonymous
// namespaces. The 32-element block types process two blocks per 512-bit register and
// use VNNI's vpdpbusd (unsigned x signed bytes, summed into int32 lanes).
// Q5_K and Q6_K decode keeps the AVX2 dot kernels (see kernel_fill.h);
// batches of every K-quant and IQ4_XS run the VNNI panels of gemm_kquant_avx512.cpp.
#include <immintrin.h>

#include "kernels/blocks_avx2.h"
#include "kernels/kernel_fill.h"
#include "kernels/simd_avx2.h"
#include "quant/block_formats.h"

namespace minnow::kernels::avx512 {
namespace {

using simd::half_at;
using simd::prefetch_ahead;
using quant::kQK;
constexpr size_t kQ8 = sizeof(quant::BlockQ8_0);

float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

// Two consecutive 16-byte nibble fields (at a and a + stride) as 64 bytes
// 0..15 in element order: [lo0, hi0, lo1, hi1] 16-byte lanes. Each field is
// copied to two lanes and the second copy shifted right by 4.
inline __m512i nibbles_64(const uint8_t* a, size_t stride) {
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q0),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + stride)), 1);
  const __m512i z = _mm512_castsi256_si512(v);
  const __m512i dup = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(1, 1, 0, 0));  // [q0, q0, q1, q1]
  const __m512i shift = _mm512_setr_epi32(0, 0, 0, 0, 0x40004, 0x40004, 0x40004, 0x40004, 0, 0, 0, 0, 0x40004,
                                          0x40004, 0x40004, 0x40004);
  return _mm512_and_si512(_mm512_srlv_epi16(dup, shift), _mm512_set1_epi8(0x0f));
}

inline __m512i act_64(const uint8_t* b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(simd::load256(b + 2)), simd::load256(b + kQ8 + 2), 1);
}

// Every legacy type as unsigned bytes u with a fixed offset c (value = u - c):
// Q4_0 nibbles - 8, Q5_0 five bits - 16, Q8_0 (q xor 0x80) - 128. Then
// sum (u - c) y = vpdpbusd(u, y) - vpdpbusd(c, y) for every type alike.
// pair() decodes two blocks in 512 bits; single() an odd last block, with
// the AVX2 kernels' block decoding (blocks_avx2.h).
struct Q4_0Unpack {
  static constexpr size_t kBytes = sizeof(quant::BlockQ4_0);
  static constexpr int kOffset = 8;
  static __m512i pair(const uint8_t* a) { return nibbles_64(a + 2, kBytes); }
  static __m256i single(const uint8_t* a) { return avx2::Q4_0Block::unpack(a); }
};
struct Q5_0Unpack {
  static constexpr size_t kBytes = sizeof(quant::BlockQ5_0);
  static constexpr int kOffset = 16;
  static __m512i pair(const uint8_t* a) {
    uint32_t qh0, qh1;
    std::memcpy(&qh0, a + 2, 4);
    std::memcpy(&qh1, a + kBytes + 2, 4);
    const __mmask64 fifth = _cvtu64_mask64(uint64_t(qh0) | (uint64_t(qh1) << 32));
    const __m512i q = nibbles_64(a + 6, kBytes);
    return _mm512_mask_add_epi8(q, fifth, q, _mm512_set1_epi8(16));
  }
  static __m256i single(const uint8_t* a) { return avx2::Q5_0Block::unpack(a); }
};
struct Q8_0Unpack {
  static constexpr size_t kBytes = kQ8;
  static constexpr int kOffset = 128;
  static __m512i pair(const uint8_t* a) {
    const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(simd::load256(a + 2)), simd::load256(a + kQ8 + 2), 1);
    return _mm512_xor_si512(q, _mm512_set1_epi8(int8_t(0x80)));
  }
  static __m256i single(const uint8_t* a) {
    return _mm256_xor_si256(avx2::Q8_0Block::unpack(a), _mm256_set1_epi8(int8_t(0x80)));
  }
};

// fp16 scales of 16 blocks `stride` bytes apart as floats. Plain copies then
// one conversion: faster on Zen 5 than a gather.
inline __m512 scales16(const uint8_t* p, size_t stride) {
  alignas(32) uint16_t h[16];
  for (int j = 0; j < 16; ++j) std::memcpy(&h[j], p + j * stride, 2);
  return _mm512_cvtph_ps(simd::load256(reinterpret_cast<const uint8_t*>(h)));
}

// One weight row against kTokens activation rows (x_stride bytes apart).
// Each weight block pair is unpacked once and used for every token, which is
// what makes prefill cheaper per token than decode. Sixteen blocks at a time
// share one scale conversion; each pair picks its two scales with a permute.
template <class U, int kTokens>
void dot_rows(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  constexpr size_t kWB = U::kBytes;
  const size_t nb = n / kQK;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // sum (u - c) y = sum u y - c sum y: the activation side's d_x * sum y per
  // block comes with the activations, so only c * d_w * that is added here.
  // (Floats at any byte offset: vector loads or memcpy only.)
  auto block_sums = [&](int t) { return x + t * x_stride + nb * kQ8; };
  __m512 acc[kTokens], off[kTokens];
  float off_tail[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = off[t] = _mm512_setzero_ps(), off_tail[t] = 0.0f;
  size_t i = 0;
  for (; i + 16 <= nb; i += 16) {
    const uint8_t* a = w + i * kWB;
    prefetch_ahead(a, 16 * kWB);
    const __m512 dw = scales16(a, kWB);
    __m512 d[kTokens];
    for (int t = 0; t < kTokens; ++t) {
      d[t] = _mm512_mul_ps(dw, scales16(x + t * x_stride + i * kQ8, kQ8));
      off[t] = _mm512_fmadd_ps(dw, _mm512_loadu_ps(block_sums(t) + 4 * i), off[t]);
    }
    for (int k = 0; k < 8; ++k) {
      const __m512i u = U::pair(a + 2 * k * kWB);
      const __m512i pick = _mm512_srli_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32(16 * k)), 3);
      for (int t = 0; t < kTokens; ++t) {
        const __m512i s =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, act_64(x + t * x_stride + (i + 2 * k) * kQ8));
        acc[t] = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick, d[t]), _mm512_cvtepi32_ps(s), acc[t]);
      }
    }
  }
  for (; i + 2 <= nb; i += 2) {
    const uint8_t* a = w + i * kWB;
    const __m512i u = U::pair(a);
    const float dw0 = half_at(a), dw1 = half_at(a + kWB);
    for (int t = 0; t < kTokens; ++t) {
      const uint8_t* b = x + t * x_stride + i * kQ8;
      const __m256 d0 = _mm256_set1_ps(dw0 * half_at(b));
      const __m256 d1 = _mm256_set1_ps(dw1 * half_at(b + kQ8));
      const __m512 d = _mm512_insertf32x8(_mm512_castps256_ps512(d0), d1, 1);
      const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, act_64(b));
      acc[t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[t]);
      off_tail[t] += dw0 * simd::float_at(block_sums(t) + 4 * i) + dw1 * simd::float_at(block_sums(t) + 4 * i + 4);
    }
  }
  // An odd last block, in 256 bits. (Not through a one-block AVX2 dot: the
  // activations' sums and scales sit after the whole row, where a dot
  // given n = 32 does not look.)
  float last[kTokens] = {};
  if (i < nb) {
    const uint8_t* a = w + i * kWB;
    const __m256i u = U::single(a);
    const float dw = half_at(a);
    for (int t = 0; t < kTokens; ++t) {
      const uint8_t* b = x + t * x_stride + i * kQ8;
      const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, simd::load256(b + 2));
      last[t] = dw * half_at(b) * simd::hsum(_mm256_cvtepi32_ps(s));
      off_tail[t] += dw * simd::float_at(block_sums(t) + 4 * i);
    }
  }
  for (int t = 0; t < kTokens; ++t)
    out[t] = hsum512(acc[t]) + last[t] - float(U::kOffset) * (hsum512(off[t]) + off_tail[t]);
}

template <class U>
float dot1(const uint8_t* w, const uint8_t* x, size_t n) {
  float out;
  dot_rows<U, 1>(w, x, 0, n, &out);
  return out;
}

template <class U>
void dot4(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  dot_rows<U, 4>(w, x, x_stride, n, out);
}

// Q4_K: two 32-byte nibble chunks per 512-bit register give four 32-element
// sub-blocks ([lo0 | lo1] and [hi0 | hi1]); vpmaddubsw multiplies and
// vpmaddwd applies each sub-block's 6-bit scale (cheaper here than
// vpdpbusd + vpmulld). Mins go through the
// activation's 16-group sums as in the AVX2 kernel.
template <int kTokens>
void q4_k_rows(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  constexpr size_t kBytes = sizeof(quant::BlockQ4_K), kQ8K = sizeof(quant::BlockQ8_K);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  // [chunk c of Y0 (lanes 0-3) | chunk of Y1]: the low or high 32 bytes of two 64-byte loads.
  const __m512i take_low = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
  const __m512i take_high = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  // Sub-block scale indices: [2j x8, 2j+2 x8] for low nibbles, [2j+1 x8, 2j+3 x8] for high.
  const __m512i sc_lo[2] = {_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2),
                            _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6)};
  const __m512i sc_hi[2] = {_mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3),
                            _mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7)};
  __m512 acc[kTokens];
  __m256 mins_acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm512_setzero_ps(), mins_acc[t] = _mm256_setzero_ps();
  for (size_t i = 0; i < n / quant::kQK_K; ++i) {
    const uint8_t* a = w + i * kBytes;
    if constexpr (kTokens == 1) simd::prefetch_l2_ahead(a, kBytes);  // decode streams rows from DRAM
    uint64_t sc_bytes, mins_packed;
    simd::unpack_k_scales(a + 4, sc_bytes, mins_packed);
    const float d = half_at(a), dmin = half_at(a + 2);
    const __m512i scales32 = _mm512_castsi256_si512(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(int64_t(sc_bytes))));
    // Each int32 lane holds its scale in both 16-bit halves, for vpmaddwd.
    const __m512i scales = _mm512_or_si512(scales32, _mm512_slli_epi32(scales32, 16));
    __m512i lo[2], hi[2], slo[2], shi[2];
    for (int h = 0; h < 2; ++h) {  // 128 weights (two 32-byte chunks) per step
      const __m512i q = _mm512_loadu_si512(a + 16 + 64 * h);
      lo[h] = _mm512_and_si512(q, low4);
      hi[h] = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
      slo[h] = _mm512_permutexvar_epi32(sc_lo[h], scales);
      shi[h] = _mm512_permutexvar_epi32(sc_hi[h], scales);
    }
    for (int t = 0; t < kTokens; ++t) {
      const uint8_t* b = x + t * x_stride + i * kQ8K;
      float bd;
      std::memcpy(&bd, b, 4);
      mins_acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(bd * dmin),
                                    _mm256_cvtepi32_ps(simd::k_min_products(mins_packed, b + 4 + quant::kQK_K)),
                                    mins_acc[t]);
      __m512i sumi = _mm512_setzero_si512();
      for (int h = 0; h < 2; ++h) {
        const __m512i y0 = _mm512_loadu_si512(b + 4 + 128 * h), y1 = _mm512_loadu_si512(b + 4 + 128 * h + 64);
        const __m512i ylo = _mm512_permutex2var_epi64(y0, take_low, y1);
        const __m512i yhi = _mm512_permutex2var_epi64(y0, take_high, y1);
        // 4-bit x int8 pairs fit int16 (<= 2 * 15 * 127); then x scale summed into int32.
        const __m512i plo = _mm512_maddubs_epi16(lo[h], ylo), phi = _mm512_maddubs_epi16(hi[h], yhi);
        sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(plo, slo[h]));
        sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(phi, shi[h]));
      }
      acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(bd * d), _mm512_cvtepi32_ps(sumi), acc[t]);
    }
  }
  for (int t = 0; t < kTokens; ++t) out[t] = hsum512(acc[t]) - simd::hsum(mins_acc[t]);
}

float dot_q4_k(const uint8_t* w, const uint8_t* x, size_t n) {
  float out;
  q4_k_rows<1>(w, x, 0, n, &out);
  return out;
}

void dot4_q4_k(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out) {
  q4_k_rows<4>(w, x, x_stride, n, out);
}

float dot_f32(const uint8_t* w, const uint8_t* x, size_t n) {
  const float* a = reinterpret_cast<const float*>(w);
  const float* b = reinterpret_cast<const float*>(x);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return hsum512(_mm512_add_ps(acc0, acc1));
}

float dot_f16(const uint8_t* w, const uint8_t* x, size_t n) {
  const float* b = reinterpret_cast<const float*>(x);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 w0 = _mm512_cvtph_ps(simd::load256(w + 2 * i));
    const __m512 w1 = _mm512_cvtph_ps(simd::load256(w + 2 * i + 32));
    acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    const __m512 wv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + 2 * i));
    acc0 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return hsum512(_mm512_add_ps(acc0, acc1));
}

}  // namespace
}  // namespace minnow::kernels::avx512

namespace minnow::kernels {

void fill_avx512_kernels(KernelTable& t) {
  // New dot kernels; every type keeps the panels copied from the AVX2 table
  // (F32/F16 its float panels; the integer types get VNNI multiplies below).
  // The legacy types' panels are repacked at load, and the VNNI panel GEMM
  // reads them for decode and batches alike: their dots serve rows outside
  // whole panels.
  auto set_dots = [&](GgmlType type, ActFormat act, DotFn fn, Dot4Fn fn4) {
    DotKernel& k = t.dot[uint32_t(type)];
    k = dot_kernel(act, fn, fn4, k.panel);
  };
  set_dots(GgmlType::F32, ActFormat::kF32, avx512::dot_f32, nullptr);
  set_dots(GgmlType::F16, ActFormat::kF32, avx512::dot_f16, nullptr);
  set_dots(GgmlType::Q4_K, ActFormat::kQ8_K, avx512::dot_q4_k, avx512::dot4_q4_k);
  set_dots(GgmlType::Q8_0, ActFormat::kQ8_0, avx512::dot1<avx512::Q8_0Unpack>, avx512::dot4<avx512::Q8_0Unpack>);
  set_dots(GgmlType::Q4_0, ActFormat::kQ8_0, avx512::dot1<avx512::Q4_0Unpack>, avx512::dot4<avx512::Q4_0Unpack>);
  set_dots(GgmlType::Q5_0, ActFormat::kQ8_0, avx512::dot1<avx512::Q5_0Unpack>, avx512::dot4<avx512::Q5_0Unpack>);
  fill_vnni_panels(t);
  fill_kquant_vnni_panels(t);
}

}  // namespace minnow::kernels
