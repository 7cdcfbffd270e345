#include "gguf/tiny_model.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace minnow {
namespace {

std::vector<float> random_normal(std::mt19937_64& rng, size_t n, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

void add_random(GgufWriter& w, std::mt19937_64& rng, const std::string& name, std::vector<uint64_t> ne, float scale) {
  size_t n = 1;
  for (auto d : ne) n *= d;
  auto values = random_normal(rng, n, scale);
  (void)w.add_f32_tensor(name, std::move(ne), values);  // shapes are ours: cannot fail
}

void add_ones(GgufWriter& w, const std::string& name, uint64_t n) {
  std::vector<float> v(n, 1.0f);
  (void)w.add_f32_tensor(name, {n}, v);
}

}  // namespace

const char kTinyChatTemplate[] =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

void add_byte_vocab(GgufWriter& w, uint32_t n_vocab) {
  // SPM-style vocabulary: <unk> <s> </s>, two ChatML control tokens, the 256
  // byte tokens (so any text encodes), then unused fillers up to n_vocab.
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"};
  std::vector<int32_t> types = {2, 3, 3, 3, 3};
  for (uint32_t b = 0; b < 256; ++b) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    types.push_back(6);  // byte
  }
  while (tokens.size() < n_vocab) {
    tokens.push_back("<unused_" + std::to_string(tokens.size()) + ">");
    types.push_back(5);
  }
  tokens.resize(n_vocab);
  types.resize(n_vocab);
  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array(std::vector<float>(tokens.size(), 0.0f)));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(0));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(4));  // <|im_end|> ends a chat turn
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
  w.set("tokenizer.chat_template", GgufValue::string(kTinyChatTemplate));
}

GgufWriter make_tiny_model(const TinyModelSpec& s) {
  GgufWriter w;
  const std::string a = s.arch;
  const uint32_t head_dim = s.n_embd / s.n_head;
  w.set("general.architecture", GgufValue::string(a));
  w.set("general.name", GgufValue::string(s.name));
  w.set("general.file_type", GgufValue::u32(0));
  w.set(a + ".context_length", GgufValue::u32(s.n_ctx));
  w.set(a + ".embedding_length", GgufValue::u32(s.n_embd));
  w.set(a + ".feed_forward_length", GgufValue::u32(s.n_ff));
  w.set(a + ".block_count", GgufValue::u32(s.n_layer));
  w.set(a + ".attention.head_count", GgufValue::u32(s.n_head));
  w.set(a + ".attention.head_count_kv", GgufValue::u32(s.n_head_kv));
  w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
  w.set(a + ".rope.freq_base", GgufValue::f32(10000.0f));
  w.set(a + ".rope.dimension_count", GgufValue::u32(head_dim));

  add_byte_vocab(w, s.n_vocab);

  std::mt19937_64 rng(s.seed);
  const float scale = 1.0f / std::sqrt(float(s.n_embd));
  const uint64_t kv_dim = uint64_t(head_dim) * s.n_head_kv;
  add_random(w, rng, "token_embd.weight", {s.n_embd, s.n_vocab}, 1.0f);
  for (uint32_t l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add_ones(w, p + "attn_norm.weight", s.n_embd);
    add_random(w, rng, p + "attn_q.weight", {s.n_embd, s.n_embd}, scale);
    add_random(w, rng, p + "attn_k.weight", {s.n_embd, kv_dim}, scale);
    add_random(w, rng, p + "attn_v.weight", {s.n_embd, kv_dim}, scale);
    add_random(w, rng, p + "attn_output.weight", {s.n_embd, s.n_embd}, scale);
    add_ones(w, p + "ffn_norm.weight", s.n_embd);
    add_random(w, rng, p + "ffn_gate.weight", {s.n_embd, s.n_ff}, scale);
    add_random(w, rng, p + "ffn_up.weight", {s.n_embd, s.n_ff}, scale);
    add_random(w, rng, p + "ffn_down.weight", {s.n_ff, s.n_embd}, 1.0f / std::sqrt(float(s.n_ff)));
  }
  add_ones(w, "output_norm.weight", s.n_embd);
  add_random(w, rng, "output.weight", {s.n_embd, s.n_vocab}, scale);
  return w;
}

}  // namespace minnow
