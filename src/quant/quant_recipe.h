// Quantization recipes: the TYPE argument of `minnow quantize` and the
// per-tensor type each recipe picks. The rules are one table in
// quant_recipe.cpp and follow llama.cpp's llama_tensor_get_type for the same
// names, so a Q4_K_M file from minnow has the mix llama.cpp users expect.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/ggml_type.h"

namespace minnow {

struct QuantRecipe {
  std::string_view name;  // "Q4_K_M"
  GgmlType base;          // what most 2-D weights become
  uint32_t file_type;     // llama_ftype number written as general.file_type
  bool mixed;             // per-tensor rules apply (every quantized recipe; not F16/BF16)
};

std::span<const QuantRecipe> quant_recipes();
std::optional<QuantRecipe> find_quant_recipe(std::string_view name);

// What the rules need to know about the model besides one tensor.
struct ModelQuantInfo {
  uint32_t n_layer = 0;         // <arch>.block_count
  uint32_t n_gqa = 1;           // head_count / head_count_kv
  bool has_output = true;       // false: token_embd doubles as the output matrix
};

struct TensorTypeChoice {
  bool quantize = false;  // false: copy the tensor unchanged
  GgmlType type = GgmlType::F32;
  std::string note;       // why the type differs from the rule's, if it does
};

// The type tensor NAME of shape NE (ggml order, ne[0] = row length) gets.
TensorTypeChoice choose_tensor_type(const QuantRecipe& recipe, const ModelQuantInfo& model, std::string_view name,
                                    std::span<const uint64_t> ne);

}  // namespace minnow
