// The kernel table: one dot-product kernel per weight type for one ISA.
// Each weight type names the activation format its kernel reads (float, or
// activations quantized once per matmul to Q8_0 / Q8_K blocks, which turns
// the inner loop into int8 multiply-adds). Types without a fast kernel have
// dot == nullptr and are dequantized row by row by the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/ggml_type.h"
#include "kernels/isa.h"

namespace minnow::kernels {

// kQ8_0 is n/32 BlockQ8_0, then n/32 floats d * sum(q), then n/32 floats d
// (one per block each): kernels whose weights are stored with an offset
// (value = u - c) subtract c * d_w * d * sum(q) instead of recomputing the
// activation sums per weight row, and the scales are read eight at a time
// without converting fp16 per weight row.
enum class ActFormat : uint8_t { kF32, kQ8_0, kQ8_K };
inline constexpr size_t kActFormatCount = 3;

// Bytes n activations take in `format` (n a multiple of its block size).
size_t act_row_bytes(ActFormat format, size_t n);
// Converts n floats into `format`, the same on every ISA path so that paths
// differ only in the dot (Q8_0: quant::quantize_q8_0's formula vectorised,
// tested against it; Q8_K: the reference quantizer).
void quantize_act(ActFormat format, const float* x, uint8_t* out, size_t n);

// sum_i w[i] * x[i] over n elements: w is one weight row in its GGUF layout,
// x the activations in the kernel's ActFormat. Neither needs any alignment.
using DotFn = float (*)(const uint8_t* w, const uint8_t* x, size_t n);

// The same for four activation rows x, x + x_stride, ... at once: out[0..3].
// Prefill uses it so that each weight block is unpacked once per 4 tokens.
using Dot4Fn = void (*)(const uint8_t* w, const uint8_t* x, size_t x_stride, size_t n, float* out);

// A small decode batch: the most tokens the pair kernels below take at once.
constexpr uint32_t kPairTokensMax = 4;

// One activation row against two weight rows anywhere in memory, block by
// block in lockstep: out[0], out[1]. Decode runs each thread's rows as two
// streams far apart this way (matmul.cpp says why).
using Dot2Fn = void (*)(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t n, float* out);

// Two weight rows (as Dot2Fn) against 2 .. kPairTokensMax activation rows
// (a small decode batch), each block decoded once for every token: token
// t's activations at x + t * x_stride, its products at y0/y1 + t * y_stride.
using Dot2TokensFn = void (*)(const uint8_t* w0, const uint8_t* w1, const uint8_t* x, size_t x_stride, size_t n,
                              size_t n_tokens, float* y0, float* y1, size_t y_stride);

// Panels: kPanelRows weight rows interleaved so that one register holds the
// same few elements of every row (layouts in gemm_avx2.cpp). A panel is as
// large as the rows it holds. Kernel tables that set `prepack` want weight
// matrices repacked into panels once at load (matmul then reads them as they
// are, decode included); otherwise panels are packed per call for several
// tokens, since every token then meets each packed panel.
inline constexpr size_t kPanelRows = 8;
// Packs rows w, w + row_bytes, ... (kPanelRows of them, n elements each)
// into `panel`, which holds panel_bytes(n) bytes.
using PackPanelFn = void (*)(const uint8_t* w, size_t row_bytes, size_t n, uint8_t* panel);
// y[t * y_stride + r] = row r of the panel . activation row t (x + t * x_stride),
// for r < kPanelRows and t < n_tokens. `next`: the prepacked panel this
// thread meets next, or nullptr. A batch reads each panel from DRAM once and
// then works on it from cache, so asking for the next one while the cached
// token groups run puts the DRAM time under the arithmetic instead of after
// it. Kernels that pack per call ignore it.
using PanelGemmFn = void (*)(const uint8_t* panel, const uint8_t* x, size_t x_stride, size_t n, size_t n_tokens,
                             float* y, size_t y_stride, const uint8_t* next);
// One token against one panel: y gets its kPanelRows products.
using TokenPanelFn = void (*)(const uint8_t* panel, const uint8_t* x, size_t n, float* y);
// One token against two panels anywhere in memory, block by block in
// lockstep: y0 and y1 get their kPanelRows products. Decode runs each
// thread's range as two streams far apart this way (matmul.cpp says why).
using TokenPanelPairFn = void (*)(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t n, float* y0,
                                  float* y1);
// The same for 2 .. kPairTokensMax tokens (a small decode batch): token t's
// activations at x + t * x_stride, its products at y0/y1 + t * y_stride.
using TokensPanelPairFn = void (*)(const uint8_t* p0, const uint8_t* p1, const uint8_t* x, size_t x_stride, size_t n,
                                   size_t n_tokens, float* y0, float* y1, size_t y_stride);
// Row r of a matrix stored as consecutive panels, as floats.
using UnpackRowFn = void (*)(const uint8_t* panels, size_t r, size_t n, float* out);

struct PanelKernel {
  PackPanelFn pack = nullptr;  // nullptr: no panel path for this type
  PanelGemmFn gemm = nullptr;
  UnpackRowFn unpack_row = nullptr;
  size_t bytes_per_block = 0;  // panel bytes per 32 elements of the rows
  bool prepack = false;
  // Optional: the same for two panels, the second right after the first in
  // memory (prepacked, or packed per call side by side): y rows 0-15, `next`
  // the panel after both. For ISAs whose registers hold 16 rows; batches of
  // 2+ tokens only (one token runs `gemm`: see fill_vnni_panels).
  PanelGemmFn gemm_pair = nullptr;
  TokenPanelPairFn token_pair = nullptr;  // optional: one token, two panels (decode)
  // Optional: 2 .. pair_tokens_max (<= kPairTokensMax) tokens, two panels
  // (batched decode); more tokens take gemm_pair's one stream.
  TokensPanelPairFn tokens_pair = nullptr;
  uint32_t pair_tokens_max = 0;
  TokenPanelFn token = nullptr;           // optional: one token, one panel (nullptr: `gemm`)
  // Optional: the panels that rows left unpacked are packed into per call
  // for batches, where prepacked panels are a decode layout whose `gemm`
  // converts them (nullptr: this one).
  const PanelKernel* per_call = nullptr;
  size_t panel_bytes(size_t n) const { return n / 32 * bytes_per_block; }
  // Panels the next call takes at panel p of [.., end): 2 where a pair fits.
  size_t step_at(size_t p, size_t end, uint32_t n_tokens) const {
    return gemm_pair && n_tokens > 1 && p + 2 <= end ? 2 : 1;
  }
  PanelGemmFn gemm_for(size_t step) const { return step == 2 ? gemm_pair : gemm; }
};

struct DotKernel {
  ActFormat act = ActFormat::kF32;
  DotFn dot = nullptr;
  Dot4Fn dot4 = nullptr;  // optional; nullptr: callers loop over dot
  Dot2Fn dot2 = nullptr;  // optional: one token, two rows (decode)
  Dot2TokensFn dot2_tokens = nullptr;  // optional: 2 .. kPairTokensMax tokens, two rows (batched decode)
  PanelKernel panel;      // optional
};

inline constexpr uint32_t kMaxGgmlType = 40;

struct KernelTable {
  Isa isa = Isa::kScalar;
  DotKernel dot[kMaxGgmlType];

  const DotKernel& for_type(GgmlType t) const {
    static constexpr DotKernel kNone{};
    return uint32_t(t) < kMaxGgmlType ? dot[uint32_t(t)] : kNone;
  }
};

// The table of the ISA choose_isa() picked, filled on first use.
const KernelTable& kernel_table();
// The table of a given ISA (tests and benchmarks compare paths); nullptr when
// this CPU cannot run it.
const KernelTable* kernel_table_for(Isa isa);

}  // namespace minnow::kernels
