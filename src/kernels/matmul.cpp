#include "kernels/matmul.h"

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "base/ggml_type.h"
#include "kernels/pass_profile.h"

#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace minnow::kernels {
namespace {

// 16 rows of a 4864-wide Q8_0 matrix are ~80 KB: a tile stays in L1/L2 while
// it meets each token of the batch. Token tiles bound the activation working
// set the same way.
constexpr size_t kRowTile = 16;
// One token's row units are this many rows and their partners (see Job;
// in the fused gate/up pass, the same rows of both): the pass ends when
// the slower thread finishes its last unit, and while it does the other
// waits (ffn_down Q6_K: 16 rows paired were 128 KB, the caller waited
// ~3.4 us a pass; with 4, ~1.5). Claims halve what is left, so finer
// units add few claims.
constexpr size_t kTokenRowTile = 4;
constexpr uint32_t kTokenTile = 16;

// From this many tokens on, packing panels pays for itself (a panel is
// packed once per matmul and met by every token), except for types whose
// row pairs take up to kPairTokensMax tokens at once (Dot2TokensFn: K-quant
// rows, 4 tokens streamed 10 -> 14-15 GB/s against per-call panels).
constexpr uint32_t kPanelMinTokens = 4;

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

// One matrix's share of a (possibly fused) matmul: which path it takes and
// how its rows split into work units that threads claim.
struct Job {
  enum class Path { kDequantized, kPacked, kPanels, kRows };
  const KernelTable* table = nullptr;
  const WeightMatrix* w = nullptr;
  DotKernel kernel;
  Path path = Path::kRows;
  const float* x = nullptr;    // float activations (dequantized path)
  const uint8_t* act = nullptr;  // activations in the kernel's format
  size_t act_bytes = 0;
  float* y = nullptr;
  uint32_t n_tokens = 0;
  size_t n_panels = 0;  // kPanels: whole panels, then the rest of the rows as one more unit
  size_t n_units = 0;
  // One token: unit k also runs the panel (kPacked) or rows (kRows) this far
  // after it, so a thread reads two streams far apart, block by block
  // (TokenPanelPairFn, Dot2Fn), and consecutive claims continue both. One
  // core keeps more reads in flight on two streams than on one (the
  // hardware prefetcher follows each): on Machine C a Q4_K-like kernel on
  // 2 threads read 21-27 GB/s from one stream per thread and 33 from two, a
  // plain read 33 and 36; three or four were no better. The streams must
  // take turns often: every 1-2 KB gave the 33 GB/s, every 9 KB nothing.
  size_t pair_offset = 0;
  size_t row_tile = kRowTile;  // kRows: rows per unit

  void run(size_t b, size_t e) const;
};

// x's n_tokens rows of cols values in the kernels' `format`: x itself for
// kF32, else this thread's buffer for that format (valid until the next
// conversion to it), the tokens split over the pool.
const uint8_t* converted_activations(ActFormat format, const float* x, size_t cols, uint32_t n_tokens,
                                     ThreadPool* pool) {
  if (format == ActFormat::kF32) return reinterpret_cast<const uint8_t*>(x);
  thread_local std::vector<std::vector<uint8_t>> buffers(kActFormatCount);
  std::vector<uint8_t>& buf = buffers[size_t(format)];
  const size_t bytes = act_row_bytes(format, cols);
  buf.resize(bytes * n_tokens);
  auto convert = [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) quantize_act(format, x + t * cols, buf.data() + t * bytes, cols);
  };
  if (pool)
    pool->parallel_for(n_tokens, convert, 1);
  else
    convert(0, n_tokens);
  return buf.data();
}

// --passes: one decode step's pass over these matrices, started at t0.
void record_pass_since(std::chrono::steady_clock::time_point t0, std::span<const WeightMatrix* const> ms) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string matrices;
  double bytes = 0;
  for (const WeightMatrix* w : ms) {
    if (!matrices.empty()) matrices += " + ";
    matrices += std::to_string(w->n_rows);
    matrices += 'x';
    matrices += std::to_string(w->n_cols);
    matrices += ' ';
    matrices += ggml_type_name(w->type);
    bytes += double(w->row_bytes) * double(w->n_rows);
  }
  record_pass(matrices, seconds, bytes);
}

