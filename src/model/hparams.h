// Hyper-parameters read from GGUF `<arch>.*` keys, validated once at load.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/gguf_file.h"

namespace minnow {

struct ModelHparams {
  std::string arch;
  uint32_t n_vocab = 0;
  uint32_t n_embd = 0;
  uint32_t n_ff = 0;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;   // key_length, else n_embd / n_head
  uint32_t n_ctx_train = 0;
  uint32_t rope_dim = 0;   // rotated dims per head
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
  float rope_attn_factor = 1.0f; // LongRoPE magnitude scaling
  uint32_t rope_original_ctx = 0;  // LongRoPE: context the short factors cover
  float norm_eps = 1e-5f;
  uint32_t sliding_window = 0;   // 0: none
  float attn_softcap = 0.0f;     // 0: none
  float final_softcap = 0.0f;
  bool causal = true;
  uint32_t pooling_type = 0;     // 0 none, 1 mean, 2 cls, 3 last

  uint32_t q_dim() const { return n_head * head_dim; }
  uint32_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads and checks the keys; n_vocab comes from the tokenizer or token_embd.
Expected<ModelHparams> read_hparams(const GgufFile& file);

}  // namespace minnow
