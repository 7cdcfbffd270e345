#include "kernels/matmul.h"

#include <algorithm>
#include <vector>

#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace minnow::kernels {
namespace {

// 16 rows of a 4864-wide Q8_0 matrix are ~80 KB: a tile stays in L1/L2 while
// it meets each token of the batch. Token tiles bound the activation working
// set the same way.
constexpr size_t kRowTile = 16;
constexpr uint32_t kTokenTile = 16;

// From this many tokens on, packing panels pays for itself (a panel is
// packed once per matmul and met by every token).
constexpr uint32_t kPanelMinTokens = 4;

std::vector<uint8_t>& act_buffer() {
  thread_local std::vector<uint8_t> buf;
  return buf;
}

std::vector<uint8_t>& panel_buffer() {
  thread_local std::vector<uint8_t> buf;
  return buf;
}

// Types without a kernel: dequantize each weight row once (into a per-thread
// buffer) and dot it with every token in float.
void matmul_dequantized(const KernelTable& table, const WeightMatrix& w, const float* x, uint32_t n_tokens,
                        float* y, size_t begin, size_t end) {
  thread_local std::vector<float> row;
  row.resize(w.n_cols);
  const DotFn dot = table.for_type(GgmlType::F32).dot;
  for (size_t r = begin; r < end; ++r) {
    // Types and shapes were validated when the model was loaded.
    (void)dequantize(w.type, {w.data + r * w.row_bytes, w.row_bytes}, {row.data(), w.n_cols});
    for (uint32_t t = 0; t < n_tokens; ++t)
      y[size_t(t) * w.n_rows + r] = dot(reinterpret_cast<const uint8_t*>(row.data()),
                                         reinterpret_cast<const uint8_t*>(x + size_t(t) * w.n_cols), w.n_cols);
  }
}

}  // namespace

void matmul(const KernelTable& table, const WeightMatrix& w, const float* x, uint32_t n_tokens, float* y,
            ThreadPool* pool) {
  if (w.n_rows == 0 || n_tokens == 0) return;
  const DotKernel kernel = table.for_type(w.type);
  auto run = [&](const std::function<void(size_t, size_t)>& fn, size_t n, size_t grain) {
    if (pool)
      pool->parallel_for(n, fn, grain);
    else
      fn(0, n);
  };
  if (!kernel.dot) {
    run([&](size_t b, size_t e) { matmul_dequantized(table, w, x, n_tokens, y, b, e); }, w.n_rows, 1);
    return;
  }

  // [n_tokens][act_bytes] activations in the kernel's format.
  const size_t act_bytes = act_row_bytes(kernel.act, w.n_cols);
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  if (kernel.act != ActFormat::kF32) {
    std::vector<uint8_t>& buf = act_buffer();
    buf.resize(act_bytes * n_tokens);
    run([&](size_t b, size_t e) {
      for (size_t t = b; t < e; ++t) quantize_act(kernel.act, x + t * w.n_cols, buf.data() + t * act_bytes, w.n_cols);
    }, n_tokens, 1);
    act = buf.data();
  }

  const DotFn dot = kernel.dot;
  const Dot4Fn dot4 = kernel.dot4;
  size_t first_row = 0;  // rows below it were done by the panel path
  if (w.packed) {
    const size_t panel_bytes = kernel.panel.panel_bytes(w.n_cols);
    run([&](size_t b, size_t e) {
      for (size_t p = b; p < e; ++p)
        kernel.panel.gemm(w.data + p * panel_bytes, act, act_bytes, w.n_cols, n_tokens, y + p * kPanelRows, w.n_rows);
    }, w.n_rows / kPanelRows, 2);
    return;
  }
  if (n_tokens >= kPanelMinTokens && kernel.panel.pack) {
    const size_t n_panels = w.n_rows / kPanelRows;
    run([&](size_t b, size_t e) {
      std::vector<uint8_t>& panel = panel_buffer();
      panel.resize(kernel.panel.panel_bytes(w.n_cols));
      for (size_t p = b; p < e; ++p) {
        const size_t r0 = p * kPanelRows;
        kernel.panel.pack(w.data + r0 * w.row_bytes, w.row_bytes, w.n_cols, panel.data());
        kernel.panel.gemm(panel.data(), act, act_bytes, w.n_cols, n_tokens, y + r0, w.n_rows);
      }
    }, n_panels, 1);
    first_row = n_panels * kPanelRows;
    if (first_row == w.n_rows) return;
  }
  if (n_tokens == 1) {
    run([&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r) y[r] = dot(w.data + r * w.row_bytes, act, w.n_cols);
    }, w.n_rows, kRowTile);
    return;
  }
  run([&](size_t b, size_t e) {
    b += first_row, e += first_row;
    for (uint32_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const uint32_t t1 = std::min(n_tokens, t0 + kTokenTile);
      for (size_t r0 = b; r0 < e; r0 += kRowTile) {
        const size_t r1 = std::min(e, r0 + kRowTile);
        for (size_t r = r0; r < r1; ++r) {
          const uint8_t* row = w.data + r * w.row_bytes;
          uint32_t t = t0;
          if (dot4) {
            for (; t + 4 <= t1; t += 4) {
              float out[4];
              dot4(row, act + t * act_bytes, act_bytes, w.n_cols, out);
              for (int j = 0; j < 4; ++j) y[size_t(t + j) * w.n_rows + r] = out[j];
            }
          }
          for (; t < t1; ++t) y[size_t(t) * w.n_rows + r] = dot(row, act + t * act_bytes, w.n_cols);
        }
      }
    }
  }, w.n_rows - first_row, kRowTile);
}

bool wants_prepack(const KernelTable& table, GgmlType type, uint64_t n_cols, uint64_t n_rows) {
  const PanelKernel& p = table.for_type(type).panel;
  // Panels take exactly the bytes of the rows they hold (asserted per type
  // in the tests); the check keeps a layout that did not from being used.
  return p.prepack && p.pack && n_rows % kPanelRows == 0 && n_cols % 32 == 0 && n_rows > 0 &&
         quantized_size(type, n_cols).value_or(0) * kPanelRows == p.panel_bytes(n_cols);
}

WeightMatrix prepack(const KernelTable& table, const WeightMatrix& w, uint8_t* out) {
  const PanelKernel& p = table.for_type(w.type).panel;
  const size_t panel_bytes = p.panel_bytes(w.n_cols);
  for (size_t i = 0; i < w.n_rows / kPanelRows; ++i)
    p.pack(w.data + i * kPanelRows * w.row_bytes, w.row_bytes, w.n_cols, out + i * panel_bytes);
  WeightMatrix packed = w;
  packed.data = out;
  packed.packed = true;
  return packed;
}

void matrix_row(const KernelTable& table, const WeightMatrix& w, uint64_t r, float* out) {
  if (w.packed) return table.for_type(w.type).panel.unpack_row(w.data, r, w.n_cols, out);
  // Types and shapes were validated when the model was loaded.
  (void)dequantize(w.type, {w.data + r * w.row_bytes, w.row_bytes}, {out, w.n_cols});
}

}  // namespace minnow::kernels
