#include "kernels/kernel_table.h"

#include <array>

#include "kernels/kernel_fill.h"
#include "quant/block_formats.h"
#include "quant/k_quants.h"
#include "quant/legacy_blocks.h"

namespace minnow::kernels {

size_t act_row_bytes(ActFormat format, size_t n) {
  switch (format) {
    case ActFormat::kF32: return n * sizeof(float);
    case ActFormat::kQ8_0: return n / quant::kQK * sizeof(quant::BlockQ8_0);
    case ActFormat::kQ8_K: return n / quant::kQK_K * sizeof(quant::BlockQ8_K);
  }
  return 0;
}

void quantize_act(ActFormat format, const float* x, uint8_t* out, size_t n) {
  switch (format) {
    case ActFormat::kF32: __builtin_memcpy(out, x, n * sizeof(float)); return;
    case ActFormat::kQ8_0: quant::quantize_q8_0(x, out, n / quant::kQK); return;
    case ActFormat::kQ8_K: quant::quantize_q8_k(x, out, n / quant::kQK_K); return;
  }
}

namespace {

struct Tables {
  std::array<KernelTable, kIsaCount> table;
  std::array<bool, kIsaCount> usable{};
  Isa chosen = Isa::kScalar;

  Tables() {
    fill_scalar_kernels(table[0]);
    usable[0] = true;
    if (isa_supported(Isa::kAvx2)) {
      table[1] = table[0];
      fill_avx2_kernels(table[1]);
      usable[1] = true;
    }
    if (isa_supported(Isa::kAvx512)) {
      table[2] = table[1];
      fill_avx512_kernels(table[2]);
      usable[2] = true;
    }
    for (int i = 0; i < kIsaCount; ++i) table[i].isa = Isa(i);
    chosen = choose_isa();
  }
};

const Tables& tables() {
  static const Tables t;  // filled once; thread-safe initialisation
  return t;
}

}  // namespace

const KernelTable& kernel_table() { return tables().table[int(tables().chosen)]; }

const KernelTable* kernel_table_for(Isa isa) {
  const Tables& t = tables();
  return t.usable[int(isa)] ? &t.table[int(isa)] : nullptr;
}

}  // namespace minnow::kernels
