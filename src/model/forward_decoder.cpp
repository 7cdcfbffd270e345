// The decoder forward pass shared by every causal architecture, over a batch
// of sequences: projections run on all tokens together, attention per sequence.
#include <algorithm>
#include <cmath>

#include "base/float_mode.h"
#include "base/thread_pool.h"
#include "kernels/activations.h"
#include "model/attention.h"
#include "model/blocks.h"
#include "model/context.h"
#include "model/ops.h"

namespace minnow {

Status decode_batch(std::span<DecodeItem> items) {
  if (items.empty()) return Status::success();
  const Model& m = items[0].ctx->model();
  const ModelHparams& h = m.hparams();
  const ArchTraits& arch = m.traits();
  if (arch.encoder) return invalid_argument("this is an encoder model: use embed, not decode");
  uint32_t n = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (&items[i].ctx->model() != &m) return invalid_argument("a batch must use one model");
    for (size_t j = 0; j < i; ++j)
      if (items[j].ctx == items[i].ctx) return invalid_argument("a sequence appears twice in one batch");
    MINNOW_TRY(items[i].ctx->check_tokens(items[i].tokens));
    n += uint32_t(items[i].tokens.size());
  }
  const uint32_t E = h.n_embd, QD = h.q_dim(), KD = h.kv_dim();
  ScopedThreadPool use_pool(items[0].ctx->pool_.get());  // one batch, one pool
  ScopedFlushDenormals flush;  // attention's tiny weights would cost assists (float_mode.h)

  // Token t of the batch belongs to item owner[t] at position pos[t].
  std::vector<uint32_t> owner(n), pos(n), first_of(items.size());
  for (uint32_t i = 0, t = 0; i < items.size(); ++i) {
    first_of[i] = t;
    for (size_t j = 0; j < items[i].tokens.size(); ++j, ++t) {
      owner[t] = i;
      pos[t] = items[i].ctx->n_past() + uint32_t(j);
    }
  }

  // [n][n_embd] residual stream
  std::vector<float> x(size_t(n) * E);
  for (uint32_t t = 0; t < n; ++t) {
    const auto& it = items[owner[t]];
    dequantize_row(m.global(Role::kTokEmbd), uint64_t(it.tokens[t - first_of[owner[t]]]), &x[size_t(t) * E]);
  }
  if (arch.scale_embd)
    for (auto& v : x) v *= std::sqrt(float(E));

  const float* freq_factors = nullptr;
  if (const auto& f = m.global(Role::kRopeFreqs)) freq_factors = f.f32();  // Llama 3 scaling
  if (const float* lr = ops::longrope_factors(m.global(Role::kRopeFactorsShort).f32(),
                                              m.global(Role::kRopeFactorsLong).f32(), h.rope_original_ctx,
                                              items[0].ctx->n_ctx()))
    freq_factors = lr;
  const bool rope_neox = arch.rope == RopeKind::kNeox;
  blocks::RopeAngles angles;
  if (arch.rope != RopeKind::kNone) {
    angles.half = h.rope_dim / 2;
    angles.cos.resize(size_t(n) * angles.half);
    angles.sin.resize(size_t(n) * angles.half);
    for (uint32_t t = 0; t < n; ++t)
      ops::rope_angles(pos[t], h.rope_dim, h.rope_freq_base, h.rope_freq_scale, freq_factors, h.rope_attn_factor,
                       &angles.cos[size_t(t) * angles.half], &angles.sin[size_t(t) * angles.half]);
  }

  AttentionParams ap;
  ap.n_head = h.n_head;
  ap.n_head_kv = h.n_head_kv;
  ap.head_dim = h.head_dim;
  ap.scale = 1.0f / std::sqrt(float(h.head_dim));
  ap.softcap = h.attn_softcap;
  ap.causal = true;

