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
PanelKernel panel_kernel_q4_k();    // gemm_kquant_avx512.cpp: per call only, as on AVX2
PanelKernel panel_kernel_q5_k();
PanelKernel panel_kernel_q6_k();
PanelKernel panel_kernel_q3_k();  // Q6_K's panels
PanelKernel panel_kernel_q2_k();  // Q6_K's panels
PanelKernel panel_kernel_iq4_xs();

}  // namespace minnow::kernels::avx512