void run_rows(const Job& j, size_t r_begin, size_t r_end) {
  const WeightMatrix& w = *j.w;
  const DotFn dot = j.kernel.dot;
  auto row = [&](size_t r) { return w.data + r * w.row_bytes; };
  if (j.n_tokens > 1 && j.pair_offset != 0 && j.kernel.dot2_tokens) {  // a small batch, each block decoded once
    for (size_t r = r_begin; r < r_end; ++r) {
      const size_t partner = r + j.pair_offset;
      if (partner < w.n_rows) {
        j.kernel.dot2_tokens(row(r), row(partner), j.act, j.act_bytes, w.n_cols, j.n_tokens, j.y + r, j.y + partner,
                             w.n_rows);
        continue;
      }
      for (uint32_t t = 0; t < j.n_tokens; ++t)
        j.y[size_t(t) * w.n_rows + r] = dot(row(r), j.act + t * j.act_bytes, w.n_cols);
    }
    return;
  }
  if (j.n_tokens == 1 || j.pair_offset != 0) {  // rows r and r + pair_offset together: two streams (see Job)
    for (size_t r = r_begin; r < r_end; ++r) {
      const size_t partner = r + j.pair_offset;
      // A small batch's first token streams the two rows; the others find them in L1.
      for (uint32_t t = 0; t < j.n_tokens; ++t) {
        const uint8_t* act = j.act + t * j.act_bytes;
        float* y = j.y + size_t(t) * w.n_rows;
        auto one = [&](size_t r) { y[r] = dot(row(r), act, w.n_cols); };
        if (j.pair_offset == 0 || partner >= w.n_rows) {
          one(r);
        } else if (const Dot2Fn dot2 = j.kernel.dot2) {
          float out[2];
          dot2(row(r), row(partner), act, w.n_cols, out);
          y[r] = out[0];
          y[partner] = out[1];
        } else {
          one(r);
          one(partner);
        }
      }
    }
    return;
  }
  const Dot4Fn dot4 = j.kernel.dot4;
  for (uint32_t t0 = 0; t0 < j.n_tokens; t0 += kTokenTile) {
    const uint32_t t1 = std::min(j.n_tokens, t0 + kTokenTile);
    for (size_t r = r_begin; r < r_end; ++r) {
      const uint8_t* row = w.data + r * w.row_bytes;
      uint32_t t = t0;
      if (dot4) {
        for (; t + 4 <= t1; t += 4) {
          float out[4];
          dot4(row, j.act + t * j.act_bytes, j.act_bytes, w.n_cols, out);
          for (int i = 0; i < 4; ++i) j.y[size_t(t + i) * w.n_rows + r] = out[i];
        }
      }
      for (; t < t1; ++t) j.y[size_t(t) * w.n_rows + r] = dot(row, j.act + t * j.act_bytes, w.n_cols);
    }
  }
}

void Job::run(size_t b, size_t e) const {
  const PanelKernel& panel = kernel.panel;
  switch (path) {
    case Path::kDequantized:
      return matmul_dequantized(*table, *w, x, n_tokens, y, b, e);
    case Path::kPacked: {
      const size_t bytes = panel.panel_bytes(w->n_cols);
      if (pair_offset != 0) {
        auto at = [&](size_t p) { return w->data + p * bytes; };
        for (size_t p = b; p < e; ++p) {
          const size_t q = p + pair_offset;
          if (q < w->n_rows / kPanelRows) {
            if (n_tokens == 1)
              panel.token_pair(at(p), at(q), act, w->n_cols, y + p * kPanelRows, y + q * kPanelRows);
            else
              panel.tokens_pair(at(p), at(q), act, act_bytes, w->n_cols, n_tokens, y + p * kPanelRows,
                                y + q * kPanelRows, w->n_rows);
          } else if (panel.token && n_tokens == 1)
            panel.token(at(p), act, w->n_cols, y + p * kPanelRows);
          else
            panel.gemm(at(p), act, act_bytes, w->n_cols, n_tokens, y + p * kPanelRows, w->n_rows, nullptr);
        }
        return;
      }
      for (size_t p = b, step; p < e; p += step) {
        step = panel.step_at(p, e, n_tokens);
        panel.gemm_for(step)(w->data + p * bytes, act, act_bytes, w->n_cols, n_tokens, y + p * kPanelRows,
                             w->n_rows, p + step < e ? w->data + (p + step) * bytes : nullptr);
      }
      return;
    }
    case Path::kPanels: {
      const PanelKernel& pc = panel.per_call ? *panel.per_call : panel;
      std::vector<uint8_t>& buf = panel_buffer();
      const size_t bytes = pc.panel_bytes(w->n_cols), end = std::min(e, n_panels);
      buf.resize(2 * bytes);
      for (size_t p = b, step; p < end; p += step) {
        step = pc.step_at(p, end, n_tokens);
        for (size_t i = 0; i < step; ++i)
          pc.pack(w->data + (p + i) * kPanelRows * w->row_bytes, w->row_bytes, w->n_cols, buf.data() + i * bytes);
        pc.gemm_for(step)(buf.data(), act, act_bytes, w->n_cols, n_tokens, y + p * kPanelRows, w->n_rows, nullptr);
      }
      if (e > n_panels) run_rows(*this, n_panels * kPanelRows, w->n_rows);
      return;
    }
    case Path::kRows:
      return run_rows(*this, b * row_tile, std::min<size_t>(e * row_tile, pair_offset ? pair_offset : w->n_rows));
  }
}

}  // namespace