  // Rows whose logits were asked for: each item's last token, or all of them.
  std::vector<uint32_t> n_rows(items.size());
  uint32_t n_out = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const uint32_t len = uint32_t(items[i].tokens.size());
    n_rows[i] = items[i].all_logits ? len : 1;
    n_out += n_rows[i];
  }

  std::vector<float> cur, q, k, v, qkv, attn(size_t(n) * QD), o;
  std::vector<AttentionQuery> queries(items.size());
  uint32_t n_live = n;  // rows of x still carried (all but in the last layer)
  for (uint32_t il = 0; il < h.n_layer; ++il) {
    auto L = [&](Role r) -> const TensorRef& { return m.layer(il, r); };
    cur = x;
    blocks::norm(arch.norm, cur.data(), n, E, L(Role::kAttnNorm), L(Role::kAttnNormB), h.norm_eps);
    if (L(Role::kQkv)) {  // fused rows [Q; K; V]
      blocks::linear(L(Role::kQkv), L(Role::kQkvB), cur.data(), n, qkv);
      const size_t w = QD + 2 * KD;
      q.resize(size_t(n) * QD);
      k.resize(size_t(n) * KD);
      v.resize(size_t(n) * KD);
      for (size_t t = 0; t < n; ++t) {
        std::copy_n(&qkv[t * w], QD, &q[t * QD]);
        std::copy_n(&qkv[t * w + QD], KD, &k[t * KD]);
        std::copy_n(&qkv[t * w + QD + KD], KD, &v[t * KD]);
      }
    } else {
      const blocks::LinearOut qkv_parts[] = {
          {L(Role::kQ), L(Role::kQB), q}, {L(Role::kK), L(Role::kKB), k}, {L(Role::kV), L(Role::kVB), v}};
      blocks::linear_many(qkv_parts, cur.data(), n);
    }
    // Tokens write distinct cache rows, so they can go in parallel.
    parallel_rows(n, [&](size_t t0, size_t t1) {
      if (arch.rope != RopeKind::kNone) {
        blocks::rope(angles, rope_neox, q.data(), t0, t1, h.n_head, h.head_dim);
        blocks::rope(angles, rope_neox, k.data(), t0, t1, h.n_head_kv, h.head_dim);
      }
      for (size_t t = t0; t < t1; ++t) items[owner[t]].ctx->kv_.store(il, pos[t], &k[t * KD], &v[t * KD]);
    }, 8);
    const bool swa = h.sliding_window > 0 &&
                     (arch.swa == SwaLayers::kAll || (arch.swa == SwaLayers::kEven && il % 2 == 0));
    ap.window = swa ? h.sliding_window : 0;
    // After the last layer's cache stores nothing reads the rows whose
    // logits nobody asked for: their attention, output projection and FFN
    // are skipped (a 64-token prompt then runs that layer's FFN once, not 64 times).
    if (il + 1 == h.n_layer) n_live = n_out;
    for (size_t i = 0, r = 0; i < items.size(); r += n_live == n ? items[i].tokens.size() : n_rows[i], ++i) {
      const uint32_t len = uint32_t(items[i].tokens.size()), skip = n_live == n ? 0 : len - n_rows[i];
      const size_t t0 = first_of[i] + skip;
      queries[i] = {&q[t0 * QD], len - skip, items[i].ctx->n_past() + skip, &items[i].ctx->kv_, &attn[r * QD]};
      // Rows only move towards the front, in order, so this copy is safe in place.
      if (n_live != n) std::copy_n(&x[t0 * E], size_t(n_rows[i]) * E, &x[r * E]);
    }
    x.resize(size_t(n_live) * E);
    attention_many(ap, queries, il);
    blocks::linear(L(Role::kO), L(Role::kOB), attn.data(), n_live, o);
    if (arch.post_norms) blocks::norm(arch.norm, o.data(), n_live, E, L(Role::kPostAttnNorm), {}, h.norm_eps);
    ops::add(x.data(), o.data(), x.size());

    cur = x;
    blocks::norm(arch.norm, cur.data(), n_live, E, L(Role::kFfnNorm), L(Role::kFfnNormB), h.norm_eps);
    std::vector<float> f = blocks::ffn(arch.ffn, L(Role::kGate), L(Role::kUp), L(Role::kUpB), L(Role::kDown),
                                       L(Role::kDownB), cur.data(), n_live, h.n_ff);
    if (arch.post_norms) blocks::norm(arch.norm, f.data(), n_live, E, L(Role::kPostFfnNorm), {}, h.norm_eps);
    ops::add(x.data(), f.data(), x.size());
  }
  for (auto& it : items) it.ctx->kv_.set_n_past(it.ctx->n_past() + uint32_t(it.tokens.size()));

  // x now holds only the rows asked for, item by item.
  std::vector<float>& rows = x;
  const uint32_t total_rows = n_out;
  // One sequence (plain decode) gets its logits written in place: a vocab
  // of 152k is 600 KB a token to clear and copy otherwise.
  const bool in_place = items.size() == 1 && items[0].logits;
  std::vector<float> batch_logits;
  std::vector<float>& logits = in_place ? *items[0].logits : batch_logits;
  blocks::norm(arch.norm, rows.data(), total_rows, E, m.global(Role::kOutputNorm), m.global(Role::kOutputNormB),
               h.norm_eps);
  blocks::linear(m.output(), {}, rows.data(), total_rows, logits);
  if (h.final_softcap > 0.0f) {
    if (blocks::vector_ops())
      kernels::softcap(logits.data(), logits.size(), h.final_softcap);
    else
      ops::softcap(logits.data(), logits.size(), h.final_softcap);
  }
  if (in_place) return Status::success();
  const size_t V = h.n_vocab;
  for (size_t i = 0, r = 0; i < items.size(); r += n_rows[i], ++i)
    if (items[i].logits)
      items[i].logits->assign(logits.begin() + long(r * V), logits.begin() + long((r + n_rows[i]) * V));
  return Status::success();
}

}  // namespace minnow
