// Random-weight models shaped like well-known checkpoints, built in memory
// for `minnow bench --synthetic NAME --quant TYPE`. Tensor types follow the
// quantization recipe (so a Q4_K_M qwen2.5-0.5b has llama.cpp's mix, Q5_0 and
// Q8_0 fallbacks included); the blocks themselves are random bytes with sane
// scales, written directly, because speed does not depend on the values and
// a 0.5B model then takes about a second to make.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/model.h"

namespace minnow::cli {

struct SyntheticPreset {
  std::string_view name;  // "qwen2.5-0.5b"
  std::string_view arch;  // GGUF architecture
  uint32_t n_embd, n_ff, n_layer, n_head, n_head_kv;
  uint32_t head_dim;  // 0: n_embd / n_head
  uint32_t n_vocab;
  bool tied;  // no output.weight: the token embedding is the output matrix
};

std::span<const SyntheticPreset> synthetic_presets();

// The model and the GGUF bytes it views (declared first: destroyed last).
struct SyntheticModel {
  std::shared_ptr<std::vector<uint8_t>> bytes;
  std::shared_ptr<const Model> model;
};

// quant: a recipe name of `minnow quantize` (Q4_0, Q4_K_M, Q8_0, F16, ...) or F32.
Expected<SyntheticModel> make_synthetic_model(std::string_view preset, std::string_view quant,
                                              unsigned n_threads);

}  // namespace minnow::cli
