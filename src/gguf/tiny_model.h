// Writes small random-weight models with real metadata: the test fixtures of
// every later layer and the demo model a fresh machine can run.
#pragma once

#include <cstdint>
#include <string>

#include "base/ggml_type.h"
#include "gguf/gguf_writer.h"

namespace minnow {

struct TinyModelSpec {
  std::string arch = "llama";
  std::string name = "minnow-demo (random weights)";
  uint32_t n_vocab = 288;  // 5 specials + 256 bytes + fillers
  uint32_t n_embd = 64;
  uint32_t n_ff = 128;
  uint32_t n_layer = 2;
  uint32_t n_head = 4;
  uint32_t n_head_kv = 2;
  uint32_t n_ctx = 512;
  uint64_t seed = 42;
};

// The ChatML template the tiny model carries.
extern const char kTinyChatTemplate[];

// Tokenizer metadata every generated model carries: an SPM vocabulary of
// <unk> <s> </s> <|im_start|> <|im_end|>, the 256 byte tokens (any text
// encodes), unused fillers up to n_vocab, and the ChatML template.
void add_byte_vocab(GgufWriter& w, uint32_t n_vocab);

// Llama-layout weights (F32) with an SPM byte-fallback vocabulary and a
// ChatML chat template.
GgufWriter make_tiny_model(const TinyModelSpec& spec);

}  // namespace minnow
