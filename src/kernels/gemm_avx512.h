// Internal: the AVX-512 VNNI panel GEMM kernels (see gemm_avx512.cpp). Each
// keeps the AVX2 panel layout of its type, so prepacked matrices and
// unpacked rows are the same bytes on both paths.
#pragma once

#include "kernels/kernel_table.h"

namespace minnow::kernels::avx512 {

PanelKernel panel_kernel_q4_0();
PanelKernel panel_kernel_q5_0();
PanelKernel panel_kernel_q4_1();
PanelKernel panel_kernel_q5_1();
PanelKernel panel_kernel_q8_0();
PanelKernel panel_kernel_iq4_nl();  // per call only, as on AVX2

}  // namespace minnow::kernels::avx512
