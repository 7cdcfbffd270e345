// Internal: each per-ISA file fills its entries. The AVX-512 table starts as a
// copy of the AVX2 one, so a type without an AVX-512 kernel still runs AVX2.
#pragma once

#include "kernels/kernel_table.h"

namespace minnow::kernels {

// Internal linkage for the helpers below: the AVX-512 files include this
// header too, and the linker must not keep their copy of an inline function
// for code that runs on CPUs without AVX-512.
namespace {

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

// Sets `type`'s panel-pair multiply, keeping the rest of the entry (layout,
// packing, whether it is repacked at load, and the single-panel `gemm`).
inline void set_pair_gemm(KernelTable& t, GgmlType type, PanelGemmFn pair) { t.dot[uint32_t(type)].panel.gemm_pair = pair; }

}  // namespace

void fill_scalar_kernels(KernelTable& table);
void fill_avx2_kernels(KernelTable& table);
void fill_avx512_kernels(KernelTable& table);
// The AVX-512 VNNI panel-pair multiplies (gemm_avx512.cpp,
// gemm_kquant_avx512.cpp), set on the AVX2 panels the AVX-512 table copied:
// same layouts, same bytes. The legacy types get VNNI multiplies for one
// token too (decode: `token`, `token_pair`; see fill_vnni_panels).
void fill_vnni_panels(KernelTable& table, bool wide_token_pairs);
void fill_kquant_vnni_panels(KernelTable& table);
// Decode's Q4_K/Q5_K/Q6_K dots with vpdpwssd (dot_kquant_avx512.cpp).
void fill_kquant_vnni_dots(KernelTable& table);
// Q4_K, Q5_K, IQ4_XS, Q3_K, Q2_K and Q6_K matrices repacked at load into
// decode panels, with VNNI token kernels; prompts convert them to the GEMM
// panels above (kquant_decode_avx512.cpp). After fill_kquant_vnni_panels.
void fill_kquant_decode_panels(KernelTable& table);

// The AVX2 entries of the low-bit super-block types (Q2_K, Q3_K, IQ4_XS),
// in dot_kquant_low_avx2.cpp.
void fill_kquant_low_avx2(KernelTable& table);
// Q3_K and Q2_K matrices repacked at load into the decode panels, with
// maddubs token kernels (kquant_decode_avx2.cpp). After fill_kquant_low_avx2.
void fill_kquant_decode_panels_avx2(KernelTable& table);

}  // namespace minnow::kernels
