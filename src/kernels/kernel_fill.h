// Internal: each per-ISA file fills its entries. The AVX-512 table starts as a
// copy of the AVX2 one, so a type without an AVX-512 kernel still runs AVX2.
#pragma once

#include "kernels/kernel_table.h"

namespace minnow::kernels {

// A table entry with every field named (brace-initialising a prefix of
// DotKernel draws -Wmissing-field-initializers).
inline DotKernel dot_kernel(ActFormat act, DotFn dot, Dot4Fn dot4 = nullptr, PanelKernel panel = {}) {
  DotKernel k;
  k.act = act;
  k.dot = dot;
  k.dot4 = dot4;
  k.panel = panel;
  return k;
}

void fill_scalar_kernels(KernelTable& table);
void fill_avx2_kernels(KernelTable& table);
void fill_avx512_kernels(KernelTable& table);
// The AVX-512 VNNI panel multiplies (gemm_avx512.cpp, gemm_kquant_avx512.cpp),
// set on the AVX2 panels the AVX-512 table copied: same layouts, same bytes.
void fill_vnni_panels(KernelTable& table);
void fill_kquant_vnni_panels(KernelTable& table);

namespace {  // internal linkage: each per-ISA file instantiates its own

// Sets `type`'s panel multiplies to kPanelsGemm(panel, n_panels, x, x_stride,
// n, n_tokens, y, y_stride, next) over one panel and over a pair, keeping the
// rest of the entry (layout, packing, whether it is repacked at load).
template <auto kPanelsGemm>
void set_panel_gemms(KernelTable& t, GgmlType type) {
  PanelKernel& p = t.dot[uint32_t(type)].panel;
  p.gemm = [](const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
              size_t y_stride, const uint8_t* next) {
    kPanelsGemm(panel, 1, x, x_stride, n, n_tokens, y, y_stride, next);
  };
  p.gemm_pair = [](const uint8_t* panels, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens, float* y,
                   size_t y_stride, const uint8_t* next) {
    kPanelsGemm(panels, 2, x, x_stride, n, n_tokens, y, y_stride, next);
  };
}

}  // namespace
// The AVX2 entries of the low-bit super-block types (Q2_K, Q3_K, IQ4_XS),
// in dot_kquant_low_avx2.cpp.
void fill_kquant_low_avx2(KernelTable& table);

}  // namespace minnow::kernels
