#include "model/blocks.h"

#include "base/thread_pool.h"
#include "kernels/activations.h"
#include "kernels/kernel_table.h"
#include "kernels/norms.h"
#include "kernels/rope.h"
#include "model/ops.h"

namespace minnow::blocks {

bool vector_ops() { return kernels::kernel_table().isa != kernels::Isa::kScalar; }

void norm(NormKind kind, float* x, uint32_t n_tokens, uint32_t n, const TensorRef& w, const TensorRef& b,
          float eps) {
  const bool vec = vector_ops();
  const float* wf = w ? w.f32() : nullptr;
  const float* bf = b ? b.f32() : nullptr;
  parallel_rows(n_tokens, [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; ++t) {
      float* row = x + t * n;
      if (kind == NormKind::kRms)
        vec ? kernels::rms_norm(row, wf, n, eps) : ops::rms_norm(row, wf, n, eps);
      else
        vec ? kernels::layer_norm(row, wf, bf, n, eps) : ops::layer_norm(row, wf, bf, n, eps);
    }
  }, 8);
}

void rope(const RopeAngles& a, bool neox, float* x, size_t t0, size_t t1, uint32_t n_heads, uint32_t head_dim) {
  const bool vec = vector_ops();
  const size_t width = size_t(n_heads) * head_dim;
  for (size_t t = t0; t < t1; ++t) {
    const float* c = &a.cos[t * a.half];
    const float* s = &a.sin[t * a.half];
    if (vec)
      kernels::rope_rotate(x + t * width, n_heads, head_dim, 2 * a.half, c, s, neox);
    else
      ops::rope_rotate(x + t * width, n_heads, head_dim, 2 * a.half, c, s,
                       neox ? ops::RopeStyle::kNeox : ops::RopeStyle::kNorm);
  }
}

void linear_many(std::span<const LinearOut> layers, const float* x, uint32_t n_tokens) {
  std::vector<const TensorRef*> ws;
  std::vector<float*> ys;
  for (const LinearOut& l : layers) {
    l.y.resize(size_t(n_tokens) * l.w.ne1);
    ws.push_back(&l.w);
    ys.push_back(l.y.data());
  }
  matmul_many(ws, x, n_tokens, ys);
  for (const LinearOut& l : layers) {
    if (!l.b) continue;
    for (uint32_t t = 0; t < n_tokens; ++t) ops::add(l.y.data() + size_t(t) * l.w.ne1, l.b.f32(), l.w.ne1);
  }
}

void linear(const TensorRef& w, const TensorRef& b, const float* x, uint32_t n_tokens, std::vector<float>& y) {
  const LinearOut one[] = {{w, b, y}};
  linear_many(one, x, n_tokens);
}

namespace {

// act = f(g) * up (kernels::silu_mul or gelu_mul; gelu's up may be null),
// token rows split over the thread pool.
void activation_rows(GatedActivationFn f, const float* g, const float* up, float* act, uint32_t n_tokens,
                     uint32_t n_ff) {
  parallel_rows(n_tokens, [&](size_t b, size_t e) {
    f(g + b * n_ff, up ? up + b * n_ff : nullptr, act + b * n_ff, (e - b) * n_ff);
  });
}

// Decode's gated FFN input as one pass (matmul_gated_token): gate, up and
// the activation together. False where it does not apply.
bool gated_in_one_pass(FfnKind kind, const TensorRef& gate, const TensorRef& up, const float* x, uint32_t n_ff,
                       float* act) {
  switch (kind) {
    case FfnKind::kGatedSilu:
      return matmul_gated_token(gate, up, x, kernels::silu_mul, act);
    case FfnKind::kGatedGelu:
      return matmul_gated_token(gate, up, x, kernels::gelu_mul, act);
    case FfnKind::kFusedGateUpSilu: {  // one matrix, rows [gate; up]: two views of it
      if (up.packed && n_ff % kernels::kPanelRows != 0) return false;  // the halves would split a panel
      TensorRef g = up, u = up;
      g.ne1 = u.ne1 = n_ff;
      u.data = up.data + size_t(n_ff) * up.row_bytes;
      return matmul_gated_token(g, u, x, kernels::silu_mul, act);
    }
    case FfnKind::kGelu:
      return false;
  }
  return false;
}

}  // namespace

std::vector<float> ffn(FfnKind kind, const TensorRef& gate, const TensorRef& up, const TensorRef& up_b,
                       const TensorRef& down, const TensorRef& down_b, const float* x, uint32_t n_tokens,
                       uint32_t n_ff) {
  // Intermediates live as long as the thread: every layer of every forward
  // pass needs the same sizes, and fresh vectors were zeroed (and their
  // megabytes faulted in) once per layer, to be overwritten at once.
  thread_local std::vector<float> hidden, act, g;
  act.resize(size_t(n_tokens) * n_ff);
  std::vector<float> out;
  // The vector activations unless the scalar path was asked for (then these loops are their twins).
  const bool vec = vector_ops();
  if (vec && n_tokens == 1 && !up_b && gated_in_one_pass(kind, gate, up, x, n_ff, act.data())) {
    linear(down, down_b, act.data(), n_tokens, out);
    return out;
  }
  if (kind == FfnKind::kGatedSilu || kind == FfnKind::kGatedGelu) {
    const TensorRef no_bias;
    const LinearOut both[] = {{gate, no_bias, g}, {up, up_b, hidden}};
    linear_many(both, x, n_tokens);
  } else {
    linear(up, up_b, x, n_tokens, hidden);
  }
  switch (kind) {
    case FfnKind::kGelu:
      if (vec) {
        activation_rows(kernels::gelu_mul, hidden.data(), nullptr, act.data(), n_tokens, n_ff);
        break;
      }
      for (size_t i = 0; i < act.size(); ++i) act[i] = ops::gelu_tanh(hidden[i]);
      break;
    case FfnKind::kFusedGateUpSilu:  // one matrix: rows [gate; up]
      for (uint32_t t = 0; t < n_tokens; ++t) {
        const float* g = hidden.data() + size_t(t) * 2 * n_ff;
        if (vec) {
          kernels::silu_mul(g, g + n_ff, &act[size_t(t) * n_ff], n_ff);
          continue;
        }
        for (uint32_t i = 0; i < n_ff; ++i) act[size_t(t) * n_ff + i] = ops::silu(g[i]) * g[n_ff + i];
      }
      break;
    case FfnKind::kGatedSilu:
    case FfnKind::kGatedGelu: {
      if (vec) {
        activation_rows(kind == FfnKind::kGatedSilu ? kernels::silu_mul : kernels::gelu_mul, g.data(), hidden.data(),
                        act.data(), n_tokens, n_ff);
        break;
      }
      for (size_t i = 0; i < act.size(); ++i)
        act[i] = (kind == FfnKind::kGatedSilu ? ops::silu(g[i]) : ops::gelu_tanh(g[i])) * hidden[i];
      break;
    }
  }
  linear(down, down_b, act.data(), n_tokens, out);
  return out;
}

}  // namespace minnow::blocks
