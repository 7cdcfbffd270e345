// Internal: the AVX2 panel GEMM kernels (see gemm_avx2.cpp).
#pragma once

#include "kernels/kernel_table.h"

namespace minnow::kernels::avx2 {

PanelKernel panel_kernel_q4_0();
PanelKernel panel_kernel_q5_0();
PanelKernel panel_kernel_q4_1();
PanelKernel panel_kernel_q5_1();
PanelKernel panel_kernel_q8_0();
PanelKernel panel_kernel_iq4_nl();  // per call only: Q8_0's layout, larger than the rows
PanelKernel panel_kernel_q4_k();  // gemm_kquant_avx2.cpp
PanelKernel panel_kernel_q5_k();
PanelKernel panel_kernel_q6_k();
PanelKernel panel_kernel_q2_k();  // Q6_K's panels
PanelKernel panel_kernel_q3_k();  // Q6_K's panels
PanelKernel panel_kernel_iq4_xs();
PanelKernel panel_kernel_f32();  // gemm_float_avx2.cpp: rows converted to f32
PanelKernel panel_kernel_f16();
PanelKernel panel_kernel_bf16();

}  // namespace minnow::kernels::avx2
