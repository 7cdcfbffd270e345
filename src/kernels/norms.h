// Vectorised row normalisations. Scalar twins: ops::rms_norm and
// ops::layer_norm (src/model/ops.cpp), which the tests compare with; these
// sum in float (four 8-lane accumulators) where the twins sum in double.
#pragma once

#include <cstddef>

namespace minnow::kernels {

// x = x / rms(x) * w, in place; w may be null.
void rms_norm(float* x, const float* w, size_t n, float eps);

// x = (x - mean) / sd * w + b, in place; w and b may be null.
void layer_norm(float* x, const float* w, const float* b, size_t n, float eps);

}  // namespace minnow::kernels
