// Internal: each per-ISA file fills its entries. The AVX-512 table starts as a
// copy of the AVX2 one, so a type without an AVX-512 kernel still runs AVX2.
#pragma once

#include "kernels/kernel_table.h"

namespace minnow::kernels {

void fill_scalar_kernels(KernelTable& table);
void fill_avx2_kernels(KernelTable& table);
void fill_avx512_kernels(KernelTable& table);

}  // namespace minnow::kernels
