// Per-group scale searches of the K-quant encoders (ggml's make_qx_quants,
// make_q3_quants, make_qkx2_quants, without an importance matrix). Each picks
// the scale (and min) that minimises a weighted squared error over a small
// set of candidates, and writes the chosen integer codes to L.
#pragma once

#include <cstdint>

namespace minnow::quant {

// Symmetric codes in [0, 2*nmax): value ≈ scale * (L - nmax).
// weight_kind 1 weights each error by x², the choice for Q6_K.
float search_symmetric_scale(int n, int nmax, const float* x, int8_t* L, int weight_kind);

// Q3_K's symmetric search: start at the max/nmax scale, then move single
// codes while the x²-weighted fit improves (or, with refine false, stop there).
float search_q3_scale(int n, int nmax, const float* x, int8_t* L, bool refine);

// Asymmetric codes in [0, nmax]: value ≈ scale * L - min_out (min_out >= 0).
// Tries nstep+1 inverse scales from (rmin + nmax) to (rmin + nstep*rdelta + nmax)
// over the range, refitting scale and min by weighted least squares.
float search_scale_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float& min_out,
                       uint8_t* L_scratch, float rmin, float rdelta, int nstep, bool use_mad);

}  // namespace minnow::quant
