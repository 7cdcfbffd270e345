// The constants of the vector e^x kernels (activations.cpp's exp8 and
// exp_vec, attention.cpp's softmax, activations_avx512.cpp's exp16): x =
// n ln2 + r with |r| <= ln2/2, ln2 split in two so that r keeps its digits,
// then e^r by a degree-6 Taylor polynomial in Horner form, relative error
// ~2e-7.
#pragma once

namespace minnow::kernels::exp_poly {

inline constexpr float kLog2e = 1.44269504089f;
inline constexpr float kLn2Hi = 0.693145751953125f;     // exact in float
inline constexpr float kLn2Lo = 1.428606765330187e-06f;  // ln2 - kLn2Hi
// Horner coefficients, highest degree first: 1/6!, 1/5!, ..., 1/1!, 1/0!.
inline constexpr float kHorner[] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};

}  // namespace minnow::kernels::exp_poly