void matmul(const KernelTable& table, const WeightMatrix& w, const float* x, uint32_t n_tokens, float* y,
            ThreadPool* pool) {
  float* ys[1] = {y};
  matmul_many(table, {&w, 1}, x, n_tokens, ys, pool);
}

void matmul_many(const KernelTable& table, std::span<const WeightMatrix> ws, const float* x, uint32_t n_tokens,
                 std::span<float* const> ys, ThreadPool* pool) {
  if (n_tokens == 0) return;
  // The shared activations assume one input width; anything else runs apart.
  for (const WeightMatrix& w : ws) {
    if (w.n_cols == ws[0].n_cols) continue;
    for (size_t i = 0; i < ws.size(); ++i) matmul_many(table, ws.subspan(i, 1), x, n_tokens, ys.subspan(i, 1), pool);
    return;
  }
  auto run = [&](const std::function<void(size_t, size_t)>& fn, size_t n) {
    if (pool)
      pool->parallel_for(n, fn, 1);
    else
      fn(0, n);
  };
  // Activations are converted once per distinct format (the matrices share x
  // and their column count).
  const uint8_t* act_of[kActFormatCount] = {};
  std::vector<Job> jobs;
  jobs.reserve(ws.size());
  size_t total_units = 0;
  for (size_t i = 0; i < ws.size(); ++i) {
    const WeightMatrix& w = ws[i];
    if (w.n_rows == 0) continue;
    Job j;
    j.table = &table;
    j.w = &w;
    j.kernel = table.for_type(w.type);
    j.x = x;
    j.y = ys[i];
    j.n_tokens = n_tokens;
    if (!j.kernel.dot) {
      j.path = Job::Path::kDequantized;
      j.n_units = w.n_rows;
    } else {
      const ActFormat f = j.kernel.act;
      j.act_bytes = act_row_bytes(f, w.n_cols);
      const uint8_t*& converted = act_of[size_t(f)];
      if (!converted) converted = converted_activations(f, x, w.n_cols, n_tokens, pool);
      j.act = converted;
      if (w.packed) {
        j.path = Job::Path::kPacked;
        j.n_units = w.n_rows / kPanelRows;
        if ((n_tokens == 1 && j.kernel.panel.token_pair) ||
            (n_tokens > 1 && n_tokens <= j.kernel.panel.pair_tokens_max && j.kernel.panel.tokens_pair)) {
          j.pair_offset = (j.n_units + 1) / 2;
          j.n_units = j.pair_offset;
        }
      } else if (n_tokens >= kPanelMinTokens && j.kernel.panel.pack && w.n_rows >= kPanelRows && w.n_cols % 32 == 0 &&
                 !(n_tokens <= kPairTokensMax && j.kernel.dot2_tokens)) {
        j.path = Job::Path::kPanels;
        j.n_panels = w.n_rows / kPanelRows;
        j.n_units = j.n_panels + (w.n_rows % kPanelRows ? 1 : 0);
      } else {
        j.path = Job::Path::kRows;
        // One token, or a small batch whose type has a two-row dot: rows in
        // pairs half a matrix apart, as two streams.
        const bool pairs = n_tokens == 1 || (n_tokens <= kPairTokensMax && j.kernel.dot2);
        const size_t rows = pairs && w.n_rows > 1 ? (w.n_rows + 1) / 2 : w.n_rows;
        if (rows != w.n_rows) j.pair_offset = rows;
        if (pairs) j.row_tile = kTokenRowTile;
        j.n_units = (rows + j.row_tile - 1) / j.row_tile;
      }
    }
    total_units += j.n_units;
    jobs.push_back(j);
  }
  // One parallel pass over every matrix's units: fused q/k/v or gate/up
  // projections cost one hand-off to the pool instead of three or two.
  const bool profile = pass_profiling();  // on only while a bench times decode steps
  const auto t0 = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  run([&](size_t b, size_t e) {
    size_t first = 0;
    for (const Job& j : jobs) {
      const size_t lo = std::max(b, first), hi = std::min(e, first + j.n_units);
      if (lo < hi) j.run(lo - first, hi - first);
      first += j.n_units;
      if (first >= e) break;
    }
  }, total_units);
  if (profile) {
    std::vector<const WeightMatrix*> ms;
    for (const Job& j : jobs) ms.push_back(j.w);
    record_pass_since(t0, ms);
  }
}

