// Internal: the AVX2 kernels, which the AVX-512 file reuses for types it has
// no wider kernel for and for odd tail blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace minnow::kernels::avx2 {

float dot_f32(const uint8_t* w, const uint8_t* x, size_t n);
float dot_f16(const uint8_t* w, const uint8_t* x, size_t n);
float dot_q8_0(const uint8_t* w, const uint8_t* x, size_t n);
float dot_q4_0(const uint8_t* w, const uint8_t* x, size_t n);
float dot_q5_0(const uint8_t* w, const uint8_t* x, size_t n);
void dot4_q8_0(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out);
void dot4_q4_0(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out);
void dot4_q5_0(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out);
float dot_q4_k(const uint8_t* w, const uint8_t* x, size_t n);
float dot_q5_k(const uint8_t* w, const uint8_t* x, size_t n);
float dot_q6_k(const uint8_t* w, const uint8_t* x, size_t n);
void dot2_q4_k(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out);
void dot2_q5_k(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out);
void dot2_q6_k(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out);
void dot4_q6_k(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out);

}  // namespace minnow::kernels::avx2