bool matmul_gated_token(const KernelTable& table, const WeightMatrix& gate, const WeightMatrix& up, const float* x,
                        GatedActFn act, float* out, ThreadPool* pool) {
  if (gate.type != up.type || gate.n_cols != up.n_cols || gate.n_rows != up.n_rows || gate.packed != up.packed ||
      gate.n_rows == 0)
    return false;
  const DotKernel& k = table.for_type(gate.type);
  const bool panels = gate.packed && k.panel.token_pair;
  if (!panels && (gate.packed || !k.dot2)) return false;
  const size_t cols = gate.n_cols, rows = gate.n_rows;
  const uint8_t* a = converted_activations(k.act, x, cols, 1, nullptr);
  const size_t unit_rows = panels ? kPanelRows : kTokenRowTile, panel_bytes = k.panel.panel_bytes(cols);
  auto units = [&](size_t b, size_t e) {
    float g[kRowTile], u[kRowTile];
    for (size_t i = b; i < e; ++i) {
      const size_t r0 = i * unit_rows, n = std::min(unit_rows, rows - r0);
      if (panels) {
        k.panel.token_pair(gate.data + i * panel_bytes, up.data + i * panel_bytes, a, cols, g, u);
      } else {
        for (size_t r = 0; r < n; ++r) {
          float both[2];
          k.dot2(gate.data + (r0 + r) * gate.row_bytes, up.data + (r0 + r) * up.row_bytes, a, cols, both);
          g[r] = both[0], u[r] = both[1];
        }
      }
      act(g, u, out + r0, n);
    }
  };
  static_assert(kPanelRows <= kRowTile && kTokenRowTile <= kRowTile);
  const bool profile = pass_profiling();
  const auto t0 = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const size_t n_units = (rows + unit_rows - 1) / unit_rows;
  if (pool)
    pool->parallel_for(n_units, units, 1);
  else
    units(0, n_units);
  if (profile) {
    const WeightMatrix* ms[] = {&gate, &up};
    record_pass_since(t0, ms);
  }
  return true;
}

bool wants_prepack(const KernelTable& table, GgmlType type, uint64_t n_cols, uint64_t n_rows) {
  const PanelKernel& p = table.for_type(type).panel;
  // Panels take exactly the bytes of the rows they hold (asserted per type
  // in the tests); the check keeps a layout that did not from being used.
  return p.prepack && p.pack && n_rows % kPanelRows == 0 && n_cols % 32 == 0 && n_rows > 0 &&
         quantized_size(type, n_cols).value_or(0) * kPanelRows == p.panel_bytes(n_cols);
}

WeightMatrix prepack(const KernelTable& table, const WeightMatrix& w, uint8_t* out, ThreadPool* pool) {
  const PanelKernel& p = table.for_type(w.type).panel;
  const size_t panel_bytes = p.panel_bytes(w.n_cols), n_panels = w.n_rows / kPanelRows;
  auto pack = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      p.pack(w.data + i * kPanelRows * w.row_bytes, w.row_bytes, w.n_cols, out + i * panel_bytes);
  };
  // Panels are independent; a thread takes at least 1 MB of them (smaller
  // matrices run on the caller), and the file's pages come in, and the
  // arena's are faulted, on every thread at once.
  constexpr size_t kMinBytesPerThread = size_t(1) << 20;
  if (pool)
    pool->parallel_for(n_panels, pack, std::max<size_t>(1, kMinBytesPerThread / std::max<size_t>(1, panel_bytes)));
  else
    pack(0, n_panels);
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
